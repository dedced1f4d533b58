// Flood: a thread posts to the main thread without limit. Agents (flow
// control: bounded drains, high-water mark) vs a worker_threads Worker, each
// in a fresh process, in one run: host setInterval(100 ms) lag (max, p99),
// RSS peak, time to terminate during the flood (issue 11, item 12).
//   node --import tsx bench/flood.ts [--quick]
import { fmtBytes, isMain, parseOptions, printTable, publish, runChild, type BenchOptions, type BenchReport, type Check } from './lib.js';

interface FloodResult {
  peer: 'agent' | 'worker';
  received: number;
  ticks: number;
  lagMaxMs: number;
  lagP99Ms: number;
  rssPeakBytes: number;
  terminateMs: number;
}

export async function run(options: BenchOptions = parseOptions()): Promise<BenchReport> {
  const floodMs = options.quick ? 1500 : 4000;
  const agent = await runChild<FloodResult>('flood-child.ts', ['agent', String(floodMs)]);
  const worker = await runChild<FloodResult>('flood-child.ts', ['worker', String(floodMs)]);
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  printTable(
    `Flood: 1 KiB strings without limit for ${floodMs} ms, host setInterval(100 ms)`,
    ['metric', 'agent', 'worker_threads'],
    [
      ['timer lag max', ms(agent.lagMaxMs), ms(worker.lagMaxMs)],
      ['timer lag p99', ms(agent.lagP99Ms), ms(worker.lagP99Ms)],
      ['timer ticks', String(agent.ticks), String(worker.ticks)],
      ['RSS peak', fmtBytes(agent.rssPeakBytes), fmtBytes(worker.rssPeakBytes)],
      ['messages received', String(agent.received), String(worker.received)],
      ['terminate during flood', ms(agent.terminateMs), ms(worker.terminateMs)],
    ],
  );
  const checks: Check[] = [
    { bench: 'flood', name: 'host timer lag (max) under 500 ms', detail: `agent ${ms(agent.lagMaxMs)}, worker_threads ${ms(worker.lagMaxMs)}`, met: agent.lagMaxMs < 500 },
    { bench: 'flood', name: 'RSS peak bounded (under 512 MiB)', detail: `agent ${fmtBytes(agent.rssPeakBytes)}, worker_threads ${fmtBytes(worker.rssPeakBytes)}`, met: agent.rssPeakBytes < 512 * 1024 * 1024 },
    { bench: 'flood', name: 'terminate during the flood under 1 s', detail: `agent ${ms(agent.terminateMs)}, worker_threads ${ms(worker.terminateMs)}`, met: agent.terminateMs < 1000 },
  ];
  return publish({ name: 'flood', ratios: [], checks, data: { agent, worker, floodMs } }, options);
}

if (isMain(import.meta.url)) await run();
