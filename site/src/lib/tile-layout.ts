import type { Tile } from './dashboard-data.ts';

/**
 * Tile widths in columns of a 12-column grid: a third, a half, two thirds, a full row. Stored
 * layouts may hold any 1–12; they show at the nearest width not below it.
 */
export const TILE_WIDTHS = [4, 6, 8, 12] as const;
export type TileWidth = (typeof TILE_WIDTHS)[number];
export type Sizes = Record<string, { w: number; h: number }>;
const DEFAULT_SIZE = { w: 4, h: 2 };

export function snapWidth(w: number): TileWidth {
  return TILE_WIDTHS.find((allowed) => allowed >= w) ?? 12;
}

export function sizesOf(tiles: ReadonlyArray<{ widget_id: string; w: number; h: number }>): Sizes {
  return Object.fromEntries(tiles.map((t) => [t.widget_id, { w: t.w, h: t.h }]));
}

export const sizeOf = (sizes: Sizes, id: string) => sizes[id] ?? DEFAULT_SIZE;

/** The tile's width on screen, one of TILE_WIDTHS. */
export const widthOf = (sizes: Sizes, id: string) => snapWidth(sizeOf(sizes, id).w);

/** One step wider or narrower along TILE_WIDTHS; null when the tile is already at that end. */
export function resized(sizes: Sizes, id: string, step: 1 | -1): Sizes | null {
  const current = sizeOf(sizes, id);
  const w = TILE_WIDTHS[TILE_WIDTHS.indexOf(snapWidth(current.w)) + step];
  return w === undefined ? null : { ...sizes, [id]: { ...current, w } };
}

/** The items with the one at `from` moved to `to`; null when that is no move. */
export function moved<T>(items: readonly T[], from: number, to: number): T[] | null {
  if (to < 0 || to >= items.length || from === to) return null;
  const next = [...items];
  const [t] = next.splice(from, 1);
  next.splice(to, 0, t!);
  return next;
}

/** What a tile shows: its skeleton, its data being refreshed, its data, or its problem. */
export function tileState(t: Tile): 'loading' | 'refreshing' | 'ready' | 'failed' {
  if (t.pending) return t.data ? 'refreshing' : 'loading';
  return t.data ? 'ready' : 'failed';
}
