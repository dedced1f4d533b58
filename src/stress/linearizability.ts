// A linearizability checker in the style of Porcupine: Wing & Gong's search
// as improved by Lowe (JIT linearization over a linked list of call/return
// entries, with a memo of (set of linearized operations, model state) so a
// configuration is explored once), P-compositionality (operations on
// different keys are checked as independent histories), and, on failure,
// the shortest failing prefix of the history as the counterexample.
//
// A prefix is cut at a response time; operations invoked before the cut that
// respond after it are pending: they may take effect or not, with any
// result. Linearizability is prefix-closed, so a failing prefix proves the
// whole history fails, and the shortest one is found by binary search.
//
// The problem is NP-complete, so every search runs on a budget (memo bytes,
// model steps, wall time): a history too hard to decide is reported as
// inconclusive with the bound it hit instead of running for hours. The
// shrinking of a real violation gets a budget of its own and, when that is
// spent, reports the shortest failing prefix found so far (still a failure).
import { StressError, type SequentialModel } from './define.js';

export interface HistoryOperation<Op = unknown, Result = unknown> {
  /** Which agent ran it (for the report). */
  agent: number;
  op: Op;
  /** The result it returned (ignored while pending). */
  result?: Result;
  /** Invocation and response stamps of one shared monotonic clock; no response: pending (never answered). */
  invoke: number;
  response?: number;
}

export interface CheckOptions<Op = unknown> {
  /** P-compositionality: operations with different keys are checked as independent histories. */
  partition?: (op: Op) => string | number;
  /** Memory the memo may use before the check gives up as inconclusive (default 256 MiB). */
  memoBytes?: number;
  /** Model steps (attempted linearizations) before the check gives up as inconclusive (default 2,000,000). */
  maxSteps?: number;
  /** Wall time (ms) before the check gives up as inconclusive (default 10,000). */
  timeLimitMs?: number;
}

/** The check's budgets when none is given (docs/stress-harness.md, "Checker budgets"). */
export const DEFAULT_CHECK_BUDGET = Object.freeze({ memoBytes: 256 * 2 ** 20, maxSteps: 2_000_000, timeLimitMs: 10_000 });

export interface CheckResult<Op = unknown, Result = unknown> {
  /** Linearizable. False with `inconclusive` when the search hit one of its budgets first. */
  ok: boolean;
  inconclusive?: boolean;
  /** With `inconclusive`: the budget that ran out. */
  budget?: 'memory' | 'steps' | 'time';
  /** Configurations explored (memo entries), over all partitions. */
  explored: number;
  /** On failure: the partition key that failed (when a partition function was given). */
  partition?: string;
  /** On failure: the shortest failing prefix of that partition's history, sorted by invocation. */
  counterexample?: Array<HistoryOperation<Op, Result>>;
  /** On failure: the counterexample, readable. */
  explanation?: string;
}

interface Node {
  id: number;
  call: boolean;
  pending: boolean;
  match: Node | undefined; // a call's return entry
  prev: Node | undefined;
  next: Node | undefined;
}

const jsonEqual = (a: unknown, b: unknown): boolean => a === b || JSON.stringify(a) === JSON.stringify(b);
const jsonKey = (state: unknown): string => JSON.stringify(state) ?? 'undefined';

const EXACT_MEMO_OPS = 2048;

/** Zobrist words: one random 3×32-bit value per operation, XORed into the memo hash of the linearized set. */
function zobrist(n: number): Uint32Array {
  const words = new Uint32Array(3 * n);
  let a = 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    words[i] = (t ^ (t >>> 14)) >>> 0;
  }
  return words;
}

/** Thrown by a search whose budget ran out; `budget` names which one. */
class BudgetSpent extends Error {
  constructor(readonly budget: 'memory' | 'steps' | 'time', detail: string) {
    super(detail);
  }
}

/** Model steps and wall time, shared by every search of one check (all partitions), or of one shrinking. */
class SearchBudget {
  #steps = 0;
  /** Memo entries made by every search on this budget (the report's `explored`). */
  configurations = 0;
  readonly #deadline: number;
  /** Steps until the clock is read again, and the current interval between reads. */
  #untilClock = 1;
  #clockEvery = 1;
  #lastClock: number;
  constructor(readonly maxSteps: number, readonly timeLimitMs: number, readonly memoBytes: number) {
    this.#lastClock = Date.now();
    this.#deadline = this.#lastClock + timeLimitMs;
  }
  get steps(): number {
    return this.#steps;
  }
  /**
   * One model step. The clock is read adaptively: Date.now() per step would dominate a cheap model, and
   * a fixed 1024 steps between reads let a slow model overrun timeLimitMs by 1024 of its steps. The
   * interval doubles (up to 1024) while reads come less than 1 ms apart and halves when they do not, so
   * the check overruns its time limit by about a millisecond or one model step, whichever is longer.
   */
  step(): void {
    const steps = ++this.#steps;
    if (steps > this.maxSteps) throw new BudgetSpent('steps', `${this.maxSteps.toLocaleString('en-US')} model steps (maxSteps)`);
    if (--this.#untilClock > 0) return;
    const now = Date.now();
    if (now > this.#deadline) {
      throw new BudgetSpent('time', `${this.timeLimitMs.toLocaleString('en-US')} ms (timeLimitMs) after ${steps.toLocaleString('en-US')} model steps`);
    }
    this.#clockEvery = now - this.#lastClock < 1 ? Math.min(1024, this.#clockEvery * 2) : Math.max(1, this.#clockEvery >>> 1);
    this.#untilClock = this.#clockEvery;
    this.#lastClock = now;
  }
}

/** One partition's search. `ops` may include pending ones. Returns [linearizable, configurations explored]; throws BudgetSpent. */
function search<Op, Result>(ops: Array<HistoryOperation<Op, Result>>, model: SequentialModel<unknown, Op, Result>, budget: SearchBudget): [boolean, number] {
  const memoBytes = budget.memoBytes;
  const n = ops.length;
  if (n === 0) return [true, 0];
  const equal = model.equal ?? jsonEqual;
  const key = model.key ?? jsonKey;
  // Entries in time order; pending returns go last (at +infinity).
  const events: Array<{ time: number; node: Node }> = [];
  for (let id = 0; id < n; id++) {
    const o = ops[id]!;
    const pending = o.response === undefined;
    const ret: Node = { id, call: false, pending, match: undefined, prev: undefined, next: undefined };
    const call: Node = { id, call: true, pending, match: ret, prev: undefined, next: undefined };
    events.push({ time: o.invoke, node: call }, { time: pending ? Infinity : o.response!, node: ret });
  }
  events.sort((a, b) => a.time - b.time || a.node.id - b.node.id);
  const head: Node = { id: -1, call: false, pending: false, match: undefined, prev: undefined, next: undefined };
  let tail = head;
  for (const { node } of events) {
    tail.next = node;
    node.prev = tail;
    tail = node;
  }
  const lift = (call: Node): void => {
    call.prev!.next = call.next;
    if (call.next) call.next.prev = call.prev;
    const ret = call.match!;
    ret.prev!.next = ret.next;
    if (ret.next) ret.next.prev = ret.prev;
  };
  const unlift = (call: Node): void => {
    const ret = call.match!;
    ret.prev!.next = ret;
    if (ret.next) ret.next.prev = ret;
    call.prev!.next = call;
    if (call.next) call.next.prev = call;
  };
  const words = Math.ceil(n / 32);
  const bits = new Uint32Array(words);
  const z = zobrist(n);
  let h1 = 0;
  let h2 = 0;
  let h3 = 0;
  // Up to EXACT_MEMO_OPS operations the memo keeps each linearized set whole and compares it;
  // beyond, a copy per configuration would cost O(n) memory each, so the set is known by its
  // 96-bit Zobrist hash alone (a false match needs a collision among the explored sets: ~2^-60 at a million).
  const exact = n <= EXACT_MEMO_OPS;
  const memo = new Map<string, Uint32Array[] | true>();
  let explored = 0;
  let used = 0;
  const remember = (stateKey: string): boolean => {
    const k = `${h1},${h2},${h3}|${stateKey}`;
    const seen = memo.get(k);
    if (seen === true) return false;
    if (seen) {
      for (const b of seen) if (b.every((w, i) => w === bits[i])) return false;
      seen.push(bits.slice());
    } else memo.set(k, exact ? [bits.slice()] : true);
    explored++;
    budget.configurations++;
    // Bounded memory: a history too hard to decide is reported, not allowed to exhaust the heap.
    used += (exact ? 4 * words : 0) + 2 * k.length + 80;
    if (used > memoBytes) throw new BudgetSpent('memory', `${memoBytes.toLocaleString('en-US')} memo bytes (memoBytes) after ${explored.toLocaleString('en-US')} configurations`);
    return true;
  };
  const flip = (id: number): void => {
    bits[id >>> 5]! ^= 1 << (id & 31);
    h1 ^= z[3 * id]!;
    h2 ^= z[3 * id + 1]!;
    h3 ^= z[3 * id + 2]!;
  };
  const stack: Array<{ node: Node; state: unknown }> = [];
  let state = model.init();
  let entry = head.next;
  while (head.next !== undefined) {
    if (entry === undefined) return [false, explored]; // cannot happen with well-formed lists; fail safe
    if (entry.call) {
      const o = ops[entry.id]!;
      budget.step();
      const [next, expected] = model.step(state, o.op);
      if (entry.pending || equal(expected, o.result as Result)) {
        flip(entry.id);
        if (remember(key(next))) {
          stack.push({ node: entry, state });
          state = next;
          lift(entry);
          entry = head.next;
          continue;
        }
        flip(entry.id);
      }
      entry = entry.next;
    } else if (entry.pending) {
      // Every completed operation is linearized (their returns come first); pending ones may stay out.
      return [true, explored];
    } else {
      const top = stack.pop();
      if (top === undefined) return [false, explored];
      state = top.state;
      flip(top.node.id);
      unlift(top.node);
      entry = top.node.next;
    }
  }
  return [true, explored];
}

/** The prefix of `ops` cut at time `cut`: later invocations dropped, later responses made pending. */
function prefix<Op, Result>(ops: Array<HistoryOperation<Op, Result>>, cut: number): Array<HistoryOperation<Op, Result>> {
  const out: Array<HistoryOperation<Op, Result>> = [];
  for (const o of ops) {
    if (o.invoke > cut) continue;
    if (o.response !== undefined && o.response <= cut) out.push(o);
    else out.push({ agent: o.agent, op: o.op, invoke: o.invoke });
  }
  return out;
}

/**
 * The shortest failing prefix of a failing history, by binary search over the response times.
 * `shortest` is false when the budget ran out first: the prefix returned then still fails, it may not be the shortest.
 */
function shortestFailingPrefix<Op, Result>(ops: Array<HistoryOperation<Op, Result>>, model: SequentialModel<unknown, Op, Result>, budget: SearchBudget):
  { prefix: Array<HistoryOperation<Op, Result>>; shortest: boolean } {
  const cuts = ops.filter((o) => o.response !== undefined).map((o) => o.response!).sort((a, b) => a - b);
  let lo = 0;
  let hi = cuts.length - 1; // the whole history fails
  let shortest = true;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    let passes: boolean;
    try {
      passes = search(prefix(ops, cuts[mid]!), model, budget)[0];
    } catch (error) {
      if (!(error instanceof BudgetSpent)) throw error;
      shortest = false;
      break;
    }
    if (passes) lo = mid + 1;
    else hi = mid;
  }
  return { prefix: prefix(ops, cuts[hi] ?? Infinity).sort((a, b) => a.invoke - b.invoke), shortest };
}

/** A budget option: undefined for the default, else a positive number (Infinity allowed: no bound). */
function budgetOption(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
    throw new StressError('ERR_STRESS_INVALID_OPTION', `checkLinearizable: ${name} must be a positive number (Infinity: no bound), not ${String(value)}`);
  }
  return value;
}

/** A history the search can trust: finite numeric stamps, each response at or after its invocation. */
function checkHistory(history: unknown): void {
  const invalid = (message: string) => new StressError('ERR_STRESS_INVALID_HISTORY', `checkLinearizable: ${message}`);
  if (!Array.isArray(history)) throw invalid(`the history must be an array of { agent, op, result, invoke, response }, not ${typeof history}`);
  for (let i = 0; i < history.length; i++) {
    const o = history[i] as Partial<HistoryOperation> | null;
    if (typeof o !== 'object' || o === null) throw invalid(`operation ${i} is ${o === null ? 'null' : typeof o}, not an object`);
    if (typeof o.invoke !== 'number' || !Number.isFinite(o.invoke)) {
      throw invalid(`operation ${i}: invoke must be a finite number (a clock stamp), not ${String(o.invoke)}`);
    }
    if (o.response === undefined) continue; // pending
    if (typeof o.response !== 'number' || !Number.isFinite(o.response)) {
      throw invalid(`operation ${i}: response must be a finite number (a clock stamp) or absent (pending), not ${String(o.response)}`);
    }
    if (o.response < o.invoke) throw invalid(`operation ${i}: response ${o.response} is before its invocation ${o.invoke}`);
  }
}

export function describeHistory<Op, Result>(ops: Array<HistoryOperation<Op, Result>>, model: SequentialModel<unknown, Op, Result>): string {
  const describe = model.describe ?? ((op: Op) => JSON.stringify(op));
  // A loop, not Math.max(...spread): a long counterexample would overflow the call stack with one argument per operation.
  let width = 1;
  for (const o of ops) width = Math.max(width, String(o.response ?? '').length, String(o.invoke).length);
  return ops
    .map((o) => {
      const span = `[${String(o.invoke).padStart(width)} .. ${o.response === undefined ? '…'.padStart(width) : String(o.response).padStart(width)}]`;
      const result = o.response === undefined ? '(pending: no response)' : `-> ${JSON.stringify(o.result)}`;
      return `agent ${o.agent}  ${span}  ${describe(o.op)} ${result}`;
    })
    .join('\n');
}

/** Checks a history against a sequential model; `partition` splits it into independent per-key histories. */
export function checkLinearizable<Op, Result>(
  history: Array<HistoryOperation<Op, Result>>,
  model: SequentialModel<unknown, Op, Result>,
  options: CheckOptions<Op> | ((op: Op) => string | number) = {},
): CheckResult<Op, Result> {
  checkHistory(history);
  if (typeof options !== 'function' && (typeof options !== 'object' || options === null)) {
    throw new StressError('ERR_STRESS_INVALID_OPTION', `checkLinearizable: options must be an object or a partition function, not ${options === null ? 'null' : typeof options}`);
  }
  const { partition, ...bounds } = typeof options === 'function' ? { partition: options } : options;
  if (partition !== undefined && typeof partition !== 'function') {
    throw new StressError('ERR_STRESS_INVALID_OPTION', `checkLinearizable: partition must be a function of an operation, not ${typeof partition}`);
  }
  const maxSteps = budgetOption('maxSteps', (bounds as CheckOptions).maxSteps, DEFAULT_CHECK_BUDGET.maxSteps);
  const timeLimitMs = budgetOption('timeLimitMs', (bounds as CheckOptions).timeLimitMs, DEFAULT_CHECK_BUDGET.timeLimitMs);
  const memoBytes = budgetOption('memoBytes', (bounds as CheckOptions).memoBytes, DEFAULT_CHECK_BUDGET.memoBytes);
  const budget = new SearchBudget(maxSteps, timeLimitMs, memoBytes);
  const groups = new Map<string, Array<HistoryOperation<Op, Result>>>();
  for (const o of history) {
    const k = partition ? String(partition(o.op)) : '';
    let group = groups.get(k);
    if (!group) groups.set(k, (group = []));
    group.push(o);
  }
  for (const [k, ops] of groups) {
    try {
      if (search(ops, model, budget)[0]) continue;
    } catch (error) {
      if (!(error instanceof BudgetSpent)) throw error;
      const where = partition ? ` for key ${JSON.stringify(k)}` : '';
      return {
        ok: false, inconclusive: true, budget: error.budget, explored: budget.configurations, ...(partition ? { partition: k } : {}),
        explanation: `inconclusive${where}: the search used its ${error.budget} budget (${error.message}, ${ops.length} operations) before deciding; ` +
          'check shorter histories (opsPerAgent), fewer agents, or declare a partition',
      };
    }
    // The violation is real; shrinking it gets a fresh budget of the same size.
    const shrunk = shortestFailingPrefix(ops, model, new SearchBudget(maxSteps, timeLimitMs, memoBytes));
    const counterexample = shrunk.prefix;
    const where = partition ? ` (key ${JSON.stringify(k)})` : '';
    const explanation =
      `not linearizable${where}: ${shrunk.shortest ? 'the shortest failing prefix' : 'a failing prefix (shrinking stopped at its budget)'}, ${counterexample.length} operations ` +
      `(clock stamps: invocation .. response):\n${describeHistory(counterexample, model)}\n` +
      'no order of these operations, each taking effect between its invocation and its response, gives these results in the sequential model.';
    return { ok: false, explored: budget.configurations, ...(partition ? { partition: k } : {}), counterexample, explanation };
  }
  return { ok: true, explored: budget.configurations };
}
