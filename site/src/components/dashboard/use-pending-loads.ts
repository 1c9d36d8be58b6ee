import { useEffect, useRef } from 'preact/hooks';

/**
 * Starts `load` for each item `pendingKey` names (null: nothing to fetch), once per key while it
 * is under way: a re-render or a reload that still lists the item as pending must not ask again.
 */
export function usePendingLoads<T>(items: readonly T[], pendingKey: (item: T) => string | null, load: (item: T) => Promise<void>): void {
  const inflight = useRef(new Set<string>());
  useEffect(() => {
    for (const item of items) {
      const key = pendingKey(item);
      if (key === null || inflight.current.has(key)) continue;
      inflight.current.add(key);
      void load(item).finally(() => inflight.current.delete(key));
    }
  }, [items]);
}
