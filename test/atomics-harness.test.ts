/**
 * Test harness shared by test/atomics-*.test.ts (this file defines no tests).
 *
 * - `built`: src/atomics/*.ts transpiled to plain ESM .js files in a temp dir
 *   (no dependency on dist/ being built), so worker threads and vm contexts
 *   import exactly what agents will load.
 * - runThreads(n, fn, data): runs `fn(A, data, index)` on n worker threads at
 *   once (A = the compiled agentcluster:atomics module; a start gate releases
 *   all n together) and resolves their return values. `fn` is shipped as
 *   source text, so it must be self-contained (no closures over test-file
 *   variables).
 *
 * Worker threads are used only until the agent core lands; they stand in for
 * agents (same SAB/Atomics semantics, separate OS threads).
 */
import { after } from 'node:test';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

export type AtomicsModule = typeof import('../src/atomics/index.js');

const srcDir = fileURLToPath(new URL('../src/atomics/', import.meta.url));

/**
 * Compile src/atomics/*.ts to plain ESM .js files. The output is cached in the
 * temp dir under a hash of the sources (loading typescript costs ~1 s here).
 */
async function buildAtomics(): Promise<{ dir: string; indexUrl: string }> {
  const files = readdirSync(srcDir).filter((f) => f.endsWith('.ts')).sort();
  const sources = files.map((f) => readFileSync(join(srcDir, f), 'utf8'));
  const hash = createHash('sha256');
  files.forEach((f, i) => hash.update(`${f}\0${sources[i]}\0`));
  const dir = join(tmpdir(), `agentcluster-atomics-${hash.digest('hex').slice(0, 16)}`);
  if (!existsSync(dir)) {
    const { default: ts } = await import('typescript');
    const tmp = mkdtempSync(`${dir}.tmp-`);
    writeFileSync(join(tmp, 'package.json'), '{"type":"module"}\n');
    files.forEach((file, i) => {
      const out = ts.transpileModule(sources[i], {
        compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 },
        fileName: file,
      });
      writeFileSync(join(tmp, file.replace(/\.ts$/, '.js')), out.outputText);
    });
    try {
      renameSync(tmp, dir); // atomic publish; another test process may have won the race
    } catch {
      rmSync(tmp, { recursive: true, force: true });
    }
    // Drop builds of older sources (not touched for an hour).
    for (const name of readdirSync(tmpdir())) {
      const old = join(tmpdir(), name);
      if (!name.startsWith('agentcluster-atomics-') || old === dir) continue;
      try {
        if (Date.now() - statSync(old).mtimeMs > 3_600_000) rmSync(old, { recursive: true, force: true });
      } catch {
        // raced with another test process
      }
    }
  }
  return { dir, indexUrl: pathToFileURL(join(dir, 'index.js')).href };
}

/** The compiled module: its directory and the file URL of index.js. */
export const built = await buildAtomics();

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
globalThis.__name ??= (f) => f; // in case the test transpiler injected keepNames helpers
const cache = new Map();
const modP = import(workerData.indexUrl);
parentPort.on('message', async ({ id, src, data, index, gate, n }) => {
  try {
    const A = await modP;
    let fn = cache.get(src);
    if (!fn) { fn = (0, eval)('(' + src + ')'); cache.set(src, fn); }
    if (gate) {
      // Start gate: all n threads begin together, so they really overlap.
      if (Atomics.add(gate, 0, 1) + 1 === n) Atomics.notify(gate, 0);
      for (let c; (c = Atomics.load(gate, 0)) < n; ) Atomics.wait(gate, 0, c);
    }
    const value = await fn(A, data, index);
    parentPort.postMessage({ id, ok: true, value });
  } catch (err) {
    parentPort.postMessage({ id, ok: false, error: err && err.stack ? err.stack : String(err), code: err && err.code });
  }
});
`;

interface Reply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
  code?: string;
}

let workers: Worker[] = [];
let nextId = 1;
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

function worker(i: number): Worker {
  while (workers.length <= i) {
    const w = new Worker(WORKER_SOURCE, {
      eval: true,
      execArgv: [], // do not inherit --import tsx / test-runner flags
      workerData: { indexUrl: built.indexUrl },
    });
    w.on('message', (r: Reply) => {
      const p = pending.get(r.id);
      if (!p) return;
      pending.delete(r.id);
      if (r.ok) p.resolve(r.value);
      else p.reject(Object.assign(new Error(`worker task failed: ${r.error}`), { code: r.code }));
    });
    w.on('error', (err) => {
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
    workers.push(w);
  }
  return workers[i];
}

/** Terminate all pool workers (they are re-created on demand). */
export async function resetThreads(): Promise<void> {
  const ws = workers;
  workers = [];
  await Promise.all(ws.map((w) => w.terminate()));
}

export type ThreadFn<D, R> = (A: AtomicsModule, data: D, index: number) => R | Promise<R>;

/**
 * Run `fn` on `n` worker threads concurrently, each with (module, data, index).
 * Rejects (and kills the pool) if any thread fails or `timeoutMs` elapses.
 */
export async function runThreads<D, R>(n: number, fn: ThreadFn<D, R>, data: D, timeoutMs = 20_000): Promise<R[]> {
  const src = String(fn);
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const runs: Promise<R>[] = [];
  for (let i = 0; i < n; i++) {
    const id = nextId++;
    runs.push(
      new Promise<R>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        worker(i).postMessage({ id, src, data, index: i, gate, n });
      }),
    );
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`runThreads: timed out after ${timeoutMs} ms (deadlock or lost wake-up?)`)), timeoutMs);
  });
  try {
    return await Promise.race([Promise.all(runs), timeout]);
  } catch (err) {
    await resetThreads(); // a blocked worker cannot be reused
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Start `fn` on thread `index` without waiting (for "main thread waits on a worker" tests). */
export function startThread<D, R>(index: number, fn: ThreadFn<D, R>, data: D): Promise<R> {
  const id = nextId++;
  return new Promise<R>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    worker(index).postMessage({ id, src: String(fn), data, index });
  });
}

/** Round-trip a value through a worker's postMessage (structured clone across threads). */
export function echoThroughWorker<T>(value: T): Promise<T> {
  return startThread(0, (_A, v: T) => v, value);
}

/** Spin-free sleep for the main thread. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

after(async () => {
  await resetThreads();
});
