// Shared typed-array atomics against a sequential model.
//
// Several agents run seeded random sequences of Atomics operations on the
// same cells of one SharedArrayBuffer and log every operation with the value
// it returned. The host then searches for one interleaving of the per-agent
// logs (respecting each agent's program order) that a single sequential
// memory explains: every returned old value is the cell's value at that
// point, and the final cells match. Since Atomics are sequentially
// consistent, such an interleaving must exist. Alongside, a commutative
// check: each agent adds to its own slot and to a shared total; the total
// must equal the sum of the slots and each slot the agent's own sum.
import { RNG_SOURCE } from '../lib/rng.js';
import { iterate } from '../lib/loop.js';
import type { Scenario, StressContext } from '../lib/types.js';
import { nextMessage, within } from '../lib/util.js';

const OPS = ['load', 'add', 'sub', 'and', 'or', 'xor', 'exchange', 'compareExchange'] as const;
type Op = (typeof OPS)[number];
const LOG_WIDTH = 5; // [op, cell, a, b, result]

type IntArrayKind = 'Int32Array' | 'Int16Array' | 'Uint8Array';
const ctors: Record<IntArrayKind, Int32ArrayConstructor | Int16ArrayConstructor | Uint8ArrayConstructor> = {
  Int32Array,
  Int16Array,
  Uint8Array,
};

const agentSource = `${RNG_SOURCE}
const { sab, logSab, startSab, sumSab, kind, cells, ops, seed, index, agents } = agentData;
const view = new globalThis[kind](sab);
const log = new Int32Array(logSab);
const start = new Int32Array(startSab);
const sums = new Int32Array(sumSab); // [total, slot0, slot1, ...]
const OPS = ${JSON.stringify(OPS)};
const rng = makeRng(seed);
const scratch = new globalThis[kind](1);
const randomValue = () => { scratch[0] = rng.next32(); return scratch[0]; };
postMessage('ready');
Atomics.wait(start, 0, 0);
const last = new Array(cells).fill(0);
let mySum = 0;
for (let i = 0; i < ops; i++) {
  const cell = rng.int(0, cells - 1);
  const op = OPS[rng.int(0, OPS.length - 1)];
  let a = 0, b = 0, result;
  switch (op) {
    case 'load': result = Atomics.load(view, cell); break;
    case 'add': a = rng.int(1, 1000); result = Atomics.add(view, cell, a); break;
    case 'sub': a = rng.int(1, 1000); result = Atomics.sub(view, cell, a); break;
    case 'and': a = randomValue() | rng.next32(); result = Atomics.and(view, cell, a); break;
    case 'or': a = randomValue() & rng.next32() & rng.next32(); result = Atomics.or(view, cell, a); break;
    case 'xor': a = randomValue(); result = Atomics.xor(view, cell, a); break;
    case 'exchange': a = randomValue(); result = Atomics.exchange(view, cell, a); break;
    case 'compareExchange':
      a = rng.chance(0.7) ? last[cell] : randomValue();
      b = randomValue();
      result = Atomics.compareExchange(view, cell, a, b);
      break;
  }
  scratch[0] = a; a = scratch[0];
  scratch[0] = b; b = scratch[0];
  last[cell] = result;
  const o = i * ${LOG_WIDTH};
  log[o] = OPS.indexOf(op); log[o + 1] = cell; log[o + 2] = a; log[o + 3] = b; log[o + 4] = result;
  // The commutative side: a shared total and a slot of our own.
  if ((i & 7) === 0) {
    const d = rng.int(-50, 100);
    Atomics.add(sums, 0, d);
    Atomics.add(sums, 1 + index, d);
    mySum += d;
  }
  if (rng.chance(0.002)) { const until = performance.now() + rng.int(0, 2); while (performance.now() < until); }
}
postMessage({ done: true, mySum });
`;

interface Entry {
  op: Op;
  a: number;
  b: number;
  result: number;
}

/** The value an op leaves in the cell, given the value it found there (wrapped to the array's type). */
function apply(entry: Entry, old: number, scratch: Int32Array | Int16Array | Uint8Array): number {
  switch (entry.op) {
    case 'load':
      return old;
    case 'add':
      scratch[0] = old + entry.a;
      return scratch[0]!;
    case 'sub':
      scratch[0] = old - entry.a;
      return scratch[0]!;
    case 'and':
      scratch[0] = old & entry.a;
      return scratch[0]!;
    case 'or':
      scratch[0] = old | entry.a;
      return scratch[0]!;
    case 'xor':
      scratch[0] = old ^ entry.a;
      return scratch[0]!;
    case 'exchange':
      return entry.a;
    case 'compareExchange':
      return old === entry.a ? entry.b : old;
  }
}

export interface LinearizationResult {
  ok: boolean;
  /** The search ran out of steps (neither proven nor disproven). */
  inconclusive: boolean;
  steps: number;
  detail?: string;
}

/**
 * Is there an interleaving of `histories` (one op list per agent, in program
 * order) under which a single cell starting at `initial` returns exactly the
 * logged results and ends at `final`? Depth-first search over (positions,
 * value); an op "fits" when its logged result equals the current value. Ops
 * that fit and leave the value unchanged are taken greedily (moving such an
 * op earlier never invalidates an interleaving).
 */
export function linearize(histories: Entry[][], initial: number, final: number, kind: IntArrayKind, maxSteps = 2_000_000): LinearizationResult {
  const scratch = new ctors[kind](1);
  const n = histories.length;
  const total = histories.reduce((sum, h) => sum + h.length, 0);
  const seen = new Set<string>();
  interface Frame {
    pos: number[];
    value: number;
    done: number;
  }
  const stack: Frame[] = [{ pos: new Array<number>(n).fill(0), value: initial, done: 0 }];
  let steps = 0;
  let deepest = 0;
  while (stack.length > 0) {
    if (++steps > maxSteps) return { ok: false, inconclusive: true, steps };
    const frame = stack.pop()!;
    const pos = frame.pos.slice();
    let { value, done } = frame;
    // Greedy: non-mutating fits.
    for (let progress = true; progress; ) {
      progress = false;
      for (let i = 0; i < n; i++) {
        const h = histories[i]!;
        while (pos[i]! < h.length) {
          const e = h[pos[i]!]!;
          if (e.result !== value || apply(e, value, scratch) !== value) break;
          pos[i]!++;
          done++;
          progress = true;
        }
      }
    }
    if (done > deepest) deepest = done;
    if (done === total) {
      if (value === final) return { ok: true, inconclusive: false, steps };
      continue;
    }
    const key = pos.join(',') + ':' + value;
    if (seen.has(key)) continue;
    seen.add(key);
    for (let i = n - 1; i >= 0; i--) {
      const h = histories[i]!;
      if (pos[i]! >= h.length) continue;
      const e = h[pos[i]!]!;
      if (e.result !== value) continue;
      const next = pos.slice();
      next[i]!++;
      stack.push({ pos: next, value: apply(e, value, scratch), done: done + 1 });
    }
  }
  return { ok: false, inconclusive: false, steps, detail: `no interleaving explains the log (at best ${deepest} of ${total} ops placed)` };
}

export const atomicsModel: Scenario = {
  name: 'atomics-model',
  description: 'random Atomics op sequences from several agents on one SAB, checked against a sequential model (linearization search) plus per-agent slots',
  async run(ctx: StressContext) {
    let opsChecked = 0;
    let inconclusive = 0;
    let maxSteps = 0;
    const result = await iterate(ctx, async ({ rng, seed }) => {
      const kind = rng.weighted<IntArrayKind>([
        [7, 'Int32Array'],
        [2, 'Int16Array'],
        [1, 'Uint8Array'],
      ]);
      const agents = rng.int(2, 4);
      const cells = rng.int(1, 3);
      const ops = kind === 'Int32Array' ? rng.int(500, ctx.quick ? 3000 : 8000) : kind === 'Int16Array' ? rng.int(200, 1000) : rng.int(50, 200);
      const Ctor = ctors[kind];
      const sab = new SharedArrayBuffer(Ctor.BYTES_PER_ELEMENT * cells);
      const view = new (Ctor as Int32ArrayConstructor)(sab) as Int32Array | Int16Array | Uint8Array;
      const initial: number[] = [];
      for (let c = 0; c < cells; c++) {
        view[c] = rng.next32();
        initial.push(view[c]!);
      }
      const startSab = new SharedArrayBuffer(4);
      const sumSab = new SharedArrayBuffer(4 * (1 + agents));
      const logs: SharedArrayBuffer[] = [];
      const handles = [];
      for (let index = 0; index < agents; index++) {
        const logSab = new SharedArrayBuffer(4 * LOG_WIDTH * ops);
        logs.push(logSab);
        const agent = ctx.spawn({
          name: `atomics-${index}`,
          source: agentSource,
          data: { sab, logSab, startSab, sumSab, kind, cells, ops, seed: seed + index, index, agents },
        });
        handles.push(agent);
      }
      await Promise.all(handles.map((agent) => nextMessage(agent, 20_000, (v) => v === 'ready')));
      const done = handles.map((agent) => nextMessage<{ done: true; mySum: number }>(agent, 60_000, (v) => typeof v === 'object'));
      const start = new Int32Array(startSab);
      Atomics.store(start, 0, 1);
      Atomics.notify(start, 0);
      const reports = await within(Promise.all(done), 60_000, 'the agents to finish their ops');
      await Promise.all(handles.map((agent) => agent.terminate()));

      // Commutative side.
      const sums = new Int32Array(sumSab);
      let slotTotal = 0;
      for (let index = 0; index < agents; index++) {
        slotTotal += sums[1 + index]!;
        ctx.check(sums[1 + index] === reports[index]!.mySum, `slot ${index} is ${sums[1 + index]}, the agent added ${reports[index]!.mySum}`);
      }
      ctx.check(sums[0] === (slotTotal | 0), `shared total ${sums[0]} != sum of slots ${slotTotal}`);

      // Per cell, a linearization of the logged ops.
      for (let cell = 0; cell < cells; cell++) {
        const histories: Entry[][] = logs.map((logSab) => {
          const log = new Int32Array(logSab);
          const entries: Entry[] = [];
          for (let i = 0; i < ops; i++) {
            const o = i * LOG_WIDTH;
            if (log[o + 1] !== cell) continue;
            entries.push({ op: OPS[log[o]!]!, a: log[o + 2]!, b: log[o + 3]!, result: log[o + 4]! });
          }
          return entries;
        });
        const verdict = linearize(histories, initial[cell]!, view[cell]!, kind);
        opsChecked += histories.reduce((s, h) => s + h.length, 0);
        maxSteps = Math.max(maxSteps, verdict.steps);
        if (verdict.inconclusive) {
          inconclusive++;
          ctx.log(`cell ${cell}: search gave up after ${verdict.steps} steps (${kind}, ${agents} agents x ${ops} ops)`);
          continue;
        }
        ctx.assert(verdict.ok, `${kind} cell ${cell} (${agents} agents x ${ops} ops, initial ${initial[cell]}, final ${view[cell]}): ${verdict.detail}`);
      }
    });
    result.stats = { opsChecked, inconclusiveCells: inconclusive, maxSearchSteps: maxSteps };
    return result;
  },
};
