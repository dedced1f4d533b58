// Child process of bench/spawn.ts: measures the resident memory of N idle
// agents or N idle worker_threads in a fresh process, so the two baselines
// never mix. Run with --expose-gc:
//   node --expose-gc --import tsx bench/spawn-rss-child.ts <agent|worker> <count>
// Prints one JSON line (RssChildResult) last.
import { Worker } from 'node:worker_threads';
import { Agent } from '../src/index.js';
import { rssBytes, sleep } from './lib.js';

export interface RssChildResult {
  kind: 'agent' | 'worker';
  count: number;
  /** RSS with the module loaded and nothing spawned. */
  base: number;
  /** RSS after the first `firstCount` are up (one-time costs land here). */
  firstCount: number;
  afterFirst: number;
  /** RSS with all `count` idle. */
  afterAll: number;
  /** (afterAll - base) / count: one-time costs included. */
  perIdle: number;
  /** (afterAll - afterFirst) / (count - firstCount): the cost of one more. */
  marginal: number;
}

interface Spawned {
  ready: Promise<unknown>;
  stop(): Promise<unknown>;
}

const workerSource = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', () => {});   // stay alive, idle
parentPort.postMessage('ready');
`;

function spawnOne(kind: 'agent' | 'worker'): Spawned {
  if (kind === 'agent') {
    const agent = new Agent({ source: 'onmessage = () => {};' });
    return { ready: agent.ready, stop: () => agent.terminate() };
  }
  const worker = new Worker(workerSource, { eval: true });
  return {
    ready: new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    }),
    stop: () => worker.terminate(),
  };
}

async function settle(): Promise<number> {
  // Let threads finish their startup work, then collect the host's garbage
  // so only what the idle threads hold remains.
  await sleep(300);
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await sleep(50);
  }
  return rssBytes();
}

async function main(): Promise<void> {
  const kind = process.argv[2];
  const count = Number(process.argv[3] ?? 50);
  if (kind !== 'agent' && kind !== 'worker') throw new Error('usage: spawn-rss-child.ts <agent|worker> <count>');
  const firstCount = Math.max(1, Math.floor(count / 5));

  const base = await settle();
  const spawned: Spawned[] = [];
  // Spawn a few at a time: the measurement is about idle memory, not startup peaks.
  const spawnBatch = async (upTo: number) => {
    while (spawned.length < upTo) {
      const batch: Spawned[] = [];
      for (let i = 0; i < 5 && spawned.length + batch.length < upTo; i++) batch.push(spawnOne(kind));
      await Promise.all(batch.map((s) => s.ready));
      spawned.push(...batch);
    }
  };
  await spawnBatch(firstCount);
  const afterFirst = await settle();
  await spawnBatch(count);
  const afterAll = await settle();

  await Promise.all(spawned.map((s) => s.stop()));
  const result: RssChildResult = {
    kind,
    count,
    base,
    firstCount,
    afterFirst,
    afterAll,
    perIdle: (afterAll - base) / count,
    marginal: (afterAll - afterFirst) / Math.max(1, count - firstCount),
  };
  console.log(JSON.stringify(result));
}

await main();
