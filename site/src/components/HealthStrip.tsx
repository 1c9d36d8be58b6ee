import { useEffect, useState } from 'preact/hooks';
import { browserClient } from '../lib/browser-client.ts';

type DependencyName = 'postgres' | 'redis' | 'databricks' | 'bedrock';

/** Mode, provider and detail come only to a signed-in caller, which this page always is. */
interface Dependency {
  mode?: string;
  provider?: string;
  status: 'ok' | 'slow' | 'down' | 'disabled';
  detail?: string | null;
}

interface Props {
  initial: Record<DependencyName, Dependency> | null;
  /** The server had no answer within the page's time budget: check from the browser at once. */
  checking?: boolean;
}

const NAMES: DependencyName[] = ['postgres', 'redis', 'databricks', 'bedrock'];
const REFRESH_MS = 15_000;

/** Each dependency's mode and status, refreshed in place so a failing source shows up by itself. */
export default function HealthStrip({ initial, checking = false }: Props) {
  const [deps, setDeps] = useState(initial);
  const [pending, setPending] = useState(checking);
  const [stale, setStale] = useState(false);

  useEffect(() => {
    const client = browserClient();
    let alive = true;
    const refresh = async () => {
      try {
        const res = await client.health.$get();
        if (!alive) return;
        if (res.ok) {
          setDeps((await res.json()).dependencies);
          setStale(false);
        } else setStale(true);
      } catch {
        if (alive) setStale(true);
      } finally {
        if (alive) setPending(false);
      }
    };
    if (checking) void refresh();
    const timer = setInterval(refresh, REFRESH_MS);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, []);

  if (pending) {
    return (
      <section aria-labelledby="health-title" aria-busy="true">
        <h2 id="health-title">Sources</h2>
        <ul class="health">
          {NAMES.map((name) => (
            <li key={name} class="dep checking" data-dependency={name} data-status="checking">
              <span class="dot" aria-hidden="true" />
              <strong>{name}</strong> · checking…
            </li>
          ))}
        </ul>
      </section>
    );
  }
  if (!deps) return <p class="notice error" role="status">Health is unavailable.</p>;
  return (
    <section aria-labelledby="health-title">
      <h2 id="health-title">Sources {stale ? <small>(could not refresh)</small> : null}</h2>
      <ul class="health" aria-live="polite">
        {NAMES.map((name) => {
          const d = deps[name];
          return (
            <li key={name} class={`dep ${d.status}`} title={d.detail ?? d.provider ?? d.status} data-dependency={name} data-status={d.status}>
              <span class="dot" aria-hidden="true" />
              <strong>{name}</strong> · {d.mode ? `${d.mode} · ` : ''}{d.status}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
