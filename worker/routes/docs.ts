import type { OpenAPIHono } from '@hono/zod-openapi';
import { html, raw } from 'hono/html';
import type { AppEnv } from '../config/env.ts';

export const OPENAPI_INFO = {
  openapi: '3.1.0',
  info: {
    title: 'Command Center API',
    version: '0.1.0',
    description: 'Live support-operations KPIs, catalog, widgets and dashboards. Errors are RFC 9457 problem+json with a stable `code`.',
  },
} as const;

type Spec = ReturnType<OpenAPIHono<AppEnv>['getOpenAPI31Document']>;

interface OperationLike {
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: Array<{ name?: string; in?: string; required?: boolean; description?: string }>;
  requestBody?: unknown;
  responses?: Record<string, { description?: string }>;
}

/**
 * GET /openapi.json and GET /docs. The docs page is rendered here from the same document, with
 * no script and no third-party assets, so it works offline and under a strict CSP.
 */
export function registerDocs(app: OpenAPIHono<AppEnv>): void {
  app.doc31('/openapi.json', OPENAPI_INFO);
  app.get('/docs', (c) => {
    const spec = app.getOpenAPI31Document(OPENAPI_INFO);
    return c.html(renderDocs(spec));
  });
}

function renderDocs(spec: Spec) {
  const rows = Object.entries(spec.paths ?? {}).flatMap(([path, item]) =>
    Object.entries(item as Record<string, OperationLike>)
      .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
      .map(([method, op]) => ({ path, method, op })),
  );
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${spec.info.title}</title>
    <style>
      body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1b1f24; }
      h1 { font-size: 1.5rem; } code { font: 13px ui-monospace, monospace; }
      section { border-top: 1px solid #d0d7de; padding: .75rem 0; }
      .m { display: inline-block; min-width: 4rem; font-weight: 700; text-transform: uppercase; }
      .get { color: #0a6b2f; } .post { color: #8a4b00; } .put, .patch { color: #0550ae; } .delete { color: #b3261e; }
      dl { margin: .25rem 0 0 4rem; } dt { font-weight: 600; } dd { margin: 0 0 .25rem 1rem; }
      @media (prefers-color-scheme: dark) { body { background: #0d1117; color: #e6edf3; } section { border-color: #30363d; } }
    </style>
  </head>
  <body>
    <main>
      <h1>${spec.info.title} <small>${spec.info.version}</small></h1>
      <p>${spec.info.description ?? ''}</p>
      <p>Machine-readable: <a href="/openapi.json"><code>/openapi.json</code></a> (OpenAPI ${spec.openapi}).</p>
      ${rows.map(
        ({ path, method, op }) => html`<section id="${method}-${path}">
          <h2><span class="m ${method}">${method}</span> <code>${path}</code></h2>
          <p>${op.summary ?? ''}</p>
          ${op.description ? html`<p>${op.description}</p>` : ''}
          <dl>
            ${(op.parameters ?? []).map(
              (p) => html`<dt><code>${p.name}</code> (${p.in}${p.required ? ', required' : ''})</dt><dd>${p.description ?? ''}</dd>`,
            )}
            ${op.requestBody ? html`<dt>Body</dt><dd><code>application/json</code> — see the schema in /openapi.json</dd>` : ''}
            ${Object.entries(op.responses ?? {}).map(
              ([status, r]) => html`<dt>${status}</dt><dd>${r.description ?? ''}</dd>`,
            )}
          </dl>
        </section>`,
      )}
      ${raw('')}
    </main>
  </body>
</html>`;
}
