import { useSignalEffect } from '@preact/signals';
import { useState } from 'preact/hooks';
import { loadTileData } from '../../lib/dashboard-data.ts';
import type { Tile } from '../../lib/dashboard-data.ts';
import { newer } from '../../lib/live-updates.ts';
import { store } from '../../lib/store.ts';
import { usePendingLoads } from './use-pending-loads.ts';

/** The tiles in their order: fetched where the server had no answer in time, joined by tiles added on this page. */
export function useTiles(initial: Tile[]) {
  const [tiles, setTiles] = useState(initial);

  usePendingLoads(
    tiles,
    (t) => (t.pending ? t.widget.id : null),
    async ({ widget: { id } }) => {
      const loaded = await loadTileData(id);
      setTiles((ts) =>
        ts.map((x) =>
          x.widget.id !== id
            ? x
            : loaded.ok
              ? { ...x, data: loaded.value, problem: null, pending: false, retryable: false }
              : { ...x, problem: loaded.problem, pending: false, retryable: true },
        ),
      );
    },
  );

  // A tile created elsewhere on the page joins the end of the grid at once, as a skeleton until
  // its data arrives.
  useSignalEffect(() => {
    const added = store().tilesAdded.value;
    setTiles((ts) => {
      const missing = added.filter((widget) => !ts.some((t) => t.widget.id === widget.id));
      return missing.length === 0 ? ts : [...ts, ...missing.map((widget) => ({ widget, data: null, problem: null, pending: true }))];
    });
  });

  return {
    tiles,
    /** A new order (the layout's, by widget id); tiles it does not name keep their place at the end. */
    reorder: (order: readonly string[]) =>
      setTiles((ts) => {
        const rank = new Map(order.map((id, i) => [id, i]));
        return [...ts].sort((a, b) => (rank.get(a.widget.id) ?? order.length) - (rank.get(b.widget.id) ?? order.length));
      }),
    retry: (id: string) => setTiles((ts) => ts.map((t) => (t.widget.id === id ? { ...t, pending: true, problem: null, retryable: false } : t))),
    /** The server's answer after a reload; numbers newer than it stay. */
    reloaded: (next: Tile[]) =>
      setTiles((previous) => next.map((t) => ({ ...t, data: newer(previous.find((p) => p.widget.id === t.widget.id)?.data, t.data) }))),
  };
}
