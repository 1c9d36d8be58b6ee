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
});
