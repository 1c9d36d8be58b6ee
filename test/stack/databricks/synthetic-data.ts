// Deterministic synthetic support data for the lakehouse stand-in. Pure: it only turns (now, seed) into
// rows, so the same inputs always give the same tables. The shapes aim to make dashboards look like a
// real support operation: weekday and hour seasonality, regional mix, log-normal handle times, surveys
// answered about 60% of the time and skewed positive, claims that are still open when they are young,
// cost avoided growing over time and first-contact resolution slowly improving.
import { createRandom, cumulativeWeights, sampleIndex, weightedPicker } from './prng.ts';
import type { Random } from './prng.ts';

/** Timestamps and dates are epoch milliseconds (dates at 00:00 UTC); decimals are plain numbers. */
export type CellValue = string | number | boolean | null;
export type GeneratedRow = Record<string, CellValue>;

export interface Volumes {
  customers: number;
  devices: number;
  agents: number;
  interactions: number;
  claims: number;
  issueSessions: number;
}

export const DEFAULT_VOLUMES: Volumes = {
  customers: 6_000,
  devices: 7_500,
  agents: 80,
  interactions: 30_000,
  claims: 6_000,
  issueSessions: 12_000,
};

/**
 * Volumes for a lakehouse of `interactions` contacts: the customer base (and its devices) grows with
 * the contacts, about five contacts per customer over the window as at the default size, so repeat
 * contacts and per-customer histories keep their shape at any scale. Claims, sessions and agents
 * stay as they are.
 */
export function scaledVolumes(interactions: number): Volumes {
  if (!Number.isInteger(interactions) || interactions < 1 || interactions > 9_999_999) {
    throw new Error(`interactions must be an integer from 1 to 9,999,999 (ids have seven digits), not ${interactions}`);
  }
  const ratio = Math.max(1, interactions / DEFAULT_VOLUMES.interactions);
  return {
    ...DEFAULT_VOLUMES,
    interactions,
    customers: Math.round(DEFAULT_VOLUMES.customers * ratio),
    devices: Math.round(DEFAULT_VOLUMES.devices * ratio),
  };
}

/** `LAKEHOUSE_INTERACTIONS` from the environment: the stand-in's scale knob, or undefined for the default size. */
export function interactionsFromEnv(env: Record<string, string | undefined> = process.env): number | undefined {
  const raw = env.LAKEHOUSE_INTERACTIONS?.replaceAll('_', '');
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw new Error(`LAKEHOUSE_INTERACTIONS must be a whole number, not ${JSON.stringify(env.LAKEHOUSE_INTERACTIONS)}`);
  return Number(raw);
}

export interface GenerateOptions {
  now: Date;
  seed: number;
  /** How far back activity goes. */
  days?: number;
  volumes?: Partial<Volumes>;
  /**
   * Draws contacts, claims and sessions from streams of their own while customers, devices and
   * agents stay those of `seed`: how a later day's activity is made for the same customer base.
   */
  factSalt?: string;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const REGIONS = weightedPicker([
  ['NA-East', 0.31],
  ['NA-West', 0.22],
  ['EMEA', 0.24],
  ['APAC', 0.15],
  ['LATAM', 0.08],
] as const);
const AGENT_REGIONS = weightedPicker([
  ['NA-East', 0.32],
  ['NA-West', 0.2],
  ['EMEA', 0.24],
  ['APAC', 0.14],
  ['LATAM', 0.1],
] as const);
const SEGMENTS = weightedPicker([
  ['consumer', 0.72],
  ['smb', 0.21],
  ['enterprise', 0.07],
] as const);
const CONSUMER_PLANS = weightedPicker([
  ['basic', 0.45],
  ['plus', 0.35],
  ['premium', 0.2],
] as const);
const MAKES = weightedPicker([
  ['Apple', 0.45],
  ['Samsung', 0.3],
  ['Google', 0.12],
  ['Motorola', 0.08],
  ['OnePlus', 0.05],
] as const);
const MODELS: Record<string, readonly string[]> = {
  Apple: ['iPhone 16 Pro', 'iPhone 16', 'iPhone 15', 'iPhone 15', 'iPhone 14', 'iPhone 13', 'iPad Air'],
  Samsung: ['Galaxy S24', 'Galaxy S23', 'Galaxy A54', 'Galaxy A54', 'Galaxy Z Flip5', 'Galaxy Tab S9'],
  Google: ['Pixel 9', 'Pixel 8', 'Pixel 8', 'Pixel 7a'],
  Motorola: ['moto g power', 'moto g power', 'razr 2024', 'edge 2024'],
  OnePlus: ['OnePlus 12', 'OnePlus Nord N30'],
};
const TEAMS = weightedPicker([
  ['devices', 0.35],
  ['connectivity', 0.25],
  ['claims', 0.25],
  ['escalations', 0.15],
] as const);
const FIRST_NAMES = [
  'Avery', 'Blake', 'Camila', 'Dev', 'Elena', 'Farah', 'Gabe', 'Hana', 'Ines', 'Jonah', 'Kiran', 'Lena',
  'Mateo', 'Nadia', 'Omar', 'Priya', 'Quinn', 'Rosa', 'Sam', 'Tomas', 'Uma', 'Victor', 'Wen', 'Yara', 'Zoe',
];
const LAST_NAMES = [
  'Adeyemi', 'Brennan', 'Castillo', 'Dubois', 'Eriksen', 'Fischer', 'Goh', 'Haddad', 'Ito', 'Jansen',
  'Kowalski', 'Lindqvist', 'Moreau', 'Nakamura', 'Okafor', 'Petrov', 'Quispe', 'Rossi', 'Santos', 'Tanaka',
];

type IssueType =
  | 'connectivity'
  | 'battery'
  | 'screen_damage'
  | 'setup'
  | 'performance'
  | 'software_update'
  | 'lost_or_stolen'
  | 'billing';
const ISSUES = weightedPicker<IssueType>([
  ['connectivity', 0.2],
  ['battery', 0.13],
  ['screen_damage', 0.15],
  ['setup', 0.14],
  ['performance', 0.1],
  ['software_update', 0.1],
  ['lost_or_stolen', 0.06],
  ['billing', 0.12],
]);
/** Which team an issue usually lands on; agents elsewhere still take some of it. */
const ISSUE_TEAM: Record<IssueType, string> = {
  connectivity: 'connectivity',
  battery: 'devices',
  screen_damage: 'claims',
  setup: 'devices',
  performance: 'devices',
  software_update: 'connectivity',
  lost_or_stolen: 'claims',
  billing: 'claims',
};
/** Hard issues resolve less often at first contact and take longer. */
const ISSUE_FCR_SHIFT: Record<IssueType, number> = {
  connectivity: -0.06,
  battery: 0.02,
  screen_damage: -0.02,
  setup: 0.08,
  performance: -0.08,
  software_update: 0.04,
  lost_or_stolen: -0.1,
  billing: 0.06,
};
const ISSUE_HANDLE_FACTOR: Record<IssueType, number> = {
  connectivity: 1.15,
  battery: 0.9,
  screen_damage: 1.0,
  setup: 0.95,
  performance: 1.2,
  software_update: 0.85,
  lost_or_stolen: 1.25,
  billing: 0.75,
};

type ContactChannel = 'call' | 'chat' | 'email' | 'app';
const FIRST_CHANNELS = weightedPicker<ContactChannel>([
  ['call', 0.38],
  ['chat', 0.32],
  ['email', 0.14],
  ['app', 0.16],
]);
// Customers who have to come back tend to pick up the phone.
const FOLLOW_UP_CHANNELS = weightedPicker<ContactChannel>([
  ['call', 0.55],
  ['chat', 0.25],
  ['email', 0.12],
  ['app', 0.08],
]);
/** Median handle seconds of a level-3 contact per channel. */
const CHANNEL_HANDLE_MEDIAN: Record<ContactChannel, number> = { call: 780, chat: 1020, email: 600, app: 420 };

const CSAT_RESOLVED = weightedPicker([
  [5, 0.55],
  [4, 0.27],
  [3, 0.09],
  [2, 0.05],
  [1, 0.04],
] as const);
const CSAT_UNRESOLVED = weightedPicker([
  [5, 0.2],
  [4, 0.25],
  [3, 0.22],
  [2, 0.16],
  [1, 0.17],
] as const);
const NPS_RESOLVED = weightedPicker([
  [10, 0.3], [9, 0.24], [8, 0.16], [7, 0.1], [6, 0.06], [5, 0.05], [4, 0.03], [3, 0.02], [2, 0.02], [1, 0.01], [0, 0.01],
] as const);
const NPS_UNRESOLVED = weightedPicker([
  [10, 0.1], [9, 0.1], [8, 0.13], [7, 0.14], [6, 0.12], [5, 0.11], [4, 0.09], [3, 0.07], [2, 0.06], [1, 0.04], [0, 0.04],
] as const);

const PRODUCTS = weightedPicker([
  ['Total Protection', 0.38],
  ['Screen Protect', 0.22],
  ['Device Care', 0.18],
  ['Multi-Device Protect', 0.14],
  ['Home Tech Protect', 0.08],
] as const);
type ClaimType = 'damage' | 'loss' | 'theft' | 'malfunction';
const CLAIM_TYPES = weightedPicker<ClaimType>([
  ['damage', 0.46],
  ['malfunction', 0.24],
  ['loss', 0.17],
  ['theft', 0.13],
]);
const SCREEN_CLAIM_TYPES = weightedPicker<ClaimType>([
  ['damage', 0.9],
  ['malfunction', 0.1],
]);
const CLAIM_COST_MEDIAN: Record<ClaimType, number> = { damage: 190, malfunction: 230, loss: 720, theft: 760 };
/** Share of a claim's cost a repair or fix saves over a replacement. */
const CLAIM_AVOIDED_RATIO: Record<ClaimType, number> = { damage: 0.35, malfunction: 0.4, loss: 0.08, theft: 0.06 };

type SessionChannel = 'app' | 'web' | 'chat' | 'call';
const SESSION_CHANNELS = weightedPicker<SessionChannel>([
  ['app', 0.45],
  ['web', 0.3],
  ['chat', 0.17],
  ['call', 0.08],
]);
type Outcome = 'resolved' | 'escalated' | 'abandoned' | 'claim_filed';
const OUTCOMES = weightedPicker<Outcome>([
  ['resolved', 0.64],
  ['escalated', 0.14],
  ['abandoned', 0.14],
  ['claim_filed', 0.08],
]);
const DAMAGE_OUTCOMES = weightedPicker<Outcome>([
  ['resolved', 0.34],
  ['escalated', 0.14],
  ['abandoned', 0.12],
  ['claim_filed', 0.4],
]);
/** Median session minutes and the NPS points a session with that outcome typically moves. */
const OUTCOME_PROFILE: Record<Outcome, { minutes: number; sigma: number; npsMean: number; npsSpread: number }> = {
  resolved: { minutes: 22, sigma: 0.8, npsMean: 1.4, npsSpread: 0.7 },
  escalated: { minutes: 20 * 60, sigma: 0.9, npsMean: -1.8, npsSpread: 0.9 },
  abandoned: { minutes: 8, sigma: 0.6, npsMean: -2.6, npsSpread: 1.0 },
  claim_filed: { minutes: 35, sigma: 0.7, npsMean: 0.3, npsSpread: 0.8 },
};

// UTC weekday (0 = Sunday) and hour-of-day shapes. Contacts follow the Americas' and Europe's business
// hours; self-service sessions lean into the evenings.
const WEEKDAY_CONTACTS = [0.55, 1.18, 1.1, 1.04, 1.02, 0.95, 0.62];
const WEEKDAY_SESSIONS = [0.85, 1.05, 1.0, 1.0, 1.0, 0.98, 0.9];
const HOURLY_CONTACTS = [
  0.35, 0.28, 0.22, 0.18, 0.16, 0.18, 0.28, 0.45, 0.65, 0.8, 0.88, 0.92, 0.95, 1.0, 1.1, 1.2, 1.25, 1.22, 1.15,
  1.05, 0.95, 0.8, 0.62, 0.45,
];
const HOURLY_SESSIONS = [
  0.9, 0.85, 0.7, 0.5, 0.35, 0.25, 0.22, 0.28, 0.4, 0.55, 0.65, 0.72, 0.78, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1,
  1.15, 1.2, 1.2, 1.1, 1.0,
];

interface Customer {
  id: string;
  region: string;
  devices: string[];
}

interface Agent {
  id: string;
  team: string;
  /** Multiplies handle time: newer agents are slower. */
  speed: number;
  /** Added to the first-contact-resolution probability: tenure helps. */
  skill: number;
}

/** Spreads events over the window's hours by weekday, hour of day and a linear growth trend. */
function timeSampler(
  windowStart: number,
  now: number,
  weekday: readonly number[],
  hourly: readonly number[],
  growth: number,
): (random: Random) => number {
  const slots = Math.ceil((now - windowStart) / HOUR);
  const weights: number[] = [];
  for (let slot = 0; slot < slots; slot++) {
    const slotStart = windowStart + slot * HOUR;
    const date = new Date(slotStart);
    const share = Math.min(HOUR, now - slotStart) / HOUR;
    const trend = 1 + growth * (slot / slots);
    weights.push((weekday[date.getUTCDay()] ?? 1) * (hourly[date.getUTCHours()] ?? 1) * trend * share);
  }
  const cumulative = cumulativeWeights(weights);
  return (random) => {
    const slotStart = windowStart + sampleIndex(cumulative, random.next()) * HOUR;
    const width = Math.min(HOUR, now - slotStart);
    return slotStart + Math.floor(random.next() * width / 1000) * 1000;
  };
}

const round2 = (value: number): number => Math.round(value * 100) / 100;
const clamp = (value: number, min: number, max: number): number => Math.min(max, Math.max(min, value));
const pad = (value: number, width: number): string => String(value).padStart(width, '0');
const dayStart = (epochMs: number): number => Math.floor(epochMs / DAY) * DAY;

export function generateLakehouse(options: GenerateOptions): Record<string, GeneratedRow[]> {
  const volumes: Volumes = { ...DEFAULT_VOLUMES, ...options.volumes };
  const now = options.now.getTime();
  const windowStart = now - (options.days ?? 120) * DAY;
  const span = now - windowStart;
  const root = createRandom(options.seed);
  const facts = options.factSalt ? root.fork(options.factSalt) : root;
  const progress = (epochMs: number): number => clamp((epochMs - windowStart) / span, 0, 1);

  // customers --------------------------------------------------------------------------------------
  const random = root.fork('customers');
  const customers: Customer[] = [];
  const customerRows: GeneratedRow[] = [];
  const activity: number[] = [];
  const deviceAffinity: number[] = [];
  for (let i = 1; i <= volumes.customers; i++) {
    const id = `CUS-${pad(i, 6)}`;
    const region = REGIONS(random);
    const segment = SEGMENTS(random);
    const plan = segment === 'consumer' ? CONSUMER_PLANS(random) : segment === 'smb' ? 'business' : 'enterprise';
    const signupDaysAgo = 1 + Math.floor(2190 * random.next() ** 1.4);
    customers.push({ id, region, devices: [] });
    customerRows.push({ customer_id: id, region, segment, plan, signup_date: dayStart(now) - signupDaysAgo * DAY });
    // A few customers account for many contacts, as in any support queue.
    activity.push(random.logNormal(1, 0.9));
    deviceAffinity.push(segment === 'enterprise' ? 4 : segment === 'smb' ? 2 : 1);
  }
  const activityWeights = cumulativeWeights(activity);
  const pickCustomer = (source: Random): Customer => {
    const customer = customers[sampleIndex(activityWeights, source.next())];
    if (!customer) throw new Error('customer pick out of range');
    return customer;
  };

  // devices ----------------------------------------------------------------------------------------
  const deviceRandom = root.fork('devices');
  const deviceRows: GeneratedRow[] = [];
  const affinityWeights = cumulativeWeights(deviceAffinity);
  for (let i = 1; i <= volumes.devices; i++) {
    // Everyone has one device; the rest go to business accounts more often.
    const owner = i <= customers.length ? customers[i - 1] : customers[sampleIndex(affinityWeights, deviceRandom.next())];
    if (!owner) throw new Error('device owner out of range');
    const id = `DEV-${pad(i, 6)}`;
    const make = MAKES(deviceRandom);
    const model = deviceRandom.pick(MODELS[make] ?? ['Unknown']);
    owner.devices.push(id);
    deviceRows.push({
      device_id: id,
      customer_id: owner.id,
      make,
      model,
      os: make === 'Apple' ? 'iOS' : 'Android',
      purchased_on: dayStart(now) - (1 + Math.floor(1400 * deviceRandom.next() ** 1.3)) * DAY,
    });
  }

  // agents -----------------------------------------------------------------------------------------
  const agentRandom = root.fork('agents');
  const agents: Agent[] = [];
  const agentRows: GeneratedRow[] = [];
  for (let i = 1; i <= volumes.agents; i++) {
    const tenureDays = agentRandom.int(30, 2900);
    const seasoning = Math.min(1, tenureDays / 1000);
    const agent: Agent = {
      id: `AGT-${pad(i, 3)}`,
      team: TEAMS(agentRandom),
      speed: (1.25 - 0.3 * seasoning) * agentRandom.uniform(0.9, 1.1),
      skill: -0.06 + 0.1 * seasoning,
    };
    agents.push(agent);
    agentRows.push({
      agent_id: agent.id,
      agent_name: `${agentRandom.pick(FIRST_NAMES)} ${agentRandom.pick(LAST_NAMES)}`,
      team: agent.team,
      region: AGENT_REGIONS(agentRandom),
      hired_on: dayStart(now) - tenureDays * DAY,
    });
  }
  const agentPickers = new Map<string, Float64Array>();
  const pickAgent = (issue: IssueType, source: Random): Agent => {
    const team = ISSUE_TEAM[issue];
    let weights = agentPickers.get(team);
    if (!weights) {
      weights = cumulativeWeights(agents.map((agent) => (agent.team === team ? 3 : agent.team === 'escalations' ? 1.5 : 1)));
      agentPickers.set(team, weights);
    }
    const agent = agents[sampleIndex(weights, source.next())];
    if (!agent) throw new Error('agent pick out of range');
    return agent;
  };

  // interactions: generated as episodes, one issue that may take a few contacts to resolve ----------
  const contactRandom = facts.fork('interactions');
  const contactTime = timeSampler(windowStart, now, WEEKDAY_CONTACTS, HOURLY_CONTACTS, 0.12);
  const hourOfDay = cumulativeWeights(HOURLY_CONTACTS);
  const contacts: GeneratedRow[] = [];
  while (contacts.length < volumes.interactions) {
    let at = contactTime(contactRandom);
    const customer = pickCustomer(contactRandom);
    const issue = ISSUES(contactRandom);
    const device =
      issue === 'billing'
        ? contactRandom.chance(0.15) ? contactRandom.pick(customer.devices) : null
        : contactRandom.chance(0.04) ? null : contactRandom.pick(customer.devices);
    const baseResolution = 0.64 + 0.09 * progress(at) + ISSUE_FCR_SHIFT[issue];
    for (let attempt = 1; attempt <= 4; attempt++) {
      const channel = attempt === 1 ? FIRST_CHANNELS(contactRandom) : FOLLOW_UP_CHANNELS(contactRandom);
      const agent = pickAgent(issue, contactRandom);
      const resolved = contactRandom.chance(clamp(baseResolution + agent.skill + (attempt - 1) * 0.1, 0.05, 0.97));
      const median = CHANNEL_HANDLE_MEDIAN[channel] * ISSUE_HANDLE_FACTOR[issue] * agent.speed * (1 - 0.06 * progress(at));
      const handleSeconds = Math.round(clamp(contactRandom.logNormal(median, 0.55), 45, 5400));
      // Contacts still in progress have not landed in the lakehouse yet.
      if (at + handleSeconds * 1000 > now) break;
      const surveyed = !contactRandom.chance(channel === 'email' ? 0.5 : 0.38);
      const npsAnswered = !contactRandom.chance(0.42);
      contacts.push({
        interaction_id: '',
        customer_id: customer.id,
        agent_id: agent.id,
        device_id: device,
        channel,
        issue_type: issue,
        started_at: at,
        ended_at: at + handleSeconds * 1000,
        handle_seconds: handleSeconds,
        resolved_first_contact: resolved,
        transferred: contactRandom.chance(resolved ? 0.05 : 0.28),
        csat: surveyed ? (resolved ? CSAT_RESOLVED : CSAT_UNRESOLVED)(contactRandom) : null,
        nps: npsAnswered ? (resolved ? NPS_RESOLVED : NPS_UNRESOLVED)(contactRandom) : null,
      });
      if (resolved || !contactRandom.chance(0.7)) break;
      // The customer comes back a day or two later, during the usual contact hours.
      const gapDays = Math.max(1, Math.round(contactRandom.logNormal(1.6, 0.7)));
      at = dayStart(at) + gapDays * DAY + sampleIndex(hourOfDay, contactRandom.next()) * HOUR + contactRandom.int(0, 3599) * 1000;
      if (at >= now) break;
    }
  }
  contacts.length = volumes.interactions;
  sortByTime(contacts, 'started_at').forEach((row, index) => {
    row.interaction_id = `INT-${pad(index + 1, 7)}`;
  });

  // claims -----------------------------------------------------------------------------------------
  const claimRandom = facts.fork('claims');
  const claimTime = timeSampler(windowStart, now, WEEKDAY_CONTACTS, HOURLY_CONTACTS, 0.15);
  const claims: GeneratedRow[] = [];
  for (let i = 0; i < volumes.claims; i++) {
    const openedAt = claimTime(claimRandom);
    const t = progress(openedAt);
    const customer = pickCustomer(claimRandom);
    const product = PRODUCTS(claimRandom);
    const claimType = product === 'Screen Protect' ? SCREEN_CLAIM_TYPES(claimRandom) : CLAIM_TYPES(claimRandom);
    const lossLike = claimType === 'loss' || claimType === 'theft';
    // Processing gets a little faster over the window, so the SLA breach rate eases down.
    const closeHours = claimRandom.logNormal((lossLike ? 58 : 38) * (1.12 - 0.22 * t), 0.65);
    const decisionHours = closeHours * claimRandom.uniform(0.25, 0.55);
    const finalRoll = claimRandom.next();
    const finalStatus = finalRoll < (lossLike ? 0.2 : 0.1) ? 'denied' : finalRoll > 0.95 ? 'cancelled' : 'fulfilled';
    const stuck = claimRandom.chance(0.01);
    let status: string;
    let closedAt: number | null = null;
    if (!stuck && openedAt + closeHours * HOUR <= now) {
      status = finalStatus;
      closedAt = Math.round(openedAt + closeHours * HOUR);
    } else {
      const decided = stuck || openedAt + decisionHours * HOUR <= now;
      status = decided && finalStatus === 'fulfilled' ? 'approved' : 'open';
    }
    const baseCost = claimRandom.logNormal(CLAIM_COST_MEDIAN[claimType], lossLike ? 0.35 : 0.5);
    const paysOut = status !== 'denied' && status !== 'cancelled';
    const avoided = baseCost * CLAIM_AVOIDED_RATIO[claimType] * (0.8 + 0.6 * t) * claimRandom.uniform(0.6, 1.4);
    claims.push({
      claim_id: '',
      customer_id: customer.id,
      device_id: claimRandom.pick(customer.devices),
      product,
      claim_type: claimType,
      status,
      region: customer.region,
      opened_at: openedAt,
      closed_at: closedAt,
      claim_cost: paysOut ? round2(baseCost) : 0,
      cost_avoided: paysOut ? round2(avoided) : 0,
    });
  }
  sortByTime(claims, 'opened_at').forEach((row, index) => {
    row.claim_id = `CLM-${pad(index + 1, 6)}`;
  });

  // issue sessions ---------------------------------------------------------------------------------
  const sessionRandom = facts.fork('issue_sessions');
  const sessionTime = timeSampler(windowStart, now, WEEKDAY_SESSIONS, HOURLY_SESSIONS, 0.08);
  const sessions: GeneratedRow[] = [];
  for (let i = 0; i < volumes.issueSessions; i++) {
    const startedAt = sessionTime(sessionRandom);
    const customer = pickCustomer(sessionRandom);
    const issue = ISSUES(sessionRandom);
    const damageLike = issue === 'screen_damage' || issue === 'lost_or_stolen';
    let outcome: Outcome = (damageLike ? DAMAGE_OUTCOMES : OUTCOMES)(sessionRandom);
    const profile = OUTCOME_PROFILE[outcome];
    const endsAt = Math.round(startedAt + sessionRandom.logNormal(profile.minutes, profile.sigma) * 60_000);
    // A few escalations are never closed out and linger as active sessions.
    const lingering = outcome === 'escalated' && sessionRandom.chance(0.03);
    const active = lingering || endsAt > now;
    // A session that is still open is, by definition, waiting on someone else.
    if (active) outcome = 'escalated';
    const npsImpact = profile.npsMean + 0.35 * progress(startedAt) + profile.npsSpread * sessionRandom.normal();
    sessions.push({
      session_id: '',
      customer_id: customer.id,
      device_id: sessionRandom.pick(customer.devices),
      issue_type: issue,
      channel: SESSION_CHANNELS(sessionRandom),
      started_at: startedAt,
      resolved_at: active ? null : endsAt,
      outcome,
      nps_impact: round2(npsImpact),
    });
  }
  sortByTime(sessions, 'started_at').forEach((row, index) => {
    row.session_id = `SES-${pad(index + 1, 7)}`;
  });

  return {
    customers: customerRows,
    devices: deviceRows,
    agents: agentRows,
    interactions: contacts,
    claims,
    issue_sessions: sessions,
  };
}

/** Stable sort by a timestamp column, so identifiers follow event order. */
function sortByTime(rows: GeneratedRow[], column: string): GeneratedRow[] {
  // Sorting indexes by a pre-read key is several times faster than comparing row objects.
  const times = Float64Array.from(rows, (row) => Number(row[column]));
  const order = Array.from(rows.keys()).sort((a, b) => (times[a] ?? 0) - (times[b] ?? 0) || a - b);
  const sorted = order.map((index) => rows[index] as GeneratedRow);
  // Copied back one by one: spreading a million rows into splice overflows the call stack.
  sorted.forEach((row, index) => {
    rows[index] = row;
  });
  return rows;
}
