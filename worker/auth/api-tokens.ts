/**
 * API tokens: `cc_` + 32 random bytes (base64url). Only the SHA-256 of a token is stored, so a
 * database leak yields nothing usable; the secret is shown once, at creation.
 */
export const TOKEN_PREFIX = 'cc_';
const TOKEN_PATTERN = /^cc_[A-Za-z0-9_-]{43}$/;

export function looksLikeApiToken(value: string): boolean {
  return TOKEN_PATTERN.test(value);
}

export function generateApiToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return TOKEN_PREFIX + btoa(s).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

export async function hashApiToken(token: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** What lists show: enough to recognise a token, never enough to use it. */
export function displayPrefix(token: string): string {
  return token.slice(0, 10);
}
