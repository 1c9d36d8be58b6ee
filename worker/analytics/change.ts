/**
 * How a number moved against the compared window. The absolute change is always given; a rate
 * (a percentage) also moves in percentage points, which is what an analyst means by "FCR fell 3
 * points", while `relative` is the ratio (-0.04 = 4 % lower than before).
 */
import { z } from '@hono/zod-openapi';

export type Direction = 'higher_is_better' | 'lower_is_better' | 'neutral';

export const ChangeSchema = z
  .object({
    current: z.number().nullable(),
    previous: z.number().nullable(),
    absolute: z.number().nullable().openapi({ description: 'current − previous, in the measure’s unit (points for a percentage)' }),
    relative: z.number().nullable().openapi({ description: '(current − previous) / |previous|; null when previous is 0 or missing' }),
    percentage_points: z.number().nullable().optional().openapi({ description: 'Rates only: the change in percentage points (equal to absolute)' }),
    improving: z.boolean().nullable().openapi({ description: 'By the measure’s direction; null without a change or for a neutral measure' }),
  })
  .openapi('AnalyticsChange');
export type Change = z.infer<typeof ChangeSchema>;

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

export function change(current: number | null, previous: number | null, unit: string, direction: Direction): Change {
  const absolute = current !== null && previous !== null ? round(current - previous, 4) : null;
  const relative = absolute !== null && previous ? round(absolute / Math.abs(previous), 4) : null;
  return {
    current,
    previous,
    absolute,
    relative,
    ...(unit === 'percent' ? { percentage_points: absolute } : {}),
    improving: absolute === null || absolute === 0 || direction === 'neutral' ? null : (absolute > 0) === (direction === 'higher_is_better'),
  };
}
