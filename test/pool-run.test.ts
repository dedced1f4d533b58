// AgentPool: results, job errors, transfer both ways, options.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { AgentPool, PoolError } from '../src/index.js';
import { jobs, makePool } from './support/pool.js';

const pool = makePool({ minAgents: 2, maxAgents: 2, data: { answer: 42, list: [1, 2] } });
after(() => pool.destroy());

test('runs the default export and named exports, sync and async', async () => {
  await pool.ready;
  assert.equal(await pool.run(41), 42);
  assert.equal(await pool.run(21, { name: 'double' }), 42);
  assert.deepEqual(await pool.run({ a: [1, { b: new Map([[1, 2]]) }] }, { name: 'echo' }), { a: [1, { b: new Map([[1, 2]]) }] });
  const many = await Promise.all(Array.from({ length: 500 }, (_, i) => pool.run(i)));
  assert.deepEqual(many, Array.from({ length: 500 }, (_, i) => i + 1));
  const mixed = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? pool.run(i, { name: 'double' }) : pool.run(i))));
  assert.deepEqual(mixed, Array.from({ length: 50 }, (_, i) => (i % 2 ? i * 2 : i + 1)));
});

test('a job that throws rejects only its own run, with class, message, code and own properties', async () => {
  const results = await Promise.allSettled([
    pool.run(1),
    pool.run({ message: 'bad input', code: 'E_BAD' }, { name: 'fail' }),
    pool.run(2),
    pool.run('async boom', { name: 'failAsync' }),
    pool.run(undefined, { name: 'throwString' }),
    pool.run(3),
  ]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'rejected', 'fulfilled']);
  const sync = (results[1] as PromiseRejectedResult).reason as TypeError & { code: string; detail: unknown; stack: string };
  assert.ok(sync instanceof TypeError);
  assert.equal(sync.message, 'bad input');
  assert.equal(sync.code, 'E_BAD');
  assert.deepEqual(sync.detail, { n: 1 });
  assert.match(sync.stack, /jobs\.mjs/);
  const async = (results[3] as PromiseRejectedResult).reason;
  assert.ok(async instanceof RangeError);
  assert.equal(async.message, 'async boom');
  assert.equal((results[4] as PromiseRejectedResult).reason, 'a plain string');
  assert.equal(pool.stats.agents, 2, 'no agent was replaced for a job error');
});

test('a missing export rejects with ERR_POOL_JOB_NOT_FOUND', async () => {
  await assert.rejects(pool.run(1, { name: 'nope' }), { code: 'ERR_POOL_JOB_NOT_FOUND' });
  assert.equal(await pool.run(1), 2);
});

test('a task or result that cannot be cloned rejects that run only', async () => {
  const settled = await Promise.allSettled([pool.run(1), pool.run(() => 1, { name: 'echo' }), pool.run(2)]);
  assert.deepEqual(settled.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.equal((settled[1] as PromiseRejectedResult).reason.name, 'DataCloneError');
  await assert.rejects(pool.run(null, { name: 'uncloneable' }), { name: 'DataCloneError' });
  assert.equal(await pool.run(5), 6);
});

test('transferList moves the task buffer; move() in the job moves the result back', async () => {
  const buffer = new ArrayBuffer(1 << 20);
  const back = await pool.run({ buffer, value: 9 }, { name: 'fill', transferList: [buffer] });
  assert.equal(buffer.byteLength, 0, 'the host copy is detached');
  assert.ok(back instanceof ArrayBuffer);
  assert.equal(back.byteLength, 1 << 20);
  assert.equal(new Uint8Array(back)[12345], 9);

  // AgentPool.move on the host side
  const second = new Uint8Array(64).fill(1);
  assert.equal(await pool.run(AgentPool.move(second.buffer), { name: 'byteLength' }), 64);
  assert.equal(second.byteLength, 0);

  // Without a transfer list the buffer is copied and stays usable
  const copied = new ArrayBuffer(16);
  assert.equal(await pool.run(copied, { name: 'byteLength' }), 16);
  assert.equal(copied.byteLength, 16);
});

test('a result returned with move() is detached in the agent', async () => {
  const single = new AgentPool({ filename: jobs, minAgents: 1, maxAgents: 1 });
  try {
    const buffer = await single.run(1000, { name: 'makeBuffer' });
    assert.equal(buffer.byteLength, 1000);
    assert.equal(new Uint8Array(buffer)[999], 7);
    assert.equal(await single.run(null, { name: 'keptLength' }), 0);
  } finally {
    await single.destroy();
  }
});

test('SharedArrayBuffers in tasks are shared, not copied', async () => {
  const sab = new SharedArrayBuffer(4 * 64);
  await Promise.all(Array.from({ length: 20 }, (_, value) => pool.run({ sab, value }, { name: 'record' })));
  const view = new Int32Array(sab);
  assert.equal(view[0], 20);
  assert.deepEqual([...view.subarray(1, 21)].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
});

test('data is the agents\' agentData; agents are named after the pool', async () => {
  assert.deepEqual(await pool.run(null, { name: 'getData' }), { answer: 42, list: [1, 2] });
  assert.match(await pool.run(null, { name: 'whoAmI' }), /^pool\d+-agent\d+$/);
});

test('source: the job module given as text', async () => {
  const inline = new AgentPool({ source: 'export default (x) => x * 3; export const neg = (x) => -x;', minAgents: 1, maxAgents: 1 });
  try {
    assert.equal(await inline.run(5), 15);
    assert.equal(await inline.run(5, { name: 'neg' }), -5);
  } finally {
    await inline.close();
  }
});

test('the name option picks the default export; piscina option names are accepted', async () => {
  const named = new AgentPool({ filename: jobs.href, name: 'double', minThreads: 1, maxThreads: 1, resourceLimits: { maxOldGenerationSizeMb: 64 } });
  try {
    assert.equal(named.maxAgents, 1);
    assert.equal(await named.run(4), 8);
    assert.equal(await named.run(4, { name: 'default' }), 5);
  } finally {
    await named.close();
  }
});

test('invalid options throw ERR_POOL_INVALID_OPTION', async () => {
  assert.throws(() => new AgentPool({}), { code: 'ERR_POOL_INVALID_OPTION' });
  assert.throws(() => new AgentPool({ filename: jobs, source: 'x' }), PoolError);
  assert.throws(() => new AgentPool({ filename: jobs, maxAgents: 0 }), { code: 'ERR_POOL_INVALID_OPTION' });
  assert.throws(() => new AgentPool({ filename: jobs, minAgents: 3, maxAgents: 2 }), { code: 'ERR_POOL_INVALID_OPTION' });
  assert.throws(() => new AgentPool({ filename: jobs, maxQueue: -1 }), { code: 'ERR_POOL_INVALID_OPTION' });
  await assert.rejects(pool.run(1, { priority: NaN }), { code: 'ERR_POOL_INVALID_OPTION' });
  await assert.rejects(pool.run(1, { timeout: -5 }), { code: 'ERR_POOL_INVALID_OPTION' });
});

test('a job module that fails to load rejects runs with ERR_POOL_AGENT_START_FAILED', async () => {
  const broken = new AgentPool({ source: 'throw new Error("module broke");', minAgents: 1, maxAgents: 2 });
  try {
    await assert.rejects(broken.ready, (error: any) => error.code === 'ERR_POOL_AGENT_START_FAILED' && /module broke/.test(error.message));
    await assert.rejects(broken.run(1), (error: any) => error.code === 'ERR_POOL_AGENT_START_FAILED' && error.cause?.message === 'module broke');
    await assert.rejects(broken.run(2), { code: 'ERR_POOL_AGENT_START_FAILED' });
  } finally {
    await broken.destroy();
  }
});

test('tasks carry agentcluster:atomics objects (shared, not copied)', async (t) => {
  const { builtinModules } = await import('../src/native.js');
  if (!builtinModules()['agentcluster:atomics']) {
    t.skip('dist/atomics is not built (npm test builds it)');
    return;
  }
  const { Mutex } = await import('../src/atomics/index.js');
  const atomicsPool = new AgentPool({ filename: new URL('./pool-fixtures/atomics-jobs.mjs', import.meta.url), minAgents: 2, maxAgents: 2 });
  try {
    const mutex = new Mutex();
    const counter = new SharedArrayBuffer(4);
    await Promise.all(Array.from({ length: 100 }, () => atomicsPool.run({ mutex, counter })));
    assert.equal(new Int32Array(counter)[0], 100);
    assert.equal(mutex.locked, false);
  } finally {
    await atomicsPool.destroy();
  }
});

test('concurrentTasksPerAgent: an agent runs that many async tasks at once, no more', async () => {
  const single = new AgentPool({ filename: jobs, minAgents: 1, maxAgents: 1, concurrentTasksPerAgent: 4 });
  try {
    const sab = new SharedArrayBuffer(12);
    const view = new Int32Array(sab);
    const runs = Array.from({ length: 6 }, () => single.run(sab, { name: 'concurrent' }));
    const deadline = Date.now() + 10_000;
    while (Atomics.load(view, 1) < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
    assert.equal(Atomics.load(view, 1), 4, 'four run at once');
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(Atomics.load(view, 1), 4, 'and not more');
    assert.equal(single.stats.agents, 1);
    Atomics.store(view, 0, 1);
    assert.deepEqual(await Promise.all(runs), Array(6).fill('done'));
    assert.equal(Atomics.load(view, 2), 4, 'the most at once was four');
  } finally {
    await single.destroy();
  }
});

test('canBlock: false forbids Atomics.wait in jobs', async () => {
  const noBlock = new AgentPool({ filename: jobs, minAgents: 1, maxAgents: 1, canBlock: false });
  try {
    await assert.rejects(noBlock.run(null, { name: 'waits' }), TypeError);
    assert.equal(await pool.run(null, { name: 'waits' }), 'timed-out', 'the default pool can block');
  } finally {
    await noBlock.destroy();
  }
});

test('AgentPool.move({ buffer }) moves the buffers inside the object (detached on the host), both ways', async () => {
  const buffer = new ArrayBuffer(1024);
  const inner = new Uint8Array(256);
  const moved = AgentPool.move({ buffer, nested: { list: [inner] } });
  assert.deepEqual(await pool.run(moved, { name: 'sizes' }), [1024, 256]);
  assert.equal(buffer.byteLength, 0, 'the object\'s buffer moved, not copied');
  assert.equal(inner.byteLength, 0, 'a nested view\'s buffer moved too');

  const single = new AgentPool({ filename: jobs, minAgents: 1, maxAgents: 1 });
  try {
    const back = await single.run({ size: 100 }, { name: 'moveObject' });
    assert.equal(back.buffer.byteLength, 100);
    assert.deepEqual([...back.views.get('v')], [0, 0, 0, 0]);
    assert.equal(await single.run(null, { name: 'keptLength' }), 0, 'detached in the agent: it moved');
    await assert.rejects(single.run({ plain: true }, { name: 'moveObject' }), { code: 'ERR_POOL_NOT_MOVABLE' });
  } finally {
    await single.destroy();
  }
});

test('AgentPool.move throws ERR_POOL_NOT_MOVABLE instead of silently copying', () => {
  assert.throws(() => AgentPool.move({ text: 'no buffers here' }), { code: 'ERR_POOL_NOT_MOVABLE' });
  assert.throws(() => AgentPool.move(42), { code: 'ERR_POOL_NOT_MOVABLE' });
  // A small Buffer lives on Node's shared pool: moving its ArrayBuffer would take the whole pool.
  const pooled = Buffer.from('mine');
  assert.throws(() => AgentPool.move({ pooled }), { code: 'ERR_POOL_NOT_MOVABLE', message: /shared Buffer pool/ });
  assert.equal(pooled.toString(), 'mine');
  assert.throws(() => AgentPool.move(new ArrayBuffer(1), 'nope' as never), { code: 'ERR_POOL_NOT_MOVABLE' });
});

test('a buffer both found by move() and named in transferList is transferred once (was DataCloneError: appears more than once)', async () => {
  const buffer = new ArrayBuffer(64);
  const moved = AgentPool.move({ buffer, nested: { list: [new Uint8Array(8)] } });
  assert.deepEqual(await pool.run(moved, { name: 'sizes', transferList: [buffer] }), [64, 8]);
  assert.equal(buffer.byteLength, 0, 'it moved');
});
