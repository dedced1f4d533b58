// One agent of the pool and what the pool knows about it: how many tasks it
// holds, how they are posted (to an idle agent at once and unwrapped; to a
// busy one batched per tick), the shared cancel ring and signal block (see
// agent-bootstrap.ts), and whether it keeps the host alive.
import { Agent, type ExitInfo } from '../agent/agent.js';
import { AgentError } from '../agent/errors.js';
import type { HostFunctions, ResourceLimits } from '../agent/options.js';
import type { HighWaterMark } from '../flow-control.js';
import { extraBuiltinsKey, moduleGraphKey, type ModuleGraph } from '../modules/index.js';
import { jobNamespaceBuiltins } from './job-namespace.js';
import { bootstrapSource, type BootstrapConfig } from './agent-bootstrap.js';
import { PoolError } from './errors.js';
import { createSignalBlock, SignalWord, signalViews } from './signal-block.js';
import type { Task } from './task.js';

/** What a slot reports to its pool. */
export interface SlotOwner {
  slotReady(slot: AgentSlot): void;
  /** A batch [id, value, ms, ...] (see agent-bootstrap.ts). */
  slotMessage(slot: AgentSlot, message: unknown[]): void;
  /** One task fulfilled, sent unwrapped. */
  slotResult(slot: AgentSlot, id: number, value: unknown, ms: number): void;
  slotExit(slot: AgentSlot, info: ExitInfo): void;
  /** A task's payload could not be posted (not cloneable, bad transfer list). */
  postFailed(task: Task, error: unknown): void;
  /** A broadcast value could not be posted. */
  broadcastFailed(slot: AgentSlot, bid: number, error: unknown): void;
}

export interface SlotOptions {
  name: string;
  url: string;
  exportName: string;
  concurrency: number;
  /** Tasks an agent may hold beyond `concurrency` (the prefetch window). */
  maxPrefetch: number;
  resourceLimits: ResourceLimits | undefined;
  canBlock: boolean;
  highWaterMark: Required<HighWaterMark>;
  data: unknown;
  host: HostFunctions | undefined;
  /** The pool's module graph of the job, one for all its agents. */
  moduleGraph: ModuleGraph;
  env: Record<string, string> | undefined;
  /** A pool's agents always check their imports: the graph plus these. */
  moduleRoots: readonly string[];
}

const SEQ_MAX = 0x3fffffff;
const { TASK: SIG_TASK, AGENT_SEEN: SIG_AGENT_SEEN, RESULT: SIG_RESULT, HOST_SEEN: SIG_HOST_SEEN, NAME: SIG_NAME } = SignalWord;

function ringSize(capacity: number): number {
  let size = 64;
  while (size < capacity + 1) size *= 2;
  return size;
}

export class AgentSlot {
  readonly agent: Agent;
  readonly ctl: Int32Array;
  readonly #mask: number;
  readonly #owner: SlotOwner;
  state: 'starting' | 'ready' | 'dying' | 'exited' = 'starting';
  /** Tasks given to this agent and not settled yet (in the outbox or in the agent); see take()/settle(). */
  #inflight = 0;
  /** Broadcasts sent and not acknowledged; see pushBroadcast()/acknowledge(). */
  #acks = 0;
  /** Whether it keeps the host alive (busy, or idle for less than a housekeeping tick). */
  referenced = true;
  /** Bumped by every task given; the pool's housekeeping tells idle agents by it. */
  activity = 0;
  /** Housekeeping: `activity` when last looked at, and how many ticks it stayed idle since. */
  seenActivity = -1;
  idleTicks = 0;
  /** The uncaught error or startup failure the agent reported, if any. */
  failure: unknown = undefined;
  /** Whether it ever became ready (an exit before that is a failed start). */
  started = false;
  /** Terminated by the pool on purpose (cancellation, idle, close). */
  retired = false;
  /** Broadcasts that came while it was starting, delivered once it is ready. */
  early: [bid: number, value: unknown][] = [];
  #seq = 0;
  readonly #sig: Int32Array;
  readonly #sigMs: Float64Array;
  /** Messages posted to the agent / handled from it (int32 wrap-around counters, see agent-bootstrap.ts). */
  #posted = 0;
  #seen = 0;
  /** Export names sent to the agent so far, numbered in the order it saw them. */
  readonly #names = new Map<string, number>();
  #message: unknown[] = [];
  #tasks: (Task | null)[] = [];
  #hasTransfer = false;
  #flushQueued = false;
  readonly #flush = () => this.#post();

  constructor(options: SlotOptions, owner: SlotOwner) {
    this.#owner = owner;
    const sab = new SharedArrayBuffer(4 * ringSize(options.concurrency + options.maxPrefetch));
    this.ctl = new Int32Array(sab);
    this.#mask = this.ctl.length - 1;
    const sig = createSignalBlock();
    const views = signalViews(sig);
    this.#sig = views.words;
    this.#sigMs = views.resultMs;
    const config: BootstrapConfig = {
      url: options.url,
      name: options.exportName,
      ctl: sab,
      sig,
      concurrency: options.concurrency,
      data: options.data,
    };
    this.agent = new Agent({
      source: bootstrapSource,
      type: 'module',
      name: options.name,
      resourceLimits: options.resourceLimits,
      canBlock: options.canBlock,
      highWaterMark: options.highWaterMark,
      ...(options.host === undefined ? {} : { host: options.host }),
      data: config,
      ...(options.env === undefined ? {} : { env: options.env }),
      moduleRoots: options.moduleRoots,
      [moduleGraphKey]: options.moduleGraph,
      [extraBuiltinsKey]: jobNamespaceBuiltins,
    });
    this.agent.on('message', (message) => {
      const id = this.#receive();
      if (id !== 0) owner.slotResult(this, id, message, this.#sigMs[0]!);
      else owner.slotMessage(this, message as unknown[]);
    });
    // A message the host cannot deserialize (a result nested deeper than the
    // host's stack allows, say) must fail its task, never leave it waiting.
    this.agent.on('messageerror', (cause) => {
      const id = this.#receive();
      const error = resultUnreadable(cause, id !== 0);
      if (id !== 0) owner.slotMessage(this, [-id, [0, error], this.#sigMs[0]!]);
      else this.#abandon(error); // a batch: which tasks it held is unreadable too
    });
    // Kept for the exit, when the pool knows which tasks it took down.
    this.agent.on('error', (error) => {
      if (this.failure === undefined) this.failure = error;
    });
    this.agent.on('exit', (info) => {
      this.state = 'exited';
      owner.slotExit(this, info);
    });
    this.agent.ready.then(
      () => {
        this.started = true;
        if (this.state !== 'starting') return;
        this.state = 'ready';
        owner.slotReady(this);
      },
      () => {}, // reported through 'error' and 'exit'
    );
  }

  /** Starting or ready: counts as one of the pool's agents. */
  get live(): boolean {
    return this.state === 'starting' || this.state === 'ready';
  }

  /** Tasks given to this agent and not settled yet. */
  get inflight(): number {
    return this.#inflight;
  }

  /** Holds no task and awaits no broadcast acknowledgement. */
  get idle(): boolean {
    return this.#inflight === 0 && this.#acks === 0;
  }

  /**
   * Takes a task. To an idle agent it is posted at once (latency); to a busy
   * one it goes out with the rest of this tick's tasks as one message
   * (throughput).
   */
  take(task: Task): void {
    const s = (this.#seq = this.#seq === SEQ_MAX ? 1 : this.#seq + 1);
    task.seq = s;
    task.slot = this;
    this.activity++;
    Atomics.store(this.ctl, s & this.#mask, s);
    this.#keepHostAlive();
    if (this.#inflight++ === 0 && this.#message.length === 0) {
      this.#postOne(task);
      return;
    }
    if (task.name !== undefined && !this.#names.has(task.name)) this.#names.set(task.name, this.#names.size);
    this.#message.push(task.id, task.payload, task.name);
    this.#tasks.push(task);
    if (task.transfer !== undefined) this.#hasTransfer = true;
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(this.#flush);
    }
  }

  /** A task it took is no longer its business (settled, or skipped by the agent). Returns whether it holds none now. */
  settle(): boolean {
    return --this.#inflight === 0;
  }

  /** Queues broadcast number `bid` in order with the tasks. */
  pushBroadcast(bid: number, value: unknown): void {
    // Awaiting its acknowledgement keeps the host alive, as a task does.
    this.#acks++;
    this.#keepHostAlive();
    this.#message.push(-bid, value, undefined);
    this.#tasks.push(null);
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(this.#flush);
    }
  }

  /**
   * Cancels a task given to this agent if it has not started: true if it
   * never will (the agent skips it), false if it is running or done.
   */
  cancel(task: Task): boolean {
    const s = task.seq;
    return Atomics.compareExchange(this.ctl, s & this.#mask, s, 0) === s;
  }

  /** A broadcast it was sent was handled (or could not be posted). */
  acknowledge(): void {
    this.#acks--;
  }

  /** Lets an idle, ready agent stop keeping the host alive (the pool's housekeeping calls it). */
  unrefIfIdle(): void {
    if (this.idle && this.referenced && this.state === 'ready') {
      this.referenced = false;
      this.agent.unref();
    }
  }

  /** Stops the agent; its exit still keeps the host alive until it is reported. */
  kill(): Promise<ExitInfo> {
    this.retired = true;
    return this.#terminate();
  }

  /** Stops the agent because of `error`: the tasks it took down fail with it (see the pool's exit error). */
  #abandon(error: PoolError): void {
    this.failure = error;
    this.#terminate().catch(() => {});
  }

  #terminate(): Promise<ExitInfo> {
    if (this.live) this.state = 'dying';
    this.#keepHostAlive();
    return this.agent.terminate();
  }

  #keepHostAlive(): void {
    if (!this.referenced) {
      this.referenced = true;
      this.agent.ref();
    }
  }

  /**
   * Bookkeeping of every message from the agent: the task id it carries in
   * shared memory (0 for a batch), cleared before `seen` is published (see
   * agent-bootstrap.ts).
   */
  #receive(): number {
    const sig = this.#sig;
    const id = Atomics.load(sig, SIG_RESULT);
    if (id !== 0) Atomics.store(sig, SIG_RESULT, 0);
    Atomics.store(sig, SIG_HOST_SEEN, (this.#seen = (this.#seen + 1) | 0));
    return id;
  }

  /** Posts, and counts what was posted. */
  #send(value: unknown, transfer?: readonly ArrayBuffer[]): void {
    this.agent.postMessage(value, transfer);
    this.#posted = (this.#posted + 1) | 0;
  }

  #postOne(task: Task): void {
    // The agent has handled every earlier message (and knows the export
    // name by its number): the task can go unwrapped, its id in shared
    // memory (see agent-bootstrap.ts).
    const name = task.name;
    const nameIndex = name === undefined ? -1 : this.#names.get(name);
    const raw = nameIndex !== undefined && this.#posted === Atomics.load(this.#sig, SIG_AGENT_SEEN);
    try {
      if (raw) {
        Atomics.store(this.#sig, SIG_NAME, nameIndex + 1);
        Atomics.store(this.#sig, SIG_TASK, task.id);
        this.#send(task.payload, task.transfer);
      } else {
        if (name !== undefined) this.#names.set(name, this.#names.size);
        this.#send([task.id, task.payload, name], task.transfer);
      }
      if (task.transfer !== undefined) task.sent = true;
    } catch (error) {
      if (raw) Atomics.store(this.#sig, SIG_TASK, 0);
      this.#failed(task, error);
    }
  }

  #post(): void {
    this.#flushQueued = false;
    const message = this.#message;
    const tasks = this.#tasks;
    const hasTransfer = this.#hasTransfer;
    this.#message = [];
    this.#tasks = [];
    this.#hasTransfer = false;
    if (message.length === 0) return;
    let transfer: ArrayBuffer[] | undefined;
    if (hasTransfer) {
      transfer = [];
      for (const task of tasks) if (task !== null && task.transfer !== undefined) transfer.push(...task.transfer);
    }
    try {
      this.#send(message, transfer);
      if (hasTransfer) for (const task of tasks) if (task !== null && task.transfer !== undefined) task.sent = true;
      return;
    } catch (error) {
      // The agent is gone: the pool takes its tasks back when 'exit' comes.
      if (error instanceof AgentError) return;
    }
    // One entry could not be cloned: post them one by one so only it fails.
    for (let i = 0; i < tasks.length; i++) {
      const task = tasks[i]!;
      const entry = [message[3 * i], message[3 * i + 1], message[3 * i + 2]];
      try {
        this.#send(entry, task?.transfer);
        if (task !== null && task.transfer !== undefined) task.sent = true;
      } catch (error) {
        if (task === null) {
          if (error instanceof AgentError) return;
          this.#owner.broadcastFailed(this, -(entry[0] as number), error);
        } else if (!this.#failed(task, error)) {
          return;
        }
      }
    }
  }

  /**
   * A task could not be posted. Its payload could not be cloned: it fails,
   * and a cancelled placeholder goes in its place so that both sides still
   * count the same sequence numbers. Returns false if the agent is gone
   * (then the pool takes its tasks back at 'exit').
   */
  #failed(task: Task, error: unknown): boolean {
    if (error instanceof AgentError) return false;
    this.cancel(task);
    try {
      this.#send([task.id, undefined, task.name]); // the name still counts (see #names)
    } catch {
      // gone: see above
    }
    this.#owner.postFailed(task, error);
    return true;
  }
}

function resultUnreadable(cause: unknown, one: boolean): PoolError {
  const why = cause instanceof Error ? cause.message : String(cause);
  const what = one ? 'The result of the task' : 'A batch of results from the agent (it was stopped; the tasks it held fail)';
  return new PoolError('ERR_POOL_RESULT_UNREADABLE', `${what} could not be deserialized on the host: ${why}`, { cause });
}
