import type { AgentType } from '../../lib/incident-data.ts';
import type { Tone } from '../../lib/incident-text.ts';
import { AGENT_LABEL } from '../../lib/incident-text.ts';

/** One stroke path per agent, drawn in the text colour so both themes and forced colours read it. */
const PATHS: Record<AgentType, string> = {
  // magnifier
  detection: 'M10.5 4a6.5 6.5 0 1 0 0 13a6.5 6.5 0 1 0 0-13zM15.5 15.5L20 20',
  // branching root cause
  diagnosis: 'M6 4v6a4 4 0 0 0 4 4h4M6 10v10M14 14a2 2 0 1 0 4 0a2 2 0 1 0-4 0M4 4h4',
  // rising trend with a forecast point
  prediction: 'M3 17l5-5l4 3l6-7M15 8h3v3M3 21h18',
  // settings being changed: sliders
  resolution: 'M4 7h9M17 7h3M4 17h3M11 17h9M15 5v4M9 15v4',
  // speech bubble
  communication: 'M4 5h16v10H9l-5 4z',
};

export function AgentIcon({ agent }: { agent: AgentType }) {
  return (
    <svg class="agent-icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
      <path d={PATHS[agent]} fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" />
    </svg>
  );
}

/** The agent's icon and name, for lists where the icon alone would not say who. */
export function AgentName({ agent }: { agent: AgentType }) {
  return (
    <span class="agent-name">
      <AgentIcon agent={agent} /> {AGENT_LABEL[agent]}
    </span>
  );
}

/** A status in words, with a shape that does not rely on colour: ring running, check done, cross failed, pause waiting, arrow undone. */
export function StatusBadge({ tone, text }: { tone: Tone; text: string }) {
  return (
    <span class={`status-badge ${tone}`} data-tone={tone}>
      <span class="mark" aria-hidden="true" />
      {text}
    </span>
  );
}
