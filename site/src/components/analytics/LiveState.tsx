import type { AnalyticsMeta } from '../../lib/analytics-data.ts';
import type { Provenance } from '../badges.tsx';
import { Unavailable } from '../dashboard/Unavailable.tsx';

/** An analytics answer's provenance, for the same source badge tiles wear. */
export function provenance(meta: Pick<AnalyticsMeta, 'as_of' | 'cache' | 'live_data_unavailable' | 'reason'>): Provenance {
  return { source: 'databricks', as_of: meta.as_of, cache: meta.cache, sql: '', live_data_unavailable: meta.live_data_unavailable, ...(meta.reason ? { reason: meta.reason } : {}) };
}

/** The lakehouse could not answer the list or a contact (503): the same amber state, with its sentence. */
export const lakehouseDown = (problem: { code?: string }) => problem.code === 'databricks_unavailable' || problem.code === 'dependency_timeout';

/**
 * Where a section has no numbers: the lakehouse is away (amber, as a tile says it, with the
 * reason under Why), or the request itself was refused (the problem's sentence).
 */
export function LiveUnavailable({ meta, problem }: { meta?: AnalyticsMeta; problem?: { problem: string; code?: string } }) {
  if (meta) {
    return (
      <div class="card live-unavailable">
        <Unavailable data={{ source: 'databricks', ...(meta.reason ? { reason: meta.reason } : {}) }} />
      </div>
    );
  }
  if (problem && lakehouseDown(problem)) {
    return (
      <div class="card live-unavailable">
        <Unavailable data={{ source: 'databricks', reason: problem.problem }} />
        <span class="badge source-degraded" data-testid="source-badge" data-source="databricks" data-degraded="true" title={problem.problem}>Live data unavailable</span>
      </div>
    );
  }
  return (
    <p class="notice error" role="alert" data-problem-code={problem?.code ?? 'unknown'}>
      {problem?.problem ?? 'Not available right now.'}
    </p>
  );
}
