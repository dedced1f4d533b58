// One consumer process of bench/bullmq.ts:
//   bullmq-consumer.ts <variant> <redis port> <queue> <slots>
// agents: an AgentWorker with `slots` agents and no prefetch (concurrency =
// slots); agents-prefetch: its defaults (concurrency = 2 x slots); process /
// threads: BullMQ's own sandboxed processor (child processes /
// useWorkerThreads) with concurrency `slots`. Prints "ready", closes on SIGTERM.
import { fileURLToPath } from 'node:url';
import { Worker } from 'bullmq';
import { AgentWorker } from '../src/bullmq/index.js';

const [variant, port, queue, slotsText] = process.argv.slice(2);
const slots = Number(slotsText);
const connection = { host: '127.0.0.1', port: Number(port), maxRetriesPerRequest: null };
let close: () => Promise<void>;
if (variant === 'agents' || variant === 'agents-prefetch') {
  const w = new AgentWorker(queue!, {
    filename: new URL('./bullmq-jobs/job.mjs', import.meta.url),
    connection,
    pool: { maxAgents: slots, ...(variant === 'agents' ? { maxQueue: 0 } : {}) },
  });
  await w.ready();
  close = () => w.close();
} else {
  const w = new Worker(queue!, fileURLToPath(new URL('./bullmq-jobs/job.cjs', import.meta.url)), {
    connection,
    // One child (process or thread) per concurrent job.
    concurrency: slots,
    useWorkerThreads: variant === 'threads',
  });
  await w.waitUntilReady();
  close = () => w.close();
}
process.stdout.write('ready\n');
process.once('SIGTERM', () => void close().then(() => process.exit(0)));
