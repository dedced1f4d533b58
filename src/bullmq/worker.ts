// AgentWorker: a BullMQ Worker whose processor is an AgentPool. Each machine
// runs one per queue; its agents run the jobs. What maps to what:
//   job data            -> the task (structured clone into an agent)
//   job code's return   -> the job's result; a throw, OOM or timeout -> its failure, code first
//   job.updateProgress  -> (in the agent) a message on a per-job AgentPort -> BullMQ's job.updateProgress
//   BullMQ cancelJob / lost lock -> the signal given to pool.run -> the agent is terminated (replaced)
//   Worker concurrency  =  agents x tasks per agent + maxQueue: never more jobs than the pool can hold
//   close()             -> the Worker stops fetching and finishes its active jobs, then the pool closes
import { Worker, type ConnectionOptions, type Job, type WorkerOptions } from 'bullmq';
import { AgentChannel, type AgentPort } from '../clone/channel.js';
import { invalidOption } from '../scheduler/errors.js';
import { fillOptions, jobUrl, type AgentPoolOptions } from '../scheduler/options.js';
import { AgentPool } from '../scheduler/pool.js';
import { JobFailure } from './errors.js';
import { jobModuleSource, WRAPPER_EXPORT, type JobMessage, type JobTask } from './job-module.js';

/** BullMQ Worker options an AgentWorker leaves to its caller (concurrency follows the pool). */
export type AgentWorkerBullOptions = Omit<WorkerOptions, 'connection' | 'concurrency' | 'useWorkerThreads' | 'autorun'>;

export interface AgentWorkerOptions {
  /** The job module (path or file: URL): its export is called with a BullMQ-like `job`. */
  filename: string | URL;
  /** The export to call (default 'default'). Job code can switch on `job.name`. */
  export?: string;
  /** The Redis connection, as BullMQ takes it. */
  connection: ConnectionOptions;
  /**
   * AgentPool options. Defaults differ from a plain pool: minAgents = maxAgents
   * (agents stay warm), maxQueue = maxAgents x concurrentTasksPerAgent (one job
   * prefetched per slot); maxQueue must be finite.
   */
  pool?: Omit<AgentPoolOptions, 'filename' | 'source' | 'name'>;
  /** Other BullMQ Worker options (lockDuration, stalledInterval, maxStalledCount, limiter, ...). */
  worker?: AgentWorkerBullOptions;
  /** Give each job a progress/log channel (default true; false saves ~0.2 ms per job). */
  progress?: boolean;
  /** Start fetching jobs at once (default true); otherwise call `run()`. */
  autorun?: boolean;
}

/** The `job` argument of an AgentWorker's job code (inside the agent). */
export interface AgentJob<T = unknown> {
  id: string | undefined;
  name: string;
  data: T;
  attemptsMade: number;
  /** Becomes BullMQ's job.updateProgress (coalesced: a burst records the latest value). */
  updateProgress(progress: number | object): Promise<void>;
  /** Becomes BullMQ's job.log. */
  log(row: string): Promise<number>;
}

export class AgentWorker {
  readonly pool: AgentPool;
  readonly worker: Worker;
  /** Jobs this worker takes at once: pool slots + maxQueue. */
  readonly concurrency: number;
  readonly #export: string;
  readonly #progress: boolean;
  #closing: Promise<void> | undefined;

  constructor(queueName: string, options: AgentWorkerOptions) {
    if (options === null || typeof options !== 'object') throw invalidOption('options', 'an object');
    if (typeof queueName !== 'string' || queueName === '') throw invalidOption('queueName', 'a non-empty string');
    const exportName = options.export ?? 'default';
    if (typeof exportName !== 'string' || exportName === '') throw invalidOption('export', 'a non-empty string');
    if (options.progress !== undefined && typeof options.progress !== 'boolean') throw invalidOption('progress', 'a boolean');
    const userUrl = jobUrl(options.filename);
    const given = options.pool ?? {};
    // Validate and fill the pool's options once to size the Worker from them.
    const sized = fillOptions({ ...given, source: '' });
    if (given.maxQueue === Infinity) {
      throw invalidOption('pool.maxQueue', 'finite for an AgentWorker (it takes at most slots + maxQueue jobs)');
    }
    const slots = sized.maxAgents * sized.concurrency;
    const maxQueue = given.maxQueue === undefined ? slots : sized.maxQueue;
    this.concurrency = slots + maxQueue;
    this.#export = exportName;
    this.#progress = options.progress ?? true;

    this.pool = new AgentPool({
      minAgents: sized.maxAgents,
      ...given,
      // The Worker never holds more than `concurrency` jobs, so that bounds the
      // pool's queue. Not `maxQueue` itself: while an agent that died (OOM,
      // timeout, abort) is being replaced, fewer slots run and more jobs wait.
      maxQueue: this.concurrency,
      source: jobModuleSource(userUrl),
      name: WRAPPER_EXPORT,
    });
    // BullMQ hands the processor an AbortSignal only if it declares three parameters.
    const processor = (job: Job, token: string | undefined, signal?: AbortSignal): Promise<unknown> =>
      this.#process(job, token, signal);
    this.worker = new Worker(queueName, processor, {
      ...options.worker,
      connection: options.connection,
      concurrency: this.concurrency,
      autorun: options.autorun ?? true,
    });
    // A job whose lock could not be renewed will be retried elsewhere (stalled
    // path): stop running it here.
    this.worker.on('lockRenewalFailed', (jobIds: string[]) => {
      for (const id of jobIds) this.worker.cancelJob(id, 'lock lost');
    });
  }

  /** Agents started and Redis connected. */
  async ready(): Promise<void> {
    await Promise.all([this.pool.ready, this.worker.waitUntilReady()]);
  }

  /** Starts fetching jobs (with `autorun: false`). */
  run(): Promise<void> {
    return this.worker.run();
  }

  /** Graceful: take no new jobs, finish the active ones, then stop the agents. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.worker.close();
      await this.pool.close();
    })();
    return this.#closing;
  }

  async #process(job: Job, _token: string | undefined, signal: AbortSignal | undefined): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#runOnce(job, signal);
      } catch (error) {
        // The pool puts a task that waited inside an agent which was then
        // terminated (another job's abort, timeout or OOM) back in its queue,
        // but the AgentPort already moved into the dead agent, so re-sending
        // throws a DataCloneError. Job data is JSON and always clones: only
        // the port can cause it, so send the job again with a fresh port.
        // Only that host-side DOMException: a DataCloneError from the agent
        // (a result that cannot be cloned) means the job ran, and must not
        // run again.
        if (this.#progress && attempt < 4 && isPortResendFailure(error) && !signal?.aborted) continue;
        throw new JobFailure(error);
      }
    }
  }

  async #runOnce(job: Job, signal: AbortSignal | undefined): Promise<unknown> {
    const channel = this.#progress ? new AgentChannel() : undefined;
    const relay = channel ? new ProgressRelay(job, channel.port2) : undefined;
    const task: JobTask = {
      id: job.id,
      name: job.name,
      data: job.data,
      attemptsMade: job.attemptsMade,
      export: this.#export,
      port: channel?.port1 ?? null,
    };
    try {
      const result = await this.pool.run(task, {
        ...(signal ? { signal } : {}),
        // AgentPorts move like ArrayBuffers (the pool's type only names the latter).
        ...(channel ? { transferList: [channel.port1 as unknown as ArrayBuffer] } : {}),
      });
      await relay?.finished();
      return result;
    } finally {
      relay?.dispose();
    }
  }
}

/** The host could not post the task again: its AgentPort already moved (see #process). */
function isPortResendFailure(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'DataCloneError';
}

/**
 * Forwards one job's progress and log messages to BullMQ. Progress is
 * coalesced (at most one update in flight, then the latest value), log rows
 * are sent in order; Redis errors are dropped (the job's outcome decides).
 */
class ProgressRelay {
  readonly #job: Job;
  readonly #port: AgentPort;
  readonly #closed: Promise<void>;
  #chain: Promise<unknown> = Promise.resolve();
  #inFlight = false;
  #pending: { value: unknown } | undefined;
  #idle: Promise<void> = Promise.resolve();
  #settle: (() => void) | undefined;

  constructor(job: Job, port: AgentPort) {
    this.#job = job;
    this.#port = port;
    this.#closed = new Promise((resolve) => {
      port.onclose = () => resolve();
    });
    port.onmessage = (event) => this.#onMessage(event.data as JobMessage);
  }

  #onMessage(message: JobMessage): void {
    if (message === null || typeof message !== 'object') return;
    if ('progress' in message) {
      this.#pending = { value: message.progress };
      if (!this.#inFlight) this.#sendProgress();
    } else if ('log' in message) {
      const row = String(message.log);
      this.#chain = this.#chain.then(() => this.#job.log(row)).catch(() => {});
    }
  }

  #sendProgress(): void {
    const next = this.#pending;
    if (!next) {
      this.#inFlight = false;
      this.#settle?.();
      return;
    }
    if (!this.#inFlight) {
      this.#inFlight = true;
      this.#idle = new Promise((resolve) => (this.#settle = resolve));
    }
    this.#pending = undefined;
    this.#job
      .updateProgress(next.value as number | object)
      .catch(() => {})
      .then(() => {
        // The job code sends its next value only after this ack (job-module.ts).
        try {
          this.#port.postMessage({ ack: true });
        } catch {
          // the job finished and closed its end
        }
        this.#sendProgress();
      });
  }

  /** Resolves once the job code's port closed and every update reached Redis. */
  async finished(): Promise<void> {
    await this.#closed;
    await this.#idle;
    await this.#chain;
  }

  dispose(): void {
    this.#port.onmessage = null;
    this.#port.onclose = null;
    try {
      this.#port.close();
    } catch {
      // already closed by the other end
    }
  }
}
