import { useEffect, useState } from 'preact/hooks';
import { loadKpi } from '../../lib/dashboard-data.ts';
import type { Kpi } from '../../lib/dashboard-data.ts';
import { KpiUpdateSchema, newer, withLiveUpdate } from '../../lib/live-updates.ts';
import { store } from '../../lib/store.ts';
import { usePendingLoads } from './use-pending-loads.ts';

/** The KPI strip's state: fetched where the server had no answer in time, moved by the hub's `kpi_update` frames. */
export function useKpis(initial: Kpi[]) {
  const [kpis, setKpis] = useState(initial);

  usePendingLoads(
    kpis,
    (k) => (k.pending ? k.metric : null),
    async ({ metric }) => {
      const loaded = await loadKpi(metric);
      // A failed refresh keeps the numbers already on screen; the card says it could not refresh.
      setKpis((ks) =>
        ks.map((x) => (x.metric !== metric ? x : loaded.ok ? { ...loaded.value, pending: false, problem: null } : { ...x, pending: false, problem: loaded.problem })),
      );
    },
  );

  useEffect(
    () =>
      store().subscribe('kpi_update', (frame) => {
        const update = KpiUpdateSchema.safeParse(frame.data);
        if (update.success) setKpis((ks) => ks.map((k) => withLiveUpdate(k, update.data)));
      }),
    [],
  );

  return {
    kpis,
    retry: (metric: string) => setKpis((ks) => ks.map((k) => (k.metric === metric ? { ...k, pending: true, problem: null } : k))),
    /** The server's answer after a reload; numbers newer than it stay. */
    reloaded: (next: Kpi[]) =>
      setKpis((previous) => next.map((k) => ({ ...k, data: newer(previous.find((p) => p.metric === k.metric)?.data, k.data) }))),
  };
}
