import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * Where a bench's CPU goes on this machine, by role: the runtime (the `workerd` that runs the
 * app), wrangler's proxy (the `workerd` on the public address), the plain `ws` broadcast server
 * the app is compared with, the local stand-ins, Postgres,
 * Redis and the bench's own process (its client threads). Read from /proc, so it is an outside
 * view: the server's own timers are not involved. On a machine with a few cores this says
 * whether a latency is the app's or the machine's.
 */

export type CpuRole = 'runtime' | 'proxy' | 'ws server' | 'stand-ins' | 'wrangler' | 'postgres' | 'redis' | 'clients';

export const CPU_ROLES: readonly CpuRole[] = ['runtime', 'proxy', 'ws server', 'clients', 'stand-ins', 'postgres', 'redis', 'wrangler'];

/** CPU milliseconds (user + system) used so far, per role. */
export type CpuSample = Record<CpuRole, number> & { at: number };

const TICK_MS = 10; // USER_HZ is 100 on Linux.

/**
 * `publicPort` tells the proxy (`--socket-addr=entry=127.0.0.1:<port>`) from the runtime. Only
 * this process's descendants count as runtime, proxy, wrangler or stand-ins; Postgres and Redis
 * are the machine's services, counted whoever started them. Answers null where /proc is absent.
 */
export function sampleCpu(publicPort: number): CpuSample | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return null;
  }
  const procs = new Map<number, { ppid: number; comm: string; ms: number; cmdline: string }>();
  for (const pid of entries) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      const ms = (Number(fields[11]) + Number(fields[12])) * TICK_MS;
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      procs.set(Number(pid), { ppid: Number(fields[1]), comm, ms, cmdline });
    } catch {
      // Gone between the listing and the read.
    }
  }
  const mine = (pid: number): boolean => {
    for (let p = procs.get(pid)?.ppid, hops = 0; p !== undefined && p > 1 && hops < 32; p = procs.get(p)?.ppid, hops++) {
      if (p === process.pid) return true;
    }
    return false;
  };
  const usage = process.cpuUsage();
  const sample: CpuSample = { runtime: 0, proxy: 0, 'ws server': 0, 'stand-ins': 0, wrangler: 0, postgres: 0, redis: 0, clients: (usage.user + usage.system) / 1_000, at: performance.now() };
  for (const [pid, p] of procs) {
    if (p.comm === 'postgres') sample.postgres += p.ms;
    else if (p.comm === 'redis-server') sample.redis += p.ms;
    else if (!mine(pid)) continue;
    else if (p.comm === 'workerd') sample[p.cmdline.includes(`entry=127.0.0.1:${publicPort} `) ? 'proxy' : 'runtime'] += p.ms;
    else if (p.cmdline.includes('ws-baseline')) sample['ws server'] += p.ms;
    else if (p.cmdline.includes('wrangler')) sample.wrangler += p.ms;
    else if (p.cmdline.includes('stack/')) sample['stand-ins'] += p.ms;
  }
  return sample;
}

/** CPU per event between two samples, per role, with the machine's share of it. */
export interface CpuPerEvent {
  /** CPU ms per event, per role. */
  ms: Record<CpuRole, number>;
  /** Wall ms per event over the same span. */
  wallMs: number;
  /** Of all the machine's cores over that span, the share these roles used (1 = every core busy). */
  busy: number;
}

export function cpuPerEvent(before: CpuSample | null, after: CpuSample | null, events: number): CpuPerEvent | null {
  if (!before || !after || events <= 0) return null;
  const ms = {} as Record<CpuRole, number>;
  let total = 0;
  for (const role of CPU_ROLES) {
    ms[role] = Math.max(0, after[role] - before[role]) / events;
    total += ms[role];
  }
  const wallMs = (after.at - before.at) / events;
  return { ms, wallMs, busy: wallMs > 0 ? total / (wallMs * os.availableParallelism()) : 0 };
}

/** `runtime 72.1 · proxy 30.8 · … ms (wall 93 ms, 78% of 2 cores)`. */
export function formatCpu(cpu: CpuPerEvent | null): string {
  if (!cpu) return 'not read (no /proc)';
  const parts = CPU_ROLES.filter((r) => cpu.ms[r] >= 0.05).map((r) => `${r} ${cpu.ms[r].toFixed(1)}`);
  return `${parts.join(' · ')} ms (wall ${cpu.wallMs.toFixed(0)} ms, ${(cpu.busy * 100).toFixed(0)}% of ${os.availableParallelism()} cores)`;
}
