// A fixed-size log-linear histogram of durations (HDR-style): O(1) record,
// no allocation, ~3% relative precision from 64 µs up to 35 minutes and
// exact below 64 µs. Values are recorded in milliseconds and reported in
// milliseconds.

const EXACT = 64; // values below this many µs get a bucket each
const SUB_BITS = 5; // 32 sub-buckets per power of two above that
const SUB = 1 << SUB_BITS;
const FIRST_EXP = 6; // log2(EXACT)
const MAX_US = 0x7fffffff;
const BUCKETS = EXACT + (31 - FIRST_EXP) * SUB;

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

function bucketOf(us: number): number {
  if (us < EXACT) return us;
  const exp = 31 - Math.clz32(us);
  return EXACT + (exp - FIRST_EXP) * SUB + ((us >>> (exp - SUB_BITS)) & (SUB - 1));
}

/** The middle of a bucket, in µs. */
function valueOf(bucket: number): number {
  if (bucket < EXACT) return bucket;
  const rest = bucket - EXACT;
  const exp = FIRST_EXP + Math.floor(rest / SUB);
  const sub = rest % SUB;
  const width = 1 << (exp - SUB_BITS);
  return (1 << exp) + sub * width + width / 2;
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
    const us = Math.min(MAX_US, Math.round(ms * 1000));
    this.#counts[bucketOf(us)]!++;
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
      if (seen >= rank) return Math.min(this.#max, Math.max(this.#min, valueOf(i) / 1000));
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
