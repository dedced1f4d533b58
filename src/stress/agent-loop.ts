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
const MAX_RESULTS = 8; // result fields per actor (and for the arbiter)
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
  results: SharedArrayBuffer;
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

function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'bigint') return Number(value);
  return NaN;
}

/** Runs one actor of a litmus test, batch after batch, until agent 0 decides to stop. */
export function runLitmusActor(namespace: Record<string, unknown>, data: LitmusData): void {
  const test = findTest(namespace, data.testId);
  const k = data.agentIndex;
  const actor = (test.actors as Fn[])[k]!;
  const ctl = new Int32Array(data.control);
  const res = new Float64Array(data.results);
  const states = makeStates(data);
  const random = makeRandom(data.seed);
  if (data.perturb) installPoint(random);
  const B = data.batch;
  const base = k * B * MAX_RESULTS;
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
        names = Object.keys(r).slice(0, MAX_RESULTS);
        Atomics.store(ctl, C_PER_AGENT + 2 * k, names.length);
        postMessage({ names });
      }
      const o = base + i * MAX_RESULTS;
      for (let j = 0; j < names.length; j++) res[o + j] = toNumber(r[names[j]!]);
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
function aggregate(test: Record<string, unknown>, data: LitmusData, ctl: Int32Array, res: Float64Array, states: Array<Record<string, unknown>>): void {
  const B = data.batch;
  const A = data.actors;
  const arbiter = test.arbiter as Fn | undefined;
  const outcomes = test.outcomes as Record<string, string>;
  const counts: number[] = [];
  for (let k = 0; k < A; k++) counts.push(Atomics.load(ctl, C_PER_AGENT + 2 * k));
  const arbiterBase = A * B * MAX_RESULTS;
  for (let i = 0; i < B; i++) {
    if (arbiter !== undefined) {
      const r: Record<string, unknown> = {};
      arbiter(states[i], r);
      if (arbiterNames === undefined) {
        arbiterNames = Object.keys(r).slice(0, MAX_RESULTS);
        postMessage({ arbiterNames });
      }
      for (let j = 0; j < arbiterNames.length; j++) res[arbiterBase + i * MAX_RESULTS + j] = toNumber(r[arbiterNames[j]!]);
    }
    let key = '';
    for (let k = 0; k <= A; k++) {
      const n = k < A ? counts[k]! : (arbiterNames?.length ?? 0);
      const o = k * B * MAX_RESULTS + i * MAX_RESULTS;
      for (let j = 0; j < n; j++) key = key === '' ? String(res[o + j]) : key + ',' + res[o + j];
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
