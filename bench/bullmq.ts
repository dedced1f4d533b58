// BullMQ consumers, side by side on one redis-server (started here, loopback):
// one consumer process with an AgentWorker (AgentPool of 2) against BullMQ's
// own sandboxed processors with concurrency 2 (child processes, and
// useWorkerThreads), on the same queue workload, in one run.
//   node --import tsx bench/bullmq.ts [--quick]
// Reports jobs/s (as time per job) and memory per concurrency slot (the RSS
// of the consumer's process tree at 6 slots minus at 2, over 4).
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { startRedis } from '../test/helpers/redis.js';
import { benchDir, fmtBytes, isMain, parseOptions, printTable, publish, ratio, type BenchOptions, type BenchReport, type Ratio } from './lib.js';

type Variant = 'agents' | 'agents-prefetch' | 'process' | 'threads';
const PEERS: Array<[Variant, string]> = [
  ['process', 'BullMQ sandboxed (child processes)'],
  ['threads', 'BullMQ sandboxed (useWorkerThreads)'],
];

interface Consumer {
  child: ChildProcess;
  stop(): Promise<void>;
}

function startConsumer(variant: Variant, port: number, queue: string, slots: number): Promise<Consumer> {
  // Consumers run in the same snapshot mode as this process (see docs/benchmarks.md).
  const flags = process.execArgv.filter((flag) => flag === '--no-node-snapshot');
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', join(benchDir, 'bullmq-consumer.ts'), variant, String(port), queue, String(slots)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${variant} consumer exited (${code})`)));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      if (!chunk.includes('ready')) return;
      child.removeAllListeners('exit');
      resolve({
        child,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

/** RSS of a process and all its descendants (Linux /proc). */
function treeRss(root: number): number {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const inTree = (pid: number): boolean => {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parent.get(p)) if (p === root) return true;
    return false;
  };
  let total = 0;
  for (const pid of parent.keys()) {
    if (!inTree(pid)) continue;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // gone
    }
  }
  return total;
}

async function drain(q: Queue, n: number, spinMs: number, offset: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i += 500) {
    await q.addBulk(Array.from({ length: Math.min(500, n - i) }, (_, k) => ({ name: 'job', data: { i: offset + i + k, spinMs } })));
  }
  while ((await q.getJobCounts('completed')).completed < offset + n) await new Promise((r) => setTimeout(r, 10));
  return performance.now() - t0;
}

export async function run(options: BenchOptions): Promise<BenchReport> {
  const redis = await startRedis();
  const queues: Queue[] = [];
  const N = options.quick ? 300 : 2000;
  const workloads: Array<[string, number]> = [['empty job', 0], ['1 ms of CPU', 1]];
  const nsPerJob = new Map<string, number>();
  const memPerSlot = new Map<Variant, number>();
  let seq = 0;
  try {
    const variants: Variant[] = ['agents', 'agents-prefetch', 'process', 'threads'];
    for (const [label, spinMs] of workloads) {
      for (const v of variants) {
        const name = `bench-${seq++}`;
        const q = new Queue(name, { connection: redis.connection });
        queues.push(q);
        const c = await startConsumer(v, redis.port, name, 2);
        try {
          await drain(q, 100, spinMs, 0); // warm up: agents / children started
          const ms = await drain(q, N, spinMs, 100);
          nsPerJob.set(`${v}|${label}`, (ms * 1e6) / N);
        } finally {
          await c.stop();
        }
      }
    }
    for (const v of ['agents', 'process', 'threads'] as Variant[]) {
      const rss: number[] = [];
      for (const slots of [2, 6]) {
        const name = `bench-${seq++}`;
        const q = new Queue(name, { connection: redis.connection });
        queues.push(q);
        const c = await startConsumer(v, redis.port, name, slots);
        try {
          await drain(q, 60, 5, 0); // enough concurrent work that every slot started
          await new Promise((r) => setTimeout(r, 300));
          rss.push(treeRss(c.child.pid!));
        } finally {
          await c.stop();
        }
      }
      memPerSlot.set(v, Math.max(0, (rss[1]! - rss[0]!) / 4));
    }
  } finally {
    await Promise.all(queues.map((q) => q.close()));
    await redis.stop();
  }

  const ratios: Ratio[] = [];
  const rows: string[][] = [];
  for (const [label] of workloads) {
    const ours = nsPerJob.get(`agents|${label}`)!;
    const prefetch = nsPerJob.get(`agents-prefetch|${label}`)!;
    for (const [v, peerName] of PEERS) {
      const peer = nsPerJob.get(`${v}|${label}`)!;
      ratios.push(ratio('bullmq', `${label}, per job: AgentWorker(2) vs ${peerName}`, ours, peer, 'ns'));
      ratios.push(ratio('bullmq', `${label}, per job: AgentWorker(2, prefetch 2) vs ${peerName}`, prefetch, peer, 'ns'));
    }
    const jps = (ns: number): string => `${Math.round(1e9 / ns)}`;
    rows.push([label, jps(ours), jps(prefetch), jps(nsPerJob.get(`process|${label}`)!), jps(nsPerJob.get(`threads|${label}`)!)]);
  }
  for (const [v, peerName] of PEERS) {
    ratios.push(ratio('bullmq', `memory per concurrency slot: agent vs ${peerName}`, memPerSlot.get('agents')!, memPerSlot.get(v)!, 'bytes'));
  }
  printTable(
    `BullMQ consumers, jobs/s (one consumer process, 2 slots, ${N} jobs, redis on loopback)`,
    ['workload', 'AgentWorker', 'AgentWorker+prefetch', 'child processes', 'worker threads'],
    rows,
  );
  printTable('Memory per concurrency slot (RSS of the process tree, 6 slots minus 2, / 4)', ['variant', 'per slot'], [
    ['AgentWorker (agents)', fmtBytes(memPerSlot.get('agents')!)],
    ['BullMQ child processes', fmtBytes(memPerSlot.get('process')!)],
    ['BullMQ worker threads', fmtBytes(memPerSlot.get('threads')!)],
  ]);
  printTable('Ratios (> 1: AgentWorker better)', ['metric', 'ratio'], ratios.map((r) => [r.metric, `${r.ratio.toFixed(2)}x`]));
  return publish({ name: 'bullmq', ratios, checks: [], data: { jobs: N, nsPerJob: Object.fromEntries(nsPerJob), memPerSlot: Object.fromEntries(memPerSlot) } }, options);
}

if (isMain(import.meta.url)) await run(parseOptions());
