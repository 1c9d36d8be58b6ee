import { signal } from '@preact/signals';
import { createStream } from './stream.ts';
import type { Messages, Stream } from './stream.ts';
import type { TileWidget } from './dashboard-data.ts';

/**
 * What the page's islands share: the hub's stream (its connection state, the last seq applied,
 * frames by type) and the tiles created on this page. Islands are separate Preact roots but load
 * one copy of this module, so a signal here is the same signal in every island; no window events.
 */
export function createStore(stream: Stream, network: { watch(online: () => void, offline: () => void): void } = { watch: () => undefined }) {
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    // Offline, the socket is dropped at once (the indicator says so) and retried when the network
    // returns; the resume from the last seq fills whatever was missed in between.
    network.watch(stream.online, stream.offline);
    stream.start();
  };
  const tilesAdded = signal<readonly TileWidget[]>([]);
  return {
    /** 'connecting' until the first socket opens, then 'live' or 'reconnecting'. */
    connection: stream.status,
    /** The last seq applied, or null before the hub's hello. */
    latestSeq: stream.seq,
    /** Frames that failed their schema and were dropped. */
    invalidFrames: stream.invalid,
    /** Calls `handler` with every validated frame of `type`, in seq order; the first subscriber opens the stream. */
    subscribe<K extends keyof Messages>(type: K, handler: (frame: Messages[K]) => void): () => void {
      const unsubscribe = stream.subscribe(type, handler);
      start();
      return unsubscribe;
    },
    /** Tiles created on this page since it loaded, oldest first: the dashboard shows them without a reload. */
    tilesAdded,
    addTile(widget: TileWidget) {
      tilesAdded.value = [...tilesAdded.value, widget];
    },
  };
}

export type Store = ReturnType<typeof createStore>;

let pageStore: Store | undefined;

/** The page's one store, made on first use in the browser. */
export function store(): Store {
  if (!pageStore) {
    pageStore = createStore(createStream(), {
      watch(online, offline) {
        window.addEventListener('online', online);
        window.addEventListener('offline', offline);
      },
    });
  }
  return pageStore;
}
