/**
 * Page cursors: opaque to clients, signed so they cannot be edited, and bound to the sort and
 * filters they were made for. A cursor also pins the window its first page resolved ("the last
 * 30 days" as of that page), so paging on never shifts under the reader.
 */
import { ApiError } from '../http/errors.ts';

export interface CursorState {
  /** Hash of the sort and the filters the listing was asked with. */
  scope: string;
  /** The window the first page resolved, ISO. */
  window: [string, string];
  /** The row the page starts from: its sort value and id. */
  after: [string | number, string];
  /**
   * Which way the cursor reads from that row: `next` (rows after it, from `links.next`, for
   * `page[after]`) or `prev` (rows before it, from `links.prev`, for `page[before]`). Absent reads
   * as `next`; a cursor is accepted only by its own parameter.
   */
  dir?: 'next' | 'prev';
}

const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

function fromBase64url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    const s = atob(text.replaceAll('-', '+').replaceAll('_', '/'));
    return Uint8Array.from(s, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

async function hmac(secret: string, data: string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(`cursor:${secret}`), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(data))).slice(0, 16);
}

export async function scopeHash(parts: unknown): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(JSON.stringify(parts)));
  return base64url(new Uint8Array(digest).slice(0, 12));
}

function requireSecret(secret: string | undefined): string {
  if (!secret) throw new ApiError('config_invalid', 'SESSION_SECRET is not set, so page cursors cannot be signed.');
  return secret;
}

export async function encodeCursor(state: CursorState, secret: string | undefined): Promise<string> {
  const body = base64url(encoder.encode(JSON.stringify(state)));
  return `${body}.${base64url(await hmac(requireSecret(secret), body))}`;
}

/** The cursor's state, if it is ours, unedited, made for this sort and these filters, and for this direction. */
export async function decodeCursor(text: string, scope: string, secret: string | undefined, dir: 'next' | 'prev' = 'next'): Promise<CursorState> {
  const param = dir === 'next' ? 'page[after]' : 'page[before]';
  const invalid = (message: string) =>
    new ApiError('validation_failed', `${param} is not a cursor for this listing: ${message}`, { errors: [{ pointer: `query/${param}`, message }] });
  const [body, signature, ...rest] = text.split('.');
  if (!body || !signature || rest.length > 0 || text.length > 1_000) throw invalid('it is malformed.');
  const expected = base64url(await hmac(requireSecret(secret), body));
  // Constant-time comparison of the two signatures.
  let diff = expected.length ^ signature.length;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ (signature.charCodeAt(i) || 0);
  if (diff !== 0) throw invalid('its signature does not match (it was edited or made elsewhere).');
  const bytes = fromBase64url(body);
  let state: CursorState;
  try {
    state = JSON.parse(new TextDecoder().decode(bytes ?? new Uint8Array())) as CursorState;
  } catch {
    throw invalid('it is malformed.');
  }
  if (state.scope !== scope) throw invalid('it was made for another sort or another set of filters; start again from the first page.');
  if ((state.dir ?? 'next') !== dir) throw invalid(`it pages the other way; send it as ${dir === 'next' ? 'page[before]' : 'page[after]'}.`);
  return state;
}
