import { useRef, useState } from 'preact/hooks';
import { browserClient } from '../../lib/browser-client.ts';
import type { DashboardState, Tile } from '../../lib/dashboard-data.ts';
import { moved, resized, sizeOf, sizesOf } from '../../lib/tile-layout.ts';
import type { Sizes } from '../../lib/tile-layout.ts';

type Layout = DashboardState['layout'];
interface Arrangement {
  order: string[];
  sizes: Sizes;
}

/**
 * Order and sizes are one layout, saved together under its version. Saves go one at a time:
 * clicks that land while one is in flight are merged into the next, which carries the version the
 * first one returned (sending both at once would make this tab's own second write stale). A
 * conflict with another tab shows the latest layout.
 */
export function useLayout(initial: Layout, tiles: Tile[], reorder: (order: readonly string[]) => void, reload: () => Promise<void>) {
  const version = useRef(initial.version);
  const [sizes, setSizes] = useState(() => sizesOf(initial.tiles));
  const [notice, setNotice] = useState<string | null>(null);
  const saving = useRef(false);
  const unsaved = useRef<Arrangement | null>(null);
  // The arrangement on screen, kept outside render: two clicks can land before the first one
  // re-renders, and a reload can land between them, so each step starts from the latest
  // arrangement, never from the one a render closed over. Tiles added on the page join the end.
  const current = useRef<Arrangement>({ order: tiles.map((t) => t.widget.id), sizes });
  const known = new Set(current.current.order);
  const added = tiles.filter((t) => !known.has(t.widget.id)).map((t) => t.widget.id);
  if (added.length > 0) current.current = { ...current.current, order: [...current.current.order, ...added] };

  async function save(next: Arrangement) {
    current.current = next;
    reorder(next.order);
    setSizes(next.sizes);
    unsaved.current = next;
    if (saving.current) return;
    saving.current = true;
    try {
      while (unsaved.current) {
        const layout = unsaved.current;
        unsaved.current = null;
        const res = await browserClient().v1.dashboard.layout.$put({
          json: { version: version.current, tiles: layout.order.map((id) => ({ widget_id: id, ...sizeOf(layout.sizes, id) })) },
        });
        if (res.status === 200) {
          version.current = (await res.json()).version;
          setNotice(null);
        } else {
          unsaved.current = null;
          setNotice(res.status === 409 ? 'Your layout changed in another tab; showing the latest.' : 'The layout could not be saved.');
          if (res.status === 409) {
            // The server's layout wins: let the reload replace what is on screen.
            saving.current = false;
            await reload();
          }
          return;
        }
      }
    } catch {
      setNotice('The layout could not be saved.');
    } finally {
      saving.current = false;
    }
  }

  return {
    sizes,
    notice,
    /** The version this tab last saved or loaded. */
    version: () => version.current,
    /**
     * Whether a layout read from the server may replace what is on screen: not while this tab's own
     * saves are in flight (the last of them is the newest layout), and never an older version than
     * the one this tab already has.
     */
    accepts: (layout: Layout) => !saving.current && layout.version >= version.current,
    move(from: number, to: number) {
      const order = moved(current.current.order, from, to);
      if (order) void save({ order, sizes: current.current.sizes });
    },
    /** One step wider or narrower along TILE_WIDTHS (a third, half, two thirds, full row). */
    resize(id: string, step: 1 | -1) {
      const next = resized(current.current.sizes, id, step);
      if (next) void save({ order: current.current.order, sizes: next });
    },
    /** The server's layout after a reload: it is the latest now, and the next click starts from it. */
    reloaded(layout: Layout, order: readonly Tile[]) {
      version.current = layout.version;
      current.current = { order: order.map((t) => t.widget.id), sizes: sizesOf(layout.tiles) };
      setSizes(current.current.sizes);
    },
  };
}
