// AgentPool edges a new user hits: malformed run()/map() arguments reject
// with typed errors (never a synchronous TypeError, never silently ignored),
// map() over a large window warns about nothing, destroy during map, and
// run after close/destroy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makePool } from './support/pool.js';

const invalid = { code: 'ERR_POOL_INVALID_OPTION' };

test('run(): a non-object options, a non-array transferList or a non-signal rejects ERR_POOL_INVALID_OPTION', async () => {
  const pool = makePool({ minAgents: 1, maxAgents: 1 });
  try {
    // Each returns a rejected promise (no synchronous throw).
    const calls = [
      () => pool.run(1, null as never),
      () => pool.run(1, 5 as never),
      () => pool.run(1, { transferList: 5 as never }),
      () => pool.run(1, { transferList: new ArrayBuffer(8) as never }),
      () => pool.run(1, { signal: {} as never }),
    ];
    for (const call of calls) {
      let promise: Promise<unknown> | undefined;
      assert.doesNotThrow(() => {
        promise = call();
      });
      await assert.rejects(promise!, invalid);
    }
    assert.equal(await pool.run(1, undefined), 2, 'the pool is fine afterwards');
  } finally {
    await pool.destroy();
  }
});

test('map(): a bad concurrency or a non-iterable input rejects ERR_POOL_INVALID_OPTION', async () => {
  const pool = makePool({ minAgents: 1, maxAgents: 1 });
  try {
    for (const concurrency of [0, -1, 1.5, 'x']) {
      await assert.rejects(pool.map([1], { concurrency: concurrency as never }).next(), invalid, String(concurrency));
    }
    for (const input of [5, null, { length: 2 }]) {
      await assert.rejects(pool.map(input as never).next(), { ...invalid, message: /iterable/ }, String(input));
    }
  } finally {
    await pool.destroy();
  }
});

test('map() with a window above 10 tasks emits no MaxListenersExceededWarning', async () => {
  const pool = makePool({ minAgents: 1, maxAgents: 2 });
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on('warning', onWarning);
  try {
    const out: unknown[] = [];
    const controller = new AbortController();
    for await (const value of pool.map(Array.from({ length: 200 }, (_, i) => i), { concurrency: 64, signal: controller.signal })) out.push(value);
    assert.equal(out.length, 200);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(warnings.map((w) => w.name), []);
  } finally {
    process.off('warning', onWarning);
    await pool.destroy();
  }
});

test('destroy() during map() ends the loop with ERR_POOL_DESTROYED; run() after close/destroy rejects', async () => {
  const pool = makePool({ minAgents: 1, maxAgents: 2 });
  const seen: unknown[] = [];
  setTimeout(() => void pool.destroy(), 50);
  await assert.rejects(
    (async () => {
      for await (const value of pool.map(Array.from({ length: 100 }, () => 20), { name: 'sleep' })) seen.push(value);
    })(),
    { code: 'ERR_POOL_DESTROYED' },
  );
  assert.ok(seen.length < 100);
  await assert.rejects(pool.run(1), { code: 'ERR_POOL_DESTROYED' });
  await pool.close(); // closing a destroyed pool is a no-op
  const closed = makePool({ minAgents: 1, maxAgents: 1 });
  const closing = closed.close();
  await assert.rejects(closed.run(1), { code: 'ERR_POOL_CLOSED' });
  await Promise.all([closing, closed.close(), closed.destroy()]);
});

test('a result the host cannot deserialize (nested too deep) rejects ERR_POOL_RESULT_UNREADABLE instead of hanging', async () => {
  // A big agent stack: the agent serializes what the host (V8's default stack) cannot read back.
  const pool = makePool({ minAgents: 1, maxAgents: 1, resourceLimits: { stackSizeMB: 64 } });
  try {
    await pool.ready;
    // Alone: the unwrapped path, only that task fails.
    await assert.rejects(pool.run(100000, { name: 'nested' }), { code: 'ERR_POOL_RESULT_UNREADABLE' });
    assert.equal(await pool.run(1), 2);
    // In a batch: the batch's tasks fail (their ids are in it), every other task still settles, the pool goes on.
    const settled = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => (i === 3 ? pool.run(100000, { name: 'nested' }) : pool.run(i))));
    const failed = settled.filter((r) => r.status === 'rejected');
    assert.ok(failed.length >= 1);
    for (const r of failed) assert.equal((r.reason as { code?: string }).code, 'ERR_POOL_RESULT_UNREADABLE');
    assert.equal(settled[3]!.status, 'rejected');
    assert.equal(await pool.run(1), 2);
  } finally {
    await pool.destroy();
  }
});

test('a task that kills every agent it is given before it starts (a payload the agent cannot deserialize) fails instead of being requeued forever', async () => {
  // A small agent stack: the host serializes what the agent cannot read back (its messageerror is an uncaught error).
  const pool = makePool({ minAgents: 1, maxAgents: 1, resourceLimits: { stackSizeMB: 0.25 } });
  const errors: unknown[] = [];
  pool.on('error', (error) => errors.push(error));
  try {
    await pool.ready;
    let deep: unknown = null;
    for (let i = 0; i < 3000; i++) deep = [deep];
    await assert.rejects(pool.run(deep, { name: 'echo' }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'ERR_POOL_AGENT_EXITED');
      assert.match(error.message, /3 agents died of an error while holding the task, before it started/);
      return true;
    });
    assert.ok(errors.length <= 2, `agent deaths reported: ${errors.length}`);
    assert.equal(await pool.run(1), 2, 'the pool goes on');
  } finally {
    await pool.destroy();
  }
});
