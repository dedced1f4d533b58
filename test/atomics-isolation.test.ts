/**
 * agentcluster:atomics must load and work inside bare V8 isolates: no Node
 * APIs, only relative ESM imports, timers and `performance` optional.
 *
 * The same two scripts run (a) in real agents, through
 * `import * as A from 'agentcluster:atomics'`: `plain` on a canBlock agent,
 * `cannotBlock` on a `canBlock: false` agent (where V8 itself makes
 * Atomics.wait throw), and (b) `plain` once more in a fresh `vm` context with
 * the module graph linked by hand from the compiled files: a context with no
 * timers and no `performance` at all, which agents (they have both) cannot
 * show.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { atomicsDistDir, startOnAgent } from './support/atomics-harness.js';

const run = promisify(execFile);
const srcDir = new URL('../src/atomics/', import.meta.url);

test('sources import only sibling modules and use no host APIs', () => {
  const files = readdirSync(srcDir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.includes('index.ts'));
  for (const file of files) {
    const code = readFileSync(new URL(file, srcDir), 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
    for (const m of code.matchAll(/\b(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
      assert.match(m[1], /^\.\/[a-z-]+\.js$/, `${file}: import ${m[1]}`);
    }
    const host = code.match(
      /\b(process|Buffer|require|__dirname|__filename|setImmediate|queueMicrotask|structuredClone|TextEncoder|TextDecoder|import\.meta)\b/,
    );
    assert.equal(host, null, `${file} uses host API ${host?.[1]}`);
  }
});

// Both scripts take the module namespace A; their source text runs in agents
// and in the vm context.
const PLAIN = String.raw`async function plain(A) {
  const out = {};
  out.nodeGlobals = ['process', 'Buffer', 'require'].filter((n) => n in globalThis);
  out.timers = ['setTimeout', 'performance'].filter((n) => n in globalThis);
  out.canBlock = A.canBlock();
  const m = new A.Mutex();
  out.mutex = [m.tryLock(), m.lock(5), await m.lockAsync(20)];
  const c = new A.Condition();
  out.condition = [c.wait(m, 5), await c.waitAsync(m, 5), m.locked];
  m.unlock();
  const s = new A.Semaphore(1);
  out.semaphore = [s.acquire(), s.tryAcquire(), await s.acquireAsync(5), s.acquire(5)];
  const b = new A.Barrier(1);
  out.barrier = [b.arriveAndWait(), await b.arriveAndWaitAsync(), new A.Barrier(2).arriveAndWait(5)];
  const l = new A.Latch(1);
  out.latch = [l.wait(5), l.countDown(), l.wait(), await l.waitAsync()];
  const wg = new A.WaitGroup(1);
  out.waitGroup = [await wg.waitAsync(5), wg.done(), wg.wait()];
  const q = new A.SharedQueue({ capacity: 2, kind: 'bytes', chunkBytes: 4 });
  q.push(new Uint8Array([1, 2]));
  await q.pushAsync(new Uint8Array([3]));
  const q2 = A.SharedQueue.from({ buffer: q.buffer, byteOffset: q.byteOffset });
  out.queue = [q.push(new Uint8Array(1), 5), Array.from(q2.pop()), Array.from(await q2.popAsync()), q.pop(5) === undefined];
  try { m.unlock(); } catch (e) { out.error = [e.name, e.code, e instanceof A.AtomicsError]; }
  return JSON.stringify(out);
}`;

const CANNOT_BLOCK = String.raw`async function cannotBlock(A) {
  const out = {};
  out.canBlock = A.canBlock();
  try { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 0); } catch (e) { out.rawWait = e.name; }
  const m = new A.Mutex();
  out.uncontended = [m.lock(), m.tryLock()];
  try { m.lock(); } catch (e) { out.contendedLock = [e.code, e.cause && e.cause.name]; }
  const c = new A.Condition();
  try { c.wait(m); } catch (e) { out.conditionWait = [e.code, m.locked]; }
  out.lockAsync = await m.lockAsync(10);
  m.unlock();
  out.lockAsync2 = await m.lockAsync();
  out.conditionWaitAsync = await c.waitAsync(m, 5);
  m.unlock();
  const q = new A.SharedQueue({ capacity: 1 });
  out.queue = [q.tryPush(1), q.tryPush(2), await q.pushAsync(3, 5), q.tryPop(), await q.popAsync(5)];
  try { q.pop(5); } catch (e) { out.queuePop = [e.code, q.size]; }
  q.tryPush(4);
  q.close();
  out.closed = [q.closed, q.tryPop(), await q.popAsync()];
  const s = new A.Semaphore(0);
  out.semaphore = [s.acquire(0), await s.acquireAsync(5)];
  try { s.acquire(5); } catch (e) { out.semaphoreAcquire = e.code; }
  const b = new A.Barrier(2);
  try { b.arriveAndWait(); } catch (e) { out.barrier = [e.code, b.arrived]; }
  out.barrierAsync = await b.arriveAndWaitAsync(5);
  const l = new A.Latch(2);
  try { l.wait(); } catch (e) { out.latch = e.code; }
  try { l.arriveAndWait(); } catch (e) { out.latchArrive = [e.code, l.count]; }
  out.latchAsync = [await l.waitAsync(5), await l.arriveAndWaitAsync(1, 5), l.count];
  return JSON.stringify(out);
}`;

const PLAIN_EXPECTED = {
  nodeGlobals: [],
  canBlock: true,
  mutex: [true, false, false],
  condition: [false, false, true],
  semaphore: [true, false, false, false],
  barrier: [true, true, null],
  latch: [false, 0, true, true],
  waitGroup: [false, 0, true],
  queue: [false, [1, 2], [3], true],
  error: ['AtomicsError', 'ERR_MUTEX_NOT_LOCKED', true],
};

const runScript = (A: unknown, src: string) => (0, eval)('(' + src + ')')(A) as Promise<string>;

test('the library runs in an agent through agentcluster:atomics', async () => {
  const out = JSON.parse(await startOnAgent(0, runScript, PLAIN));
  assert.deepEqual(out.timers, ['setTimeout', 'performance']);
  delete out.timers;
  assert.deepEqual(out, PLAIN_EXPECTED);
});

test('in a canBlock:false agent the blocking forms throw ERR_CANNOT_BLOCK and the async forms work', async () => {
  const out = JSON.parse(await startOnAgent(0, runScript, CANNOT_BLOCK, { canBlock: false }));
  assert.deepEqual(out, {
    canBlock: false,
    rawWait: 'TypeError',
    uncontended: [true, false],
    contendedLock: ['ERR_CANNOT_BLOCK', 'TypeError'], // the engine's TypeError is the cause
    conditionWait: ['ERR_CANNOT_BLOCK', true], // still holds the mutex
    lockAsync: false,
    lockAsync2: true,
    conditionWaitAsync: false,
    queue: [true, false, false, 1, null],
    queuePop: ['ERR_CANNOT_BLOCK', 0],
    closed: [true, 4, null],
    semaphore: [false, false],
    semaphoreAcquire: 'ERR_CANNOT_BLOCK',
    barrier: ['ERR_CANNOT_BLOCK', 0], // the arrival was withdrawn
    barrierAsync: null,
    latch: 'ERR_CANNOT_BLOCK',
    latchArrive: ['ERR_CANNOT_BLOCK', 2], // thrown before counting down
    latchAsync: [false, false, 1],
  });
});

const CHILD = String.raw`
import vm from 'node:vm';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
const dir = process.env.ATOMICS_DIR;

async function loadInto(context) {
  const cache = new Map();
  const get = (file) => {
    let m = cache.get(file);
    if (!m) {
      m = new vm.SourceTextModule(readFileSync(join(dir, file), 'utf8'), { context, identifier: file });
      cache.set(file, m);
    }
    return m;
  };
  const root = get('index.js');
  await root.link((spec) => {
    if (!/^\.\/[a-z-]+\.js$/.test(spec)) throw new Error('agent cannot resolve ' + spec);
    return get(spec.slice(2));
  });
  await root.evaluate();
  context.A = root.namespace;
}

// Nothing in the context holds the event loop (no timers there): we do.
const keepAlive = setInterval(() => {}, 1000);
const a = vm.createContext({});
await loadInto(a);
const out = await vm.runInContext('(' + process.env.PLAIN + ')(A)', a);
clearInterval(keepAlive);
console.log(out);
`;

test('the compiled module runs in a bare context with no timers and no performance', async () => {
  const { stdout } = await run(
    process.execPath,
    ['--experimental-vm-modules', '--no-warnings', '--input-type=module', '-e', CHILD],
    { env: { ...process.env, ATOMICS_DIR: atomicsDistDir, PLAIN }, timeout: 30_000 },
  );
  const out = JSON.parse(stdout);
  assert.deepEqual(out.timers, []);
  delete out.timers;
  assert.deepEqual(out, PLAIN_EXPECTED);
});
