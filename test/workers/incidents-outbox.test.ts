import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { Bindings } from '../../worker/config/env.ts';
import { rootLogger } from '../../worker/lib/log.ts';
import { drainIncident, pendingMessages } from '../../worker/incidents/outbox.ts';
import { createIncident, recordAction } from '../../worker/incidents/store.ts';
import { localIdentities, listen } from './helpers.ts';
import { removeIncident, withDb } from './incidents-helpers.ts';

const log = rootLogger.child({ test: 'incidents-outbox' });
const real = env as unknown as Bindings;

/** The same bindings with a hub that fails: before taking the batch (down), or after (its answer lost). */
function hubThat(fails: 'before' | 'after'): Bindings {
  const ns = real.DASHBOARD_HUB;
  return {
    ...real,
    DASHBOARD_HUB: {
      idFromName: (name: string) => ns.idFromName(name),
      get: (id: DurableObjectId) => ({
        publishBatch: async (...args: Parameters<DurableObjectStub<import('../../durable-objects/dashboard-hub.ts').DashboardHub>['publishBatch']>) => {
          if (fails === 'after') await ns.get(id).publishBatch(...args);
          throw new Error(fails === 'before' ? 'hub unreachable' : 'connection lost after the hub answered');
        },
      }),
    } as unknown as Bindings['DASHBOARD_HUB'],
  };
}

describe('incident outbox', () => {
  it('messages survive a hub outage and a lost answer, and reach the hub once each, in order', async () => {
    const editor = (await localIdentities()).get('editor')!;
    const id = crypto.randomUUID();
    const board = await listen('default');
    try {
      await withDb(async (db) => {
        const created = await createIncident(
          db,
          {
            incident_id: id,
            scenario: 'database_cascade',
            title: 'Outbox test',
            severity: 'critical',
            affected_services: ['api-gateway'],
            affected_regions: ['NA-East'],
            affected_products: ['Total Protection'],
            options: {},
            time_scale: 0.01,
            dashboard: 'default',
            created_by: editor.userId,
            approval_required: false,
            notification_configured: false,
          },
          1_000,
        );
        expect(created.ok).toBe(true);
        const base = { action_id: 'detection', agent_type: 'detection' as const, kind: 'phase' as const, step: null, description: 'Analyzing' };
        await recordAction(db, id, { ...base, status: 'in_progress' });
        // The hub is down: nothing is lost, nothing marked published.
        expect(await drainIncident(hubThat('before'), db, id, 'default', log)).toEqual({ published: 0, failed: true });
        expect(await pendingMessages(db, id)).toBe(2);
        await recordAction(db, id, { ...base, status: 'completed', confidence: 0.9 });
        // The hub takes the batch but its answer is lost: still pending here, already on the hub.
        expect(await drainIncident(hubThat('after'), db, id, 'default', log)).toEqual({ published: 0, failed: true });
        expect(await pendingMessages(db, id)).toBe(3);
        // Replaying the step that recorded these stores nothing new.
        await recordAction(db, id, { ...base, status: 'in_progress' });
        await recordAction(db, id, { ...base, status: 'completed', confidence: 0.9 });
        expect(await drainIncident(real, db, id, 'default', log)).toEqual({ published: 3, failed: false });
        expect(await pendingMessages(db, id)).toBe(0);
        expect(await drainIncident(real, db, id, 'default', log)).toEqual({ published: 0, failed: false });
        const seqs = await db.query<{ published_seq: string }>('SELECT published_seq FROM incident_messages WHERE incident_id = $1 ORDER BY outbox_seq', [id]);
        const published = seqs.map((r) => Number(r.published_seq));
        expect([...published].sort((a, b) => a - b)).toEqual(published);
      });
      const mine = () => board.messages.filter((m) => m.data?.incident_id === id);
      await board.until(() => mine().length >= 3);
      await new Promise((r) => setTimeout(r, 200));
      expect(mine().map((m) => (m.type === 'agent_action' ? (m.data!.action as { status: string }).status : `status:${String(m.data!.status)}`))).toEqual([
        'status:active',
        'in_progress',
        'completed',
      ]);
    } finally {
      await removeIncident(id);
    }
  });
});
