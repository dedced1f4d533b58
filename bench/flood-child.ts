// One flood, measured in a fresh process (bench/flood.ts runs it once per
// peer): a thread posts 1 KiB strings without limit to the main thread for
// `ms`, while the host runs a 100 ms setInterval. Prints one JSON line:
// timer lag (max, p99), RSS peak, messages received, time to terminate.
//   node --import tsx bench/flood-child.ts agent|worker [ms]
import { Worker } from 'node:worker_threads';
import { Agent } from '../src/index.js';
import { percentile } from './lib.js';

const peer = process.argv[2] === 'worker' ? 'worker' : 'agent';
const floodMs = Number(process.argv[3] ?? 3000);
const source = "const chunk = 'x'.repeat(1024); for (;;) postMessage(chunk);";

let received = 0;
let stop: () => Promise<unknown>;
if (peer === 'agent') {
  const agent = new Agent({ source });
  agent.on('message', () => received++);
  stop = () => agent.terminate();
} else {
  const worker = new Worker(`const { parentPort } = require('node:worker_threads'); const postMessage = (v) => parentPort.postMessage(v); ${source}`, { eval: true });
  worker.on('message', () => received++);
  stop = () => worker.terminate();
}

const lags: number[] = [];
let rssPeak = process.memoryUsage.rss();
let last = performance.now();
const timer = setInterval(() => {
  const now = performance.now();
  lags.push(Math.max(0, now - last - 100));
  last = now;
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
}, 100);
await new Promise((resolve) => setTimeout(resolve, floodMs));
lags.push(Math.max(0, performance.now() - last - 100)); // the gap still open at the end
const started = performance.now();
await stop();
const terminateMs = performance.now() - started;
clearInterval(timer);
lags.sort((a, b) => a - b);
console.log(JSON.stringify({ peer, received, ticks: lags.length, lagMaxMs: lags.at(-1), lagP99Ms: percentile(lags, 99), rssPeakBytes: rssPeak, terminateMs }));
