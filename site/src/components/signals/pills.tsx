import { SEVERITY_LABEL, STATUS_LABEL } from '../../lib/signals-data.ts';
import type { Severity, SignalStatus } from '../../lib/signals-data.ts';

/** Severity and status as the queue, the detail and the dashboard's panel show them: a word, never colour alone. */
export function SeverityPill({ severity }: { severity: Severity }) {
  return (
    <span class={`sev sev-${severity}`} data-severity={severity}>
      <span class="sev-mark" aria-hidden="true" />
      {SEVERITY_LABEL[severity]}
    </span>
  );
}

export function StatusPill({ status }: { status: SignalStatus }) {
  return (
    <span class={`st st-${status}`} data-status={status}>
      {STATUS_LABEL[status]}
    </span>
  );
}
