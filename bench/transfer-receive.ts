// Receiving a transferred ArrayBuffer: what it costs the receiving thread,
// 64 KiB, 16 MiB, 256 MiB and 1 GiB, agents vs worker_threads, in one run.
//
// The host transfers a buffer, the thread keeps it and acks (one way + ack,
// timed); the buffer is given back untimed. Measured per transfer:
// - p50 of one way + ack (the receive path end to end);
// - the receiver's own time: for agents the CPU time of the agent's thread
//   (`agent.cpuUsage()`), for workers the active time of the worker's event
//   loop (`worker.performance.eventLoopUtilization()`; Node 20 has no per-thread
//   CPU clock for workers). Both include the GC V8 starts when the received
//   backing store pushes the receiver's external memory past its limit.
// - an agent with a small heap limit (maxHeapMB 64), for comparison.
//
//   node --import tsx bench/transfer-receive.ts [--quick]
import { Worker } from 'node:worker_threads';
import { Agent } from '../src/index.js';
import { fmtTime, isMain, now, parseOptions, printTable, publish, ratio, stats, withTimeout, type BenchOptions, type BenchReport, type Check, type Stats } from './lib.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

// keep -> keep the buffer, reply with its length; give -> transfer it back.
const body = `
let kept;
function handle(data, reply) {
  if (data === 'give') { const b = kept; kept = undefined; reply(b, [b]); return; }
  kept = data;
  reply(kept.byteLength);
}`;

interface Receiver {
  label: string;
  send(value: unknown, transfer?: ArrayBuffer[]): void;
  next(): Promise<unknown>;
  /** The receiving thread's own time so far, in ms. */
  ownMs(): number;
  stop(): Promise<unknown>;
}

function queueOf(on: (listener: (value: unknown) => void) => void): () => Promise<unknown> {
  const queue: unknown[] = [];
  let waiter: ((value: unknown) => void) | undefined;
  on((value) => (waiter ? (waiter(value), (waiter = undefined)) : queue.push(value)));
  return () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((resolve) => (waiter = resolve)));
}

async function agentReceiver(label: string, maxHeapMB?: number): Promise<Receiver> {
  const agent = new Agent({
    name: label,
    source: `${body}\nonmessage = (e) => handle(e.data, (v, t) => postMessage(v, t));`,
    ...(maxHeapMB ? { resourceLimits: { maxHeapMB } } : {}),
  });
  await agent.ready;
  return {
    label,
    send: (value, transfer) => agent.postMessage(value, transfer),
    next: queueOf((listener) => agent.on('message', listener)),
    ownMs: () => agent.cpuUsage().cpuMs,
    stop: () => agent.terminate(),
  };
}

async function workerReceiver(): Promise<Receiver> {
  const worker = new Worker(`${body}\nconst { parentPort } = require('node:worker_threads');\nparentPort.on('message', (d) => handle(d, (v, t) => parentPort.postMessage(v, t)));\nparentPort.postMessage('up');`, { eval: true });
  const next = queueOf((listener) => worker.on('message', listener));
  await next();
  return {
    label: 'worker_threads',
    send: (value, transfer) => worker.postMessage(value, transfer),
    next,
    ownMs: () => worker.performance.eventLoopUtilization().active,
    stop: () => worker.terminate(),
  };
}

interface Result {
  oneWay: Stats;
  /** The receiver's own ms per transfer (see the header). */
  ownMsPerTransfer: number;
}

async function measure(receiver: Receiver, size: number, count: number, warmup: number): Promise<Result> {
  let buffer = new ArrayBuffer(size);
  new Uint8Array(buffer).fill(7);
  const samples: number[] = [];
  let ownStart = 0;
  for (let i = 0; i < warmup + count; i++) {
    if (i === warmup) ownStart = receiver.ownMs();
    const t0 = now();
    receiver.send(buffer, [buffer]);
    const length = await receiver.next();
    const t1 = now();
    if (length !== size || buffer.byteLength !== 0) throw new Error(`${receiver.label}: the transfer did not arrive whole`);
    receiver.send('give');
    buffer = (await receiver.next()) as ArrayBuffer;
    if (i >= warmup) samples.push(t1 - t0);
  }
  // The receiver's GC may finish in a task after the ack: let it run.
  await new Promise((resolve) => setTimeout(resolve, 20));
  return { oneWay: stats(samples), ownMsPerTransfer: (receiver.ownMs() - ownStart) / count };
}

export async function run(options: BenchOptions): Promise<BenchReport> {
  const q = options.quick;
  console.log(`\n=== transfer-receive: receiving a transferred ArrayBuffer, agents vs worker_threads (${q ? 'quick' : 'full'}) ===`);
  const sizes: [string, number, number, number][] = [
    ['64 KiB', 64 * KiB, q ? 20 : 100, q ? 5 : 20],
    ['16 MiB', 16 * MiB, q ? 10 : 48, q ? 2 : 8],
    ['256 MiB', 256 * MiB, q ? 6 : 24, q ? 2 : 4],
    ['1 GiB', GiB, q ? 6 : 24, q ? 2 : 4],
  ];
  const receivers = [await agentReceiver('agent'), await agentReceiver('agent maxHeapMB 64', 64), await workerReceiver()];
  const results: Record<string, Record<string, Result>> = {};
  try {
    for (const [label, size, count, warmup] of sizes) {
      for (const receiver of receivers) {
        (results[receiver.label] ??= {})[label] = await withTimeout(measure(receiver, size, count, warmup), 300_000, `${receiver.label} ${label}`);
      }
    }
  } finally {
    for (const receiver of receivers) await receiver.stop();
  }
  const labels = sizes.map(([label]) => label);
  const rows = receivers.map(({ label }) => {
    const byReceiver = results[label]!;
    return [label, ...labels.map((size) => fmtTime(byReceiver[size]!.oneWay.p50)), ...labels.map((size) => `${byReceiver[size]!.ownMsPerTransfer.toFixed(3)} ms`)];
  });
  printTable(
    'one way + ack p50, and the receiver\'s own time per transfer',
    ['receiver', ...labels.map((size) => `${size} p50`), ...labels.map((size) => `own ${size}`)],
    rows,
  );
  const agent = results['agent']!;
  const worker = results['worker_threads']!;
  // Receiving 1 GiB vs 64 KiB, on the receiving thread itself (agents: thread CPU).
  const checks: Check[] = [
    {
      bench: 'transfer-receive',
      name: 'an agent receiving 1 GiB spends less of its own time than a worker does',
      detail: `${agent['1 GiB']!.ownMsPerTransfer.toFixed(2)} ms agent CPU vs ${worker['1 GiB']!.ownMsPerTransfer.toFixed(2)} ms worker loop time per transfer`,
      met: agent['1 GiB']!.ownMsPerTransfer <= worker['1 GiB']!.ownMsPerTransfer,
    },
  ];
  return publish(
    {
      name: 'transfer-receive',
      ratios: [
        ...labels.map((size) => ratio('transfer-receive', `${size} transfer one way p50`, agent[size]!.oneWay.p50, worker[size]!.oneWay.p50, 'ns')),
      ],
      checks,
      data: results,
    },
    options,
  );
}

if (isMain(import.meta.url)) await run(parseOptions());
