import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  AtomicsError,
  Barrier,
  Condition,
  Latch,
  Mutex,
  Semaphore,
  SharedQueue,
  WaitGroup,
  canBlock,
  hasWaitAsync,
  waitAsync,
} from '../src/atomics/index.js';
import { atomicsIndexUrl, runAgents, startOnAgent } from './support/atomics-harness.js';

const run = promisify(execFile);

test('waitAsync: not-equal at once, timed-out after at least the timeout, ok when notified', async () => {
  const i32 = new Int32Array(new SharedArrayBuffer(8));
  assert.equal(await waitAsync(i32, 0, 1), 'not-equal');
  const t0 = performance.now();
  assert.equal(await waitAsync(i32, 0, 0, 25), 'timed-out');
  assert.ok(performance.now() - t0 >= 24, 'engine timeout roughly honoured');
  assert.equal(await waitAsync(i32, 0, 0, -5), 'timed-out', 'negative timeout means 0');
  const notified = waitAsync(i32, 0, 0);
  await startOnAgent(0, (_A, a: Int32Array) => {
    Atomics.store(a, 0, 1);
    return Atomics.notify(a, 0);
  }, i32);
  assert.equal(await notified, 'ok');
  await assert.rejects(waitAsync(i32, 0, 0, '5' as unknown as number), { code: 'ERR_ATOMICS_INVALID_ARGUMENT' });
  assert.throws(() => new Mutex().lock('5' as unknown as number), { code: 'ERR_ATOMICS_INVALID_ARGUMENT' });
});

test('pending async waits keep the Node event loop alive, and only while pending', async () => {
  // nodejs/node#44729: a bare Atomics.waitAsync does not keep the process
  // alive, so the control exits without printing. Our helper (and everything
  // built on it) holds a ref'd timer until the wait settles, then lets go.
  const script = (body: string) => [
    '--input-type=module',
    '-e',
    `import * as A from ${JSON.stringify(atomicsIndexUrl)};
     const i32 = new Int32Array(new SharedArrayBuffer(4));
     ${body}`,
  ];
  const control = await run(process.execPath, script(
    `Atomics.waitAsync(i32, 0, 0, 200).value.then((v) => console.log('raw', v));`,
  ));
  assert.equal(control.stdout, '', 'control: the bare waitAsync did not keep the process alive');

  const t0 = performance.now();
  const helper = await run(process.execPath, script(`
    A.waitAsync(i32, 0, 0, 200).then((v) => console.log('helper', v));
    const m = new A.Mutex(); m.lock();
    m.lockAsync(300).then((ok) => console.log('lockAsync', ok));
    new A.Semaphore(0).acquireAsync(250).then((ok) => console.log('acquireAsync', ok));
  `), { timeout: 20_000 });
  assert.deepEqual(helper.stdout.trim().split('\n').sort(), ['acquireAsync false', 'helper timed-out', 'lockAsync false']);
  // The child exited on its own right after the last wait settled: the
  // keep-alive timer was cleared (else it would have hung for ~24.8 days).
  assert.ok(performance.now() - t0 < 15_000);
});

test('canBlock / hasWaitAsync on the host and in agents (canBlock true and false)', async () => {
  assert.equal(canBlock(), true);
  assert.equal(hasWaitAsync(), true);
  assert.deepEqual(await runAgents(2, (A) => [A.canBlock(), A.hasWaitAsync()], null), [[true, true], [true, true]]);
  assert.deepEqual(await runAgents(2, (A) => [A.canBlock(), A.hasWaitAsync()], null, { canBlock: false }), [[false, true], [false, true]]);
});

test('placement errors are AtomicsError with codes, for every class', () => {
  const makers: [string, (b?: SharedArrayBuffer, o?: number) => unknown, number][] = [
    ['Mutex', (b, o) => new Mutex(b, o), Mutex.byteLength],
    ['Condition', (b, o) => new Condition(b, o), Condition.byteLength],
    ['Semaphore', (b, o) => new Semaphore(1, b, o), Semaphore.byteLength],
    ['Barrier', (b, o) => new Barrier(2, b, o), Barrier.byteLength],
    ['Latch', (b, o) => new Latch(1, b, o), Latch.byteLength],
    ['WaitGroup', (b, o) => new WaitGroup(0, b, o), WaitGroup.byteLength],
    ['SharedQueue', (b, o) => new SharedQueue({ capacity: 2 }, b, o), SharedQueue.byteLengthFor({ capacity: 2 })],
  ];
  for (const [name, make, byteLength] of makers) {
    const sab = new SharedArrayBuffer(byteLength + 8);
    assert.ok(make(sab, 8) !== undefined, `${name} fits at offset 8`);
    const err = (() => {
      try {
        make(new ArrayBuffer(64) as unknown as SharedArrayBuffer, 0);
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof AtomicsError, `${name}: non-shared buffer`);
    assert.equal(err.code, 'ERR_ATOMICS_INVALID_ARGUMENT');
    assert.match(err.message, new RegExp(name));
    assert.throws(() => make(sab, 1), { code: 'ERR_ATOMICS_INVALID_ARGUMENT' }, `${name}: misaligned`);
    assert.throws(() => make(sab, -8), { code: 'ERR_ATOMICS_INVALID_ARGUMENT' }, `${name}: negative`);
    assert.throws(() => make(sab, 16), { code: 'ERR_OUT_OF_RANGE' }, `${name}: past the end`);
    assert.throws(() => make(undefined, 8), { code: 'ERR_ATOMICS_INVALID_ARGUMENT' }, `${name}: offset without buffer`);
  }
});

test('every class clones to exactly { buffer, byteOffset } and from() shares the state', async () => {
  const objs = {
    mutex: new Mutex(),
    condition: new Condition(),
    semaphore: new Semaphore(3),
    barrier: new Barrier(3),
    latch: new Latch(4),
    waitGroup: new WaitGroup(5),
    queue: new SharedQueue({ capacity: 4 }),
  };
  for (const [name, o] of Object.entries(objs)) {
    const c = structuredClone(o);
    assert.deepEqual(Object.keys(c), ['buffer', 'byteOffset'], name);
    assert.ok(c.buffer instanceof SharedArrayBuffer);
  }
  objs.mutex.lock();
  objs.queue.push(42);
  // An agent attaches to all of them from the postMessage'd clones.
  const seen = await startOnAgent(0, (A, d: Record<string, { buffer: SharedArrayBuffer; byteOffset: number }>) => {
    const q = A.SharedQueue.from(d.queue);
    const r = {
      locked: A.Mutex.from(d.mutex).locked,
      permits: A.Semaphore.from(d.semaphore).value,
      parties: A.Barrier.from(d.barrier).parties,
      latch: A.Latch.from(d.latch).countDown(),
      wg: A.WaitGroup.from(d.waitGroup).done(),
      popped: q.pop(0),
      notified: A.Condition.from(d.condition).notifyAll(),
    };
    q.push(7);
    return r;
  }, objs);
  assert.deepEqual(seen, { locked: true, permits: 3, parties: 3, latch: 3, wg: 4, popped: 42, notified: 0 });
  assert.equal(objs.latch.count, 3);
  assert.equal(objs.waitGroup.count, 4);
  assert.equal(objs.queue.pop(0), 7);
  objs.mutex.unlock();
  assert.throws(() => Mutex.from({ buffer: new ArrayBuffer(4) } as never), { code: 'ERR_ATOMICS_INVALID_ARGUMENT' });
  assert.throws(() => Mutex.from(null as never), { code: 'ERR_ATOMICS_INVALID_ARGUMENT' });
});

test('a bad timeout throws from every blocking form and rejects every async form, before the call takes effect', async () => {
  const bad = '5' as unknown as number;
  const invalid = { code: 'ERR_ATOMICS_INVALID_ARGUMENT' };
  const asyncOnly = (make: () => Promise<unknown>) => {
    let p: Promise<unknown> | undefined;
    assert.doesNotThrow(() => { p = make(); }, 'an async form never throws synchronously');
    return assert.rejects(p as Promise<unknown>, invalid);
  };
  const s = new Semaphore(1);
  assert.throws(() => s.acquire(bad), invalid);
  await asyncOnly(() => s.acquireAsync(bad));
  assert.equal(s.value, 1, 'no permit taken');
  const b = new Barrier(2);
  assert.throws(() => b.arriveAndWait(bad), invalid);
  await asyncOnly(() => b.arriveAndWaitAsync(bad));
  assert.equal(b.arrived, 0, 'no arrival left behind');
  for (const counter of [new Latch(0), new WaitGroup(1)]) {
    assert.throws(() => counter.wait(bad), invalid);
    await asyncOnly(() => counter.waitAsync(bad));
  }
  const m = new Mutex();
  await asyncOnly(() => m.lockAsync(bad));
  assert.equal(m.locked, false);
  const c = new Condition();
  m.lock();
  assert.throws(() => c.wait(m, bad), invalid);
  assert.equal(m.locked, true, 'the caller still holds the mutex');
  m.unlock();
  const q = new SharedQueue({ capacity: 1 });
  assert.throws(() => q.push(1, bad), invalid);
  assert.throws(() => q.pop(bad), invalid);
  await asyncOnly(() => q.pushAsync(1, bad));
  await asyncOnly(() => q.popAsync(bad));
  assert.equal(q.size, 0);
});
