import type { Metric } from '../catalog/store.ts';
import type { DataDictionary } from '../../dictionary/load.ts';
import { ApiError } from '../../http/errors.ts';
import type { FieldProblem } from '../../http/errors.ts';
import { MAX_SQL_LENGTH } from '../../sqlgen/safety.ts';
import { DATABRICKS_MAX_PARAMETERS } from './filters-cte.ts';
import type { Filter } from './filters.ts';
import { bindFilters } from './filters.ts';
import { composeGrouped, groupPlan } from './grouping.ts';
import type { GroupPlan } from './grouping.ts';
import { metricShape } from './shape.ts';

/**
 * What question a widget asks of its metric:
 *   value    the metric's query as it is (KPI, and breakdown metrics on any chart);
 *   grouped  one row per allowed value of the widget's group_by column;
 *   series   one row per time bucket of the window (line tiles of single-value metrics).
 */
export type Presentation = { kind: 'value' } | { kind: 'grouped'; plan: GroupPlan } | { kind: 'series' };

interface WidgetShape {
  visualization: string;
  group_by?: string | null | undefined;
  filters: readonly Filter[];
}

/**
 * Checks a widget's visualization and group_by against its metric before anything is stored,
 * in the FieldProblem form the filter checks use. A grouped statement repeats the metric's query
 * once per group; one the SQL safety layer would refuse for its size is refused here instead.
 */
export function checkPresentation(
  widget: WidgetShape,
  metric: Metric,
  dictionary: DataDictionary,
  qualify: (table: string) => string,
): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const groupBy = widget.group_by ?? null;
  if (groupBy !== null) {
    const pointer = 'body/group_by';
    if (widget.visualization === 'kpi') {
      problems.push({ pointer, message: 'a kpi tile shows one number; group_by needs a bar, pie or table tile (send group_by: null for a kpi)' });
    } else if (widget.visualization === 'line') {
      problems.push({ pointer, message: 'a line tile is a time series of one value; group_by needs a bar, pie or table tile' });
    } else {
      const found = groupPlan(groupBy, metric, dictionary, qualify);
      if ('problem' in found) problems.push({ pointer, message: found.problem });
      else if (metric.queries.databricks) {
        const bound = bindFilters(widget.filters, metric.lineage.tables, dictionary);
        const composed = composeGrouped(metric.queries.databricks, bound, found.plan, 'databricks', qualify);
        const length = composed.sql.length;
        const parameters = Object.keys(composed.params).length + bound.reduce((n, f) => n + f.params.length, 0);
        if (length > MAX_SQL_LENGTH) {
          problems.push({ pointer, message: `grouping ${metric.name} by ${groupBy} needs a ${length}-character statement, more than the ${MAX_SQL_LENGTH} the SQL safety layer reads` });
        } else if (parameters > DATABRICKS_MAX_PARAMETERS) {
          problems.push({ pointer, message: `grouping ${metric.name} by ${groupBy} with these filters needs ${parameters} parameters, more than the ${DATABRICKS_MAX_PARAMETERS} Databricks takes` });
        }
      }
    }
  }
  if (widget.visualization === 'line' && !metricShape(metric).windowed) {
    problems.push({
      pointer: 'body/visualization',
      message: `${metric.name} is not measured over a time window (its query does not use :start and :end), so it cannot be drawn as a time series; choose kpi, bar, pie or table`,
    });
  }
  return problems;
}

/**
 * The question a stored widget asks now. Its metric may have changed since the widget was
 * checked; a grouping that no longer fits is a 409 naming why, never a silently different number.
 */
export function presentationFor(widget: WidgetShape, metric: Metric, dictionary: DataDictionary, qualify: (table: string) => string): Presentation {
  const groupBy = widget.group_by ?? null;
  if (groupBy !== null) {
    if (widget.visualization === 'kpi' || widget.visualization === 'line') {
      throw new ApiError('conflict', `A ${widget.visualization} tile cannot be grouped; remove group_by ${groupBy}.`);
    }
    const found = groupPlan(groupBy, metric, dictionary, qualify);
    if ('problem' in found) throw new ApiError('conflict', `This tile can no longer be grouped by ${groupBy}: ${found.problem}.`);
    return { kind: 'grouped', plan: found.plan };
  }
  if (widget.visualization === 'line') {
    const shape = metricShape(metric);
    // A line of a breakdown metric, or of one not measured over a window, keeps the metric's own rows.
    if (shape.output === 'scalar' && shape.windowed) return { kind: 'series' };
  }
  return { kind: 'value' };
}
