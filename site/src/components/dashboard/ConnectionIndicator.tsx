import { store } from '../../lib/store.ts';

const LABEL = { live: 'Live', connecting: 'Connecting…', reconnecting: 'Reconnecting…' } as const;

/** Whether the page is receiving the hub's stream, from the page's store. */
export function ConnectionIndicator() {
  const connection = store().connection.value;
  return (
    <p class={`connection ${connection}`} role="status" data-testid="connection" data-state={connection}>
      <span class="dot" aria-hidden="true" /> {LABEL[connection]}
    </p>
  );
}
