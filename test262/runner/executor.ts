/**
 * The boundary between the test262 runner (pure TypeScript: discovery,
 * scenarios, validation, expectations, reporting) and whatever actually
 * executes JavaScript (the native agentcluster host, or a fake in tests).
 *
 * The runner never evaluates test code itself. For every scenario it builds
 * one {@link ExecRequest} and awaits {@link Executor.run}; the returned
 * {@link ExecResult} is then judged by `validate.ts` following
 * test262's INTERPRETING.md.
 */

/** Phase in which an uncaught error surfaced (INTERPRETING.md, `negative`). */
export type ErrorPhase = 'parse' | 'resolution' | 'runtime';

/** Scenario names, as produced by test262-stream. */
export type Scenario = 'default' | 'strict mode';

export interface ExecRequest {
  /** Unique, stable id of this scenario, e.g. `built-ins/Atomics/notify/foo.js#strict`. */
  readonly id: string;
  /** Absolute path of the test file. Module specifiers (`./x_FIXTURE.js`) resolve against its directory. */
  readonly file: string;
  /** Path of the test relative to `<test262>/test`, `/`-separated (for logs). */
  readonly relPath: string;
  /** Scenario being run; the `"use strict";` prefix is already part of `source`. */
  readonly scenario: Scenario;
  /**
   * Full text to evaluate: harness files (assert.js, sta.js, doneprintHandle.js
   * for async tests, then `includes`) already prepended, and `"use strict";\n`
   * in front for the strict scenario. Raw tests are passed verbatim.
   */
  readonly source: string;
  /** Evaluate `source` as a module (flag `module`) instead of a global script. */
  readonly isModule: boolean;
  /**
   * Flag `async`: the test completes when `print` is called with
   * `Test262:AsyncTestComplete` or `Test262:AsyncTestFailure:...`; the executor
   * should keep the agent's event loop running until then (or until aborted).
   */
  readonly isAsync: boolean;
  /** Flag `raw`: nothing was prepended; `$262`/`print` still must be defined. */
  readonly isRaw: boolean;
  /**
   * [[CanBlock]] of the agent running the test's main script. `false` only for
   * tests flagged `CanBlockIsFalse` (then `Atomics.wait` must throw TypeError).
   */
  readonly canBlock: boolean;
  /** Per-test budget. The runner also aborts `signal` when it elapses. */
  readonly timeoutMs: number;
}

export interface ExecError {
  /** Constructor name of the uncaught value, e.g. `SyntaxError`, `Test262Error`. */
  name: string;
  message: string;
  /**
   * Where it happened. Executors should always set it: negative tests are only
   * checked against their expected phase when it is present.
   */
  phase?: ErrorPhase;
}

export interface ExecResult {
  /** Everything passed to `print` (main agent), one call per line, newline separated. */
  stdout: string;
  /** First uncaught error, or null if evaluation completed normally. */
  error: ExecError | null;
  /** The execution was stopped because it exceeded its budget / was aborted. */
  timedOut: boolean;
  /** Set when the host could not run the test at all (agent died, internal error). */
  crashed?: string;
}

export interface Executor {
  /**
   * Runs one scenario in a fresh realm. Must resolve (not reject) for any
   * outcome of the test itself; a rejection is recorded as a crash of that
   * one test. When `signal` aborts (timeout or interrupted run) the executor
   * should terminate the execution promptly and resolve with `timedOut: true`.
   */
  run(req: ExecRequest, signal: AbortSignal): Promise<ExecResult>;
}
