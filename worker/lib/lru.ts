/**
 * A bounded map for the isolate's small caches (identity, catalog verdicts, parsed routing, tile
 * answers): least recently used entries go first, and an entry may carry an expiry. A Map keeps
 * insertion order, so re-inserting on read is all the bookkeeping LRU needs.
 */
export class Lru<K, V> {
  readonly #max: number;
  readonly #entries = new Map<K, { value: V; expires: number }>();

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('max must be a positive integer');
    this.#max = max;
  }

  get(key: K, now = Date.now()): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (entry.expires <= now) return undefined;
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** `ttlMs` omitted: the entry lives until it is evicted. */
  set(key: K, value: V, ttlMs = Number.POSITIVE_INFINITY): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { value, expires: Date.now() + ttlMs });
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
