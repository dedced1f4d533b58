// The stress harness (agentcluster/stress), measured:
//   node --import tsx bench/stress.ts [--quick]
//
// 1. Litmus iterations/s: the two-actor store-buffering test (plain), run by
//    the harness on two agents, side by side in one run with the same
//    harness loop (dist/src/stress/agent-loop.js, the very module agents
//    run) on two worker_threads: the peer a user would otherwise build.
//    Rounds alternate agents / workers; the median is reported.
// 2. The linearizability checker's cost per checked operation on a
//    10 000-operation history of a FIFO queue (4 agents, each operation
//    overlapping up to 3 others, the queue kept short as in tests),
//    recorded by simulating a correct concurrent queue: each operation
//    takes effect at a random instant inside its interval. No peer: the
//    figure is absolute. (Long queues with many concurrent pushes are the
//    checker's hard case: the order of concurrent pushes stays open until
//    their pops; the memo is capped, see CheckOptions.memoBytes.)
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { loadTests } from '../src/stress/load.js';
import { runLitmus } from '../src/stress/litmus-runner.js';
import { C_BAD_ROUND, C_HOST_STOP, C_ROUNDS, controlWords } from '../src/stress/control.js';
import { MIN_RESULT_WIDTH } from '../src/stress/litmus-layout.js';
import { checkLinearizable, type HistoryOperation } from '../src/stress/linearizability.js';
import type { LitmusTest, SequentialModel } from '../src/stress/define.js';
import { fmtRatio, isMain, parseOptions, printTable, repoRoot, type BenchOptions } from './lib.js';

const sbFile = join(repoRoot, 'examples', 'stress', 'store-buffering.mjs');
const loopFile = join(repoRoot, 'dist', 'src', 'stress', 'agent-loop.js');
const BATCH = 1024;

/** The peer: the same actor loop on worker_threads (postMessage mapped to the parent port). */
async function workersRun(test: LitmusTest, durationMs: number): Promise<number> {
  const actors = test.actors.length;
  const control = new SharedArrayBuffer(4 * controlWords(actors));
  const ctl = new Int32Array(control);
  Atomics.store(ctl, C_BAD_ROUND, -1);
  const state = new SharedArrayBuffer(16 * BATCH);
  // The layout runLitmus uses for a test whose outcome keys have at most 8 values (litmus-layout.ts).
  const resultWidth = MIN_RESULT_WIDTH;
  const results = new SharedArrayBuffer(8 * (actors + 1) * BATCH * resultWidth);
  const resultKinds = new SharedArrayBuffer((actors + 1) * BATCH * resultWidth);
  const fields = [{ name: 'x', type: 'Int32Array', length: 1, offset: 0 }, { name: 'y', type: 'Int32Array', length: 1, offset: 8 }];
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    globalThis.postMessage = (value) => parentPort.postMessage(value);
    Promise.all([import(${JSON.stringify(pathToFileURL(sbFile).href)}), import(${JSON.stringify(pathToFileURL(loopFile).href)})])
      .then(([ns, loop]) => loop.runLitmusActor(ns, workerData));`;
  let done!: (ms: number) => void;
  const finished = new Promise<number>((r) => (done = r));
  const workers = Array.from({ length: actors }, (_, k) => {
    const worker = new Worker(source, {
      eval: true,
      workerData: { testId: 'default', agentIndex: k, actors, batch: BATCH, maxRounds: 2 ** 31 - 1, control, state, results, resultKinds, resultWidth, fields, stride: 16, perturb: false, seed: k, stopOn: [] },
    });
    worker.on('message', (m: { done?: boolean; elapsedMs?: number }) => m.done && done(m.elapsedMs!));
    return worker;
  });
  const timer = setTimeout(() => Atomics.store(ctl, C_HOST_STOP, 1), durationMs);
  const elapsed = await finished;
  clearTimeout(timer);
  const iterations = Atomics.load(ctl, C_ROUNDS) * BATCH;
  await Promise.all(workers.map((w) => w.terminate()));
  return (iterations * 1000) / elapsed;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function litmusBench(options: BenchOptions): Promise<{ agents: number; workers: number }> {
  const [found] = await loadTests(sbFile);
  const test = found!.test as LitmusTest;
  const rounds = options.quick ? 3 : 7;
  const durationMs = options.quick ? 300 : 1000;
  const agents: number[] = [];
  const workers: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const r = await runLitmus(found!.file, found!.id, test, { seed: i, durationMs, batch: BATCH });
    agents.push(r.iterationsPerSecond);
    workers.push(await workersRun(test, durationMs));
  }
  return { agents: median(agents), workers: median(workers) };
}

type QueueOp = { type: 'push'; value: number } | { type: 'pop' };
const queueModel: SequentialModel<unknown, QueueOp, unknown> = {
  init: () => [],
  step: (s, op) => {
    const items = s as number[];
    if (op.type === 'push') return [[...items, op.value], true];
    return items.length === 0 ? [items, null] : [items.slice(1), items[0]];
  },
};

/** A correct queue's history: `agents` agents back to back, each op effective at a random instant of its interval. */
function simulatedHistory(ops: number, agents: number, seed: number): Array<HistoryOperation<QueueOp>> {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const free = new Array<number>(agents).fill(0);
  let length = 0; // roughly the queue's length: tests keep queues short, and so does this workload
  const planned: Array<{ agent: number; op: QueueOp; invoke: number; effect: number; response: number }> = [];
  for (let i = 0; i < ops; i++) {
    const agent = i % agents;
    const invoke = free[agent]! + 1 + rand() * 2;
    const response = invoke + 1 + rand() * 6;
    free[agent] = response;
    const op: QueueOp = rand() < (length < 4 ? 0.6 : 0.3) ? { type: 'push', value: i } : { type: 'pop' };
    length = Math.max(0, length + (op.type === 'push' ? 1 : -1));
    planned.push({ agent, op, invoke, effect: invoke + rand() * (response - invoke), response });
  }
  let queue: unknown = queueModel.init();
  const results = new Map<number, unknown>();
  const byEffect = planned.map((p, i) => [p.effect, i] as const).sort((x, y) => x[0] - y[0]);
  for (const [, i] of byEffect) {
    const [next, result] = queueModel.step(queue, planned[i]!.op);
    queue = next;
    results.set(i, result);
  }
  // Stamps as a shared clock gives them: ranks of the event times.
  const times = planned.flatMap((p) => [p.invoke, p.response]).sort((x, y) => x - y);
  const rank = new Map(times.map((t, i) => [t, i + 1]));
  return planned.map((p, i) => ({ agent: p.agent, op: p.op, result: results.get(i), invoke: rank.get(p.invoke)!, response: rank.get(p.response)! }));
}

/** The same history's operations spread over 100 independent queues (keys), checked with a partition. */
type KeyedOp = QueueOp & { key: number };
const keyedModel = queueModel as unknown as SequentialModel<unknown, KeyedOp, unknown>;
function keyedHistory(ops: number, agents: number, seed: number): Array<HistoryOperation<KeyedOp>> {
  const perKey = Array.from({ length: 100 }, (_, key) =>
    simulatedHistory(ops / 100, agents, seed + key).map((o) => ({ ...o, op: { ...o.op, key }, invoke: o.invoke * 100 + key, response: o.response! * 100 + key })));
  return perKey.flat();
}

function checkerBench<Op>(options: BenchOptions, history: Array<HistoryOperation<Op>>, model: SequentialModel<unknown, Op, unknown>, partition?: (op: Op) => number): { nsPerOp: number; explored: number } {
  const rounds = options.quick ? 1 : 3;
  const samples: number[] = [];
  let explored = 0;
  for (let i = 0; i < rounds; i++) {
    const t = process.hrtime.bigint();
    const result = checkLinearizable(history, model, partition ? { partition } : {});
    samples.push(Number(process.hrtime.bigint() - t));
    if (!result.ok) throw new Error(`the simulated history of a correct queue must be linearizable: ${result.explanation?.slice(0, 3000)}`);
    explored = result.explored;
  }
  return { nsPerOp: median(samples) / history.length, explored };
}

export async function run(options: BenchOptions = parseOptions()): Promise<void> {
  const litmus = await litmusBench(options);
  printTable('Litmus: two-actor store buffering (plain), iterations/s, median of rounds', ['harness on', 'iterations/s', 'vs worker_threads'], [
    ['agents (agentcluster stress)', Math.round(litmus.agents).toLocaleString('en-US'), fmtRatio(litmus.agents / litmus.workers)],
    ['worker_threads, same loop', Math.round(litmus.workers).toLocaleString('en-US'), '1.00x'],
  ]);
  const one = checkerBench(options, simulatedHistory(10_000, 4, 1), queueModel);
  const keyed = checkerBench(options, keyedHistory(10_000, 4, 1), keyedModel, (op) => op.key);
  printTable('Linearizability checker: 10 000-operation FIFO queue histories, 4 agents', ['history', 'cost per checked operation', 'configurations explored'], [
    ['one queue', `${(one.nsPerOp / 1000).toFixed(1)} µs`, one.explored.toLocaleString('en-US')],
    ['100 queues, partitioned by key', `${(keyed.nsPerOp / 1000).toFixed(1)} µs`, keyed.explored.toLocaleString('en-US')],
  ]);
}

if (isMain(import.meta.url)) await run();
