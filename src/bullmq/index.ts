// agentcluster/bullmq: AgentPool as the processor of a BullMQ queue
// (bullmq is a peer dependency). See docs/distributed.md.
export { AgentWorker } from './worker.js';
export type { AgentJob, AgentWorkerBullOptions, AgentWorkerOptions } from './worker.js';
export { JobFailure } from './errors.js';
