import { Ratelimit } from '@upstash/ratelimit';
import type { Config } from '../config/env.ts';
import { ApiError } from '../http/errors.ts';
import type { RedisService } from '../services/redis.ts';

const WINDOW = '15 m';
/** Failed passwords for one email from every address together, as a multiple of the per-address limit. */
export const EMAIL_FAILURES_ACROSS_ADDRESSES = 10;

async function digest(value: string): Promise<string> {
  const bytes = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value));
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('').slice(0, 32);
}

export interface SignInGuard {
  /** Counts a wrong password (or an unknown email) against the email. */
  failed(): Promise<void>;
  /** A correct password clears the email's failures from this address. */
  succeeded(): Promise<void>;
}

const NO_GUARD: SignInGuard = { failed: async () => undefined, succeeded: async () => undefined };

/**
 * Sign-in limits in sliding 15-minute windows in Upstash. Every attempt counts against the
 * client address (SIGNIN_LIMIT_PER_IP), so one address cannot spray passwords over many emails.
 * Only failures count against an email, so signing in never locks an account: SIGNIN_LIMIT_PER_EMAIL
 * failures from one address lock that email for that address only, and EMAIL_FAILURES_ACROSS_ADDRESSES
 * times as many from all addresses together lock it everywhere (a guesser spread over many
 * addresses). Someone who knows a victim's email can therefore lock the victim out only by failing
 * from many addresses, never from their own. Emails and addresses are hashed in the keys, so Redis
 * never holds who tried to sign in. With Redis configured but unreachable, sign-in is refused
 * rather than left unprotected.
 */
export async function guardSignIn(redis: RedisService, config: Config, email: string, ip: string): Promise<SignInGuard> {
  if (!redis.client) return NO_GUARD;
  const limiter = (limit: number, prefix: string) =>
    new Ratelimit({ redis: redis.client!, limiter: Ratelimit.slidingWindow(limit, WINDOW), prefix, ephemeralCache: false, analytics: false });
  const attemptsByIp = limiter(config.SIGNIN_LIMIT_PER_IP, 'cc:rl:signin:ip');
  const failuresHere = limiter(config.SIGNIN_LIMIT_PER_EMAIL, 'cc:rl:signin:fail:email-ip');
  const failuresAnywhere = limiter(config.SIGNIN_LIMIT_PER_EMAIL * EMAIL_FAILURES_ACROSS_ADDRESSES, 'cc:rl:signin:fail:email');
  const [ipKey, hereKey, emailKey] = await Promise.all([digest(ip), digest(`${email}\n${ip}`), digest(email)]);

  let checks: Array<{ ok: boolean; reset: number }>;
  try {
    const [byIp, here, anywhere] = await Promise.all([
      attemptsByIp.limit(ipKey),
      failuresHere.getRemaining(hereKey),
      failuresAnywhere.getRemaining(emailKey),
    ]);
    checks = [
      { ok: byIp.success, reset: byIp.reset },
      { ok: here.remaining > 0, reset: here.reset },
      { ok: anywhere.remaining > 0, reset: anywhere.reset },
    ];
  } catch (err) {
    throw new ApiError('redis_unavailable', 'Sign-in is paused: the rate limiter cannot be reached.', { cause: err });
  }
  const blocked = checks.find((r) => !r.ok);
  if (blocked) {
    const retryAfter = Math.max(1, Math.ceil((blocked.reset - Date.now()) / 1000));
    throw new ApiError('rate_limited', `Too many sign-in attempts; try again in ${retryAfter} s.`, {
      headers: { 'retry-after': String(retryAfter) },
    });
  }
  return {
    async failed() {
      try {
        await Promise.all([failuresHere.limit(hereKey), failuresAnywhere.limit(emailKey)]);
      } catch (err) {
        throw new ApiError('redis_unavailable', 'Sign-in is paused: the rate limiter cannot be reached.', { cause: err });
      }
    },
    async succeeded() {
      await failuresHere.resetUsedTokens(hereKey).catch(() => undefined);
    },
  };
}
