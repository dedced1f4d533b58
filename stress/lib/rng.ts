// A tiny seeded PRNG (sfc32 seeded through splitmix32), so every random
// choice of a scenario replays from (seed, scenario, iteration). The agents
// get the same generator as source text (RNG_SOURCE) so that their choices
// replay too.

/** Mixes a 32-bit state (splitmix32); used to derive seeds. */
export function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A 32-bit hash of a string (FNV-1a then mixed). */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return mix32(h);
}

/** Derives an independent seed from a parent seed and any number of labels (strings or numbers). */
export function deriveSeed(seed: number, ...labels: (string | number)[]): number {
  let h = mix32(seed >>> 0);
  for (const label of labels) h = mix32(h ^ (typeof label === 'number' ? mix32(label >>> 0) : hashString(label)));
  return h;
}

export class Rng {
  readonly seed: number;
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    this.seed = seed >>> 0;
    this.#a = mix32(this.seed);
    this.#b = mix32(this.#a);
    this.#c = mix32(this.#b);
    this.#d = 1;
    for (let i = 0; i < 12; i++) this.next32();
  }

  /** A uniform 32-bit unsigned integer. */
  next32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next32() / 4294967296;
  }

  /** An integer in [min, max] (inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick() from an empty list');
    return items[Math.floor(this.float() * items.length)]!;
  }

  /** Picks by weight: [[weight, value], ...]. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [w] of choices) total += w;
    let r = this.float() * total;
    for (const [w, value] of choices) {
      if ((r -= w) < 0) return value;
    }
    return choices[choices.length - 1]![1];
  }

  /** Shuffles in place (Fisher-Yates) and returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.float() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }

  /** A child generator, independent of this one's later draws. */
  fork(label: string | number): Rng {
    return new Rng(deriveSeed(this.next32(), label));
  }
}

/**
 * The same generator as plain JavaScript, for agents (which have no imports
 * from the host): defines `makeRng(seed)` returning { next32, float, int, chance, pick }.
 */
export const RNG_SOURCE = String.raw`
function mix32(x) {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}
function makeRng(seed) {
  let a = mix32(seed >>> 0), b = mix32(a), c = mix32(b), d = 1;
  const next32 = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) next32();
  const float = () => next32() / 4294967296;
  const int = (min, max) => min + Math.floor(float() * (max - min + 1));
  return { next32, float, int, chance: (p) => float() < p, pick: (xs) => xs[Math.floor(float() * xs.length)] };
}
`;
