import { describe, expect, it } from 'vitest';
import { safeNext } from '../../site/src/lib/safe-next.ts';

describe('the sign-in redirect target', () => {
  it('keeps same-site paths with their query and fragment', () => {
    expect(safeNext('/calls?region=EMEA#top')).toBe('/calls?region=EMEA#top');
    expect(safeNext('/admin/tokens')).toBe('/admin/tokens');
  });

  it('sends anything that a browser would resolve off-site home', () => {
    for (const target of ['/\t/evil.example', '/%09/evil.example'.replace('%09', '\t'), '//evil.example', '/\\evil.example', '/\n/evil.example', 'https://evil.example', 'evil.example', '', null, '/\\/evil.example']) {
      expect(safeNext(target), JSON.stringify(target)).toBe('/');
    }
  });

  it('does not turn an encoded tab into a way off-site', () => {
    // The page reads `next` from the query string, so %09 arrives decoded; encoded it is a path.
    const kept = safeNext('/%09/evil.example');
    expect(new URL(kept, 'https://cc.example').origin).toBe('https://cc.example');
  });
});
