// Spawn until ready to run code, and resident memory per idle thread:
// agents vs worker_threads, side by side (issue 2).
//   node --import tsx bench/spawn.ts [--quick]
//
// - agent: `new Agent({ source: '' })` until `await agent.ready` (its code
//   has been evaluated and the host has been told).
// - worker: `new Worker(code, { eval: true })` until its first message (the
//   like-for-like point: its code ran and the host heard of it); the time to
//   'online' (the worker thread started running JS) is shown as well.
// - sequential: one at a time, each terminated before the next; blocks of
//   agents and workers are interleaved so drift hits both alike.
// - concurrent: a batch of C spawned at once, time until all are ready.
// - RSS per idle agent / worker: N idle of each, in a fresh child process
//   per peer (bench/spawn-rss-child.ts).
import { Worker } from 'node:worker_threads';
import { Agent } from '../src/index.js';
import type { RssChildResult } from './spawn-rss-child.js';
import {
  fmtBytes,
  fmtRatio,
  fmtTime,
  isMain,
  now,
  parseOptions,
  publish,
  printTable,
  ratio,
  runChild,
  stats,
  withTimeout,
  type BenchOptions,
  type BenchReport,
} from './lib.js';

// Targets in Node's default mode: sequential spawn 20x, 16 at once 15x, and
// an idle agent at most 1.0 MB (decimal) and 7x smaller than a worker.
const SPAWN_TARGET = 20;
const CONCURRENT_TARGET = 15;
const RSS_TARGET = 7;
const RSS_MAX_BYTES = 1_000_000;

const workerSource = `require('node:worker_threads').parentPort.postMessage(0);`;

interface WorkerTimes {
  online: number;
  message: number;
}

async function spawnAgent(): Promise<number> {
  const t0 = now();
  const agent = new Agent({ source: '' });
  await withTimeout(agent.ready, 30_000, 'agent.ready');
  const t = now() - t0;
  await agent.terminate();
  return t;
}

async function spawnWorker(): Promise<WorkerTimes> {
  const t0 = now();
  const worker = new Worker(workerSource, { eval: true });
  let online = NaN;
  worker.once('online', () => (online = now() - t0));
  await withTimeout(
    new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    }),
    30_000,
    'worker first message',
  );
  const message = now() - t0;
  await worker.terminate();
  return { online, message };
}

async function concurrentAgents(count: number): Promise<number> {
  const t0 = now();
  const agents = Array.from({ length: count }, () => new Agent({ source: '' }));
  await withTimeout(Promise.all(agents.map((a) => a.ready)), 60_000, 'concurrent agents');
  const t = now() - t0;
  await Promise.all(agents.map((a) => a.terminate()));
  return t;
}

async function concurrentWorkers(count: number): Promise<number> {
  const t0 = now();
  const workers = Array.from({ length: count }, () => new Worker(workerSource, { eval: true }));
  await withTimeout(
    Promise.all(
      workers.map(
        (w) =>
          new Promise((resolve, reject) => {
            w.once('message', resolve);
            w.once('error', reject);
          }),
      ),
    ),
    60_000,
    'concurrent workers',
  );
  const t = now() - t0;
  await Promise.all(workers.map((w) => w.terminate()));
  return t;
}

export async function run(options: BenchOptions): Promise<BenchReport> {
  const q = options.quick;
  const warmup = q ? 2 : 5;
  const blocks = q ? 2 : 4;
  const perBlock = q ? 5 : 15; // sequential samples per peer: blocks * perBlock
  const concurrency = 16;
  const concurrentRounds = q ? 2 : 5;
  const idleCount = q ? 20 : 50;

  console.log(`\n=== spawn: until ready to run code (${q ? 'quick' : 'full'}) ===`);

  // Warm-up: code caches, the addon, worker_threads' bootstrap snapshot.
  for (let i = 0; i < warmup; i++) {
    await spawnAgent();
    await spawnWorker();
  }

  const agentSeq: number[] = [];
  const workerMsg: number[] = [];
  const workerOnline: number[] = [];
  for (let b = 0; b < blocks; b++) {
    for (let i = 0; i < perBlock; i++) agentSeq.push(await spawnAgent());
    for (let i = 0; i < perBlock; i++) {
      const t = await spawnWorker();
      workerMsg.push(t.message);
      workerOnline.push(t.online);
    }
  }

  await concurrentAgents(concurrency); // warm-up
  await concurrentWorkers(concurrency);
  const agentConc: number[] = [];
  const workerConc: number[] = [];
  for (let r = 0; r < concurrentRounds; r++) {
    agentConc.push(await concurrentAgents(concurrency));
    workerConc.push(await concurrentWorkers(concurrency));
  }

  const as = stats(agentSeq);
  const wm = stats(workerMsg);
  const wo = stats(workerOnline);
  const ac = stats(agentConc);
  const wc = stats(workerConc);

  printTable(
    `Spawn until ready, sequential (n=${as.n} each, warm-up ${warmup})`,
    ['peer', 'p50', 'p99', 'mean', 'min', 'agent ratio (p50)'],
    [
      ['agent (await ready)', fmtTime(as.p50), fmtTime(as.p99), fmtTime(as.mean), fmtTime(as.min), ''],
      ['worker_threads (first message)', fmtTime(wm.p50), fmtTime(wm.p99), fmtTime(wm.mean), fmtTime(wm.min), `${fmtRatio(wm.p50 / as.p50)} faster`],
      ['worker_threads (online)', fmtTime(wo.p50), fmtTime(wo.p99), fmtTime(wo.mean), fmtTime(wo.min), `${fmtRatio(wo.p50 / as.p50)} faster`],
    ],
  );
  printTable(
    `Spawn ${concurrency} at once until all ready (${ac.n} rounds each; 2 cores)`,
    ['peer', 'batch p50', 'batch max', 'per thread (p50/16)', 'agent ratio'],
    [
      ['agent', fmtTime(ac.p50), fmtTime(ac.max), fmtTime(ac.p50 / concurrency), ''],
      ['worker_threads', fmtTime(wc.p50), fmtTime(wc.max), fmtTime(wc.p50 / concurrency), `${fmtRatio(wc.p50 / ac.p50)} faster`],
    ],
  );

  // RSS, each peer in its own fresh process.
  const rssAgent = await runChild<RssChildResult>('spawn-rss-child.ts', ['agent', String(idleCount)], ['--expose-gc']);
  const rssWorker = await runChild<RssChildResult>('spawn-rss-child.ts', ['worker', String(idleCount)], ['--expose-gc']);
  printTable(
    `RSS per idle thread (${idleCount} idle each, fresh child process per peer)`,
    ['peer', 'base RSS', `RSS with ${idleCount}`, 'per idle (avg)', 'per extra one (marginal)', 'agent ratio (avg)'],
    [
      ['agent', fmtBytes(rssAgent.base), fmtBytes(rssAgent.afterAll), fmtBytes(rssAgent.perIdle), fmtBytes(rssAgent.marginal), ''],
      [
        'worker_threads',
        fmtBytes(rssWorker.base),
        fmtBytes(rssWorker.afterAll),
        fmtBytes(rssWorker.perIdle),
        fmtBytes(rssWorker.marginal),
        `${fmtRatio(rssWorker.perIdle / rssAgent.perIdle)} smaller`,
      ],
    ],
  );

  const report: BenchReport = {
    name: 'spawn',
    ratios: [
      ratio('spawn', 'spawn until ready, sequential p50', as.p50, wm.p50, 'ns', SPAWN_TARGET),
      ratio('spawn', `spawn ${concurrency} concurrently, batch p50`, ac.p50, wc.p50, 'ns', CONCURRENT_TARGET),
      ratio('spawn', "spawn sequential p50 vs worker 'online'", as.p50, wo.p50, 'ns'),
      ratio('spawn', `RSS per idle thread (${idleCount} idle, avg)`, rssAgent.perIdle, rssWorker.perIdle, 'bytes', RSS_TARGET),
      ratio('spawn', 'RSS per extra idle thread (marginal)', rssAgent.marginal, rssWorker.marginal, 'bytes'),
    ],
    checks: [
      {
        bench: 'spawn',
        name: `RSS per idle agent ≤ ${RSS_MAX_BYTES / 1e6} MB`,
        detail: `${(rssAgent.perIdle / 1e6).toFixed(3)} MB (${fmtBytes(rssAgent.perIdle)})`,
        met: rssAgent.perIdle <= RSS_MAX_BYTES,
      },
    ],
    data: { sequential: { agent: as, workerMessage: wm, workerOnline: wo }, concurrent: { concurrency, agent: ac, worker: wc }, rss: { agent: rssAgent, worker: rssWorker } },
  };
  return publish(report, options);
}

if (isMain(import.meta.url)) await run(parseOptions());
