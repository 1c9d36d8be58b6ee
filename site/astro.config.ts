import cloudflare from '@astrojs/cloudflare';
import preact from '@astrojs/preact';
import { defineConfig } from 'astro/config';

// The site is built into the one Worker whose entry (worker/index.ts, named in wrangler.toml)
// routes the API to Hono and every other path to Astro.
export default defineConfig({
  output: 'server',
  adapter: cloudflare({ configPath: '../wrangler.toml', prerenderEnvironment: 'node', imageService: 'passthrough' }),
  integrations: [preact()],
  devToolbar: { enabled: false },
  // Pages carry a CSP <meta> with hashes of exactly the scripts and styles Astro emits; the
  // worker adds frame-ancestors and the other header-only directives.
  security: {
    checkOrigin: true,
    csp: {
      directives: ["default-src 'self'", "img-src 'self' data:", "connect-src 'self'"],
    },
  },
  build: { inlineStylesheets: 'never' },
  markdown: { syntaxHighlight: false },
});
