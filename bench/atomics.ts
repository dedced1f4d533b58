// Shared-memory synchronisation between threads: agents vs worker_threads,
// side by side in one run (issue 4).
//   node --import tsx bench/atomics.ts [--quick]
//
// 1. Atomics.wait / notify ping-pong between two threads: the round trip
//    (two wake-ups) in µs. Both peers run V8's futex emulation; the worker
//    pair is the floor the agents aim to match.
// 2. Contended Mutex throughput: 2 and 4 threads doing lock / increment a
//    plain shared counter / unlock, with the same compiled Mutex
//    (dist/src/atomics, what agents import as agentcluster:atomics) on both
//    peers, for a fixed time window. Reported as ns per lock/inc/unlock
//    (window / all threads' operations together).
//
// Threads are started once per peer and reused; each measurement releases
// its threads through a start gate and times inside the threads
// (performance.now()), and rounds alternate agent / worker so load and CPU
// frequency hit both alike. The median over rounds is reported.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Agent } from '../src/index.js';
import { Mutex } from '../src/atomics/index.js';
import {
  fmtRatio,
  isMain,
  parseOptions,
  publish,
  printTable,
  ratio,
  repoRoot,
  sleep,
  withTimeout,
  type BenchOptions,
  type BenchReport,
} from './lib.js';

const PINGPONG_TARGET = 0.9; // "aim to match" the worker_threads pair: at most ~10% slower (best rounds)

const atomicsFile = join(repoRoot, 'dist', 'src', 'atomics', 'index.js');

/** A pool of threads that each run `fn(A, data)` on request (A = the compiled agentcluster:atomics). */
interface Peer {
  readonly label: 'agent' | 'worker_threads';
  run<R>(index: number, fn: string, data: unknown): Promise<R>;
  stop(): Promise<void>;
}

const TASK_LOOP = `
globalThis.__name ??= (f) => f; // keepNames helpers of the TypeScript transpiler, if any
const cache = new Map();
async function task({ fn, data }) {
  let f = cache.get(fn);
  if (!f) { f = (0, eval)('(' + fn + ')'); cache.set(fn, f); }
  try { return { ok: true, value: await f(A, data) }; }
  catch (err) { return { ok: false, error: String((err && err.stack) || err) }; }
}`;

interface Reply {
  ok: boolean;
  value?: unknown;
  error?: string;
}

function replies(on: (listener: (r: Reply) => void) => void): () => Promise<unknown> {
  const queue: ((r: Reply) => void)[] = [];
  on((r) => queue.shift()?.(r));
  return () =>
    new Promise((resolve, reject) => {
      queue.push((r) => (r.ok ? resolve(r.value) : reject(new Error(r.error))));
    });
}

async function startAgents(n: number): Promise<Peer> {
  const source = `import * as A from 'agentcluster:atomics';\n${TASK_LOOP}\nonmessage = async (e) => postMessage(await task(e.data));`;
  const agents = Array.from({ length: n }, (_, i) => new Agent({ type: 'module', source, name: `bench-atomics-${i}` }));
  const next = agents.map((a) => replies((l) => a.on('message', (v) => l(v as Reply))));
  await withTimeout(Promise.all(agents.map((a) => a.ready)), 30_000, 'bench agents ready');
  return {
    label: 'agent',
    run: <R>(i: number, fn: string, data: unknown) => {
      const p = next[i]!();
      agents[i]!.postMessage({ fn, data });
      return p as Promise<R>;
    },
    stop: async () => {
      await Promise.all(agents.map((a) => a.terminate()));
    },
  };
}

async function startWorkers(n: number): Promise<Peer> {
  const source = `const { parentPort, workerData } = require('node:worker_threads');
let A;
${TASK_LOOP}
import(workerData.url).then((m) => { A = m; parentPort.postMessage({ ok: true, value: 'ready' }); });
parentPort.on('message', async (m) => parentPort.postMessage(await task(m)));`;
  const url = pathToFileURL(atomicsFile).href;
  // execArgv: [] so that the workers do not load tsx (the agents do not either).
  const workers = Array.from({ length: n }, () => new Worker(source, { eval: true, workerData: { url }, execArgv: [] }));
  const next = workers.map((w) => replies((l) => w.on('message', l)));
  await withTimeout(Promise.all(next.map((p) => p())), 30_000, 'bench workers ready');
  return {
    label: 'worker_threads',
    run: <R>(i: number, fn: string, data: unknown) => {
      const p = next[i]!();
      workers[i]!.postMessage({ fn, data });
      return p as Promise<R>;
    },
    stop: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

// The thread bodies. Shipped as source text (String(fn)): self-contained.
// Gate: s[1] counts threads ready, s[2] is the host's "go".

interface PingPongData {
  s: Int32Array;
  me: number;
  rounds: number;
}

/** One side of the ping-pong; returns its elapsed ms and how many waits actually slept. */
function pingPongSide(_A: unknown, d: PingPongData): { ms: number; slept: number } {
  const s = d.s;
  Atomics.add(s, 1, 1);
  while (Atomics.load(s, 2) === 0) Atomics.wait(s, 2, 0);
  let slept = 0;
  const t0 = performance.now();
  for (let r = 0; r < d.rounds; r++) {
    const mine = 2 * r + d.me;
    for (let v; (v = Atomics.load(s, 0)) !== mine; ) if (Atomics.wait(s, 0, v) === 'ok') slept++;
    Atomics.store(s, 0, mine + 1);
    Atomics.notify(s, 0, 1);
  }
  return { ms: performance.now() - t0, slept };
}

interface MutexData {
  m: { buffer: SharedArrayBuffer; byteOffset: number };
  s: Int32Array;
  me: number;
  durationMs: number;
}

/**
 * Lock / increment / unlock until thread 0 has seen `durationMs` pass and
 * raised s[4] (fixed duration rather than fixed work, so that all threads
 * contend for the whole window even when the OS runs them unevenly).
 */
function mutexLoop(A: typeof import('../src/atomics/index.js'), d: MutexData): { ops: number; ms: number } {
  const m = A.Mutex.from(d.m);
  const s = d.s;
  Atomics.add(s, 1, 1);
  while (Atomics.load(s, 2) === 0) Atomics.wait(s, 2, 0);
  const t0 = performance.now();
  let ops = 0;
  while (Atomics.load(s, 4) === 0) {
    m.lock();
    s[3]++; // plain (non-atomic) increment: only correct under mutual exclusion
    m.unlock();
    if ((++ops & 1023) === 0 && d.me === 0 && performance.now() - t0 >= d.durationMs) Atomics.store(s, 4, 1);
  }
  return { ops, ms: performance.now() - t0 };
}

/** Start `n` threads of `peer` on `fn`, release them together, collect their results. */
async function gated<R>(peer: Peer, n: number, fn: string, data: (i: number) => Record<string, unknown>, s: Int32Array): Promise<R[]> {
  const runs = Array.from({ length: n }, (_, i) => peer.run<R>(i, fn, { ...data(i), s }));
  const deadline = performance.now() + 30_000;
  while (Atomics.load(s, 1) < n) {
    if (performance.now() > deadline) throw new Error(`${peer.label}: threads did not reach the start gate`);
    await sleep(1);
  }
  Atomics.store(s, 2, 1);
  Atomics.notify(s, 2);
  return withTimeout(Promise.all(runs), 60_000, `${peer.label} measurement`);
}

async function pingPong(peer: Peer, rounds: number): Promise<{ usPerRoundTrip: number; slept: number }> {
  const s = new Int32Array(new SharedArrayBuffer(16));
  const [a, b] = await gated<{ ms: number; slept: number }>(peer, 2, String(pingPongSide), (me) => ({ me, rounds }), s);
  if (Atomics.load(s, 0) !== 2 * rounds) throw new Error(`${peer.label}: ping-pong ended at ${Atomics.load(s, 0)}`);
  return { usPerRoundTrip: (Math.max(a!.ms, b!.ms) * 1000) / rounds, slept: (a!.slept + b!.slept) / (2 * rounds) };
}

async function mutexThroughput(peer: Peer, threads: number, durationMs: number): Promise<number> {
  const s = new Int32Array(new SharedArrayBuffer(20));
  const m = new Mutex();
  const res = await gated<{ ops: number; ms: number }>(peer, threads, String(mutexLoop), (me) => ({ m, me, durationMs }), s);
  const ops = res.reduce((t, r) => t + r.ops, 0);
  if (s[3] !== ops) throw new Error(`${peer.label}: counter ${s[3]} != ${ops} operations: mutual exclusion violated`);
  if (m.locked) throw new Error(`${peer.label}: mutex left locked`);
  return (Math.max(...res.map((r) => r.ms)) * 1e6) / ops; // ns per lock/inc/unlock, all threads together
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const fmtUs = (ns: number) => `${(ns / 1000).toFixed(2)} µs`;
const fmtNs = (ns: number) => `${ns.toFixed(0)} ns`;

export async function run(options: BenchOptions): Promise<BenchReport> {
  const q = options.quick;
  const plan = {
    rounds: q ? 2 : 9,
    pingPongRounds: q ? 2_000 : 10_000,
    mutexMs: q ? 50 : 250,
  };
  console.log(`\n=== atomics: wait/notify ping-pong and contended Mutex, agents vs worker_threads (${q ? 'quick' : 'full'}) ===`);
  if (!existsSync(atomicsFile)) throw new Error(`${atomicsFile} is missing: run \`npx tsc -p tsconfig.build.json\``);

  const peers = [await startAgents(4), await startWorkers(4)] as const;
  try {
    // Warm-up: JIT both sides' loops.
    for (const p of peers) {
      await pingPong(p, plan.pingPongRounds / 10);
      await mutexThroughput(p, 2, plan.mutexMs / 5);
    }
    const pp: Record<Peer['label'], number[]> = { agent: [], worker_threads: [] };
    const slept: Record<Peer['label'], number[]> = { agent: [], worker_threads: [] };
    const mx2: Record<Peer['label'], number[]> = { agent: [], worker_threads: [] };
    const mx4: Record<Peer['label'], number[]> = { agent: [], worker_threads: [] };
    for (let r = 0; r < plan.rounds; r++) {
      // Alternate which peer goes first.
      for (const p of r % 2 ? [...peers].reverse() : peers) {
        const res = await pingPong(p, plan.pingPongRounds);
        pp[p.label].push(res.usPerRoundTrip * 1000);
        slept[p.label].push(res.slept);
        mx2[p.label].push(await mutexThroughput(p, 2, plan.mutexMs));
        mx4[p.label].push(await mutexThroughput(p, 4, plan.mutexMs));
      }
    }
    const ppA = median(pp.agent);
    const ppW = median(pp.worker_threads);
    const m2A = median(mx2.agent);
    const m2W = median(mx2.worker_threads);
    const m4A = median(mx4.agent);
    const m4W = median(mx4.worker_threads);
    const range = (xs: number[], f: (n: number) => string) => `${f(Math.min(...xs))} – ${f(Math.max(...xs))}`;
    const row = (name: string, d: Record<Peer['label'], number[]>, f: (n: number) => string) => {
      const a = median(d.agent);
      const w = median(d.worker_threads);
      const best = Math.min(...d.worker_threads) / Math.min(...d.agent);
      return [name, f(a), f(w), fmtRatio(w / a), fmtRatio(best), range(d.agent, f), range(d.worker_threads, f)];
    };
    printTable(
      `Median of ${plan.rounds} interleaved rounds (ratio = worker_threads / agent: > 1 the agent is faster; best = ratio of the fastest rounds)`,
      ['measurement', 'agent', 'worker_threads', 'ratio', 'best', 'agent range', 'worker range'],
      [
        row('wait/notify ping-pong, per round trip', pp, fmtUs),
        row('Mutex lock/inc/unlock, 2 threads, per op', mx2, fmtNs),
        row('Mutex lock/inc/unlock, 4 threads, per op', mx4, fmtNs),
      ],
    );
    console.log(
      `  ping-pong: ${plan.pingPongRounds} round trips per round; waits that slept: agent ${(median(slept.agent) * 100).toFixed(0)}%, ` +
        `worker_threads ${(median(slept.worker_threads) * 100).toFixed(0)}% (the rest found the turn already passed)`,
    );
    console.log(`  mutex: ${plan.mutexMs} ms windows; the shared counter is checked against the operations counted`);

    const report: BenchReport = {
      name: 'atomics',
      ratios: [
        // The target is on the fastest rounds: with both peers on the same V8
        // futex, the medians mostly measure other jobs' load (±30 % run to run
        // on a shared 2-core machine) while the best rounds show the floor.
        ratio('atomics', 'wait/notify ping-pong round trip (best round)', Math.min(...pp.agent), Math.min(...pp.worker_threads), 'ns', PINGPONG_TARGET),
        ratio('atomics', 'wait/notify ping-pong round trip (median)', ppA, ppW, 'ns'),
        ratio('atomics', 'contended Mutex op, 2 threads', m2A, m2W, 'ns'),
        ratio('atomics', 'contended Mutex op, 4 threads', m4A, m4W, 'ns'),
      ],
      checks: [],
      data: { plan, pingPongNs: pp, pingPongSlept: slept, mutex2Ns: mx2, mutex4Ns: mx4 },
    };
    return publish(report, options);
  } finally {
    await Promise.all(peers.map((p) => p.stop()));
  }
}

/** Standalone entry: `node --import tsx bench/atomics.ts [--quick]`. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<BenchReport> {
  return run(parseOptions(argv));
}

if (isMain(import.meta.url)) await main();
