// A fixed-size log-linear histogram of durations (HDR-style): O(1) record,
// no allocation, ~3% relative precision. Values are kept in units of 0.1 µs
// (exact below 6.4 µs) up to ~28 years, recorded and reported in
// milliseconds.

const UNITS_PER_MS = 10_000; // 0.1 µs
const EXACT = 64; // values below this many units get a bucket each
const SUB_BITS = 5; // 32 sub-buckets per power of two above that
const SUB = 1 << SUB_BITS;
const FIRST_EXP = 6; // log2(EXACT)
const MAX_EXP = 52;
const BUCKETS = EXACT + (MAX_EXP + 1 - FIRST_EXP) * SUB;

export interface HistogramSummary {
  count: number;
  /** All in milliseconds. */
  min: number;
  max: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
}

function bucketOf(units: number): number {
  if (units < EXACT) return units;
  const exp = units < 0x80000000 ? 31 - Math.clz32(units) : Math.min(MAX_EXP, Math.floor(Math.log2(units)));
  const sub = Math.floor(units / 2 ** (exp - SUB_BITS)) & (SUB - 1);
  return EXACT + (exp - FIRST_EXP) * SUB + sub;
}

/** The middle of a bucket, in units. */
function valueOf(bucket: number): number {
  if (bucket < EXACT) return bucket;
  const rest = bucket - EXACT;
  const exp = FIRST_EXP + Math.floor(rest / SUB);
  const width = 2 ** (exp - SUB_BITS);
  return 2 ** exp + (rest % SUB) * width + width / 2;
}

export class Histogram {
  #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = 0;

  /** Records one duration given in milliseconds (negative values count as 0). */
  record(ms: number): void {
    if (!(ms > 0)) ms = 0;
    const units = Math.min(2 ** (MAX_EXP + 1) - 1, Math.round(ms * UNITS_PER_MS));
    this.#counts[bucketOf(units)]!++;
    this.#count++;
    this.#sum += ms;
    if (ms < this.#min) this.#min = ms;
    if (ms > this.#max) this.#max = ms;
  }

  get count(): number {
    return this.#count;
  }

  /** The value at percentile `p` (0-100), in milliseconds; NaN when empty. */
  percentile(p: number): number {
    if (this.#count === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    let seen = 0;
    const counts = this.#counts;
    for (let i = 0; i < BUCKETS; i++) {
      seen += counts[i]!;
      if (seen >= rank) return Math.min(this.#max, Math.max(this.#min, valueOf(i) / UNITS_PER_MS));
    }
    return this.#max;
  }

  summary(): HistogramSummary {
    const empty = this.#count === 0;
    return {
      count: this.#count,
      min: empty ? NaN : this.#min,
      max: empty ? NaN : this.#max,
      mean: empty ? NaN : this.#sum / this.#count,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
    };
  }

  reset(): void {
    this.#counts.fill(0);
    this.#count = 0;
    this.#sum = 0;
    this.#min = Infinity;
    this.#max = 0;
  }
}
