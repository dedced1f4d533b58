// Issue 3: SharedArrayBuffer and shared storage — shared, never copied; one
// object per SAB per message; views over shared memory; growable SABs; Atomics
// across the host and several agents.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clone, type Agent } from '../src/index.js';
import { collectMessages, nextMessage, within } from './support/waits.js';
import { spawnAgent, terminateAll } from './support/agents.js';
import { asGrowable, growableSharedArrayBuffer, type GrowableSharedArrayBuffer } from './fixtures/buffers.js';

after(terminateAll);

/** An agent that runs the function source it is sent with the message's data (for one-off probes). */
function probe(name: string): Agent {
  return spawnAgent({ name, source: 'onmessage = ({ data }) => { const fn = (0, eval)("(" + data.fn + ")"); postMessage(fn(data.arg)); };' });
}

async function run<T>(agent: Agent, fn: (arg: any) => unknown, arg: unknown): Promise<T> {
  const reply = nextMessage<T>(agent);
  agent.postMessage({ fn: fn.toString(), arg });
  return reply;
}

describe('SharedArrayBuffer is shared, not copied', () => {
  it('host clone() returns a SAB over the same memory', () => {
    const sab = new SharedArrayBuffer(16);
    const copy = clone(sab);
    assert.ok(copy instanceof SharedArrayBuffer);
    new Uint8Array(copy)[3] = 42;
    assert.equal(new Uint8Array(sab)[3], 42);
    new Uint8Array(sab)[4] = 7;
    assert.equal(new Uint8Array(copy)[4], 7);
  });

  it('writes are visible both ways between the host and an agent', async () => {
    const agent = probe('writer');
    const sab = new SharedArrayBuffer(8);
    const host = new Int32Array(sab);
    host[0] = 11;
    const seen = await run<number>(agent, (s: SharedArrayBuffer) => {
      const a = new Int32Array(s);
      const before = a[0]!;
      a[1] = 22; // visible to the host without any message
      (globalThis as any).kept = a;
      return before;
    }, sab);
    assert.equal(seen, 11);
    assert.equal(host[1], 22);
    host[0] = 33;
    assert.equal(await agent.evaluate('kept[0]'), 33);
  });

  it('two agents that receive the same SAB see each other\'s writes', async () => {
    const a = probe('a');
    const b = probe('b');
    const sab = new SharedArrayBuffer(16);
    await run(a, (s: SharedArrayBuffer) => ((globalThis as any).view = new Uint32Array(s), 0), sab);
    await run(b, (s: SharedArrayBuffer) => ((globalThis as any).view = new Uint32Array(s), 0), sab);
    await a.evaluate('view[0] = 0xa1a1; 0');
    assert.equal(await b.evaluate('view[0]'), 0xa1a1);
    await b.evaluate('view[1] = 0xb2b2; 0');
    assert.equal(await a.evaluate('view[1]'), 0xb2b2);
    assert.deepEqual([...new Uint32Array(sab, 0, 2)], [0xa1a1, 0xb2b2]);
  });

  it('a SAB created inside an agent and sent to the host and on to another agent is one memory', async () => {
    const origin = spawnAgent({ source: 'const s = new SharedArrayBuffer(4); globalThis.u8 = new Uint8Array(s); postMessage(s);' });
    const other = probe('other');
    const sab = await nextMessage<SharedArrayBuffer>(origin);
    assert.ok(sab instanceof SharedArrayBuffer);
    await run(other, (s: SharedArrayBuffer) => (new Uint8Array(s)[2] = 99), sab);
    assert.equal(await origin.evaluate('u8[2]'), 99);
    assert.equal(new Uint8Array(sab)[2], 99);
  });

  it('the same SAB twice in one message arrives as one object (and views on it share it)', async () => {
    const agent = probe('identity');
    const sab = new SharedArrayBuffer(32);
    const result = await run<boolean[]>(
      agent,
      (m: any) => [m.a === m.b, m.list[0] === m.a, m.view.buffer === m.a, m.dv.buffer === m.a, m.nested.deep.s === m.a],
      { a: sab, b: sab, list: [sab], view: new Int16Array(sab, 2, 3), dv: new DataView(sab, 8), nested: { deep: { s: sab } } },
    );
    assert.deepEqual(result, [true, true, true, true, true]);
    const cloned = clone({ a: sab, b: sab });
    assert.equal(cloned.a, cloned.b);
  });

  it('typed arrays and DataViews over shared storage keep offset/length and write through', async () => {
    const agent = probe('views');
    const sab = new SharedArrayBuffer(64);
    const result = await run<unknown[]>(
      agent,
      (m: any) => {
        m.i16[0] = -2;
        m.f64[0] = 1.25;
        m.big[0] = -5n;
        m.dv.setUint32(0, 0xcafebabe);
        return [m.i16.byteOffset, m.i16.length, m.f64.byteOffset, m.dv.byteOffset, m.dv.byteLength, m.i16.buffer instanceof SharedArrayBuffer];
      },
      { i16: new Int16Array(sab, 2, 3), f64: new Float64Array(sab, 8, 1), big: new BigInt64Array(sab, 16, 1), dv: new DataView(sab, 24, 8) },
    );
    assert.deepEqual(result, [2, 3, 8, 24, 8, true]);
    assert.equal(new Int16Array(sab, 2, 1)[0], -2);
    assert.equal(new Float64Array(sab, 8, 1)[0], 1.25);
    assert.equal(new BigInt64Array(sab, 16, 1)[0], -5n);
    assert.equal(new DataView(sab).getUint32(24), 0xcafebabe);
  });

  it('a growable SAB grown in one agent is seen at its new length by another and by the host', async () => {
    const grower = probe('grower');
    const watcher = probe('watcher');
    const gsab = growableSharedArrayBuffer(8, 4096);
    assert.equal(gsab.growable, true);
    await run(watcher, (s: SharedArrayBuffer) => ((globalThis as any).g = s, s.byteLength), gsab);
    const grown = await run<unknown[]>(grower, (s: GrowableSharedArrayBuffer) => {
      const r: unknown[] = [s.growable, s.maxByteLength];
      s.grow(1024);
      new Uint8Array(s)[1000] = 77;
      r.push(s.byteLength);
      return r;
    }, gsab);
    assert.deepEqual(grown, [true, 4096, 1024]);
    assert.deepEqual(await watcher.evaluate('[g.byteLength, new Uint8Array(g)[1000], g.maxByteLength]'), [1024, 77, 4096]);
    assert.equal(gsab.byteLength, 1024);
    assert.equal(new Uint8Array(gsab)[1000], 77);
    // a length-tracking view made before the growth tracks it
    const tracking = new Uint8Array(gsab);
    await grower.evaluate('0');
    await run(grower, (s: GrowableSharedArrayBuffer) => s.grow(2048), gsab);
    assert.equal(tracking.length, 2048);
  });

  it('a growable SAB keeps growable/maxByteLength through host clone()', () => {
    const gsab = growableSharedArrayBuffer(4, 64);
    const copy = asGrowable(clone(gsab));
    assert.equal(copy.growable, true);
    assert.equal(copy.maxByteLength, 64);
    copy.grow(32);
    assert.equal(gsab.byteLength, 32);
  });

  it('a SAB inside the data option is shared too', async () => {
    const sab = new SharedArrayBuffer(4);
    const agent = spawnAgent({ source: 'new Int32Array(agentData.sab)[0] = 1234; postMessage(agentData.sab === agentData.again);', data: { sab, again: sab } });
    assert.equal(await nextMessage(agent), true);
    assert.equal(new Int32Array(sab)[0], 1234);
  });
});

describe('Atomics across the host and agents', () => {
  it('Atomics.add from the host and 3 agents on one SAB gives the exact sum', async () => {
    const iterations = 100_000;
    const sab = new SharedArrayBuffer(8);
    const counter = new Int32Array(sab);
    const gate = new Int32Array(new SharedArrayBuffer(4));
    const source = `
      onmessage = ({ data: { sab, gate, n } }) => {
        const c = new Int32Array(sab);
        const g = new Int32Array(gate);
        Atomics.wait(g, 0, 0); // start together with the host
        for (let i = 0; i < n; i++) Atomics.add(c, 0, 1);
        postMessage('done');
      };
    `;
    const agents = [0, 1, 2].map((i) => spawnAgent({ name: `adder${i}`, source }));
    await Promise.all(agents.map((agent) => agent.ready));
    const done = agents.map((agent) => nextMessage(agent, 30_000));
    for (const agent of agents) agent.postMessage({ sab, gate: gate.buffer, n: iterations });
    await new Promise((resolve) => setTimeout(resolve, 20));
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    for (let i = 0; i < iterations; i++) Atomics.add(counter, 0, 1);
    await within(Promise.all(done), 30_000, 'the adders');
    assert.equal(Atomics.load(counter, 0), 4 * iterations);
  });

  it('Atomics.wait in an agent is woken by Atomics.notify from the host', async () => {
    const sab = new SharedArrayBuffer(8);
    const i32 = new Int32Array(sab);
    const agent = spawnAgent({
      source: `onmessage = ({ data }) => {
        const a = new Int32Array(data);
        postMessage('waiting');
        const results = [];
        while (Atomics.load(a, 0) === 0) results.push(Atomics.wait(a, 0, 0, 10000));
        postMessage([results.every((r) => r === 'ok' || r === 'not-equal'), Atomics.load(a, 0)]);
      };`,
    });
    const messages = collectMessages(agent, 2, 20_000);
    agent.postMessage(sab);
    await new Promise((resolve) => setTimeout(resolve, 20));
    Atomics.store(i32, 0, 5);
    Atomics.notify(i32, 0);
    const [waiting, result] = await messages;
    assert.equal(waiting, 'waiting');
    assert.deepEqual(result, [true, 5]);
  });

  it('Atomics.compareExchange as a lock: host and agents increment a plain (non-atomic) counter without losing updates', async () => {
    const sab = new SharedArrayBuffer(8);
    const lockAndCount = new Int32Array(sab);
    const n = 20_000;
    const body = (s: SharedArrayBuffer, count: number) => {
      const a = new Int32Array(s);
      for (let i = 0; i < count; i++) {
        while (Atomics.compareExchange(a, 0, 0, 1) !== 0);
        a[1] = a[1]! + 1; // protected by the spin lock
        Atomics.store(a, 0, 0);
      }
      return 'done';
    };
    const agents = [probe('locker1'), probe('locker2')];
    const done = agents.map((agent) => run(agent, (arg: any) => (0, eval)(`(${arg.body})`)(arg.sab, arg.n), { body: body.toString(), sab, n }));
    body(sab, n);
    assert.deepEqual(await within(Promise.all(done), 30_000, 'lockers'), ['done', 'done']);
    assert.equal(lockAndCount[1], 3 * n);
  });
});
