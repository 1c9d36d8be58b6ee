import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';

let n = 0;
const space = () => env.USER_SPACE.get(env.USER_SPACE.idFromName(`user-${Date.now()}-${++n}`));

describe('UserSpace', () => {
  it('starts empty at version 0', async () => {
    expect(await space().getLayout()).toEqual({ version: 0, tiles: [], updated_at: null });
  });

  it('stores a layout and bumps the version', async () => {
    const s = space();
    const r = await s.putLayout([{ widget_id: 'w1', w: 4, h: 2 }, { widget_id: 'w2', w: 8, h: 3 }], 0);
    expect(r.ok).toBe(true);
    const layout = await s.getLayout();
    expect(layout.version).toBe(1);
    expect(layout.tiles.map((t) => t.widget_id)).toEqual(['w1', 'w2']);
  });

  it('refuses a stale write and keeps the stored layout', async () => {
    const s = space();
    await s.putLayout([{ widget_id: 'a', w: 1, h: 1 }], 0);
    await s.putLayout([{ widget_id: 'b', w: 1, h: 1 }], 1);
    const stale = await s.putLayout([{ widget_id: 'c', w: 1, h: 1 }], 1);
    expect(stale).toMatchObject({ ok: false, reason: 'version_conflict', current: { version: 2 } });
    expect((await s.getLayout()).tiles).toEqual([{ widget_id: 'b', w: 1, h: 1 }]);
  });

  it('rejects invalid tiles and duplicates without writing', async () => {
    const s = space();
    await s.putLayout([{ widget_id: 'a', w: 1, h: 1 }], 0);
    expect(await s.putLayout([{ widget_id: 'x', w: 99, h: 1 }], 1)).toMatchObject({ ok: false, reason: 'invalid_layout' });
    expect(await s.putLayout([{ widget_id: 'x', w: 1, h: 1 }, { widget_id: 'x', w: 2, h: 2 }], 1)).toMatchObject({
      ok: false,
      reason: 'invalid_layout',
      issues: ['a widget may appear only once in a layout'],
    });
    expect(await s.getLayout()).toMatchObject({ version: 1, tiles: [{ widget_id: 'a', w: 1, h: 1 }] });
  });
});
