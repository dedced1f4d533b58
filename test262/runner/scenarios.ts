/**
 * Scenario -> ExecRequest: how a discovered test scenario is presented to the
 * executor (INTERPRETING.md "Strict Mode", "Modules", `flags`).
 */
import type { TestCase } from './discover.js';
import type { ExecRequest } from './executor.js';

/** Whether the scenario's code runs in strict mode (modules are always strict). */
export function isStrict(tc: TestCase): boolean {
  return tc.scenario === 'strict mode' || tc.attrs.flags.has('module');
}

/**
 * [[CanBlock]] of the main agent: true unless the test is flagged
 * `CanBlockIsFalse` (such tests assert that `Atomics.wait` throws).
 * `CanBlockIsTrue` tests need the default (true).
 */
export function canBlock(tc: TestCase): boolean {
  return !tc.attrs.flags.has('CanBlockIsFalse') && !tc.attrs.includes.includes('CanBlockIsFalse.js');
}

export function toExecRequest(tc: TestCase, source: string, timeoutMs: number): ExecRequest {
  const f = tc.attrs.flags;
  return {
    id: tc.id,
    file: tc.absPath,
    relPath: tc.relPath,
    scenario: tc.scenario,
    source,
    isModule: f.has('module'),
    isAsync: f.has('async'),
    isRaw: f.has('raw'),
    canBlock: canBlock(tc),
    timeoutMs,
  };
}
