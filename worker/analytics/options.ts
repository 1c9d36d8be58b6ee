/**
 * What the filter controls offer: the values present in the data (with counts), the agents, the
 * value ranges and the data's date bounds. Read once per cache period, so no page scans the data
 * to build a dropdown. Without the lakehouse, the dictionary's listed values still fill the
 * categorical controls, labelled as such.
 */
import { z } from '@hono/zod-openapi';
import { FILTER_VALUES } from './filters.ts';
import type { AgentInfo } from './leaderboard.ts';
import type { Run } from './run.ts';

const ValueSchema = z.object({ value: z.string(), contacts: z.number().int().nullable() });

export const FilterOptionsSchema = z
  .object({
    regions: z.array(ValueSchema),
    channels: z.array(ValueSchema),
    issue_types: z.array(ValueSchema),
    teams: z.array(ValueSchema),
    agents: z.array(z.object({ agent_id: z.string(), name: z.string(), team: z.string().nullable(), region: z.string().nullable() })),
    ranges: z.object({
      csat: z.object({ min: z.number(), max: z.number() }),
      nps: z.object({ min: z.number(), max: z.number() }),
      handle_seconds: z.object({ min: z.number().nullable(), max: z.number().nullable() }),
    }),
    date_bounds: z.object({ first_contact: z.string().nullable(), last_contact: z.string().nullable() }),
  })
  .openapi('FilterOptionsData');
export type FilterOptions = z.infer<typeof FilterOptionsSchema>;

export async function readOptions(run: Run): Promise<FilterOptions> {
  const q = run.qualify;
  const categorical = run.statement({
    sql: [
      `SELECT 'region' AS kind, c.region AS value, COUNT(*) AS contacts FROM ${q('interactions')} i JOIN ${q('customers')} c ON c.customer_id = i.customer_id GROUP BY c.region`,
      `SELECT 'channel' AS kind, channel AS value, COUNT(*) AS contacts FROM ${q('interactions')} GROUP BY channel`,
      `SELECT 'issue_type' AS kind, issue_type AS value, COUNT(*) AS contacts FROM ${q('interactions')} GROUP BY issue_type`,
      `SELECT 'team' AS kind, a.team AS value, COUNT(*) AS contacts FROM ${q('interactions')} i JOIN ${q('agents')} a ON a.agent_id = i.agent_id GROUP BY a.team`,
    ].join('\nUNION ALL\n'),
    params: {},
  });
  const agents = run.statement({ sql: `SELECT agent_id, agent_name, team, region FROM ${q('agents')} ORDER BY agent_name, agent_id`, params: {} });
  const bounds = run.statement({
    sql: `SELECT MIN(started_at) AS first_contact, MAX(started_at) AS last_contact, MIN(handle_seconds) AS handle_min, MAX(handle_seconds) AS handle_max, MIN(csat) AS csat_min, MAX(csat) AS csat_max, MIN(nps) AS nps_min, MAX(nps) AS nps_max FROM ${q('interactions')}`,
    params: {},
  });
  const [cat, ag, b] = await Promise.all([categorical, agents, bounds]);
  const of = (kind: string) =>
    cat.rows
      .filter((r) => r.kind === kind && r.value !== null)
      .map((r) => ({ value: String(r.value), contacts: Number(r.contacts) }))
      .sort((x, y) => y.contacts - x.contacts || x.value.localeCompare(y.value));
  const row = b.rows[0] ?? {};
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  return {
    regions: of('region'),
    channels: of('channel'),
    issue_types: of('issue_type'),
    teams: of('team'),
    agents: ag.rows.map((r) => ({ agent_id: String(r.agent_id), name: String(r.agent_name), team: (r.team as string | null) ?? null, region: (r.region as string | null) ?? null })),
    ranges: {
      csat: { min: num(row.csat_min) ?? 1, max: num(row.csat_max) ?? 5 },
      nps: { min: num(row.nps_min) ?? 0, max: num(row.nps_max) ?? 10 },
      handle_seconds: { min: num(row.handle_min), max: num(row.handle_max) },
    },
    date_bounds: { first_contact: (row.first_contact as string | null) ?? null, last_contact: (row.last_contact as string | null) ?? null },
  };
}

/** The dictionary's listed values: what the controls can offer while the lakehouse is away. */
export function dictionaryOptions(): FilterOptions {
  const list = (values: string[]) => values.map((value) => ({ value, contacts: null }));
  return {
    regions: list(FILTER_VALUES.region()),
    channels: list(FILTER_VALUES.channel()),
    issue_types: list(FILTER_VALUES.issue_type()),
    teams: list(FILTER_VALUES.team()),
    agents: [],
    ranges: { csat: { min: 1, max: 5 }, nps: { min: 0, max: 10 }, handle_seconds: { min: null, max: null } },
    date_bounds: { first_contact: null, last_contact: null },
  };
}

export function agentsOf(options: FilterOptions): AgentInfo[] {
  return options.agents;
}
