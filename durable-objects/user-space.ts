import { DurableObject } from 'cloudflare:workers';
import { z } from 'zod';
import type { Bindings } from '../worker/config/env.ts';

export const TileSchema = z.strictObject({
  widget_id: z.string().min(1).max(64),
  w: z.number().int().min(1).max(12),
  h: z.number().int().min(1).max(12),
});

export const LayoutTilesSchema = z.array(TileSchema).max(200);

export type Tile = z.infer<typeof TileSchema>;

export interface Layout {
  version: number;
  tiles: Tile[];
  updated_at: string | null;
}

/** Refusals are values, not exceptions, so they cross the RPC boundary as plain data. */
export type PutLayoutResult =
  | { ok: true; layout: Layout }
  | { ok: false; reason: 'version_conflict'; current: Layout }
  | { ok: false; reason: 'invalid_layout'; issues: string[] };

/**
 * Per-user state, one object per user id. The layout carries a version so two tabs cannot
 * silently overwrite each other: a write names the version it read, and a stale one is refused.
 */
export class UserSpace extends DurableObject<Bindings> {
  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS layout (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version INTEGER NOT NULL,
        tiles TEXT NOT NULL,
        updated_at TEXT NOT NULL
      )`);
    });
  }

  async getLayout(): Promise<Layout> {
    const rows = this.ctx.storage.sql
      .exec<{ version: number; tiles: string; updated_at: string }>('SELECT version, tiles, updated_at FROM layout WHERE id = 1')
      .toArray();
    const row = rows[0];
    if (!row) return { version: 0, tiles: [], updated_at: null };
    return { version: row.version, tiles: LayoutTilesSchema.parse(JSON.parse(row.tiles)), updated_at: row.updated_at };
  }

  /** Validates before it writes: a refused layout leaves the stored one untouched. */
  async putLayout(tiles: Tile[], expectedVersion: number): Promise<PutLayoutResult> {
    const result = LayoutTilesSchema.safeParse(tiles);
    if (!result.success) {
      return { ok: false, reason: 'invalid_layout', issues: result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) };
    }
    const parsed = result.data;
    const ids = new Set(parsed.map((t) => t.widget_id));
    if (ids.size !== parsed.length) {
      return { ok: false, reason: 'invalid_layout', issues: ['a widget may appear only once in a layout'] };
    }
    const current = await this.getLayout();
    if (current.version !== expectedVersion) return { ok: false, reason: 'version_conflict', current };
    const layout: Layout = { version: current.version + 1, tiles: parsed, updated_at: new Date().toISOString() };
    this.ctx.storage.sql.exec(
      `INSERT INTO layout (id, version, tiles, updated_at) VALUES (1, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET version = excluded.version, tiles = excluded.tiles, updated_at = excluded.updated_at`,
      layout.version,
      JSON.stringify(layout.tiles),
      layout.updated_at,
    );
    return { ok: true, layout };
  }
}
