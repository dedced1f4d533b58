import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Mutex, SharedQueue, type QueueKind, type SharedHandle } from '../src/atomics/index.js';
import { runAgents, startOnAgent, type AgentFn } from './support/atomics-harness.js';

const bytesOf = (...xs: number[]) => new Uint8Array(xs);

test('single-threaded behaviour matches an array model, both kinds (fast-check)', () => {
  const op = fc.oneof(
    fc.record({ op: fc.constantFrom('tryPush', 'push0'), v: fc.double(), len: fc.integer({ min: 0, max: 12 }) }),
    fc.record({ op: fc.constantFrom('tryPop', 'pop0') }),
    fc.record({ op: fc.constant('close') }),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6 }),
      fc.constantFrom<QueueKind>('float64', 'bytes'),
      fc.array(op, { maxLength: 80 }),
      (capacity, kind, ops) => {
        const chunkBytes = 8;
        const q = new SharedQueue<QueueKind>({ capacity, kind, chunkBytes });
        const model: (number | Uint8Array)[] = [];
        let closed = false;
        let n = 0;
        for (const o of ops) {
          if (o.op === 'tryPush' || o.op === 'push0') {
            const item =
              kind === 'float64' ? o.v : Uint8Array.from({ length: o.len }, (_, i) => (n * 7 + i) & 0xff);
            n++;
            const push = () => (o.op === 'tryPush' ? q.tryPush(item) : q.push(item, 0));
            // Items are validated before the queue state is looked at.
            if (item instanceof Uint8Array && item.length > chunkBytes) {
              assert.throws(push, { code: 'ERR_CHUNK_TOO_LARGE' });
            } else if (closed) {
              assert.throws(push, { code: 'ERR_QUEUE_CLOSED' });
            } else {
              const ok = push();
              assert.equal(ok, model.length < capacity);
              if (ok) model.push(item);
            }
          } else if (o.op === 'close') {
            q.close();
            closed = true;
          } else {
            const got = o.op === 'tryPop' ? q.tryPop() : q.pop(0);
            assert.deepEqual(got, model.shift());
          }
          assert.equal(q.size, model.length);
          assert.equal(q.closed, closed);
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('bytes: chunks are copied out as fresh, non-shared Uint8Arrays', () => {
  const q = new SharedQueue({ capacity: 2, kind: 'bytes', chunkBytes: 4 });
  const src = bytesOf(1, 2, 3);
  q.push(src);
  src[0] = 99; // the queue holds a copy
  q.push(new Uint16Array([0x0201])); // any ArrayBufferView, by its bytes
  const a = q.pop() as Uint8Array;
  assert.deepEqual(a, bytesOf(1, 2, 3));
  assert.ok(a.buffer instanceof ArrayBuffer);
  assert.deepEqual(q.pop(), new Uint8Array(new Uint16Array([0x0201]).buffer));
  q.push(new Uint8Array(0));
  assert.deepEqual(q.pop(), new Uint8Array(0));
  assert.throws(() => q.push(5 as unknown as Uint8Array), { code: 'ERR_ATOMICS_INVALID_ARGUMENT' });
  const f = new SharedQueue({ capacity: 1 });
  assert.throws(() => f.push('1' as unknown as number), { code: 'ERR_ATOMICS_INVALID_ARGUMENT' });
  f.push(NaN);
  assert.ok(Number.isNaN(f.pop()));
});

test('timeouts: push on full / pop on empty return false / undefined after at least the timeout', async () => {
  const q = new SharedQueue({ capacity: 1 });
  let t0 = performance.now();
  assert.equal(q.pop(25), undefined);
  assert.ok(performance.now() - t0 >= 25);
  t0 = performance.now();
  assert.equal(await q.popAsync(25), undefined);
  assert.ok(performance.now() - t0 >= 25);
  q.push(1);
  t0 = performance.now();
  assert.equal(q.push(2, 25), false);
  assert.ok(performance.now() - t0 >= 25);
  t0 = performance.now();
  assert.equal(await q.pushAsync(2, 25), false);
  assert.ok(performance.now() - t0 >= 25);
  assert.equal(q.tryPush(2), false);
  assert.equal(q.pop(), 1);
});

test('close wakes a blocked consumer; pushes then throw, pops drain', async () => {
  const q = new SharedQueue({ capacity: 4 });
  const blocked = startOnAgent(0, (A, h: SharedHandle) => {
    const q2 = A.SharedQueue.from(h);
    const t0 = performance.now();
    const v = q2.pop(10_000);
    return { v, closed: q2.closed, ms: performance.now() - t0 };
  }, structuredClone(q));
  await new Promise((r) => setTimeout(r, 30));
  q.close();
  const r = await blocked;
  assert.equal(r.v, undefined);
  assert.equal(r.closed, true);
  assert.ok(r.ms < 5_000);
  assert.throws(() => q.push(1), { code: 'ERR_QUEUE_CLOSED' });
  await assert.rejects(q.pushAsync(1), { code: 'ERR_QUEUE_CLOSED' });
  const q3 = new SharedQueue({ capacity: 4 });
  q3.push(1);
  q3.push(2);
  q3.close();
  q3.close(); // idempotent
  assert.equal(q3.pop(), 1);
  assert.equal(await q3.popAsync(), 2);
  assert.equal(q3.pop(), undefined);
  assert.equal(await q3.popAsync(), undefined);
});

test('from() after structuredClone / postMessage re-attaches; packing and validation', async () => {
  const opts = { capacity: 3, kind: 'bytes' as const, chunkBytes: 5 };
  const len = SharedQueue.byteLengthFor(opts);
  assert.equal(len % SharedQueue.alignment, 0);
  const sab = new SharedArrayBuffer(8 + len + SharedQueue.byteLengthFor({ capacity: 2 }));
  const mutex = new Mutex(sab, 0);
  const qb = new SharedQueue(opts, sab, 8);
  const qf = new SharedQueue({ capacity: 2 }, sab, 8 + len);
  const clone = structuredClone(qb);
  assert.deepEqual(Object.keys(clone), ['buffer', 'byteOffset']);
  const again = SharedQueue.from<'bytes'>(clone);
  assert.equal(again.kind, 'bytes');
  assert.equal(again.capacity, 3);
  assert.equal(again.chunkBytes, 5);
  qb.push(bytesOf(1, 2));
  assert.deepEqual(again.pop(), bytesOf(1, 2));
  qf.push(3.5);
  qf.push(-0);
  mutex.lock();
  // An agent attaches to both through postMessage.
  const got = await startOnAgent(0, (A, d: { qb: SharedHandle; qf: SharedHandle }) => {
    const b = A.SharedQueue.from(d.qb);
    const f = A.SharedQueue.from(d.qf);
    b.push(new Uint8Array([9, 8, 7, 6, 5]));
    return [f.pop(), Object.is(f.pop(), -0), f.kind, b.size];
  }, { qb, qf });
  assert.deepEqual(got, [3.5, true, 'float64', 1]);
  assert.deepEqual(qb.pop(), bytesOf(9, 8, 7, 6, 5));
  assert.equal(mutex.locked, true, 'neighbours in the same SAB are untouched');
  mutex.unlock();
  assert.throws(() => new SharedQueue({ capacity: 2 }, sab, 4), { code: 'ERR_ATOMICS_INVALID_ARGUMENT' });
  assert.throws(() => new SharedQueue({ capacity: 0 }), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => new SharedQueue({ capacity: 2, kind: 'bytes' }), { code: 'ERR_ATOMICS_INVALID_ARGUMENT' });
  assert.throws(() => SharedQueue.from({ buffer: new SharedArrayBuffer(64), byteOffset: 0 }), {
    code: 'ERR_ATOMICS_INVALID_ARGUMENT',
  });
});

type MpmcData = {
  q: SharedHandle;
  kind: QueueKind;
  producers: number;
  perProducer: number;
  modes: string[];
  done: Int32Array; // [0] producers finished, [1] corrupted chunks seen
};

// Threads [0, producers) produce, the rest consume. Items encode (producer,
// seq); byte chunks carry a seq-dependent payload of varying length. The last
// producer to finish closes the queue; consumers pop until closed and drained.
const mpmcThread: AgentFn<MpmcData, number[]> = async (A, d, me) => {
  const q = A.SharedQueue.from(d.q);
  let mode = d.modes[me % d.modes.length];
  if (!A.canBlock() && (mode === 'sync' || mode === 'timed')) mode = 'async';
  const bytes = d.kind === 'bytes';
  const chunk = q.chunkBytes;
  if (me < d.producers) {
    for (let seq = 0; seq < d.perProducer; seq++) {
      let item: number | Uint8Array = me * 1_000_000 + seq;
      if (bytes) {
        const len = 8 + (seq % (chunk - 7));
        const b = new Uint8Array(len);
        new DataView(b.buffer).setUint32(0, me);
        new DataView(b.buffer).setUint32(4, seq);
        for (let i = 8; i < len; i++) b[i] = (seq + i) & 0xff;
        item = b;
      }
      if (mode === 'sync') q.push(item);
      else if (mode === 'async') await q.pushAsync(item);
      else if (mode === 'timed') { while (!q.push(item, 0.3)) { /* retry */ } }
      else { while (!q.tryPush(item)) { /* spin */ } }
    }
    if (Atomics.add(d.done, 0, 1) + 1 === d.producers) q.close();
    return [];
  }
  const got: number[] = [];
  for (;;) {
    let v: number | Uint8Array | undefined;
    if (mode === 'sync') v = q.pop();
    else if (mode === 'async') v = await q.popAsync();
    else if (mode === 'timed') v = q.pop(0.3);
    else v = q.tryPop();
    if (v === undefined) {
      if (q.closed && q.size === 0) return got;
      continue;
    }
    if (typeof v === 'number') {
      got.push(v);
    } else {
      const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
      const p = dv.getUint32(0);
      const seq = dv.getUint32(4);
      let ok = v.length === 8 + (seq % (chunk - 7));
      for (let i = 8; i < v.length; i++) if (v[i] !== ((seq + i) & 0xff)) ok = false;
      if (!ok) Atomics.add(d.done, 1, 1);
      got.push(p * 1_000_000 + seq);
    }
  }
};

function checkDelivery(perConsumer: number[][], producers: number, perProducer: number): void {
  // FIFO per producer, as seen by every consumer.
  for (const got of perConsumer) {
    const last = new Map<number, number>();
    for (const v of got) {
      const p = Math.floor(v / 1_000_000);
      const seq = v % 1_000_000;
      assert.ok((last.get(p) ?? -1) < seq, `producer ${p}: seq ${seq} after ${last.get(p)}`);
      last.set(p, seq);
    }
  }
  // Nothing lost, nothing duplicated.
  const all = perConsumer.flat().sort((a, b) => a - b);
  const expected: number[] = [];
  for (let p = 0; p < producers; p++) for (let s = 0; s < perProducer; s++) expected.push(p * 1_000_000 + s);
  assert.equal(all.length, expected.length, 'items lost or duplicated');
  assert.deepEqual(all, expected);
}

test('MPMC: FIFO per producer, nothing lost, across kinds / modes / capacities / canBlock (fast-check)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 8 }),
      fc.constantFrom<QueueKind>('float64', 'bytes'),
      fc.array(fc.constantFrom('sync', 'async', 'timed', 'try'), { minLength: 4, maxLength: 4 }),
      fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      fc.integer({ min: 50, max: 400 }),
      async (producers, consumers0, capacity, kind, modes, canBlock, perProducer) => {
        const consumers = Math.min(consumers0, 4 - producers);
        const q = new SharedQueue<QueueKind>({ capacity, kind, chunkBytes: 24 });
        const done = new Int32Array(new SharedArrayBuffer(8));
        const results = await runAgents(producers + consumers, mpmcThread, {
          q, kind, producers, perProducer, modes, done,
        }, { canBlock });
        assert.equal(done[1], 0, 'corrupted byte chunks');
        checkDelivery(results.slice(producers), producers, perProducer);
        assert.equal(q.size, 0);
      },
    ),
    { numRuns: 12 },
  );
});

test('MPMC stress: 2 producers x 5000, 2 consumers, capacity 4, blocking', async () => {
  const q = new SharedQueue({ capacity: 4 });
  const done = new Int32Array(new SharedArrayBuffer(8));
  const results = await runAgents(4, mpmcThread, {
    q, kind: 'float64', producers: 2, perProducer: 5000, modes: ['sync'], done,
  });
  checkDelivery(results.slice(2), 2, 5000);
});

test('host main thread consumes with popAsync while agents produce', async () => {
  const q = new SharedQueue({ capacity: 2, kind: 'bytes', chunkBytes: 24 });
  const done = new Int32Array(new SharedArrayBuffer(8));
  const producing = runAgents(2, mpmcThread, {
    q, kind: 'bytes', producers: 2, perProducer: 300, modes: ['sync', 'async'], done,
  });
  const got: number[] = [];
  for (;;) {
    const v = await q.popAsync();
    if (v === undefined) break;
    const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
    got.push(dv.getUint32(0) * 1_000_000 + dv.getUint32(4));
  }
  await producing;
  assert.equal(q.closed, true);
  checkDelivery([got], 2, 300);
});

test('same thread: sync / try forms work while an async push or pop of that thread is pending', async () => {
  // The queue's internal mutex must never be held across an await: this used
  // to deadlock (push blocked forever on the mutex held by the pending popAsync).
  const q = new SharedQueue({ capacity: 1 });
  const popping = q.popAsync(5_000);
  assert.equal(q.push(1, 1_000), true);
  assert.equal(await popping, 1);
  assert.equal(q.tryPush(2), true);
  const pushing = q.pushAsync(3, 5_000); // full: pending
  assert.equal(q.pop(1_000), 2);
  assert.equal(await pushing, true);
  assert.equal(q.tryPop(), 3);
  const both = [q.popAsync(5_000), q.popAsync(5_000)];
  assert.equal(q.tryPush(4), true);
  q.close();
  assert.deepEqual(await Promise.all(both), [4, undefined]);

  // The same in a canBlock:false agent, where tryPush/close spin on the mutex.
  const r = await startOnAgent(0, async (A) => {
    const q = new A.SharedQueue({ capacity: 1 });
    const popping = q.popAsync(5_000);
    const pushed = q.tryPush(1);
    const first = await popping;
    const second = q.popAsync(5_000);
    q.close();
    return [pushed, first, await second, q.closed];
  }, null, { canBlock: false });
  assert.deepEqual(r, [true, 1, undefined, true]);
});
