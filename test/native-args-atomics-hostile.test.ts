// Hostile review (native argument checks, atomics SharedRegion), fixed: each
// finding runs in a child process, so a crash cannot take the runner down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function runChild(kind: 'cjs' | 'mjs', source: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [`--input-type=${kind === 'cjs' ? 'commonjs' : 'module'}`, '-e', source], {
    cwd: root,
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('finding F1: AgentHandle accessors on a foreign receiver throw an error with a stable code', () => {
  const { status, out } = runChild(
    'cjs',
    `const a = require('./build/Release/agentcluster.node');
     const results = [];
     for (const name of ['threadId', 'bufferedMessages', 'bufferedBytes']) {
       const get = Object.getOwnPropertyDescriptor(a.AgentHandle.prototype, name).get;
       try { get.call({}); results.push(name + ':no-throw'); }
       catch (e) { results.push(name + ':' + (e instanceof TypeError) + ':' + e.code); }
     }
     console.log(JSON.stringify(results));`,
  );
  assert.equal(status, 0, out);
  const results = JSON.parse(out.trim().split('\n').pop() as string) as string[];
  for (const r of results) {
    // Was: a plain Error "Invalid argument" with no code (napi_unwrap's status).
    assert.match(r, /:true:ERR_INVALID_THIS$/, `accessor ${r} must throw a coded TypeError`);
  }
});

test('finding F2: SharedQueue<bytes>.push of a view on a detached buffer throws an AtomicsError with a code', () => {
  const { status, out } = runChild(
    'mjs',
    `const { SharedQueue } = await import('./dist/src/atomics/index.js');
     const q = new SharedQueue({ capacity: 1, kind: 'bytes', chunkBytes: 8 });
     const ab = new ArrayBuffer(4);
     const view = new Uint8Array(ab);
     structuredClone(ab, { transfer: [ab] });
     try { q.push(view); console.log('pushed size=' + q.size); }
     catch (e) { console.log('code=' + e.code + ' name=' + e.name); }`,
  );
  assert.equal(status, 0, out);
  // Was: "TypeError: Cannot perform Construct on a detached ArrayBuffer", code undefined.
  assert.match(out, /code=ERR_ATOMICS_INVALID_ARGUMENT name=AtomicsError/, out);
});

test('finding F3: AgentHandle.diagnostics("post") refuses a NaN kind/id instead of posting request id 0', () => {
  // Refused with a coded TypeError (native_args ReadIntegerArg) before
  // anything is posted or cast; Infinity and fractions alike.
  const { status, out } = runChild(
    'cjs',
    `const a = require('./build/Release/agentcluster.node');
     const h = new a.AgentHandle({ source: '' }, () => {});
     const r = [];
     for (const args of [['post', NaN, 1], ['post', 0, NaN], ['post', Infinity, 1], ['post', 0, 1.5], ['ack', Infinity], ['ack', NaN], ['cancel', -Infinity]]) {
       try { r.push(String(h.diagnostics(...args))); } catch (e) { r.push(e.name + ':' + e.code); }
     }
     h.terminate();
     console.log(JSON.stringify(r));`,
  );
  assert.equal(status, 0, out);
  // Was: [true, true] for the first two: NaN passed "kind < 0 || kind > 3 || id < 1 || ..." and was cast (UB) to 0.
  const refused = 'TypeError:ERR_INVALID_ARG_VALUE';
  assert.deepEqual(JSON.parse(out.trim().split('\n').pop() as string), Array(7).fill(refused), out);
});

test('F2, every path: tryPush and pushAsync refuse a detached view with the same code; pushAsync copies its item', () => {
  const { status, out } = runChild(
    'mjs',
    `const { SharedQueue } = await import('./dist/src/atomics/index.js');
     const q = new SharedQueue({ capacity: 1, kind: 'bytes', chunkBytes: 8 });
     const detached = () => { const ab = new ArrayBuffer(4); const v = new Uint8Array(ab); structuredClone(ab, { transfer: [ab] }); return v; };
     const r = [];
     try { q.tryPush(detached()); r.push('pushed'); } catch (e) { r.push(e.name + ':' + e.code); }
     await q.pushAsync(detached()).then(() => r.push('pushed'), (e) => r.push(e.name + ':' + e.code));
     // Full queue: pushAsync waits for room; the caller detaches its buffer meanwhile.
     q.push(new Uint8Array([9]));
     const ab = new ArrayBuffer(3);
     const pending = q.pushAsync(new Uint8Array(ab).fill(7));
     structuredClone(ab, { transfer: [ab] });
     r.push(Array.from(q.pop()).join(','));
     await pending;
     r.push(Array.from(q.pop()).join(','));
     console.log(JSON.stringify(r));`,
  );
  assert.equal(status, 0, out);
  assert.deepEqual(JSON.parse(out.trim().split('\n').pop() as string), [
    'AtomicsError:ERR_ATOMICS_INVALID_ARGUMENT',
    'AtomicsError:ERR_ATOMICS_INVALID_ARGUMENT',
    '9',
    '7,7,7',
  ], out);
});

test('H1: evaluate() after terminate() is refused natively (false) and by Agent (ERR_AGENT_TERMINATED)', () => {
  const { status, out } = runChild(
    'mjs',
    `import { createRequire } from 'node:module';
     const a = createRequire(import.meta.url)('./build/Release/agentcluster.node');
     const h = new a.AgentHandle({ source: 'setInterval(() => {}, 1000)' }, () => {});
     const before = h.evaluate(1, '1');
     h.terminate();
     const after = h.evaluate(2, '1');
     const { Agent } = await import('./dist/src/index.js');
     const agent = new Agent({ source: 'setInterval(() => {}, 1000)' });
     const ok = await agent.evaluate('6 * 7');
     const exited = agent.terminate();
     const refused = await agent.evaluate('1').then(() => 'resolved', (e) => e.name + ':' + e.code);
     await exited;
     console.log(JSON.stringify([before, after, ok, refused]));`,
  );
  assert.equal(status, 0, out);
  assert.deepEqual(JSON.parse(out.trim().split('\n').pop() as string), [true, false, 42, 'AgentError:ERR_AGENT_TERMINATED'], out);
});

test('H2: Condition.wait/waitAsync refuse a non-Mutex before touching the caller\'s lock; any Mutex will do', () => {
  const { status, out } = runChild(
    'mjs',
    `const { Condition, Mutex } = await import('./dist/src/atomics/index.js');
     const c = new Condition();
     const m = new Mutex();
     m.lock();
     const r = [];
     for (const bad of [undefined, null, {}, { unlock() {}, lock() {} }, { buffer: m.buffer, byteOffset: 0 }, 1]) {
       try { c.wait(bad, 0); r.push('waited'); } catch (e) { r.push(e.name + ':' + e.code); }
     }
     await c.waitAsync({}, 0).then(() => r.push('waited'), (e) => r.push(e.name + ':' + e.code));
     r.push(String(m.tryLock()));  // still held by us: the refusals unlocked nothing
     // A Mutex of another region (a different SAB) is accepted: the condition is bound to none.
     const other = new Mutex();
     other.lock();
     r.push(String(c.wait(other, 0)));
     r.push(String(other.tryLock()));  // re-locked by the wait
     console.log(JSON.stringify(r));`,
  );
  assert.equal(status, 0, out);
  const refused = 'AtomicsError:ERR_ATOMICS_INVALID_ARGUMENT';
  assert.deepEqual(JSON.parse(out.trim().split('\n').pop() as string), [...Array(7).fill(refused), 'false', 'false', 'false'], out);
});
