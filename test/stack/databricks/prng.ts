// Seeded randomness for the synthetic lakehouse. Every draw comes from here so that two runs with the
// same seed and `now` produce byte-identical tables.

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number;
  uniform(min: number, max: number): number;
  chance(probability: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Standard normal draw. */
  normal(): number;
  /** Log-normal draw described by its median, which is easier to reason about than the mean. */
  logNormal(median: number, sigma: number): number;
  /** An independent stream, so adding draws to one table never shifts another table's data. */
  fork(label: string): Random;
}

export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  let spareNormal: number | null = null;

  const next = (): number => {
    // 32-bit mix of a Weyl sequence: cheap, well distributed and trivially reproducible.
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    z ^= z >>> 15;
    return (z >>> 0) / 4294967296;
  };

  const normal = (): number => {
    if (spareNormal !== null) {
      const value = spareNormal;
      spareNormal = null;
      return value;
    }
    let u = 0;
    while (u === 0) u = next();
    const v = next();
    const radius = Math.sqrt(-2 * Math.log(u));
    spareNormal = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  };

  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    uniform: (min, max) => min + next() * (max - min),
    chance: (probability) => next() < probability,
    pick: <T>(items: readonly T[]): T => {
      const item = items[Math.floor(next() * items.length)];
      if (item === undefined) throw new Error('pick from an empty list');
      return item;
    },
    normal,
    logNormal: (median, sigma) => median * Math.exp(sigma * normal()),
    fork: (label) => createRandom((seed ^ hashLabel(label)) >>> 0),
  };
}

function hashLabel(label: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    hash ^= label.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Draws from a fixed categorical distribution in O(log n), built once per distribution. */
export function weightedPicker<T>(choices: readonly (readonly [T, number])[]): (random: Random) => T {
  const values = choices.map(([value]) => value);
  const cumulative = cumulativeWeights(choices.map(([, weight]) => weight));
  return (random) => {
    const value = values[sampleIndex(cumulative, random.next())];
    if (value === undefined) throw new Error('weighted pick out of range');
    return value;
  };
}

export function cumulativeWeights(weights: readonly number[]): Float64Array {
  const cumulative = new Float64Array(weights.length);
  let total = 0;
  weights.forEach((weight, index) => {
    if (!(weight >= 0)) throw new Error(`negative or invalid weight at ${index}`);
    total += weight;
    cumulative[index] = total;
  });
  if (total <= 0) throw new Error('weights sum to zero');
  return cumulative;
}

/** Index whose cumulative weight first exceeds `u` times the total. */
export function sampleIndex(cumulative: Float64Array, u: number): number {
  const target = u * (cumulative[cumulative.length - 1] ?? 0);
  let low = 0;
  let high = cumulative.length - 1;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((cumulative[mid] ?? 0) > target) high = mid;
    else low = mid + 1;
  }
  return low;
}
