import type { Action, ActionStatus, AgentType } from './incident-data.ts';
import { AGENTS } from './incident-data.ts';

/**
 * How incident response reads on screen: each agent's name, each status in words, and what the
 * five agents are doing from the actions seen so far. Pure, so the dashboard, the incident page
 * and the list say the same thing the same way.
 */
export const AGENT_LABEL: Record<AgentType, string> = {
  detection: 'Detection',
  diagnosis: 'Diagnosis',
  prediction: 'Prediction',
  resolution: 'Resolution',
  communication: 'Communication',
};

/** Where a status sits in a step's life: a later report never gives way to an earlier one. */
const STATUS_RANK: Record<ActionStatus, number> = {
  in_progress: 0,
  retrying: 1,
  waiting_approval: 1,
  completed: 2,
  failed: 2,
  approved: 2,
  rejected: 2,
  timed_out: 2,
  cancelled: 2,
  rolled_back: 3,
  rollback_failed: 3,
};

/** A status as the reader's tone: colour and icon follow from it, never from the raw word. */
export type Tone = 'running' | 'done' | 'failed' | 'waiting' | 'undone' | 'idle' | 'warn';

export function statusTone(status: ActionStatus): Tone {
  switch (status) {
    case 'in_progress':
    case 'retrying':
      return 'running';
    case 'completed':
    case 'approved':
      return 'done';
    case 'waiting_approval':
      return 'waiting';
    case 'rolled_back':
    case 'cancelled':
      return 'undone';
    default:
      return 'failed';
  }
}

/**
 * A step's status in words. A failed compensation reads apart from a failed forward step: the
 * first leaves a change in place that someone has to undo by hand.
 */
export function statusText(a: Pick<Action, 'status' | 'kind' | 'attempt'>): string {
  const compensation = a.kind === 'rollback';
  switch (a.status) {
    case 'in_progress':
      return compensation ? 'Rolling back' : 'In progress';
    case 'retrying':
      return a.attempt ? `Retrying (attempt ${a.attempt})` : 'Retrying';
    case 'completed':
      return compensation ? 'Rolled back' : 'Completed';
    case 'failed':
      return compensation ? 'Rollback failed' : 'Failed';
    case 'rolled_back':
      return 'Rolled back';
    case 'rollback_failed':
      return 'Rollback failed';
    case 'waiting_approval':
      return 'Waiting for approval';
    case 'approved':
      return 'Approved';
    case 'rejected':
      return 'Rejected';
    case 'timed_out':
      return 'Timed out';
    case 'cancelled':
      return 'Cancelled';
  }
}

/** The same action seen twice (timeline, then frame) keeps the report further along in its life. */
export function laterOf(before: Action | undefined, next: Action): Action {
  if (!before) return next;
  return STATUS_RANK[next.status] >= STATUS_RANK[before.status] ? { ...before, ...next, started_at: before.started_at ?? next.started_at } : before;
}

/** Actions in the order they happened: by start, then by step. */
export function inOrder<T extends Action>(actions: Iterable<T>): T[] {
  return [...actions].sort((a, b) => (a.started_at ?? '').localeCompare(b.started_at ?? '') || (a.step ?? 0) - (b.step ?? 0));
}

export interface AgentState {
  agent: AgentType;
  tone: Tone;
  /** What the agent is doing or did, in words. */
  text: string;
  confidence: number | null;
}

/** Each of the five agents' state from an incident's actions: its latest action, and the last confidence it gave. */
export function agentStates(actions: Iterable<Action>, remediationSteps = 5): AgentState[] {
  const ordered = inOrder(actions);
  return AGENTS.map((agent) => {
    const mine = ordered.filter((a) => a.agent_type === agent);
    const last = mine.at(-1);
    const confidence = [...mine].reverse().find((a) => a.confidence !== null)?.confidence ?? null;
    if (!last) return { agent, tone: 'idle', text: 'Standing by', confidence };
    let text = statusText(last);
    if (agent === 'resolution' && last.kind === 'remediation' && last.step !== null) text = `Step ${last.step} of ${remediationSteps} · ${text.toLowerCase()}`;
    if (last.kind === 'rollback') text = `Rollback${last.step !== null ? ` of step ${last.step}` : ''} · ${text.toLowerCase()}`;
    return { agent, tone: statusTone(last.status), text, confidence };
  });
}

/** One feed line: who, what, and how it stands. */
export function actionLine(a: Action, remediationSteps = 5): string {
  const step =
    a.kind === 'remediation' && a.step !== null
      ? `Step ${a.step}/${remediationSteps}: `
      : a.kind === 'rollback' && a.step !== null
        ? `Rollback of step ${a.step}: `
        : '';
  const found = finding(a);
  return `${AGENT_LABEL[a.agent_type]} · ${step}${a.description}${found ? ` → ${found}` : ''}`;
}

/** An agent's score in words: prediction's is the cascade risk it estimated, the others' their confidence. */
export function formatConfidence(c: number | null | undefined, agent?: AgentType): string | null {
  if (typeof c !== 'number') return null;
  return `${Math.round(c * 100)}% ${agent === 'prediction' ? 'cascade risk' : 'confidence'}`;
}

const text = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : null);

/** What a finished phase found, from its details, in a few words; null when it has nothing to add. */
export function finding(a: Pick<Action, 'agent_type' | 'status' | 'details'>): string | null {
  if (a.status !== 'completed') return null;
  const d = a.details ?? {};
  if (a.agent_type === 'detection') return text(d.pattern_match) && `pattern “${text(d.pattern_match)}”`;
  if (a.agent_type === 'diagnosis') {
    const where = [text(d.service), text(d.region), text(d.product)].filter(Boolean).join(' · ');
    return [where, text(d.root_cause) && `“${text(d.root_cause)}”`].filter(Boolean).join(': ') || null;
  }
  return null;
}

export function formatMs(ms: number | null | undefined): string | null {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return null;
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** An incident's resolution time (seconds) as the seed reads it: "18.2 s", minutes past a minute and a half. */
export function formatSeconds(s: number | null | undefined): string | null {
  if (typeof s !== 'number' || !Number.isFinite(s)) return null;
  return s < 90 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`;
}

const wholeDollars = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 0 });

/** Savings and the figures behind them in whole dollars, as the seed's meter reads ("$103,360"). */
export const formatSavings = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? wholeDollars.format(v) : null);

const INCIDENT_STATUS: Record<string, string> = {
  active: 'Active',
  resolved: 'Resolved',
  failed: 'Failed',
  cancelled: 'Cancelled',
  rejected: 'Rejected',
  timed_out: 'Approval timed out',
  waiting_approval: 'Waiting for approval',
};

/** Running: still working or waiting for a decision. Every other status is final. */
export const isOpen = (status: string) => status === 'active' || status === 'waiting_approval';

export const incidentStatusText = (s: string) => INCIDENT_STATUS[s] ?? s.replace(/_/g, ' ');

/** An incident's status as a tone, for the same badges the steps use. */
export function incidentTone(s: string): Tone {
  if (s === 'active') return 'running';
  if (s === 'resolved') return 'done';
  if (s === 'waiting_approval') return 'waiting';
  if (s === 'cancelled') return 'undone';
  return 'failed';
}

export const severityText = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** A detail's value in words: lists joined, ratios left as numbers, nested objects as compact JSON. */
export function detailText(v: unknown): string {
  if (v === null || v === undefined || v === '') return '—';
  if (Array.isArray(v)) return v.map(detailText).join('; ');
  if (typeof v === 'object')
    return (
      Object.entries(v)
        .map(([k, x]) => `${detailLabel(k).toLowerCase()} ${detailText(x)}`)
        .join(', ') || '—'
    );
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}

export const detailLabel = (k: string) => (k.charAt(0).toUpperCase() + k.slice(1)).replace(/_/g, ' ');
