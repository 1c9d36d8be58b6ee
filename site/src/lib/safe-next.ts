const SAME_SITE = 'https://same-site.invalid';

/**
 * Only same-site paths are valid redirect targets after sign-in. The target is resolved the way a
 * browser would resolve the Location header (which drops tabs and newlines and reads `\` as `/`),
 * against a fixed origin: anything that lands elsewhere, or is not a plain path, goes home.
 */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || /[\u0000-\u001f\u007f\\]/.test(next)) return '/';
  let url: URL;
  try {
    url = new URL(next, SAME_SITE);
  } catch {
    return '/';
  }
  if (url.origin !== SAME_SITE || url.pathname.startsWith('//')) return '/';
  return `${url.pathname}${url.search}${url.hash}`;
}
