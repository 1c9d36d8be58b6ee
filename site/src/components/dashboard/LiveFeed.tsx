import { useEffect, useState } from 'preact/hooks';
import { describeEvent, eventTime } from '../../lib/event-text.ts';
import type { FeedLine } from '../../lib/event-text.ts';
import { store } from '../../lib/store.ts';

interface FeedItem extends FeedLine {
  seq: number;
  at: string | null;
  occurredAt: string | null;
}

/** How many events the feed keeps, newest first. */
const FEED_LENGTH = 8;

/** The latest events from the hub's stream, newest first, in a support leader's words. */
export function LiveFeed() {
  const [feed, setFeed] = useState<FeedItem[]>([]);
  useEffect(
    () =>
      store().subscribe('event', ({ seq, data }) => {
        const item = { seq, ...describeEvent(data), at: eventTime(data.occurred_at), occurredAt: typeof data.occurred_at === 'string' ? data.occurred_at : null };
        setFeed((f) => [item, ...f].slice(0, FEED_LENGTH));
      }),
    [],
  );
  return (
    <section aria-labelledby="feed-title">
      <h2 id="feed-title">Live events</h2>
      <ul class="feed" aria-live="polite" data-testid="event-feed">
        {feed.length === 0 ? (
          <li class="empty">Waiting for events…</li>
        ) : (
          feed.map((f) => (
            <li key={f.seq} data-seq={f.seq} class={f.tone === 'alert' ? 'alert' : undefined}>
              {f.at && f.occurredAt && <time dateTime={f.occurredAt}>{f.at}</time>} {f.text}
            </li>
          ))
        )}
      </ul>
    </section>
  );
}
