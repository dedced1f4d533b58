// What runs inside each stress agent: the litmus actor loop and the
// linearizability worker. Self-contained on purpose (no imports): the host
// loads this file into agents both from dist/ (.js) and from src/ under tsx
// (.ts), and agents resolve only what the host's module graph found.
//
// The control words below are shared with the host (src/stress/control.ts
// holds the same numbers; test/stress-litmus.test.ts checks they agree).

const C_COUNT = 0; // barrier arrivals
const C_SENSE = 1; // barrier generation (sense-reversing)
const C_HOST_STOP = 2; // the host asks to stop
const C_DECIDED_STOP = 3; // agent 0's decision, read by all after a barrier
const C_ROUNDS = 4; // rounds completed (agent 0)
const C_BAD_ROUND = 5; // first forbidden outcome: round (-1: none)
const C_BAD_INDEX = 6; // ... and index in the round
const C_CLOCK = 7; // linearizability: the shared logical clock
const C_ARRIVED = 8; // linearizability: agents at the start line
const C_PER_AGENT = 16; // per agent k: [16 + 2k] result-field count, [17 + 2k] progress
// A result slot's kind tag (src/stress/litmus-layout.ts sizes the slots): a bigint is kept exact in 64 bits.
const KIND_NUMBER = 0;
const KIND_INT64 = 1;
const KIND_UINT64 = 2;
const SPINS_BEFORE_SLEEP = 20_000;

// The agent's own globals (an agent is not a DOM or Node context).
declare function postMessage(value: unknown): void;
declare function addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;

type Fn = (...args: unknown[]) => unknown;
interface FieldLayout {
  name: string;
  type: string;
  length: number;
  offset: number; // bytes from the start of the iteration's slot
}
interface LitmusData {
  testId: string;
  agentIndex: number;
  actors: number;
  batch: number;
  maxRounds: number;
  control: SharedArrayBuffer;
  state: SharedArrayBuffer;
  results: SharedArrayBuffer; // 8 bytes per result slot: Float64, BigInt64 or BigUint64 by its kind
  resultKinds: SharedArrayBuffer; // 1 byte per result slot: KIND_*
  /** Result slots per actor and per iteration (the widest declared outcome key, at least 8). */
  resultWidth: number;
  fields: FieldLayout[];
  stride: number;
  seed: number;
  perturb: boolean;
  /** Stop as soon as an outcome of one of these grades is first seen. */
  stopOn: string[];
}
interface LinearizableData {
  testId: string;
  agentIndex: number;
  agents: number;
  control: SharedArrayBuffer;
  history: SharedArrayBuffer; // Int32 per agent: [inv, ret] per op
  maxOps: number;
}

/** mulberry32: small, fast, seedable; the same generator the host uses for derived seeds. */
function makeRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
let spinSink = 0;
function spin(n: number): void {
  for (let i = 0; i < n; i++) spinSink = (spinSink + i) | 0;
}

/** point(): most calls nothing, some a short spin, a few a ~50 µs pause (seeded). */
function installPoint(random: () => number): void {
  (globalThis as Record<symbol, unknown>)[Symbol.for('agentcluster.stress.point')] = () => {
    const r = random();
    const pick = r & 255;
    if (pick < 160) return;
    if (pick < 252) spin((r >>> 8) & 1023);
    else Atomics.wait(sleeper, 0, 0, 0.05);
  };
}

/** Waits until word `index` differs from `value`: spins first (actors must overlap), then blocks. */
function waitWhile(ctl: Int32Array, index: number, value: number): void {
  for (let i = 0; Atomics.load(ctl, index) === value; i++) {
    if (i > SPINS_BEFORE_SLEEP) Atomics.wait(ctl, index, value, 1);
  }
}

/** A sense-reversing barrier of `parties`; returns the new sense. */
function barrier(ctl: Int32Array, parties: number, sense: number): number {
  const next = sense ^ 1;
  if (Atomics.add(ctl, C_COUNT, 1) === parties - 1) {
    Atomics.store(ctl, C_COUNT, 0);
    Atomics.store(ctl, C_SENSE, next);
    Atomics.notify(ctl, C_SENSE);
  } else {
    waitWhile(ctl, C_SENSE, sense);
  }
  return next;
}

/** The tests of a module, by id: `default`, `name`, or `name[i]` for arrays (src/stress/load.ts lists them the same way). */
export function findTest(namespace: Record<string, unknown>, id: string): Record<string, unknown> {
  const match = /^(.*)\[(\d+)\]$/.exec(id);
  const value = match ? (namespace[match[1]!] as unknown[] | undefined)?.[Number(match[2])] : namespace[id];
  if (typeof value !== 'object' || value === null) throw new Error(`stress test '${id}' not found in its module`);
  return value as Record<string, unknown>;
}

function makeStates(data: LitmusData): Array<Record<string, unknown>> {
  const states = [];
  for (let i = 0; i < data.batch; i++) {
    const s: Record<string, unknown> = {};
    for (const f of data.fields) {
      const Ctor = (globalThis as unknown as Record<string, new (b: SharedArrayBuffer, o: number, l: number) => unknown>)[f.type]!;
      s[f.name] = new Ctor(data.state, i * data.stride + f.offset, f.length);
    }
    states.push(s);
  }
  return states;
}

/** An Error with a stable code (define.ts's StressError cannot be imported here). */
function stressFailure(code: string, message: string): Error {
  const error = new Error(message) as Error & { code: string };
  error.name = 'StressError';
  error.code = code;
  return error;
}

/** The result slots of every actor and the arbiter, three views over one buffer plus the kind tags. */
interface ResultArea {
  f64: Float64Array;
  i64: BigInt64Array;
  u64: BigUint64Array;
  kinds: Uint8Array;
}

function resultArea(data: LitmusData): ResultArea {
  return {
    f64: new Float64Array(data.results), i64: new BigInt64Array(data.results), u64: new BigUint64Array(data.results),
    kinds: new Uint8Array(data.resultKinds),
  };
}

/** Stores one result: numbers and booleans as Float64, bigints exactly in 64 bits (wider ones are an error, not rounded). */
function writeResult(area: ResultArea, slot: number, value: unknown, field: string): void {
  if (typeof value === 'bigint') {
    if (value >= -(1n << 63n) && value < 1n << 63n) {
      area.i64[slot] = value;
      area.kinds[slot] = KIND_INT64;
    } else if (value >= 0n && value < 1n << 64n) {
      area.u64[slot] = value;
      area.kinds[slot] = KIND_UINT64;
    } else {
      throw stressFailure('ERR_STRESS_RESULT_RANGE', `result field '${field}' is the bigint ${value}, outside 64 bits (-2^63 to 2^64-1); results keep bigints exact only within them`);
    }
    return;
  }
  if (typeof value === 'number') area.f64[slot] = value;
  else if (typeof value === 'boolean') area.f64[slot] = value ? 1 : 0;
  else {
    // A string or an object would read NaN: different results would collapse into one outcome.
    const shown = typeof value === 'string' ? JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value) : typeof value;
    throw stressFailure('ERR_STRESS_RESULT_TYPE', `result field '${field}' is ${typeof value === 'string' ? 'the string ' : 'a value of type '}${shown}; results are numbers, booleans or bigints`);
  }
  area.kinds[slot] = KIND_NUMBER;
}

/** One result as it reads in an outcome key. */
function readResult(area: ResultArea, slot: number): string {
  const kind = area.kinds[slot];
  return kind === KIND_INT64 ? String(area.i64[slot]) : kind === KIND_UINT64 ? String(area.u64[slot]) : String(area.f64[slot]);
}

/** The field names of the first result; more than the result area holds is an error (the outcome would be cut short). */
function resultNames(r: Record<string, unknown>, width: number, who: string): string[] {
  const names = Object.keys(r);
  if (names.length > width) {
    throw stressFailure(
      'ERR_STRESS_TOO_MANY_RESULTS',
      `${who} assigned ${names.length} result fields (${names.join(', ')}); at most ${width}, the most values an outcome key declares (at least 8)`,
    );
  }
  return names;
}

/**
 * Writes one iteration's result `r` at `slot`, checking on the way that it assigned exactly `names`, in
 * that order (the first iteration's fields: the outcome key and the slots are fixed from them). A for-in
 * walk compares the names without allocating, so the check is cheap enough for every iteration.
 */
function writeResults(area: ResultArea, slot: number, r: Record<string, unknown>, names: string[], width: number, who: string): void {
  let j = 0;
  let same = true;
  for (const name in r) {
    if (j >= names.length || name !== names[j]) {
      same = false; // a field more, or another name
      break;
    }
    writeResult(area, slot + j, r[name], name);
    j++;
  }
  if (same && j === names.length) return;
  resultNames(r, width, who); // more fields than the slots: ERR_STRESS_TOO_MANY_RESULTS
  throw stressFailure(
    'ERR_STRESS_RESULT_FIELDS',
    `${who} assigned the result fields (${Object.keys(r).join(', ') || 'none'}) after (${names.join(', ') || 'none'}) on its first iteration; ` +
      'every iteration must assign the same fields in the same order (the outcome key is built from the first)',
  );
}

/** Runs one actor of a litmus test, batch after batch, until agent 0 decides to stop. */
export function runLitmusActor(namespace: Record<string, unknown>, data: LitmusData): void {
  const test = findTest(namespace, data.testId);
  const k = data.agentIndex;
  const actor = (test.actors as Fn[])[k]!;
  const ctl = new Int32Array(data.control);
  const res = resultArea(data);
  const states = makeStates(data);
  const random = makeRandom(data.seed);
  if (data.perturb) installPoint(random);
  const B = data.batch;
  const W = data.resultWidth;
  const base = k * B * W;
  let names: string[] | undefined;
  let sense = 0;
  for (;;) {
    sense = barrier(ctl, data.actors, sense);
    if (Atomics.load(ctl, C_DECIDED_STOP) !== 0) break;
    if (k === 0) startedAt ??= performance.now();
    if (data.perturb) spin(random() & 255); // start skew
    for (let i = 0; i < B; i++) {
      const r: Record<string, unknown> = {};
      actor(states[i], r);
      if (names === undefined) {
        names = resultNames(r, W, `actor ${k}`);
        Atomics.store(ctl, C_PER_AGENT + 2 * k, names.length);
        postMessage({ names });
      }
      writeResults(res, base + i * W, r, names, W, `actor ${k}`);
    }
    Atomics.add(ctl, C_PER_AGENT + 2 * k + 1, 1);
    sense = barrier(ctl, data.actors, sense);
    if (k === 0) aggregate(test, data, ctl, res, states);
  }
  if (k === 0) postMessage({ done: true, histogram: [...histogram], elapsedMs: performance.now() - (startedAt ?? performance.now()) });
}

// Agent 0's tally (module state: one test per agent).
const histogram = new Map<string, number>();
let arbiterNames: string[] | undefined;
let startedAt: number | undefined;
let round = 0;

/** Agent 0, between rounds: the arbiter, the outcome tally, fresh state, and the stop decision. */
function aggregate(test: Record<string, unknown>, data: LitmusData, ctl: Int32Array, res: ResultArea, states: Array<Record<string, unknown>>): void {
  const B = data.batch;
  const W = data.resultWidth;
  const A = data.actors;
  const arbiter = test.arbiter as Fn | undefined;
  const outcomes = test.outcomes as Record<string, string>;
  const counts: number[] = [];
  for (let k = 0; k < A; k++) counts.push(Atomics.load(ctl, C_PER_AGENT + 2 * k));
  const arbiterBase = A * B * W;
  for (let i = 0; i < B; i++) {
    if (arbiter !== undefined) {
      const r: Record<string, unknown> = {};
      arbiter(states[i], r);
      if (arbiterNames === undefined) {
        arbiterNames = resultNames(r, W, 'the arbiter');
        postMessage({ arbiterNames });
      }
      writeResults(res, arbiterBase + i * W, r, arbiterNames, W, 'the arbiter');
    }
    let key = '';
    for (let k = 0; k <= A; k++) {
      const n = k < A ? counts[k]! : (arbiterNames?.length ?? 0);
      const o = k * B * W + i * W;
      for (let j = 0; j < n; j++) key = key === '' ? readResult(res, o + j) : key + ',' + readResult(res, o + j);
    }
    const seen = histogram.get(key);
    histogram.set(key, seen === undefined ? 1 : seen + 1);
    if (seen === undefined && data.stopOn.includes(outcomes[key] ?? 'forbidden')) Atomics.store(ctl, C_HOST_STOP, 1);
    if (seen === undefined && outcomes[key] !== 'ok' && outcomes[key] !== 'interesting' && Atomics.load(ctl, C_BAD_ROUND) < 0) {
      Atomics.store(ctl, C_BAD_INDEX, i);
      Atomics.store(ctl, C_BAD_ROUND, round);
      postMessage({ firstForbidden: key, round, index: i });
    }
  }
  new Uint8Array(data.state).fill(0);
  round++;
  Atomics.store(ctl, C_ROUNDS, round);
  if (round >= data.maxRounds || Atomics.load(ctl, C_HOST_STOP) !== 0) Atomics.store(ctl, C_DECIDED_STOP, 1);
}

/** Linearizability worker: for each history the host sends, wait for the others, run this agent's ops with stamps. */
export function runLinearizableWorker(namespace: Record<string, unknown>, data: LinearizableData): void {
  const test = findTest(namespace, data.testId);
  const ctl = new Int32Array(data.control);
  const stamps = new Int32Array(data.history);
  const k = data.agentIndex;
  const makeObject = test.object as Fn;
  const run = test.run as Fn;
  addEventListener('message', (event) => {
    const { runId, shared, ops, seed, perturb } = event.data as {
      runId: number; shared: unknown; ops: unknown[]; seed: number; perturb: boolean;
    };
    const random = makeRandom(seed);
    if (perturb) installPoint(random);
    else delete (globalThis as Record<symbol, unknown>)[Symbol.for('agentcluster.stress.point')];
    const results: unknown[] = [];
    try {
      const object = makeObject(shared);
      // The start line: everyone's object is built before anyone runs an op.
      if (Atomics.add(ctl, C_ARRIVED, 1) === data.agents - 1) Atomics.notify(ctl, C_ARRIVED);
      for (let seen = Atomics.load(ctl, C_ARRIVED), i = 0; seen < data.agents; seen = Atomics.load(ctl, C_ARRIVED), i++) {
        if (i > SPINS_BEFORE_SLEEP) Atomics.wait(ctl, C_ARRIVED, seen, 1);
      }
      if (perturb) spin(random() & 4095); // start skew
      const base = k * data.maxOps * 2;
      for (let i = 0; i < ops.length; i++) {
        stamps[base + 2 * i] = Atomics.add(ctl, C_CLOCK, 1) + 1;
        const result = run(object, ops[i]);
        stamps[base + 2 * i + 1] = Atomics.add(ctl, C_CLOCK, 1) + 1;
        results.push(result);
        Atomics.store(ctl, C_PER_AGENT + 2 * k + 1, i + 1);
      }
      postMessage({ runId, results });
    } catch (error) {
      postMessage({ runId, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    }
  });
  postMessage({ ready: true });
}
