// Message round trip host -> thread -> host of a small value: agents vs a
// worker_threads echo, side by side (issue 2).
//   node --import tsx bench/roundtrip.ts [--quick]
//
// Each sample is one ping-pong: postMessage, then wait for the echo on the
// host's 'message' listener (one persistent listener on both sides). Samples
// are taken in interleaved rounds (agent round, worker round, ...) after a
// warm-up, so JIT, CPU frequency and the neighbours' load hit both alike.
import { Worker } from 'node:worker_threads';
import { Agent } from '../src/index.js';
import {
  fmtRatio,
  fmtTime,
  isMain,
  now,
  parseOptions,
  publish,
  printTable,
  ratio,
  stats,
  withTimeout,
  type BenchOptions,
  type BenchReport,
  type Stats,
} from './lib.js';

const P50_TARGET = 2; // agent p50 at most half of worker_threads'

/** A thread that echoes every message back, behind one interface for both peers. */
export interface Echo {
  readonly label: string;
  send(value: unknown, transfer?: ArrayBuffer[]): void;
  /** Resolves with the next message the thread sends. */
  next(): Promise<unknown>;
  stop(): Promise<unknown>;
}

function pending(): { promise: () => Promise<unknown>; deliver: (value: unknown) => void } {
  let resolveNext: ((value: unknown) => void) | undefined;
  const queue: unknown[] = [];
  return {
    promise: () =>
      queue.length > 0 ? Promise.resolve(queue.shift()) : new Promise((resolve) => (resolveNext = resolve)),
    deliver: (value) => {
      if (resolveNext) {
        const r = resolveNext;
        resolveNext = undefined;
        r(value);
      } else queue.push(value);
    },
  };
}

/** `agentSource` / `workerSource`: code of the thread, given `reply(value, transfer?)` semantics of each peer. */
export async function startAgentEcho(source = 'onmessage = (e) => postMessage(e.data);'): Promise<Echo> {
  const agent = new Agent({ source, name: 'bench-echo' });
  const p = pending();
  agent.on('message', p.deliver);
  agent.on('error', (e) => console.error('agent error:', e));
  await withTimeout(agent.ready, 30_000, 'echo agent ready');
  return {
    label: 'agent',
    send: (value, transfer) => agent.postMessage(value, transfer),
    next: p.promise,
    stop: () => agent.terminate(),
  };
}

export async function startWorkerEcho(
  source = `const { parentPort } = require('node:worker_threads'); parentPort.on('message', (v) => parentPort.postMessage(v)); parentPort.postMessage('ready');`,
): Promise<Echo> {
  const worker = new Worker(source, { eval: true });
  const p = pending();
  worker.on('message', p.deliver);
  worker.on('error', (e) => console.error('worker error:', e));
  const first = await withTimeout(p.promise(), 30_000, 'echo worker ready');
  if (first !== 'ready') throw new Error(`worker echo: unexpected first message ${String(first)}`);
  return {
    label: 'worker_threads',
    send: (value, transfer) => worker.postMessage(value, transfer),
    next: p.promise,
    stop: () => worker.terminate(),
  };
}

/** `count` sequential round trips of `value`, each timed (ns). */
export async function pingPong(echo: Echo, value: unknown, count: number, out?: number[]): Promise<number[]> {
  const samples = out ?? [];
  for (let i = 0; i < count; i++) {
    const t0 = now();
    echo.send(value);
    await echo.next();
    samples.push(now() - t0);
  }
  return samples;
}

/** Interleaved rounds of ping-pong on both peers after a warm-up. */
export async function compareRoundTrips(
  agent: Echo,
  worker: Echo,
  value: unknown,
  { warmup, rounds, perRound }: { warmup: number; rounds: number; perRound: number },
): Promise<{ agent: Stats; worker: Stats }> {
  await pingPong(agent, value, warmup);
  await pingPong(worker, value, warmup);
  const a: number[] = [];
  const w: number[] = [];
  for (let r = 0; r < rounds; r++) {
    await pingPong(agent, value, perRound, a);
    await pingPong(worker, value, perRound, w);
  }
  return { agent: stats(a), worker: stats(w) };
}

export function roundTripRows(result: { agent: Stats; worker: Stats }): string[][] {
  const { agent: a, worker: w } = result;
  return [
    ['agent', fmtTime(a.p50), fmtTime(a.p90), fmtTime(a.p99), fmtTime(a.mean), fmtTime(a.min), ''],
    ['worker_threads', fmtTime(w.p50), fmtTime(w.p90), fmtTime(w.p99), fmtTime(w.mean), fmtTime(w.min), `p50 ${fmtRatio(w.p50 / a.p50)}, p99 ${fmtRatio(w.p99 / a.p99)}`],
  ];
}

export const roundTripHeaders = ['peer', 'p50', 'p90', 'p99', 'mean', 'min', 'agent faster by'];

export async function run(options: BenchOptions): Promise<BenchReport> {
  const q = options.quick;
  const plan = { warmup: q ? 500 : 3000, rounds: q ? 2 : 6, perRound: q ? 500 : 4000 };
  console.log(`\n=== roundtrip: host -> thread -> host, small value (${q ? 'quick' : 'full'}) ===`);

  const agent = await startAgentEcho();
  const worker = await startWorkerEcho();
  try {
    const num = await compareRoundTrips(agent, worker, 42, plan);
    const str = await compareRoundTrips(agent, worker, 'ping', { ...plan, rounds: Math.max(1, plan.rounds / 2) });
    printTable(`Round trip of the number 42 (n=${num.agent.n} each, warm-up ${plan.warmup}, interleaved rounds)`, roundTripHeaders, roundTripRows(num));
    printTable(`Round trip of the string 'ping' (n=${str.agent.n} each)`, roundTripHeaders, roundTripRows(str));

    const report: BenchReport = {
      name: 'roundtrip',
      ratios: [
        ratio('roundtrip', 'round trip p50 (number)', num.agent.p50, num.worker.p50, 'ns', P50_TARGET),
        ratio('roundtrip', 'round trip p99 (number)', num.agent.p99, num.worker.p99, 'ns'),
        ratio('roundtrip', 'round trip p50 (string)', str.agent.p50, str.worker.p50, 'ns'),
      ],
      checks: [],
      data: { plan, number: num, string: str },
    };
    return publish(report, options);
  } finally {
    await agent.stop();
    await worker.stop();
  }
}

if (isMain(import.meta.url)) await run(parseOptions());
