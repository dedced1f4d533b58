// Structured clone and transfer: agents vs worker_threads postMessage, side
// by side (issue 3).
//   node --import tsx bench/clone.ts [--quick]
//
// - small object: round trip (echo), p50/p99.
// - 1 MiB object graph (~1 MiB as V8 serializes it): one way (the thread
//   receives the deserialized graph and acks with a number) and round trip.
// - 64 MiB ArrayBuffer copied (not in the transfer list): one way + ack, round trip.
// - ArrayBuffer transferred, 64 KiB / 64 MiB / 1 GiB: one way + ack (the
//   thread keeps it; it is given back untimed) and round trip (transferred
//   both ways). Transfer time must not depend on the size.
// - thread -> thread: two agents joined by an AgentChannel vs two workers
//   joined by a MessageChannel; the driver thread times its own ping-pongs
//   with performance.now() and sends the samples to the host.
// One thread of each peer runs the same handler; samples are interleaved in
// rounds (agent, worker, agent, ...) after a warm-up.
import { PerformanceObserver } from 'node:perf_hooks';
import { serialize } from 'node:v8';
import { MessageChannel, Worker } from 'node:worker_threads';
import { Agent, AgentChannel } from '../src/index.js';
import {
  compareRoundTrips,
  roundTripHeaders,
  roundTripRows,
  startAgentEcho,
  startWorkerEcho,
  type Echo,
} from './roundtrip.js';
import {
  fmtBytes,
  fmtRatio,
  fmtThroughput,
  fmtTime,
  isMain,
  now,
  parseOptions,
  publish,
  printTable,
  ratio,
  stats,
  type BenchOptions,
  type BenchReport,
  type Check,
  type Ratio,
  type Stats,
} from './lib.js';

const COPY_TARGET = 1; // at least parity
const SIZE_INDEPENDENCE = 1.5; // transfer p50 of 1 GiB within 1.5x of 64 KiB's

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

// The handler both peers run: messages are [op, payload].
//   echo  -> send the payload back (copied)
//   ack   -> reply with a small number (byteLength of a buffer, else 0)
//   keep  -> keep the (transferred) buffer, reply with its last byte
//   give  -> transfer the kept buffer back
//   echoT -> transfer the buffer straight back
const handlerBody = `
let kept = null;
function handle(msg, post) {
  const op = msg[0], v = msg[1];
  switch (op) {
    case 'echo': post(v); break;
    case 'ack': post(v instanceof ArrayBuffer ? v.byteLength : 0); break;
    case 'keep': kept = v; post(new Uint8Array(v)[v.byteLength - 1]); break;
    case 'give': { const b = kept; kept = null; post(b, [b]); break; }
    case 'echoT': post(v, [v]); break;
    default: post('unknown op ' + op);
  }
}`;

const agentSource = `${handlerBody}
onmessage = (e) => handle(e.data, (v, t) => postMessage(v, t));`;

const workerSource = `${handlerBody}
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (m) => handle(m, (v, t) => parentPort.postMessage(v, t)));
parentPort.postMessage('ready');`;

/** A ~`bytes` (V8-serialized) graph of small objects with strings, numbers, nested objects, arrays and shared references. */
function makeGraph(bytes: number): { graph: unknown; size: number } {
  const shared = { kind: 'shared', weight: 0.25 };
  const build = (count: number) => {
    const items = [];
    for (let i = 0; i < count; i++) {
      items.push({
        id: i,
        name: `item-${i}`,
        score: i * 1.5,
        active: i % 2 === 0,
        tags: ['alpha', 'beta', i % 7 === 0 ? 'gamma' : 'delta'],
        pos: { x: i * 0.5, y: -i, z: null },
        ref: shared,
      });
    }
    return { version: 1, created: new Date(0), items, index: new Map(items.slice(0, 100).map((it) => [it.id, it])) };
  };
  const perItem = serialize(build(1000)).length / 1000;
  let count = Math.round(bytes / perItem);
  let graph = build(count);
  let size = serialize(graph).length;
  count = Math.round((count * bytes) / size);
  graph = build(count);
  size = serialize(graph).length;
  return { graph, size };
}

/** Times `count` one-way sends of [op, value] that the thread acks; returns total and sync-send times. */
async function oneWay(echo: Echo, op: string, value: unknown, count: number, total: number[], send: number[]): Promise<void> {
  for (let i = 0; i < count; i++) {
    const t0 = now();
    echo.send([op, value]);
    const t1 = now();
    await echo.next();
    const t2 = now();
    total.push(t2 - t0);
    send.push(t1 - t0);
  }
}

interface OneWayResult {
  total: Stats;
  send: Stats;
  /** Process CPU time (user + system, all threads) per message, in ns: less sensitive to a busy machine than wall time. */
  cpuPerOp: number;
}

async function compareOneWay(
  agent: Echo,
  worker: Echo,
  op: string,
  value: unknown,
  { warmup, rounds, perRound }: { warmup: number; rounds: number; perRound: number },
): Promise<{ agent: OneWayResult; worker: OneWayResult }> {
  const sink: number[] = [];
  await oneWay(agent, op, value, warmup, sink, sink);
  await oneWay(worker, op, value, warmup, sink, sink);
  const at: number[] = [];
  const as: number[] = [];
  const wt: number[] = [];
  const ws: number[] = [];
  let agentCpu = 0;
  let workerCpu = 0;
  const cpu = (start: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(start);
    return (used.user + used.system) * 1000;
  };
  for (let r = 0; r < rounds; r++) {
    let c = process.cpuUsage();
    await oneWay(agent, op, value, perRound, at, as);
    agentCpu += cpu(c);
    c = process.cpuUsage();
    await oneWay(worker, op, value, perRound, wt, ws);
    workerCpu += cpu(c);
  }
  const n = rounds * perRound;
  return {
    agent: { total: stats(at), send: stats(as), cpuPerOp: agentCpu / n },
    worker: { total: stats(wt), send: stats(ws), cpuPerOp: workerCpu / n },
  };
}

interface TransferResult {
  oneWay: Stats;
  /** The synchronous postMessage() call of the one-way send (serialize + detach). */
  send: Stats;
  roundTrip: Stats;
  /** Host GCs (PerformanceObserver 'gc' entries) per timed iteration (one way + give back + round trip = 4 hops). */
  hostGcsPerIteration: number;
}

/** Transfer one way (thread keeps it, acks; given back untimed) and round trip (echoT). */
async function transferTimes(echo: Echo, size: number, count: number, warmup: number): Promise<TransferResult> {
  let buffer = new ArrayBuffer(size);
  new Uint8Array(buffer).fill(7);
  const oneWaySamples: number[] = [];
  const sendSamples: number[] = [];
  const roundTripSamples: number[] = [];
  let gcs = 0;
  const observer = new PerformanceObserver((list) => (gcs += list.getEntries().length));
  for (let i = 0; i < warmup + count; i++) {
    if (i === warmup) observer.observe({ entryTypes: ['gc'] });
    const t0 = now();
    echo.send(['keep', buffer], [buffer]);
    const ts = now();
    const last = await echo.next();
    const t1 = now();
    if (buffer.byteLength !== 0) throw new Error(`${echo.label}: transferred buffer not detached on the sender`);
    if (last !== 7) throw new Error(`${echo.label}: transferred buffer arrived with wrong content (${String(last)})`);
    echo.send(['give']);
    buffer = (await echo.next()) as ArrayBuffer;
    if (!(buffer instanceof ArrayBuffer) || buffer.byteLength !== size) throw new Error(`${echo.label}: buffer did not come back`);

    const t2 = now();
    echo.send(['echoT', buffer], [buffer]);
    buffer = (await echo.next()) as ArrayBuffer;
    const t3 = now();
    if (!(buffer instanceof ArrayBuffer) || buffer.byteLength !== size) throw new Error(`${echo.label}: buffer did not come back`);
    if (i >= warmup) {
      oneWaySamples.push(t1 - t0);
      sendSamples.push(ts - t0);
      roundTripSamples.push(t3 - t2);
    }
  }
  await new Promise((resolve) => setImmediate(resolve)); // let the observer deliver
  gcs += observer.takeRecords().length;
  observer.disconnect();
  return { oneWay: stats(oneWaySamples), send: stats(sendSamples), roundTrip: stats(roundTripSamples), hostGcsPerIteration: gcs / count };
}

// ---- thread -> thread: a driver and an echo joined by a channel.
// `start(data, reply)` runs in both peers; data = { role, port, count, warmup, value }.
const pairBody = `
function start(data, reply) {
  const port = data.port;
  if (data.role === 'echo') {
    port.onmessage = (e) => port.postMessage(e.data);
    reply('ready');
    return;
  }
  let resolveNext = null;
  port.onmessage = (e) => { const r = resolveNext; resolveNext = null; r(e.data); };
  const once = () => new Promise((resolve) => { resolveNext = resolve; port.postMessage(data.value); });
  (async () => {
    for (let i = 0; i < data.warmup; i++) await once();
    const samples = new Float64Array(data.count);
    for (let i = 0; i < data.count; i++) {
      const t0 = performance.now();
      await once();
      samples[i] = (performance.now() - t0) * 1e6;
    }
    reply(samples);
  })();
}`;

interface PairThread {
  post(data: unknown, transfer: unknown[]): void;
  next(): Promise<unknown>;
  stop(): Promise<unknown>;
}

function pairAgent(): PairThread {
  const agent = new Agent({ source: `${pairBody}\nonmessage = (e) => start(e.data, (v) => postMessage(v));`, name: 'bench-pair' });
  const queue: unknown[] = [];
  let waiter: ((v: unknown) => void) | undefined;
  agent.on('message', (v) => (waiter ? (waiter(v), (waiter = undefined)) : queue.push(v)));
  agent.on('error', (e) => console.error('agent error:', e));
  return {
    post: (data, transfer) => agent.postMessage(data, transfer as ArrayBuffer[]),
    next: () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => (waiter = r))),
    stop: () => agent.terminate(),
  };
}

function pairWorker(): PairThread {
  const worker = new Worker(
    `${pairBody}\nconst { parentPort } = require('node:worker_threads');\nparentPort.on('message', (data) => start(data, (v) => parentPort.postMessage(v)));`,
    { eval: true },
  );
  const queue: unknown[] = [];
  let waiter: ((v: unknown) => void) | undefined;
  worker.on('message', (v) => (waiter ? (waiter(v), (waiter = undefined)) : queue.push(v)));
  worker.on('error', (e) => console.error('worker error:', e));
  return {
    post: (data, transfer) => worker.postMessage(data, transfer as never),
    next: () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => (waiter = r))),
    stop: () => worker.terminate(),
  };
}

/** Round trips driver -> echo -> driver over a channel, timed in the driver. */
async function threadToThread(kind: 'agent' | 'worker', value: unknown, count: number, warmup: number): Promise<Stats> {
  const driver = kind === 'agent' ? pairAgent() : pairWorker();
  const echo = kind === 'agent' ? pairAgent() : pairWorker();
  try {
    const { port1, port2 } = kind === 'agent' ? new AgentChannel() : new MessageChannel();
    echo.post({ role: 'echo', port: port2 }, [port2]);
    if ((await echo.next()) !== 'ready') throw new Error(`${kind} echo did not start`);
    driver.post({ role: 'driver', port: port1, count, warmup, value }, [port1]);
    const samples = (await driver.next()) as Float64Array;
    if (!(samples instanceof Float64Array) || samples.length !== count) throw new Error(`${kind} driver sent no samples`);
    return stats(Array.from(samples));
  } finally {
    await driver.stop();
    await echo.stop();
  }
}

function ratioCell(agent: number, worker: number): string {
  const r = worker / agent;
  return r >= 1 ? `${fmtRatio(r)} faster` : `${fmtRatio(1 / r)} slower`;
}

export async function run(options: BenchOptions): Promise<BenchReport> {
  const q = options.quick;
  console.log(`\n=== clone: structured clone and transfer vs worker_threads postMessage (${q ? 'quick' : 'full'}) ===`);
  const ratios: Ratio[] = [];
  const checks: Check[] = [];
  const data: Record<string, unknown> = {};

  const agent = await startAgentEcho(agentSource);
  const worker = await startWorkerEcho(workerSource);
  try {
    // ---- small object round trip
    const small = { id: 7, name: 'small', ok: true, score: 3.25, tags: ['a', 'b'], nested: { x: 1, y: [1, 2, 3] } };
    const smallRt = await compareRoundTrips(
      { ...agent, send: (v) => agent.send(['echo', v]) },
      { ...worker, send: (v) => worker.send(['echo', v]) },
      small,
      { warmup: q ? 300 : 2000, rounds: q ? 2 : 4, perRound: q ? 300 : 2500 },
    );
    printTable(`Small object round trip (${serialize(small).length} B serialized; n=${smallRt.agent.n} each)`, roundTripHeaders, roundTripRows(smallRt));
    ratios.push(ratio('clone', 'small object round trip p50', smallRt.agent.p50, smallRt.worker.p50, 'ns', COPY_TARGET));
    ratios.push(ratio('clone', 'small object round trip p99', smallRt.agent.p99, smallRt.worker.p99, 'ns'));
    data.small = smallRt;

    // ---- 1 MiB object graph
    const { graph, size: graphSize } = makeGraph(MiB);
    const graphPlan = { warmup: q ? 3 : 5, rounds: q ? 2 : 3, perRound: q ? 5 : 10 };
    const graphOne = await compareOneWay(agent, worker, 'ack', graph, graphPlan);
    const graphRt = await compareOneWay(agent, worker, 'echo', graph, graphPlan);
    // ---- 64 MiB ArrayBuffer copied
    const copyBuffer = new ArrayBuffer(64 * MiB);
    new Uint8Array(copyBuffer).fill(3);
    const copyPlan = { warmup: q ? 1 : 2, rounds: q ? 1 : 2, perRound: q ? 3 : 5 };
    const copyOne = await compareOneWay(agent, worker, 'ack', copyBuffer, copyPlan);
    const copyRt = await compareOneWay(agent, worker, 'echo', copyBuffer, copyPlan);

    const copyRow = (label: string, r: { agent: OneWayResult; worker: OneWayResult }, bytes: number): string[][] => [
      [`${label}: agent`, fmtTime(r.agent.total.p50), fmtTime(r.agent.total.p99), fmtTime(r.agent.send.p50), fmtThroughput(bytes, r.agent.total.p50), fmtTime(r.agent.cpuPerOp), '', ''],
      [
        `${label}: worker_threads`,
        fmtTime(r.worker.total.p50),
        fmtTime(r.worker.total.p99),
        fmtTime(r.worker.send.p50),
        fmtThroughput(bytes, r.worker.total.p50),
        fmtTime(r.worker.cpuPerOp),
        ratioCell(r.agent.total.p50, r.worker.total.p50),
        ratioCell(r.agent.cpuPerOp, r.worker.cpuPerOp),
      ],
    ];
    printTable(
      `Copies (graph: ${fmtBytes(graphSize)} serialized, n=${graphOne.agent.total.n}; 64 MiB ArrayBuffer, n=${copyOne.agent.total.n}; one way = send + the thread's small ack)`,
      ['case', 'p50', 'p99', 'postMessage() call p50', 'throughput (p50)', 'process CPU / msg', 'agent (p50)', 'agent (CPU)'],
      [
        ...copyRow('1 MiB graph one way', graphOne, graphSize),
        ...copyRow('1 MiB graph round trip', graphRt, 2 * graphSize),
        ...copyRow('64 MiB ArrayBuffer copy one way', copyOne, 64 * MiB),
        ...copyRow('64 MiB ArrayBuffer copy round trip', copyRt, 128 * MiB),
      ],
    );
    ratios.push(ratio('clone', '1 MiB object graph one way p50', graphOne.agent.total.p50, graphOne.worker.total.p50, 'ns', COPY_TARGET));
    ratios.push(ratio('clone', '1 MiB object graph round trip p50', graphRt.agent.total.p50, graphRt.worker.total.p50, 'ns', COPY_TARGET));
    ratios.push(ratio('clone', '64 MiB ArrayBuffer copy one way p50', copyOne.agent.total.p50, copyOne.worker.total.p50, 'ns', COPY_TARGET));
    ratios.push(ratio('clone', '64 MiB ArrayBuffer copy round trip p50', copyRt.agent.total.p50, copyRt.worker.total.p50, 'ns', COPY_TARGET));
    ratios.push(ratio('clone', '1 MiB object graph round trip, CPU/msg', graphRt.agent.cpuPerOp, graphRt.worker.cpuPerOp, 'ns'));
    ratios.push(ratio('clone', '64 MiB ArrayBuffer copy round trip, CPU/msg', copyRt.agent.cpuPerOp, copyRt.worker.cpuPerOp, 'ns'));
    data.graph = { size: graphSize, oneWay: graphOne, roundTrip: graphRt };
    data.copy64MiB = { oneWay: copyOne, roundTrip: copyRt };

    // ---- transfer
    // [label, bytes, samples, warm-up]
    const sizes: [string, number, number, number][] = [
      ['64 KiB', 64 * KiB, q ? 20 : 200, q ? 5 : 20],
      ['64 MiB', 64 * MiB, q ? 20 : 100, q ? 5 : 10],
      ['1 GiB', GiB, q ? 10 : 30, q ? 2 : 5],
    ];
    const transfer: Record<string, { agent: TransferResult; worker: TransferResult }> = {};
    for (const [label, size, tCount, tWarm] of sizes) {
      // Sequential per peer: each holds its own buffer, freed before the next size.
      const a = await transferTimes(agent, size, tCount, tWarm);
      const w = await transferTimes(worker, size, tCount, tWarm);
      transfer[label] = { agent: a, worker: w };
    }
    const rows: string[][] = [];
    for (const [label] of sizes) {
      const t = transfer[label]!;
      rows.push([
        `${label}: agent`,
        fmtTime(t.agent.send.p50),
        fmtTime(t.agent.oneWay.p50),
        fmtTime(t.agent.oneWay.p99),
        fmtTime(t.agent.roundTrip.p50),
        fmtTime(t.agent.roundTrip.p99),
        t.agent.hostGcsPerIteration.toFixed(2),
        '',
      ]);
      rows.push([
        `${label}: worker_threads`,
        fmtTime(t.worker.send.p50),
        fmtTime(t.worker.oneWay.p50),
        fmtTime(t.worker.oneWay.p99),
        fmtTime(t.worker.roundTrip.p50),
        fmtTime(t.worker.roundTrip.p99),
        t.worker.hostGcsPerIteration.toFixed(2),
        `one way ${ratioCell(t.agent.oneWay.p50, t.worker.oneWay.p50)}, rt ${ratioCell(t.agent.roundTrip.p50, t.worker.roundTrip.p50)}`,
      ]);
    }
    printTable(
      `ArrayBuffer transferred (n=${sizes.map(([l, , n]) => `${n} at ${l}`).join(', ')}; one way = send + ack, the thread keeps the buffer)`,
      ['size', 'postMessage() call p50', 'one way p50', 'one way p99', 'round trip p50', 'round trip p99', 'host GCs / iteration', 'agent (p50)'],
      rows,
    );
    const t64k = transfer['64 KiB']!;
    const t64 = transfer['64 MiB']!;
    const t1g = transfer['1 GiB']!;
    ratios.push(ratio('clone', '64 MiB transfer one way p50', t64.agent.oneWay.p50, t64.worker.oneWay.p50, 'ns'));
    ratios.push(ratio('clone', '1 GiB transfer one way p50', t1g.agent.oneWay.p50, t1g.worker.oneWay.p50, 'ns'));
    ratios.push(ratio('clone', '1 GiB transfer round trip p50', t1g.agent.roundTrip.p50, t1g.worker.roundTrip.p50, 'ns'));
    for (const [kind, key] of [
      ['one way', 'oneWay'],
      ['round trip', 'roundTrip'],
    ] as const) {
      const growth = t1g.agent[key].p50 / t64k.agent[key].p50;
      checks.push({
        bench: 'clone',
        name: `agent transfer ${kind} independent of size`,
        detail: `p50 64 KiB ${fmtTime(t64k.agent[key].p50)}, 64 MiB ${fmtTime(t64.agent[key].p50)}, 1 GiB ${fmtTime(t1g.agent[key].p50)}: 1 GiB / 64 KiB = ${fmtRatio(growth)} (target ≤ ${SIZE_INDEPENDENCE}x; 16384x the bytes)`,
        met: growth <= SIZE_INDEPENDENCE,
      });
    }
    data.transfer = transfer;

    // ---- agent -> agent (over AgentChannel) vs worker -> worker (over MessageChannel)
    const pairCount = q ? 1000 : 10000;
    const pairWarm = q ? 300 : 2000;
    const pairValue = { id: 7, name: 'small', ok: true };
    const a2a: { agent: Stats; worker: Stats } = { agent: await threadToThread('agent', pairValue, pairCount, pairWarm), worker: await threadToThread('worker', pairValue, pairCount, pairWarm) };
    printTable(
      `Thread to thread round trip of a small object, no host involved (AgentChannel vs MessageChannel, timed in the driver; n=${pairCount}, warm-up ${pairWarm})`,
      roundTripHeaders,
      roundTripRows(a2a),
    );
    ratios.push(ratio('clone', 'agent<->agent round trip p50 (vs worker<->worker)', a2a.agent.p50, a2a.worker.p50, 'ns'));
    data.threadToThread = a2a;

    const report: BenchReport = { name: 'clone', ratios, checks, data };
    return publish(report, options);
  } finally {
    await agent.stop();
    await worker.stop();
  }
}

if (isMain(import.meta.url)) await run(parseOptions());
