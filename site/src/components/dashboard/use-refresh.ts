import { useEffect } from 'preact/hooks';
import { DEGRADED_REFRESH_MS, REFRESH_MS } from '../../lib/dashboard-data.ts';

/**
 * Numbers age as rolling windows move, and lakehouse tiles get no pushes: the island asks for the
 * whole dashboard again now and then (one request, mostly cache hits), sooner while a source is
 * unavailable so its tiles recover soon after it does, and not while the page is hidden.
 */
export function useRefresh(degraded: boolean, reload: () => Promise<void>): void {
  useEffect(() => {
    const every = degraded ? DEGRADED_REFRESH_MS : REFRESH_MS;
    let last = Date.now();
    const refresh = () => {
      if (document.visibilityState !== 'visible') return;
      last = Date.now();
      void reload();
    };
    const timer = setInterval(refresh, every);
    const shown = () => Date.now() - last >= every && refresh();
    document.addEventListener('visibilitychange', shown);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', shown);
    };
  }, [degraded]);
}
