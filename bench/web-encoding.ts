// TextEncoder.encode / TextDecoder.decode of 1 MiB in an agent (native
// codec, native/agent/web/encoding.cc) vs the same code in a worker_thread
// (Node's, simdutf/ICU), timed inside each thread (issue 14).
//   node --import tsx bench/web-encoding.ts [--quick]
import { Worker } from 'node:worker_threads';
import { Agent } from '../src/index.js';
import { fmtRatio, fmtTime, isMain, parseOptions, printTable, publish, ratio, type BenchOptions, type BenchReport } from './lib.js';

// Runs in either thread: best-of-rounds ns per call for each case.
const KERNEL = `(rounds, iterations) => {
  const ascii = 'abcdefghijklmnopqrstuvwxyz0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ.,;'.repeat(16384).slice(0, 1 << 20);
  const mixed = 'a\u00e9\u20ac\u{1F600}text '.repeat(1 << 16).slice(0, 1 << 19);
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const asciiBytes = encoder.encode(ascii);
  const mixedBytes = encoder.encode(mixed);
  const time = (f) => {
    let best = Infinity;
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      for (let i = 0; i < iterations; i++) f();
      best = Math.min(best, ((performance.now() - t0) * 1e6) / iterations);
    }
    return best;
  };
  return {
    'encode 1 MiB ASCII': time(() => encoder.encode(ascii)),
    'decode 1 MiB ASCII': time(() => decoder.decode(asciiBytes)),
    ['encode mixed UTF-8 (' + mixedBytes.length + ' B)']: time(() => encoder.encode(mixed)),
    ['decode mixed UTF-8 (' + mixedBytes.length + ' B)']: time(() => decoder.decode(mixedBytes)),
  };
}`;

async function inAgent(rounds: number, iterations: number): Promise<Record<string, number>> {
  const agent = new Agent({ source: '' });
  try {
    return await agent.evaluate<Record<string, number>>(`(${KERNEL})(${rounds}, ${iterations})`);
  } finally {
    await agent.terminate();
  }
}

async function inWorker(rounds: number, iterations: number): Promise<Record<string, number>> {
  const worker = new Worker(`require('node:worker_threads').parentPort.postMessage((${KERNEL})(${rounds}, ${iterations}));`, { eval: true });
  try {
    return await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  } finally {
    await worker.terminate();
  }
}

export async function run(options: BenchOptions): Promise<BenchReport> {
  const rounds = options.quick ? 3 : 7;
  const iterations = options.quick ? 10 : 40;
  console.log(`\n=== web-encoding: TextEncoder/TextDecoder in an agent vs a worker (${options.quick ? 'quick' : 'full'}) ===`);
  const agent = await inAgent(rounds, iterations);
  const worker = await inWorker(rounds, iterations);
  const rows = Object.keys(agent).map((name) => [name, fmtTime(agent[name]!), fmtTime(worker[name]!), fmtRatio(agent[name]! / worker[name]!)]);
  printTable('best of rounds, per call', ['case', 'agent', 'worker', 'agent/worker'], rows);
  const ratios = Object.keys(agent).map((name) => ratio('web-encoding', name, agent[name]!, worker[name]!, 'ns'));
  return publish({ name: 'web-encoding', ratios, checks: [], data: { agent, worker } }, options);
}

if (isMain(import.meta.url)) await run(parseOptions(process.argv.slice(2)));
