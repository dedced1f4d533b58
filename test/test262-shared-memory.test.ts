/**
 * CI: the test262 shared-memory subset, in-process, with the real native host
 * (one fresh agent per scenario): built-ins/Atomics, SharedArrayBuffer,
 * ArrayBuffer, TypedArray, TypedArrayConstructors, and every test anywhere in
 * the suite that uses `$262.agent` (found by scanning the snapshot now, not
 * from a list). Zero unexpected failures allowed; see test262/expectations.
 *
 * The snapshot comes from TEST262_DIR (default ../shared/test262). When
 * TEST262_DIR is not set and the default is missing, the test is skipped with
 * a note; a TEST262_DIR that does not exist is an error.
 *
 * Run alone: node --import tsx --test test/test262-shared-memory.test.ts
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { resolveTest262, type Test262Paths } from '../test262/runner/discover.js';
import { formatSummary } from '../test262/runner/reporters/summary.js';
import { describeExpectations, loadExpectations } from '../test262/runner/expectations.js';
import { agentTests, defaultExpectationsPath, runInProcess, SHARED_MEMORY_DIRS, sharedMemorySelectors } from '../test262/subsets.js';

const explicitDir = process.env['TEST262_DIR'];
const defaultDir = path.resolve(process.cwd(), '../shared/test262');
const available = explicitDir !== undefined || existsSync(path.join(defaultDir, 'test'));

/**
 * Scenarios in flight. Most shared-memory tests sleep, so oversubscription
 * pays, but the Atomics timing tests (`lapse >= TIMEOUT`, "waiter woke in
 * time") need their agents scheduled promptly, and `npm test` runs another
 * test file beside this one: 4 per CPU (the CLI default) is what we measured
 * as both fast and stable (docs/test262.md, "Flake check").
 */
const THREADS = Number(process.env['TEST262_THREADS'] ?? 0) || undefined;

describe('test262 shared-memory subset (in-process, native host)', { skip: !available && 'no test262 snapshot (set TEST262_DIR)' }, () => {
  let t262: Test262Paths;

  it('finds the $262.agent tests by scanning the snapshot', () => {
    t262 = resolveTest262(explicitDir, process.env, process.cwd());
    const agents = agentTests(t262);
    // The snapshot has 112 such files; the exact number changes with test262 updates.
    assert.ok(agents.length >= 50, `only ${agents.length} tests use $262.agent`);
    assert.ok(agents.every((f) => f.endsWith('.js')));
    assert.ok(agents.some((f) => f.startsWith('built-ins/Atomics/wait/')));
  });

  it('passes with zero unexpected failures', { timeout: 10 * 60_000 }, async (t) => {
    t262 ??= resolveTest262(explicitDir, process.env, process.cwd());
    const selectors = sharedMemorySelectors(t262);
    const extra = selectors.length - SHARED_MEMORY_DIRS.length;
    // The expectation set of this engine (sections per V8 major).
    const expectations = loadExpectations(defaultExpectationsPath());
    t.diagnostic(`expectations: ${describeExpectations(expectations)}`);
    const { summary, scenarios } = await runInProcess(t262, selectors, { expectations, ...(THREADS ? { threads: THREADS } : {}) });

    const text = formatSummary(summary, { maxFailures: 50 });
    t.diagnostic(
      `shared-memory subset: ${scenarios} scenarios (${SHARED_MEMORY_DIRS.join(', ')} + ${extra} $262.agent files elsewhere): ` +
        `${summary.pass} pass, ${summary.fail} fail (${summary.expectedFail} expected), ${summary.skip} skip, ` +
        `${summary.unexpectedFail} unexpected failures, ${summary.unexpectedPass} unexpected passes, ${summary.seconds.toFixed(1)} s`,
    );
    process.stdout.write(`${text}\n`);

    assert.equal(summary.interrupted, false);
    assert.equal(summary.total, scenarios);
    assert.ok(summary.pass > 4000, `only ${summary.pass} scenarios passed`);
    assert.equal(
      summary.unexpectedFail,
      0,
      `unexpected failures:\n${summary.unexpectedFailures.map((r) => `  ${r.id}: ${r.error ?? ''}`).join('\n')}`,
    );
    assert.equal(summary.abandoned, 0, 'a scenario did not stop when aborted');
  });
});
