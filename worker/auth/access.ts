import { verifyWithJwks } from 'hono/jwt';
import type { Config } from '../config/env.ts';

/**
 * Cloudflare Access: when ACCESS_TEAM_DOMAIN and ACCESS_AUD are set, the edge puts a signed
 * assertion in Cf-Access-Jwt-Assertion. It is verified against the team's JWKS (RS256 only,
 * audience and issuer checked); its email then maps to a Command Center user.
 */
export function accessEnabled(config: Config): boolean {
  return Boolean(config.ACCESS_TEAM_DOMAIN && config.ACCESS_AUD);
}

function teamOrigin(domain: string): string {
  return domain.startsWith('http') ? domain.replace(/\/+$/, '') : `https://${domain.replace(/\/+$/, '')}`;
}

export async function verifyAccessAssertion(config: Config, assertion: string): Promise<{ email: string } | null> {
  if (!accessEnabled(config) || assertion.length > 8192) return null;
  const origin = teamOrigin(config.ACCESS_TEAM_DOMAIN!);
  try {
    const payload = await verifyWithJwks(assertion, {
      jwks_uri: config.ACCESS_CERTS_URL ?? `${origin}/cdn-cgi/access/certs`,
      allowedAlgorithms: ['RS256'],
      verification: { aud: config.ACCESS_AUD!, iss: origin },
    });
    const email = (payload as { email?: unknown }).email;
    return typeof email === 'string' && email.includes('@') ? { email } : null;
  } catch {
    return null;
  }
}
