/**
 * Period-over-period change of a KPI. Pure and dependency-free: the worker computes it for
 * widget data, and the dashboard island recomputes it when a live update moves the current
 * value, so a number and its arrow never disagree.
 */
export interface PeriodDelta {
  current: number | null;
  previous: number | null;
  absolute: number | null;
  relative: number | null;
  /** Null when there is no change to judge (or nothing to compare with). */
  improving: boolean | null;
}

export function periodDelta(current: number | null, previous: number | null, direction: string): PeriodDelta {
  const absolute = current !== null && previous !== null ? current - previous : null;
  return {
    current,
    previous,
    absolute,
    relative: absolute !== null && previous ? absolute / Math.abs(previous) : null,
    improving: absolute === null || absolute === 0 ? null : (absolute > 0) === (direction === 'higher_is_better'),
  };
}
