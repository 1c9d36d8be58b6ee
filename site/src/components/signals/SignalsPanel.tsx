import { useEffect, useRef } from 'preact/hooks';
import { store } from '../../lib/store.ts';
import './panel.css';

const LOADING = '<h2 id="sig-panel-title">Open high-severity signals</h2><p class="empty">Loading…</p>';

/**
 * The dashboard's panel of open high-severity signals. Its content is HTML the server renders
 * (/signals/panel, from the list API the Signals page reads), so the dashboard's first view
 * carries only these lines: fetch the fragment, and again on any `signal_update` from the hub
 * (one Postgres read, well inside a second). A resolved signal leaves the list and the next one
 * takes its place, which patching what is on screen could not do. The fragment is written into
 * the section directly: Preact leaves inner HTML alone while the string it was given is unchanged.
 */
export function SignalsPanel() {
  const section = useRef<HTMLElement>(null);
  useEffect(() => {
    let asked = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = () => {
      const n = ++asked;
      // A redirect is the sign-in page (the session ended): the list stays as it was.
      void fetch('/signals/panel', { credentials: 'same-origin' })
        .then((res) => (res.ok && !res.redirected ? res.text() : null))
        .then((html) => {
          if (html !== null && n === asked && section.current) section.current.innerHTML = html;
        }, () => undefined);
    };
    load();
    // A burst of changes (a bulk action) is one read.
    const off = store().subscribe('signal_update', () => {
      clearTimeout(timer);
      timer = setTimeout(load, 100);
    });
    return () => {
      asked = -1;
      off();
      clearTimeout(timer);
    };
  }, []);
  return <section ref={section} class="card sig-panel" aria-labelledby="sig-panel-title" data-testid="signals-panel" dangerouslySetInnerHTML={{ __html: LOADING }} />;
}
