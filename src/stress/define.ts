// Declaring stress tests: litmus() and linearizable() return plain tagged
// descriptors, and point() is a yield point. This module runs in agents as
// well as on the host (package.json maps `agentcluster/stress` here under the
// `agentcluster` condition), so it imports nothing and touches no Node API.

/** A typed-array constructor for one per-iteration state field. */
export type FieldType =
  | Int8ArrayConstructor | Uint8ArrayConstructor | Int16ArrayConstructor | Uint16ArrayConstructor
  | Int32ArrayConstructor | Uint32ArrayConstructor | Float32ArrayConstructor | Float64ArrayConstructor
  | BigInt64ArrayConstructor | BigUint64ArrayConstructor;

/** `x: Int32Array` (one element) or `x: { type: Int32Array, length: 4 }`. */
export type FieldSpec = FieldType | { type: FieldType; length: number };

export type Grade = 'ok' | 'interesting' | 'forbidden';

/** Each state field as a view of its type over this iteration's slot of the shared buffer. */
export type LitmusState<S extends Record<string, FieldSpec>> = {
  [K in keyof S]: S[K] extends { type: infer T } ? (T extends abstract new (...a: never[]) => infer V ? V : never)
    : S[K] extends abstract new (...a: never[]) => infer V ? V : never;
};

/** Where an actor puts what it observed (numbers, booleans or bigints). */
export type LitmusResult = Record<string, number | boolean | bigint>;

export interface LitmusSpec<S extends Record<string, FieldSpec> = Record<string, FieldSpec>> {
  name: string;
  /** Per-iteration state: every iteration gets fresh, zeroed fields in one SharedArrayBuffer. */
  state: S;
  /** One function per actor, each run on its own agent, all on the same iteration's state. */
  actors: Array<(state: LitmusState<S>, result: LitmusResult) => void>;
  /** Runs after every actor finished the iteration; may read the final state into the result. */
  arbiter?: (state: LitmusState<S>, result: LitmusResult) => void;
  /**
   * Outcome key (the result values joined by ',', in actor order, each actor's
   * fields in the order it assigned them, the arbiter's last) to its grade.
   * An outcome not listed is forbidden.
   */
  outcomes: Record<string, Grade>;
  /** Widen race windows with seeded start skew and point() spins (default false for litmus tests). */
  perturb?: boolean;
}

export const LITMUS_TAG = 'agentcluster.stress.litmus';
export const LINEARIZABLE_TAG = 'agentcluster.stress.linearizable';

export interface LitmusTest<S extends Record<string, FieldSpec> = Record<string, FieldSpec>> extends LitmusSpec<S> {
  readonly kind: typeof LITMUS_TAG;
}

/** The sequential specification a history is checked against. */
export interface SequentialModel<State = unknown, Op = unknown, Result = unknown> {
  init(): State;
  /** Applies op to state: the new state and the result a sequential object would return. */
  step(state: State, op: Op): [State, Result];
  /** Result equality (default: JSON text equality). */
  equal?(expected: Result, actual: Result): boolean;
  /** A string identifying a state for the checker's memo (default: JSON text). */
  key?(state: State): string;
  /** How an operation reads in a report (default: JSON). */
  describe?(op: Op): string;
}

export interface LinearizableSpec<Shared = unknown, Obj = unknown, Op = unknown, Result = unknown> {
  name: string;
  /** Runs on the host before each history: what every agent receives (SharedArrayBuffers are shared). */
  setup(): Shared;
  /** Runs in each agent: the concurrent object over the shared data. */
  object(shared: Shared): Obj;
  /** Runs in each agent: performs op on the object and returns its result (must be cloneable). */
  run(object: Obj, op: Op): Result;
  /**
   * A fast-check arbitrary of one operation (plain, cloneable data such as
   * `{ type: 'push', value: 3 }`); failing histories shrink through it.
   */
  operation?: unknown;
  /**
   * Instead of `operation`: an arbitrary of every agent's whole list at once
   * (`agents` lists), for tests whose lists depend on each other (a blocking
   * pop needs as many pushes somewhere).
   */
  operationLists?(agents: number): unknown;
  model: SequentialModel<unknown, Op, Result>;
  /** P-compositionality: operations on different keys are checked as independent histories. */
  partition?(op: Op): string | number;
  /** Operations per agent in one history (default 30). */
  opsPerAgent?: number;
  /** Seeded start skew and point() spins (default true). */
  perturb?: boolean;
}

export interface LinearizableTest<Shared = unknown, Obj = unknown, Op = unknown, Result = unknown>
  extends LinearizableSpec<Shared, Obj, Op, Result> {
  readonly kind: typeof LINEARIZABLE_TAG;
}

/**
 * Stable codes: ERR_STRESS_INVALID_TEST (a bad litmus()/linearizable() spec), ERR_STRESS_INVALID_OPTION,
 * ERR_STRESS_NO_TESTS, ERR_STRESS_LOAD_FAILED (a test file that throws or does not parse on import).
 */
export class StressError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StressError';
    this.code = code;
  }
}

const FIELD_TYPES = new Set<unknown>([
  Int8Array, Uint8Array, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array,
  BigInt64Array, BigUint64Array,
]);
const GRADES = new Set(['ok', 'interesting', 'forbidden']);
const MAX_FIELD_LENGTH = 1024;

function invalid(test: string, message: string): StressError {
  return new StressError('ERR_STRESS_INVALID_TEST', `${test}: ${message}`);
}

function checkName(spec: { name?: unknown }, what: string): string {
  if (typeof spec?.name !== 'string' || spec.name.trim() === '') throw invalid(what, 'name must be a non-empty string');
  return spec.name;
}

/** A litmus test: actors run concurrently, again and again, on fresh shared state; outcomes are histogrammed and graded. */
export function litmus<S extends Record<string, FieldSpec>>(spec: LitmusSpec<S>): LitmusTest<S> {
  const name = checkName(spec, 'litmus()');
  if (typeof spec.state !== 'object' || spec.state === null || Object.keys(spec.state).length === 0) {
    throw invalid(name, 'state must be an object of at least one field (e.g. { x: Int32Array })');
  }
  for (const [field, fieldSpec] of Object.entries(spec.state)) {
    const type = typeof fieldSpec === 'function' ? fieldSpec : (fieldSpec as { type?: unknown })?.type;
    if (!FIELD_TYPES.has(type)) throw invalid(name, `state.${field} must be a typed-array constructor such as Int32Array, or { type, length }`);
    if (typeof fieldSpec !== 'function') {
      const length = (fieldSpec as { length?: unknown }).length;
      if (!Number.isInteger(length) || (length as number) < 1 || (length as number) > MAX_FIELD_LENGTH) {
        throw invalid(name, `state.${field}.length must be a whole number from 1 to ${MAX_FIELD_LENGTH}`);
      }
    }
  }
  if (!Array.isArray(spec.actors) || spec.actors.length < 1 || spec.actors.some((a) => typeof a !== 'function')) {
    throw invalid(name, 'actors must be a non-empty array of functions');
  }
  if (spec.actors.length > 64) throw invalid(name, 'at most 64 actors');
  if (spec.arbiter !== undefined && typeof spec.arbiter !== 'function') throw invalid(name, 'arbiter must be a function');
  if (typeof spec.outcomes !== 'object' || spec.outcomes === null) throw invalid(name, 'outcomes must be an object of outcome key to grade');
  for (const [key, grade] of Object.entries(spec.outcomes)) {
    if (!GRADES.has(grade)) throw invalid(name, `outcomes[${JSON.stringify(key)}] must be 'ok', 'interesting' or 'forbidden', not ${JSON.stringify(grade)}`);
  }
  return Object.freeze({ ...spec, kind: LITMUS_TAG });
}

/** A linearizability test: agents run generated operations on a concurrent object; the history is checked against a sequential model. */
export function linearizable<Shared, Obj, Op, Result>(
  spec: LinearizableSpec<Shared, Obj, Op, Result>,
): LinearizableTest<Shared, Obj, Op, Result> {
  const name = checkName(spec, 'linearizable()');
  for (const fn of ['setup', 'object', 'run'] as const) {
    if (typeof spec[fn] !== 'function') throw invalid(name, `${fn} must be a function`);
  }
  if (typeof spec.model?.init !== 'function' || typeof spec.model?.step !== 'function') {
    throw invalid(name, 'model must be { init(), step(state, op) -> [state, result] }');
  }
  if (spec.operationLists !== undefined) {
    if (typeof spec.operationLists !== 'function') throw invalid(name, 'operationLists must be a function (agents) => arbitrary of agents lists');
  } else {
    const arbitrary = spec.operation as { generate?: unknown } | undefined;
    if (typeof arbitrary?.generate !== 'function') throw invalid(name, 'operation must be a fast-check arbitrary (e.g. fc.oneof(...))');
  }
  if (spec.partition !== undefined && typeof spec.partition !== 'function') throw invalid(name, 'partition must be a function');
  if (spec.opsPerAgent !== undefined && (!Number.isInteger(spec.opsPerAgent) || spec.opsPerAgent < 1 || spec.opsPerAgent > 100_000)) {
    throw invalid(name, 'opsPerAgent must be a whole number from 1 to 100000');
  }
  return Object.freeze({ ...spec, kind: LINEARIZABLE_TAG });
}

/** The per-agent perturbation the runner installs (a global, so that every copy of this module sees it). */
export interface PointHook {
  (): void;
}
const POINT_KEY = Symbol.for('agentcluster.stress.point');

/**
 * A yield point: under the stress runner with perturbation on, a seeded
 * random spin or short pause that widens race windows; otherwise nothing.
 */
export function point(): void {
  const hook = (globalThis as Record<symbol, PointHook | undefined>)[POINT_KEY];
  if (hook !== undefined) hook();
}

/** `stress.point()` as well as `point()`. */
export const stress = Object.freeze({ point });

export function isLitmusTest(value: unknown): value is LitmusTest {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === LITMUS_TAG;
}

export function isLinearizableTest(value: unknown): value is LinearizableTest {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === LINEARIZABLE_TAG;
}
