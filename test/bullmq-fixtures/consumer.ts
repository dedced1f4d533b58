// One consumer process (a stand-in for one machine) for test/bullmq.test.ts:
//   consumer.ts <redis port> <queue> <agents> [lockDurationMs]
// Prints "ready", then "done <jobId>" per completed job, "stalled <jobId>"
// per job it found stalled (and moved back to wait), "failed <jobId> <reason>";
// on SIGTERM it closes gracefully and prints "closed".
import { AgentWorker } from '../../src/bullmq/index.js';

const [port, queue, agents, lockDuration] = process.argv.slice(2);
const worker = new AgentWorker(queue!, {
  filename: new URL('./job.mjs', import.meta.url),
  connection: { host: '127.0.0.1', port: Number(port), maxRetriesPerRequest: null },
  pool: { maxAgents: Number(agents), resourceLimits: { maxHeapMB: 32 }, taskTimeout: 10_000 },
  worker: {
    lockDuration: Number(lockDuration ?? 30_000),
    stalledInterval: Math.max(500, Number(lockDuration ?? 30_000) / 2),
    maxStalledCount: 5,
  },
});
const out: string[] = [];
let flushing = false;
// Batch the lines: 10k jobs, one write per tick.
const say = (line: string): void => {
  out.push(line);
  if (!flushing) {
    flushing = true;
    setImmediate(() => {
      flushing = false;
      process.stdout.write(out.splice(0).join('\n') + '\n');
    });
  }
};
worker.worker.on('completed', (job) => say(`done ${job.id}`));
worker.worker.on('failed', (job, error) => say(`failed ${job?.id} ${error.message.split('\n')[0]}`));
worker.worker.on('stalled', (jobId) => say(`stalled ${jobId}`));
worker.worker.on('error', (error) => process.stderr.write(`worker error: ${error.message}\n`));
await worker.ready();
say(`ready concurrency=${worker.concurrency}`);
process.once('SIGTERM', () => {
  void worker.close().then(() => {
    process.stdout.write(out.splice(0).join('\n') + '\nclosed\n');
  });
});
