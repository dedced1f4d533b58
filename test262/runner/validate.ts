/**
 * Pass/fail judgement of one executed scenario.
 *
 * A port of test262-harness' lib/validator.js (plus the async-failure parsing
 * it does in lib/agent-pool.js), adapted to the structured {@link ExecResult}
 * of our in-process executor. test262-harness is not imported because it is a
 * dev dependency written against eshost's raw stdout/stderr results.
 *
 * Deliberate differences, where INTERPRETING.md is the contract:
 *  - negative tests also check the phase (`parse`/`resolution`/`runtime`) when
 *    the executor reports one; test262-harness only compares the error name;
 *  - output printed by a non-async test does not make it fail (eshost hosts
 *    report errors on stdout, so test262-harness treats any stdout as failure;
 *    here errors arrive structured in `error`);
 *  - an async test passes only if a line is exactly `Test262:AsyncTestComplete`
 *    (test262-harness accepts any `Test262:Async` substring) and the *first*
 *    `Test262:AsyncTestFailure:` line is the one reported;
 *  - `crashed` results fail.
 */
import type { TestAttrs } from './discover.js';
import type { ExecError, ExecResult } from './executor.js';

export interface Verdict {
  status: 'pass' | 'fail';
  error?: string;
}

export const ASYNC_COMPLETE = 'Test262:AsyncTestComplete';
export const ASYNC_FAILURE = 'Test262:AsyncTestFailure:';

/** Parses the first `Test262:AsyncTestFailure:<name>: <message>` line, if any. */
export function asyncFailure(stdout: string): ExecError | null {
  for (const raw of stdout.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line.startsWith(ASYNC_FAILURE)) continue;
    const rest = line.slice(ASYNC_FAILURE.length);
    const m = /^([^:]+): ([\s\S]*)$/.exec(rest);
    return m ? { name: m[1]!, message: m[2]!, phase: 'runtime' } : { name: 'Test262Error', message: rest, phase: 'runtime' };
  }
  return null;
}

export function asyncCompleted(stdout: string): boolean {
  return stdout.split(/\r?\n/).some((l) => l.trim() === ASYNC_COMPLETE);
}

export function validate(attrs: Pick<TestAttrs, 'flags' | 'negative'>, result: ExecResult): Verdict {
  const isAsync = attrs.flags.has('async');
  const negative = attrs.negative;

  if (result.crashed !== undefined) {
    return { status: 'fail', error: `Crashed: ${result.crashed}` };
  }
  if (result.timedOut) {
    return { status: 'fail', error: 'Test timed out' };
  }

  const error = result.error ?? (isAsync ? asyncFailure(result.stdout) : null);

  if (!negative) {
    if (error) {
      if (error.name === 'Test262Error') return { status: 'fail', error: error.message };
      return { status: 'fail', error: `Expected no error, got ${error.name}: ${error.message}` };
    }
    if (isAsync && !asyncCompleted(result.stdout)) {
      const out = result.stdout.trim();
      return {
        status: 'fail',
        error: out ? `Test did not run to completion; printed: ${truncate(out, 500)}` : 'Test did not run to completion',
      };
    }
    return { status: 'pass' };
  }

  if (!error) {
    return {
      status: 'fail',
      error: `Expected test to throw error of type ${negative.type}, but did not throw error`,
    };
  }
  if (error.name !== negative.type) {
    return {
      status: 'fail',
      error: `Expected test to throw error of type ${negative.type}, got ${error.name}: ${error.message}`,
    };
  }
  if (error.phase !== undefined && error.phase !== negative.phase) {
    return {
      status: 'fail',
      error:
        `Expected test to throw error of type ${negative.type} during ${negative.phase} phase, ` +
        `got it during ${error.phase} phase: ${error.message}`,
    };
  }
  return { status: 'pass' };
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}
