import { useEffect, useRef, useState } from 'preact/hooks';
import type { Loaded } from '../../lib/dashboard-data.ts';
import { useRefresh } from '../dashboard/use-refresh.ts';

/**
 * One section's data for the page's current `key` (its filters, sort, cursor …). The server's
 * answer is used when it was for the same key; otherwise, and on every later key, it is
 * fetched. While a new key loads the previous answer stays on screen (`loading` says it is being
 * replaced); an answer for a key the page has already left is dropped. A null key loads nothing.
 */
export function useLoad<T>(initial: Loaded<T> | undefined, key: string | null, load: () => Promise<Loaded<T> | undefined>) {
  const [state, setState] = useState<{ key: string | null; value: Loaded<T> | undefined }>({ key, value: initial });
  const [loading, setLoading] = useState(false);
  const request = useRef(0);
  const latest = useRef({ load, key });
  latest.current = { load, key };

  const run = () => {
    const { load: current, key: forKey } = latest.current;
    const n = ++request.current;
    if (forKey === null) {
      setState({ key: forKey, value: undefined });
      setLoading(false);
      return;
    }
    setLoading(true);
    void current().then((value) => {
      if (n !== request.current) return;
      setState({ key: forKey, value });
      setLoading(false);
    });
  };
  useEffect(() => {
    if (state.key === key && (state.value !== undefined || key === null)) {
      // Back to what is on screen: whatever is still on its way is for a key the page has left.
      request.current++;
      setLoading(false);
      return;
    }
    run();
  }, [key]);
  return { value: state.value, key: state.key, loading, reload: run };
}

/** While the lakehouse is away, sections ask again every few seconds and recover by themselves, as tiles do. */
export function useDegradedRefresh(degraded: boolean, reload: () => void): void {
  useRefresh(degraded, async () => {
    if (degraded) reload();
  });
}
