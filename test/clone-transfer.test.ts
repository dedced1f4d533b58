// Issue 3: ArrayBuffer transfer — host→agent, agent→host, agent→agent (via a
// host relay): contents arrive, the same memory moves (no copy), the sender is
// detached; transfer-list errors throw DataCloneError with nothing sent and
// nothing detached; detaching happens only after the whole message serialized.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clone, type Agent } from '../src/index.js';
import { collectMessages, nextMessage } from './support/waits.js';
import { echoAgent, roundTrip, spawnAgent, terminateAll } from './support/agents.js';
import { resizableArrayBuffer } from './fixtures/buffers.js';

const MiB = 1024 * 1024;
let echo: Agent;

before(async () => {
  echo = echoAgent();
  await echo.ready;
});
after(terminateAll);

function filled(length: number, seed = 1): ArrayBuffer {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) & 255;
  return bytes.buffer;
}

/** ArrayBuffer.prototype.detached is newer than Node 20: a view over a detached buffer throws. */
function isDetached(buffer: ArrayBuffer): boolean {
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}
const isDetachedSource = 'const isDetached = (b) => { try { new Uint8Array(b); return false; } catch { return true; } };';

function assertDetached(buffer: ArrayBuffer, ...views: ArrayBufferView[]): void {
  assert.equal(buffer.byteLength, 0, 'the sender\'s buffer is detached');
  assert.equal(isDetached(buffer), true);
  for (const view of views) {
    if (view instanceof DataView) {
      assert.throws(() => view.byteLength, TypeError, 'a DataView over a detached buffer throws');
      continue;
    }
    assert.equal(view.byteLength, 0, `${view.constructor.name} over it is empty`);
    if ('length' in view) assert.equal((view as Uint8Array).length, 0);
  }
}

/** An agent that reports what it gets, and can send the buffer back (transferred) on request. */
const inspector = `
  ${isDetachedSource}
  let kept;
  onmessage = ({ data }) => {
    if (data === 'give back') {
      const buffer = kept;
      postMessage(buffer, [buffer]);
      postMessage({ afterSend: buffer.byteLength, detached: isDetached(buffer) });
      return;
    }
    kept = data.buffer ?? data;
    const bytes = new Uint8Array(kept);
    let sum = 0;
    for (const b of bytes) sum = (sum + b) | 0;
    bytes[0] = 0xab; // mark it, so the host can see the same buffer come back
    postMessage({ byteLength: kept.byteLength, sum, first: bytes[1], last: bytes[bytes.length - 1], sameAsViewBuffer: data.view ? data.view.buffer === kept : null, viewOffset: data.view?.byteOffset, viewLength: data.view?.length });
  };
`;

function checksum(buffer: ArrayBuffer): number {
  let sum = 0;
  for (const b of new Uint8Array(buffer)) sum = (sum + b) | 0;
  return sum;
}

describe('transfer moves the buffer', () => {
  it('host → agent: the agent sees the bytes; the host buffer and its views are detached', async () => {
    const agent = spawnAgent({ source: inspector });
    const buffer = filled(4096);
    const expectedSum = checksum(buffer);
    const expectedFirst = new Uint8Array(buffer)[1];
    const view = new Uint8Array(buffer, 8, 16);
    const dataView = new DataView(buffer);
    const report = nextMessage(agent);
    agent.postMessage({ buffer, view }, [buffer]);
    assertDetached(buffer, view, dataView);
    assert.deepEqual(await report, { byteLength: 4096, sum: expectedSum, first: expectedFirst, last: new Uint8Array(filled(4096))[4095], sameAsViewBuffer: true, viewOffset: 8, viewLength: 16 });
  });

  it('agent → host (postMessage inside the agent): the host gets the bytes, the agent\'s buffer is detached', async () => {
    const agent = spawnAgent({
      source: `
        ${isDetachedSource}
        const buffer = new ArrayBuffer(1024);
        const view = new Uint32Array(buffer);
        view.fill(0xdeadbeef);
        postMessage({ buffer, view }, [buffer]);
        postMessage([buffer.byteLength, isDetached(buffer), view.length]);
      `,
    });
    const [sent, after] = await collectMessages<any>(agent, 2);
    assert.equal(sent.buffer.byteLength, 1024);
    assert.equal(sent.view.buffer, sent.buffer);
    assert.ok((sent.view as Uint32Array).every((x: number) => x === 0xdeadbeef));
    assert.deepEqual(after, [0, true, 0]);
  });

  it('host → agent → host with transfer both ways: the agent\'s mark comes back, every sender detached', async () => {
    const agent = spawnAgent({ source: inspector });
    const buffer = filled(256, 5);
    const report = nextMessage(agent);
    agent.postMessage(buffer, [buffer]);
    await report;
    const [back, afterSend] = await (async () => {
      const replies = collectMessages<any>(agent, 2);
      agent.postMessage('give back');
      return replies;
    })();
    assert.ok(back instanceof ArrayBuffer);
    assert.equal(back.byteLength, 256);
    assert.equal(new Uint8Array(back)[0], 0xab, 'the write the agent made is in the buffer that came back');
    assert.deepEqual(new Uint8Array(back).subarray(1), new Uint8Array(filled(256, 5)).subarray(1));
    assert.deepEqual(afterSend, { afterSend: 0, detached: true });
    assertDetached(buffer);
  });

  it('agent → agent through a host relay: each hop moves the buffer', async () => {
    const producer = spawnAgent({ source: 'const b = new Uint8Array([10, 20, 30, 40]).buffer; postMessage(b, [b]); postMessage(b.byteLength);' });
    const consumer = spawnAgent({ source: inspector });
    const [relayed, producerLength] = await collectMessages<any>(producer, 2);
    assert.equal(producerLength, 0);
    const report = nextMessage(consumer);
    consumer.postMessage(relayed, [relayed]);
    assertDetached(relayed);
    assert.deepEqual(await report, { byteLength: 4, sum: 100, first: 20, last: 40, sameAsViewBuffer: null, viewOffset: undefined, viewLength: undefined });
  });

  it('host clone() with transfer: the clone owns the bytes, the original is detached', () => {
    const buffer = filled(64);
    const expected = new Uint8Array(filled(64));
    const view = new Uint16Array(buffer);
    const copy = clone({ buffer, view }, { transfer: [buffer] });
    assertDetached(buffer, view);
    assert.deepEqual(new Uint8Array(copy.buffer), expected);
    assert.equal(copy.view.buffer, copy.buffer);
  });

  it('the same buffer referenced twice arrives as one object; a listed but unreferenced buffer is still detached', async () => {
    const a = filled(16);
    const b = filled(16);
    const agent = spawnAgent({ source: 'onmessage = ({ data }) => postMessage([data.x === data.y, data.x.byteLength, data.v.buffer === data.x, Object.keys(data)]);' });
    const reply = nextMessage(agent);
    agent.postMessage({ x: a, y: a, v: new Uint8Array(a, 2) }, [a, b]);
    assert.deepEqual(await reply, [true, 16, true, ['x', 'y', 'v']]);
    assertDetached(a);
    assertDetached(b);
  });

  it('a resizable ArrayBuffer transfers with its maxByteLength and can grow on the other side', async () => {
    const rab = resizableArrayBuffer(8, 1024);
    new Uint8Array(rab).set([1, 2, 3]);
    const agent = spawnAgent({ source: 'onmessage = ({ data }) => { const r = [data.resizable, data.maxByteLength, data.byteLength]; data.resize(1024); r.push(data.byteLength, new Uint8Array(data)[2]); postMessage(r); };' });
    const reply = nextMessage(agent);
    agent.postMessage(rab, [rab]);
    assertDetached(rab);
    assert.deepEqual(await reply, [true, 1024, 8, 1024, 3]);
  });

  it('transfer is zero-copy: moving 128 MiB of touched memory does not grow RSS, copying it does', async () => {
    const agent = spawnAgent({ source: 'let keep = []; onmessage = ({ data }) => { if (data === "drop") { keep = []; postMessage("dropped"); return; } keep.push(data); const u = new Uint8Array(data); postMessage(u[0] + u[u.length - 1]); };' });
    await agent.ready;
    const size = 128 * MiB;
    const moved = new ArrayBuffer(size);
    new Uint8Array(moved).fill(3);
    const before = process.memoryUsage.rss();
    const reply = nextMessage(agent);
    agent.postMessage(moved, [moved]);
    assert.equal(await reply, 6);
    const growth = process.memoryUsage.rss() - before;
    assert.ok(growth < 32 * MiB, `transferring 128 MiB grew RSS by ${(growth / MiB).toFixed(1)} MiB`);

    // Control: the same without a transfer list is a copy, and RSS shows it.
    const copied = new ArrayBuffer(size);
    new Uint8Array(copied).fill(4);
    const beforeCopy = process.memoryUsage.rss();
    const copyReply = nextMessage(agent);
    agent.postMessage(copied);
    assert.equal(await copyReply, 8);
    const copyGrowth = process.memoryUsage.rss() - beforeCopy;
    assert.ok(copyGrowth > 100 * MiB, `a copy should show up in RSS (grew ${(copyGrowth / MiB).toFixed(1)} MiB)`);
    assert.equal(copied.byteLength, size, 'a copy leaves the original attached');
    agent.postMessage('drop');
    await nextMessage(agent);
  });

  it('agent → host transfer of 128 MiB is zero-copy too', async () => {
    const agent = spawnAgent({ source: 'let b = new ArrayBuffer(128 * 1024 * 1024); new Uint8Array(b).fill(9); postMessage("filled"); onmessage = () => postMessage(b, [b]);' });
    assert.equal(await nextMessage(agent), 'filled');
    const before = process.memoryUsage.rss();
    const reply = nextMessage<ArrayBuffer>(agent);
    agent.postMessage('send');
    const buffer = await reply;
    assert.equal(buffer.byteLength, 128 * MiB);
    assert.equal(new Uint8Array(buffer)[128 * MiB - 1], 9);
    const growth = process.memoryUsage.rss() - before;
    assert.ok(growth < 32 * MiB, `receiving a transferred 128 MiB buffer grew RSS by ${(growth / MiB).toFixed(1)} MiB`);
  });
});

/** `new WebAssembly.Memory({ initial: 1 }).buffer` (the project's TypeScript lib has no WebAssembly types). */
function wasmMemoryBuffer(): ArrayBuffer {
  const wasm = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer } } }).WebAssembly;
  return new wasm.Memory({ initial: 1 }).buffer;
}

/** Every way a transfer list can be wrong, with a fresh set of buffers each time. */
function badTransfers(): { label: string; value: unknown; transfer: unknown[]; intact: ArrayBuffer[]; message?: RegExp }[] {
  const twice = filled(8);
  const other = filled(8);
  const detached = filled(8);
  clone(detached, { transfer: [detached] });
  const good1 = filled(8);
  const good2 = filled(8);
  const good3 = filled(8);
  const good4 = filled(8);
  const good5 = filled(8);
  const good6 = filled(8);
  const good7 = filled(8);
  const wasm = wasmMemoryBuffer();
  return [
    { label: 'a buffer listed twice', value: { twice }, transfer: [other, twice, twice], intact: [twice, other] },
    { label: 'an already-detached buffer', value: { good1 }, transfer: [good1, detached], intact: [good1] },
    { label: 'a SharedArrayBuffer', value: { good2 }, transfer: [good2, new SharedArrayBuffer(8)], intact: [good2] },
    { label: 'a plain object', value: { good3 }, transfer: [good3, {}], intact: [good3] },
    { label: 'a typed array (not its buffer)', value: { good4 }, transfer: [good4, new Uint8Array(good5)], intact: [good4, good5] },
    { label: 'a number', value: 1, transfer: [good6, 42], intact: [good6] },
    { label: "a non-detachable buffer (WebAssembly.Memory's)", value: { good7, wasm }, transfer: [good7, wasm], intact: [good7, wasm] },
  ];
}

function assertIntact(buffers: ArrayBuffer[]): void {
  for (const buffer of buffers) {
    assert.equal(isDetached(buffer), false, 'nothing was detached');
    assert.ok(buffer.byteLength > 0);
  }
}

const isDataCloneError = (error: unknown) => {
  assert.ok(error instanceof DOMException, `a DOMException, got ${String(error)}`);
  assert.equal(error.name, 'DataCloneError');
  return true;
};

describe('transfer-list errors: DataCloneError, nothing sent, nothing detached', () => {
  for (const index of badTransfers().keys()) {
    const { label } = badTransfers()[index]!;
    describe(label, () => {
      it('host clone()', () => {
        const { value, transfer, intact } = badTransfers()[index]!;
        assert.throws(() => clone(value, { transfer: transfer as ArrayBuffer[] }), isDataCloneError);
        assertIntact(intact);
      });

      it('agent.postMessage', async () => {
        const { value, transfer, intact } = badTransfers()[index]!;
        assert.throws(() => echo.postMessage(value, transfer as ArrayBuffer[]), isDataCloneError);
        assertIntact(intact);
        assert.equal(await roundTrip(echo, 'sentinel'), 'sentinel');
      });
    });
  }

  it('the data option with a bad transferList throws from the constructor, detaching nothing', () => {
    const buffer = filled(8);
    assert.throws(() => spawnAgent({ source: '', data: buffer, transferList: [buffer, buffer] }), isDataCloneError);
    assertIntact([buffer]);
  });

  it('inside an agent: each bad list throws an error named DataCloneError, nothing sent, nothing detached', async () => {
    const agent = spawnAgent({
      source: `
        ${isDetachedSource}
        const mk = () => new Uint8Array([1, 2, 3]).buffer;
        const results = {};
        const attempt = (label, value, list, intact) => {
          try {
            postMessage(value, list);
            results[label] = 'sent';
          } catch (error) {
            results[label] = [error.name, intact.every((b) => b.byteLength === 3 && !isDetached(b))];
          }
        };
        { const b = mk(); attempt('twice', b, [b, b], [b]); }
        { const b = mk(), d = mk(); postMessage(d, [d]); attempt('detached', b, [b, d], [b]); }
        { const b = mk(); attempt('sab', b, [b, new SharedArrayBuffer(4)], [b]); }
        { const b = mk(); attempt('object', b, [b, {}], [b]); }
        { const b = mk(); attempt('view', b, [b, new Uint8Array(4)], [b]); }
        { const b = mk(); const w = new WebAssembly.Memory({ initial: 1 }).buffer; attempt('wasm', { b, w }, [b, w], [b]); }
        { const b = mk(); attempt('function later', { b, f() {} }, [b], [b]); }
        postMessage(results);
      `,
    });
    const [detachedProbe, results] = await collectMessages<any>(agent, 2);
    assert.equal((detachedProbe as ArrayBuffer).byteLength, 3, 'the setup transfer of d, the only message sent before the results');
    const expected = ['DataCloneError', true];
    assert.deepEqual(results, { twice: expected, detached: expected, sab: expected, object: expected, view: expected, wasm: expected, 'function later': expected });
  });

  it('a transfer list that is not an array is a TypeError and detaches nothing', () => {
    const buffer = filled(8);
    assert.throws(() => clone(buffer, { transfer: buffer as unknown as ArrayBuffer[] }), TypeError);
    assertIntact([buffer]);
  });
});

describe('detach only after the whole message serialized', () => {
  it('a non-cloneable value after the buffer leaves the buffer attached (host clone and postMessage)', async () => {
    for (const send of [(v: unknown, t: ArrayBuffer[]) => clone(v, { transfer: t }), (v: unknown, t: ArrayBuffer[]) => echo.postMessage(v, t)]) {
      const buffer = filled(32);
      const view = new Uint8Array(buffer);
      assert.throws(() => send({ first: buffer, view, later: { deep: [Symbol('nope')] } }, [buffer]), isDataCloneError);
      assertIntact([buffer]);
      assert.equal(view.length, 32);
      assert.deepEqual(new Uint8Array(buffer), new Uint8Array(filled(32)));
    }
    assert.equal(await roundTrip(echo, 'clean'), 'clean');
  });

  it('a getter that throws after the buffer was written leaves it attached and propagates', () => {
    const buffer = filled(32);
    const boom = new Error('late getter');
    assert.throws(
      () =>
        echo.postMessage(
          {
            buffer,
            get later() {
              throw boom;
            },
          },
          [buffer],
        ),
      (error: unknown) => error === boom,
    );
    assertIntact([buffer]);
  });

  it('a getter that detaches a listed buffer mid-serialization cannot make a half-sent message', async () => {
    const victim = filled(32);
    const value = {
      get first() {
        clone(victim, { transfer: [victim] }); // detaches it while postMessage is running
        return 1;
      },
      victim,
    };
    let threw = false;
    try {
      echo.postMessage(value, [victim]);
    } catch (error) {
      threw = true;
      isDataCloneError(error);
    }
    // Either the message was refused, or it went through with a consistent buffer; never a crash.
    const next = await roundTrip(echo, 'after');
    if (threw) assert.equal(next, 'after');
    else assert.ok(next === 'after' || typeof next === 'object');
  });
});
