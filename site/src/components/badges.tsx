import { useEffect, useState } from 'preact/hooks';

export interface Provenance {
  source: 'postgres' | 'databricks' | 'template';
  as_of: string;
  cache: string;
  sql: string;
  live_data_unavailable: boolean;
  reason?: string;
  fallback?: string;
}

function ago(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

export const SOURCE_LABEL = { postgres: 'Postgres', databricks: 'Databricks', template: 'Template' } as const;

/** Where a number came from and how fresh it is; amber when the live source failed. */
export function SourceBadge({ data }: { data: Provenance }) {
  const [now, setNow] = useState(() => Date.parse(data.as_of));
  useEffect(() => {
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), 5_000);
    return () => clearInterval(t);
  }, [data.as_of]);
  const state = data.live_data_unavailable ? 'degraded' : data.source;
  const text = data.live_data_unavailable
    ? data.fallback
      ? `${SOURCE_LABEL[data.source]} fallback · live data unavailable`
      : 'Live data unavailable'
    : `${SOURCE_LABEL[data.source]} · ${ago(data.as_of, now)}`;
  return (
    <span class={`badge source-${state}`} data-testid="source-badge" data-source={data.source} data-degraded={String(data.live_data_unavailable)} title={data.reason ?? `cache ${data.cache}`}>
      {text}
    </span>
  );
}

export interface MetricInfo {
  display_name: string;
  description: string;
  owner: string;
  unit: string;
  lineage: { tables: string[]; columns: string[] };
}

/** The definition behind a tile: what it means, who owns it, what it reads, and the SQL that ran. */
export function MetricInfoBadge({ metric, sql }: { metric: MetricInfo | undefined; sql: string }) {
  return (
    <details class="info">
      <summary aria-label="About this metric"><span aria-hidden="true">i</span></summary>
      <div class="info-body">
        {metric && (
          <>
            <p>{metric.description}</p>
            <p><strong>Owner</strong> {metric.owner} · <strong>Unit</strong> {metric.unit}</p>
            <p><strong>Reads</strong> {metric.lineage.columns.join(', ') || metric.lineage.tables.join(', ') || 'app database'}</p>
          </>
        )}
        <pre class="sql"><code>{sql}</code></pre>
      </div>
    </details>
  );
}
