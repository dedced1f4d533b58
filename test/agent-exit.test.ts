// Issue 2: the process (or a worker_thread) ends cleanly while agents still
// run — spinning, blocked in Atomics.wait, busy with timers, idle. Each case
// runs test/fixtures/exit-host.ts in a child process.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeChild, runFixture, type ChildResult } from './support/agents.js';

const run = (mode: string): Promise<ChildResult> => runFixture('exit-host.ts', [mode], { timeoutMs: 30_000 });

/** No crash, no abort, no native assertion: the exit was orderly. */
function assertClean(result: ChildResult, code: number): void {
  const details = describeChild(result);
  assert.equal(result.timedOut, false, `hung:\n${details}`);
  assert.equal(result.signal, null, `killed by a signal:\n${details}`);
  assert.equal(result.code, code, details);
  assert.doesNotMatch(result.stderr, /FATAL|Segmentation|Aborted|Assertion|terminate called|core dumped|libc\+\+abi|pure virtual/i, details);
}

describe('the process exits cleanly with agents still running', { concurrency: 2 }, () => {
  it('natural exit once every agent is unref()d', async () => {
    const result = await run('natural-unref');
    assertClean(result, 0);
    assert.match(result.stdout, /main: agents unref\(\)d, returning\nmain exit event 0\n/);
  });

  it('an uncaught exception in the host: exit code 1 with the error on stderr', async () => {
    const result = await run('uncaught');
    assertClean(result, 1);
    assert.match(result.stdout, /main exit event 1/);
    assert.match(result.stderr, /host blew up on purpose/);
  });

  it("an exception thrown by an agent 'message' listener is the host's uncaught exception", async () => {
    const result = await run('uncaught-in-listener');
    assertClean(result, 1);
    assert.match(result.stderr, /listener blew up on purpose/);
  });

  it('process.exit(3) keeps its exit code', async () => {
    const result = await run('process-exit');
    assertClean(result, 3);
    assert.match(result.stdout, /main: process.exit\(3\)\nmain exit event 3\n/);
  });

  it('process.exit() from inside an agent event listener', async () => {
    const result = await run('process-exit-in-listener');
    assertClean(result, 4);
    assert.match(result.stdout, /from a message listener\nmain exit event 4\n/);
  });

  it('process.exit(0) with 30 agents in every state', async () => {
    const result = await run('many-then-exit');
    assertClean(result, 0);
    assert.match(result.stdout, /main exit event 0/);
  });
});

describe('a worker_thread that loaded the library ends cleanly with its agents running', { concurrency: 2 }, () => {
  const afterWorker = /main: agent after worker exit says 42\nmain: done\nmain exit event 0\n/;

  it('the worker ends naturally with unref()d agents; the main thread goes on and exits 0', async () => {
    const result = await run('worker-natural');
    assertClean(result, 0);
    assert.match(result.stdout, /main: worker says started 10/);
    assert.match(result.stdout, /main: worker exited 0/);
    assert.match(result.stdout, afterWorker);
  });

  it('process.exit(5) inside the worker ends only the worker', async () => {
    const result = await run('worker-process-exit');
    assertClean(result, 0);
    assert.match(result.stdout, /main: worker exited 5/);
    assert.match(result.stdout, afterWorker);
  });

  it('an uncaught exception in the worker ends only the worker', async () => {
    const result = await run('worker-throw');
    assertClean(result, 0);
    assert.match(result.stdout, /main: worker error worker blew up on purpose/);
    assert.match(result.stdout, /main: worker exited 1/);
    assert.match(result.stdout, afterWorker);
  });

  it('worker.terminate() from the main thread', async () => {
    const result = await run('worker-terminated');
    assertClean(result, 0);
    assert.match(result.stdout, /main: worker exited 1/);
    assert.match(result.stdout, afterWorker);
  });
});
