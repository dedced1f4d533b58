// AgentPool: a job pool on agents, with piscina's names where the meaning
// is the same. Orchestration only; the pieces live next door:
//   task-queue.ts   priorities with aging        balancer.ts  agent choice, prefetch
//   agent-slot.ts   one agent, outbox, cancel ring  agent-bootstrap.ts  the agent side
//   abort.ts        signal and deadline           histogram.ts, errors.ts, move.ts, map.ts
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildGraph, type ModuleGraph } from '../modules/index.js';
import type { Agent, ExitInfo } from '../agent/agent.js';
import { AgentError } from '../agent/errors.js';
import { watch } from './abort.js';
import { AgentSlot, type SlotOwner } from './agent-slot.js';
import { addJobNamespaceModule } from './job-namespace.js';
import { Balancer, MAX_PREFETCH } from './balancer.js';
import { abortError, closedError, destroyedError, fromEnvelope, invalidOption, PoolError, queueFullError } from './errors.js';
import { Histogram, type HistogramSummary } from './histogram.js';
import { mapTasks, type MapOptions } from './map.js';
import { isMoved, move, type Moved } from './move.js';
import { badTaskOptions, fillOptions, type AgentPoolOptions, type FilledOptions } from './options.js';
import { DISPATCHED, QUEUED, Task } from './task.js';
import { TaskQueue } from './task-queue.js';

export interface RunOptions {
  /** ArrayBuffers in the task to move to the agent instead of copying. */
  transferList?: readonly ArrayBuffer[];
  /** Aborting removes the task from the queue, or stops the agent running it. */
  signal?: AbortSignal;
  /** Export of the job module to call (default: the pool's `name`). */
  name?: string;
  /** Higher runs first (default 0); see docs/scheduler.md for the aging policy. */
  priority?: number;
  /** ms from run() until the task is cancelled with ERR_TASK_TIMEOUT (default: the pool's taskTimeout). */
  timeout?: number;
}

export interface CloseOptions {
  /** Reject the queued tasks (ERR_POOL_CLOSED) instead of running them. */
  force?: boolean;
}

export interface PoolStats {
  /** Agents started or running (not counting those being stopped). */
  agents: number;
  idleAgents: number;
  completed: number;
  /** Tasks that threw or whose agent died. */
  failed: number;
  /** Tasks aborted or timed out. */
  cancelled: number;
  queued: number;
  /** Given to an agent and not settled yet. */
  running: number;
  /** CPU time of the agents' threads (live and exited) / (duration x maxAgents), 0..1. */
  utilization: number;
  /** Per live agent: its thread's CPU time and its used heap (as of its last GC). */
  agentUsage: AgentUsage[];
  /** ms since the pool was created. */
  duration: number;
  /** ms a task ran in its agent, as the agent measured it. */
  runTime: HistogramSummary;
  /** ms from run() until the task was handed to an agent. */
  waitTime: HistogramSummary;
}

export interface AgentUsage {
  name: string;
  threadId: number;
  /** CPU time of the agent's OS thread, in ms. */
  cpuMs: number;
  /** Used heap bytes as of the agent's last garbage collection. */
  heapUsed: number;
}

export interface AgentPoolEvents {
  /** Every submitted task has settled (nothing queued, nothing running). */
  drain: [];
  /** An agent failed outside any task (e.g. the job module threw at startup, or an uncaught error while idle). */
  error: [error: unknown];
  agentCreate: [agent: Agent];
  agentExit: [agent: Agent, info: ExitInfo];
}

interface BroadcastRecord {
  pending: Set<AgentSlot>;
  reached: number;
  error: unknown;
  resolve(count: number): void;
  reject(error: unknown): void;
}

// Temp files of pools made from `source`, removed at exit if not before.
const tempDirs = new Set<string>();
let tempHook = false;
function removeTemp(dir: string): void {
  tempDirs.delete(dir);
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // best effort
  }
}

let poolCount = 0;
/** Period of the pool's housekeeping (unref of idle agents, idle timeout). */
const TICK_MS = 25;

/**
 * A task whose agents keep dying of an error before it starts is likely the
 * cause (a payload the agent cannot deserialize, say): it fails instead of
 * being requeued without end.
 */
const MAX_TASK_DEATHS = 3;

/** What #reclaim's verdict returns for a task that goes back to the queue. */
const REQUEUE: unique symbol = Symbol('requeue');

function killerError(deaths: number, failure: unknown): PoolError {
  return new PoolError('ERR_POOL_AGENT_EXITED', `${deaths} agents died of an error while holding the task, before it started: ${describe(failure)}`, {
    cause: failure,
  });
}

export class AgentPool<T = any, R = any> extends EventEmitter<AgentPoolEvents> {
  /** Marks a task, or (inside an agent, as the global `move`) a job's result, so its ArrayBuffers move instead of being copied. */
  static move<V>(value: V, transferList?: readonly ArrayBuffer[]): Moved<V> {
    return move(value, transferList);
  }

  /** Resolves once `minAgents` agents are ready; rejects (ERR_POOL_AGENT_START_FAILED) if one fails to start. */
  readonly ready: Promise<void>;

  readonly #options: FilledOptions;
  readonly #queue: TaskQueue;
  readonly #balancer = new Balancer();
  readonly #running = new Map<number, Task>();
  readonly #slots: AgentSlot[] = [];
  readonly #runTime = new Histogram();
  readonly #waitTime = new Histogram();
  readonly #createdAt = performance.now();
  readonly #poolId = ++poolCount;
  readonly #tempDir: string | undefined;
  readonly #cancel = (task: Task, error: Error) => this.#cancelTask(task, error);
  readonly #pumpNow = () => this.#pump();
  /** How agent slots report back (kept off the public surface). */
  readonly #owner: SlotOwner = {
    slotReady: (slot) => this.#slotReady(slot),
    slotMessage: (slot, message) => this.#slotMessage(slot, message),
    slotResult: (slot, id, value, ms) => this.#slotResult(slot, id, value, ms),
    slotExit: (slot, info) => this.#slotExit(slot, info),
    postFailed: (task, error) => this.#postFailed(task, error),
    broadcastFailed: (slot, bid, error) => this.#broadcastFailed(slot, bid, error),
  };
  #agentCount = 0;
  #nextId = 1;
  #nextBroadcast = 1;
  #broadcasts = new Map<number, BroadcastRecord>();
  #completed = 0;
  #failed = 0;
  #cancelled = 0;
  /** CPU ms of the agents that have exited (live ones are read from their threads). */
  #exitedCpuMs = 0;
  #pumpQueued = false;
  #busy = false;
  #closing = false;
  #destroyed = false;
  #closed: Promise<void> | undefined;
  #idleWaiters: (() => void)[] = [];
  #startFailed = false;
  #housekeeper: NodeJS.Timeout | undefined;
  readonly #graph: ModuleGraph;

  constructor(options: AgentPoolOptions) {
    super();
    const filled = fillOptions(options);
    if (filled.source !== undefined) {
      this.#tempDir = mkdtempSync(join(tmpdir(), 'agentcluster-pool-'));
      tempDirs.add(this.#tempDir);
      if (!tempHook) {
        tempHook = true;
        process.once('exit', () => tempDirs.forEach(removeTemp));
      }
      const file = join(this.#tempDir, 'job.mjs');
      writeFileSync(file, filled.source);
      filled.url = pathToFileURL(file).href;
    }
    this.#options = filled;
    // One module graph for every agent the pool ever starts.
    this.#graph = buildGraph([{ path: fileURLToPath(filled.url) }], filled.conditions, filled.loader);
    addJobNamespaceModule(this.#graph, filled.url);
    this.#queue = new TaskQueue(filled.priorityAging);
    const initial: Promise<void>[] = [];
    for (let i = 0; i < filled.minAgents; i++) initial.push(this.#spawn().agent.ready);
    this.ready = Promise.all(initial).then(
      () => undefined,
      (error: unknown) => {
        throw new PoolError('ERR_POOL_AGENT_START_FAILED', `An agent of the pool could not start: ${describe(error)}`, { cause: error });
      },
    );
    this.ready.catch(() => {}); // awaiting it is optional
  }

  // ---------------------------------------------------------------- running tasks

  /** Runs the job on `task` in an agent; resolves with what it returns (or awaits). */
  run(task: T | Moved<T>, options?: RunOptions): Promise<R> {
    if (this.#closing) return Promise.reject(this.#destroyed ? destroyedError() : closedError());
    const badOptions = badTaskOptions(options, 'run');
    if (badOptions !== undefined) return Promise.reject(badOptions);
    let payload: unknown = task;
    let transfer = options?.transferList;
    if (transfer !== undefined && !Array.isArray(transfer)) return Promise.reject(invalidOption('transferList', 'an array'));
    if (isMoved(task)) {
      payload = task.value;
      // A buffer both in the options' list and found by move() is listed once (twice is a DataCloneError).
      transfer = transfer === undefined ? task.transferList : [...new Set([...transfer, ...task.transferList])];
    }
    if (transfer !== undefined && transfer.length === 0) transfer = undefined;
    let priority = 0;
    let timeout = this.#options.taskTimeout;
    let name: string | undefined;
    let signal: AbortSignal | undefined;
    if (options !== undefined) {
      if (options.priority !== undefined) {
        priority = options.priority;
        if (typeof priority !== 'number' || !Number.isFinite(priority)) return Promise.reject(invalidOption('priority', 'a finite number'));
      }
      if (options.timeout !== undefined) {
        timeout = options.timeout === Infinity ? undefined : options.timeout;
        if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout > 0))) return Promise.reject(invalidOption('timeout', 'a number > 0'));
      }
      if (options.name !== undefined && options.name !== this.#options.name) {
        name = options.name;
        if (typeof name !== 'string') return Promise.reject(invalidOption('name', 'a string'));
      }
      signal = options.signal ?? undefined;
      if (signal !== undefined && typeof (signal as Partial<AbortSignal>).addEventListener !== 'function') return Promise.reject(invalidOption('signal', 'an AbortSignal'));
      if (signal?.aborted) return Promise.reject(abortError(signal.reason));
    }
    const queue = this.#queue;
    // A task that moves data goes only to an idle agent (see #pump).
    const slot = queue.size === 0 ? this.#balancer.pick(this.#slots, transfer === undefined ? this.#options.concurrency : 1) : undefined;
    // As piscina: agents still starting count as room (maxQueue bounds what waits beyond them).
    const { maxQueue } = this.#options;
    if (slot === undefined && queue.size >= maxQueue && queue.size >= maxQueue + this.#startingCapacity()) return Promise.reject(queueFullError(maxQueue));

    let resolve!: (value: R) => void;
    let reject!: (reason: unknown) => void;
    const promise = new Promise<R>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A task that goes straight to an agent waited 0 ms: no clock reading on that path.
    const t = new Task(this.#nextId++, payload, transfer, name, priority, slot === undefined ? performance.now() : 0, resolve, reject);
    if (signal !== undefined || timeout !== undefined) watch(t, signal, timeout, this.#cancel);
    this.#busy = true;
    if (slot !== undefined) {
      this.#dispatch(t, slot);
    } else {
      queue.push(t);
      if (!this.#pumpQueued) {
        this.#pumpQueued = true;
        queueMicrotask(this.#pumpNow);
      }
    }
    return promise;
  }

  /**
   * Runs every item of `iterable` (sync or async) as a task and yields the
   * results, in input order unless `ordered: false`. At most `concurrency`
   * items are taken from the iterable and not yet yielded. The first failure
   * is thrown; leaving early cancels what is still outstanding.
   */
  map<I extends T = T>(iterable: Iterable<I | Moved<I>> | AsyncIterable<I | Moved<I>>, options?: MapOptions): AsyncGenerator<R, void, undefined> {
    const window = Math.max(16, 4 * this.#options.maxAgents * this.#options.concurrency);
    return mapTasks<I | Moved<I>, R>((item, runOptions) => this.run(item, runOptions), iterable, options, window);
  }

  /**
   * Delivers a clone of `value` to every live agent (the job module's
   * exported `onBroadcast(value)` runs, in order with the tasks). Resolves
   * with the number of agents that handled it; rejects if a handler threw.
   * Agents started later do not get it: use `data` for what every agent needs.
   */
  broadcast(value: unknown): Promise<number> {
    if (this.#closing) return Promise.reject(this.#destroyed ? destroyedError() : closedError());
    const targets = this.#slots.filter((slot) => slot.live);
    if (targets.length === 0) return Promise.resolve(0);
    const bid = this.#nextBroadcast++;
    return new Promise<number>((resolve, reject) => {
      this.#broadcasts.set(bid, { pending: new Set(targets), reached: 0, error: undefined, resolve, reject });
      for (const slot of targets) {
        if (slot.state === 'ready') slot.pushBroadcast(bid, value);
        else slot.early.push([bid, value]);
      }
    });
  }

  // ---------------------------------------------------------------- stopping

  /** Stops taking tasks, finishes the queued and running ones, then stops the agents. */
  close(options?: CloseOptions): Promise<void> {
    if (options?.force) {
      const error = closedError();
      for (const task of this.#queue.drain()) this.#settleCancelled(task, error);
    }
    if (this.#closed) return this.#closed;
    this.#closing = true;
    this.#closed = (async () => {
      await this.#whenIdle();
      await this.#stopAgents();
    })();
    return this.#closed;
  }

  /** Stops the agents now; queued and running tasks reject with ERR_POOL_DESTROYED. */
  destroy(): Promise<void> {
    this.#closing = true;
    if (!this.#destroyed) {
      this.#destroyed = true;
      const error = destroyedError();
      for (const task of this.#queue.drain()) this.#settleCancelled(task, error);
      for (const task of [...this.#running.values()]) {
        this.#running.delete(task.id);
        this.#settleCancelled(task, error);
      }
      for (const record of this.#broadcasts.values()) record.reject(error);
      this.#broadcasts.clear();
      this.#checkIdle();
    }
    const stopped = this.#stopAgents();
    this.#closed ??= stopped;
    return stopped;
  }

  // ---------------------------------------------------------------- observability

  get stats(): PoolStats {
    const duration = performance.now() - this.#createdAt;
    let agents = 0;
    let idleAgents = 0;
    for (const slot of this.#slots) {
      if (slot.live) agents++;
      if (slot.state === 'ready' && slot.inflight === 0) idleAgents++;
    }
    return {
      agents,
      idleAgents,
      completed: this.#completed,
      failed: this.#failed,
      cancelled: this.#cancelled,
      queued: this.#queue.size,
      running: this.#running.size,
      utilization: this.utilization,
      agentUsage: this.#slotsWithThreads().map(({ agent }) => ({ name: agent.name, threadId: agent.threadId, cpuMs: agent.cpuUsage().cpuMs, heapUsed: agent.heapUsedAtLastGC() })),
      duration,
      runTime: this.#runTime.summary(),
      waitTime: this.#waitTime.summary(),
    };
  }

  /** The live agents (starting or running). */
  get agents(): Agent[] {
    return this.#slots.filter((slot) => slot.live).map((slot) => slot.agent);
  }

  get queueSize(): number {
    return this.#queue.size;
  }

  get completed(): number {
    return this.#completed;
  }

  get duration(): number {
    return performance.now() - this.#createdAt;
  }

  get utilization(): number {
    // Real thread CPU time: an agent thread uses at most one core, whatever its concurrency.
    const capacity = (performance.now() - this.#createdAt) * this.#options.maxAgents;
    let cpuMs = this.#exitedCpuMs;
    for (const slot of this.#slotsWithThreads()) cpuMs += slot.agent.cpuUsage().cpuMs;
    return capacity > 0 ? Math.min(1, cpuMs / capacity) : 0;
  }

  /** Slots whose agent thread has not exited (live ones and those being stopped). */
  #slotsWithThreads(): AgentSlot[] {
    return this.#slots.filter((slot) => slot.agent.state !== 'exited');
  }

  get minAgents(): number {
    return this.#options.minAgents;
  }

  get maxAgents(): number {
    return this.#options.maxAgents;
  }

  /** Clears the run-time and wait-time histograms. */
  resetHistograms(): void {
    this.#runTime.reset();
    this.#waitTime.reset();
  }

  // ---------------------------------------------------------------- reports of the agent slots

  #slotReady(slot: AgentSlot): void {
    this.#startFailed = false;
    for (const [bid, value] of slot.early) slot.pushBroadcast(bid, value);
    slot.early = [];
    if (this.#queue.size > 0) this.#pump();
    slot.unrefIfIdle();
    if (this.#live() > this.#options.minAgents) this.#startHousekeeping();
  }

  #slotResult(slot: AgentSlot, id: number, value: unknown, ms: number): void {
    this.#taskDone(slot, id, value, ms);
    this.#afterResults();
  }

  #slotMessage(slot: AgentSlot, message: unknown[]): void {
    for (let i = 0; i < message.length; i += 3) {
      const id = message[i] as number;
      if (id === 0) this.#broadcastAnswered(slot, message[i + 1] as number, message[i + 2] === undefined ? undefined : { error: fromEnvelope(message[i + 2]) });
      else this.#taskDone(slot, id, message[i + 1], message[i + 2] as number);
    }
    this.#afterResults();
  }

  /** Task `id` came back from `slot`: fulfilled with `value` (id > 0), or failed with the envelope `value` (id < 0). */
  #taskDone(slot: AgentSlot, id: number, value: unknown, ms: number): void {
    const task = this.#running.get(id > 0 ? id : -id);
    if (task === undefined) return; // cancelled meanwhile
    this.#running.delete(task.id);
    task.settle();
    this.#released(slot);
    this.#runTime.record(ms);
    this.#balancer.observe(ms);
    if (id > 0) {
      this.#completed++;
      task.resolve(value);
    } else {
      this.#failed++;
      task.reject(fromEnvelope(value));
    }
  }

  #afterResults(): void {
    if (this.#queue.size > 0) this.#pump();
    else if (this.#running.size === 0) this.#checkIdle();
  }

  #slotExit(slot: AgentSlot, info: ExitInfo): void {
    const index = this.#slots.indexOf(slot);
    if (index >= 0) {
      this.#slots.splice(index, 1);
      this.#exitedCpuMs += slot.agent.cpuUsage().cpuMs; // frozen now
    }
    let rejected = this.#reclaim(slot, (task, neverStarted) => {
      // It never started and still has its data: run it elsewhere (unless
      // it has now killed MAX_TASK_DEATHS agents before it could start).
      if (neverStarted && !task.sent && (info.reason !== 'error' || ++task.deaths < MAX_TASK_DEATHS)) return REQUEUE;
      // It ran, or its transferred data went down with the agent.
      if (task.deaths >= MAX_TASK_DEATHS) return killerError(task.deaths, slot.failure);
      return neverStarted ? this.#lostError(slot, info.reason) : this.#exitError(slot, info);
    });
    for (const [bid, record] of this.#broadcasts) {
      if (record.pending.delete(slot) && record.pending.size === 0) this.#finishBroadcast(bid, record);
    }
    this.emit('agentExit', slot.agent, info);

    if (!slot.started && !slot.retired) {
      // The agent could not start (the job module failed to load, most likely).
      this.#startFailed = true;
      const error = new PoolError('ERR_POOL_AGENT_START_FAILED', `An agent of the pool could not start: ${describe(slot.failure ?? info.reason)}`, {
        cause: slot.failure,
      });
      if (!this.#slots.some((other) => other.state === 'ready')) {
        for (const task of this.#queue.drain()) {
          rejected++;
          this.#settleFailed(task, error);
        }
      }
      // With no task to reject, it shows through `ready` and the next run();
      // 'error' listeners hear of it too.
      if (rejected === 0 && this.listenerCount('error') > 0) this.emit('error', error);
    } else if (!slot.retired && rejected === 0 && slot.failure !== undefined) {
      this.#report(slot.failure);
    }

    if (!this.#destroyed) {
      this.#replenish();
      if (this.#queue.size > 0) this.#pump();
    }
    this.#checkIdle();
  }

  #postFailed(task: Task, error: unknown): void {
    if (task.state !== DISPATCHED) return;
    this.#running.delete(task.id);
    if (task.slot !== null) this.#released(task.slot);
    this.#settleFailed(task, error);
    // Its agent may be idle now, which a moving task at the head of the queue waits for.
    if (this.#queue.size > 0 && !this.#pumpQueued) {
      this.#pumpQueued = true;
      queueMicrotask(this.#pumpNow);
    }
    this.#checkIdle();
  }

  #broadcastFailed(slot: AgentSlot, bid: number, error: unknown): void {
    this.#broadcastAnswered(slot, bid, { error });
  }

  // ---------------------------------------------------------------- internals

  #spawn(): AgentSlot {
    const slot = new AgentSlot(
      {
        name: `pool${this.#poolId}-agent${++this.#agentCount}`,
        url: this.#options.url,
        exportName: this.#options.name,
        concurrency: this.#options.concurrency,
        maxPrefetch: MAX_PREFETCH,
        resourceLimits: this.#options.resourceLimits,
        canBlock: this.#options.canBlock,
        data: this.#options.data,
        highWaterMark: this.#options.highWaterMark,
        host: this.#options.host,
        moduleGraph: this.#graph,
        env: this.#options.env,
        moduleRoots: this.#options.moduleRoots,
      },
      this.#owner,
    );
    this.#slots.push(slot);
    this.emit('agentCreate', slot.agent);
    return slot;
  }

  /** Tasks the agents still starting will take as soon as they are ready. */
  #startingCapacity(): number {
    let starting = 0;
    for (const slot of this.#slots) if (slot.state === 'starting') starting++;
    return starting * this.#options.concurrency;
  }

  /** Agents starting or ready. */
  #live(): number {
    let live = 0;
    for (const slot of this.#slots) if (slot.live) live++;
    return live;
  }

  /** Keeps minAgents alive (not while closing, nor right after a failed start). */
  #replenish(): void {
    if (this.#closing || this.#startFailed) return;
    for (let live = this.#live(); live < this.#options.minAgents; live++) this.#spawn();
  }

  /** Starts agents for the queued tasks, up to maxAgents. */
  #grow(): void {
    const { maxAgents, concurrency } = this.#options;
    let live = 0;
    let starting = 0;
    for (const slot of this.#slots) {
      if (slot.state === 'starting') starting++;
      if (slot.live) live++;
    }
    if (this.#startFailed && starting > 0) return; // one probe at a time
    while (live < maxAgents && starting * concurrency < this.#queue.size) {
      this.#spawn();
      live++;
      starting++;
      if (this.#startFailed) return;
    }
  }

  #pump(): void {
    this.#pumpQueued = false;
    const queue = this.#queue;
    if (queue.size === 0) return;
    const slots = this.#slots;
    const balancer = this.#balancer;
    const { concurrency } = this.#options;
    // A task with a transfer list goes only to an idle agent, which starts it
    // as soon as it reads it: waiting inside an agent (behind a task that may
    // be cancelled, time out or run out of memory), its data would go down
    // with the agent, and the pool could not run it elsewhere. It waits at
    // the head of the queue meanwhile (order is kept).
    while (queue.size > 0) {
      let slot = balancer.pick(slots, concurrency);
      if (slot === undefined) break;
      const task = queue.shift()!;
      if (task.transfer !== undefined && slot.inflight !== 0 && (slot = balancer.pick(slots, 1)) === undefined) {
        queue.unshift(task);
        break;
      }
      this.#dispatch(task, slot);
    }
    if (queue.size === 0) return;
    this.#grow();
    const prefetch = balancer.prefetch;
    if (prefetch === 0) return;
    while (queue.size > 0) {
      const slot = balancer.pick(slots, concurrency + prefetch);
      if (slot === undefined) break;
      const task = queue.shift()!;
      if (task.transfer !== undefined) {
        queue.unshift(task); // never prefetched (above)
        break;
      }
      this.#dispatch(task, slot);
    }
  }

  #dispatch(task: Task, slot: AgentSlot): void {
    task.state = DISPATCHED;
    this.#waitTime.record(task.enqueuedAt === 0 ? 0 : performance.now() - task.enqueuedAt);
    this.#running.set(task.id, task);
    slot.take(task);
  }

  #cancelTask(task: Task, error: Error): void {
    if (task.state === QUEUED) {
      this.#queue.removed();
    } else if (task.state === DISPATCHED) {
      const slot = task.slot!;
      this.#running.delete(task.id);
      if (slot.cancel(task)) {
        this.#released(slot); // the agent will skip it
      } else {
        this.#retire(slot); // it is running: stop that agent, start another
      }
    } else {
      return;
    }
    this.#settleCancelled(task, error);
    if (this.#queue.size > 0) this.#pump();
    this.#checkIdle();
  }

  /**
   * Stops an agent that runs a cancelled task. The other tasks it held go back
   * to the front of the queue, the waiting ones and (with
   * concurrentTasksPerAgent > 1) the ones it had started too: they did not
   * fail, the pool stopped their agent, so they run again elsewhere.
   */
  #retire(slot: AgentSlot): void {
    if (slot.retired) return;
    void slot.kill();
    // A task whose transferred data is in the stopped agent cannot run again
    // with it, so it fails instead of running elsewhere without it.
    this.#reclaim(slot, (task) => (task.sent ? this.#lostError(slot, 'terminated') : REQUEUE));
    if (!this.#destroyed) {
      this.#replenish();
      this.#grow();
    }
  }

  /**
   * Takes back every task `slot` held (its agent is going away): each goes
   * back to the front of the queue if `verdict` says REQUEUE, or fails with
   * the error it returns. Returns how many failed.
   */
  #reclaim(slot: AgentSlot, verdict: (task: Task, neverStarted: boolean) => unknown): number {
    let failed = 0;
    for (const task of [...this.#running.values()]) {
      if (task.slot !== slot) continue;
      this.#running.delete(task.id);
      const outcome = verdict(task, slot.cancel(task));
      if (outcome === REQUEUE) {
        task.requeue();
        this.#queue.unshift(task);
      } else {
        failed++;
        this.#settleFailed(task, outcome);
      }
    }
    return failed;
  }

  #settleCancelled(task: Task, error: unknown): void {
    task.settle();
    this.#cancelled++;
    task.reject(error);
  }

  #settleFailed(task: Task, error: unknown): void {
    task.settle();
    this.#failed++;
    task.reject(error);
  }

  #exitError(slot: AgentSlot, info: ExitInfo): unknown {
    const failure = slot.failure;
    if (info.reason === 'out-of-memory' && failure instanceof AgentError) return failure;
    if (info.reason === 'error' && failure !== undefined) return failure;
    if (failure instanceof PoolError && failure.code === 'ERR_POOL_RESULT_UNREADABLE') return failure;
    const why =
      info.reason === 'closed'
        ? 'closed itself'
        : slot.retired
          ? 'was stopped because another task it held was cancelled'
          : `stopped (${info.reason})`;
    return new PoolError('ERR_POOL_AGENT_EXITED', `The agent running the task ${why}`, failure === undefined ? undefined : { cause: failure });
  }

  /** For a task that never started but whose transferred data was in the agent that went away. */
  #lostError(slot: AgentSlot, reason: string): PoolError {
    const why = slot.retired ? 'was stopped because another task it held was cancelled' : `stopped (${reason}) before the task started`;
    const failure = slot.failure;
    return new PoolError(
      'ERR_POOL_AGENT_EXITED',
      `The agent holding the task ${why}; the data the task transferred went with it, so the task was not run elsewhere`,
      failure === undefined ? undefined : { cause: failure },
    );
  }

  /** `slot` handled broadcast `bid` (failure undefined), or its handler threw or it could not be posted. */
  #broadcastAnswered(slot: AgentSlot, bid: number, failure: { error: unknown } | undefined): void {
    slot.acknowledge();
    this.#startHousekeeping();
    const record = this.#broadcasts.get(bid);
    if (record === undefined) return;
    if (failure !== undefined) record.error ??= failure.error;
    else record.reached++;
    if (record.pending.delete(slot) && record.pending.size === 0) this.#finishBroadcast(bid, record);
  }

  #finishBroadcast(bid: number, record: BroadcastRecord): void {
    this.#broadcasts.delete(bid);
    if (record.error !== undefined) record.reject(record.error);
    else record.resolve(record.reached);
  }

  /** An error no task owns: to 'error' listeners, or as a process warning (never a crash). */
  #report(error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else process.emitWarning(error instanceof Error ? error : new Error(describe(error)), 'AgentPoolWarning');
  }

  #checkIdle(): void {
    if (this.#queue.size !== 0 || this.#running.size !== 0) return;
    if (this.#busy) {
      this.#busy = false;
      this.emit('drain');
    }
    if (this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  #whenIdle(): Promise<void> {
    if (this.#queue.size === 0 && this.#running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  async #stopAgents(): Promise<void> {
    if (this.#housekeeper !== undefined) {
      clearInterval(this.#housekeeper);
      this.#housekeeper = undefined;
    }
    await Promise.all(this.#slots.map((slot) => slot.kill()));
    if (this.#tempDir !== undefined) removeTemp(this.#tempDir);
  }

  /** A task given to `slot` is no longer its business. */
  #released(slot: AgentSlot): void {
    if (slot.settle()) this.#startHousekeeping();
  }

  #startHousekeeping(): void {
    if (this.#housekeeper !== undefined || this.#destroyed) return;
    this.#housekeeper = setInterval(() => this.#housekeep(), TICK_MS);
    this.#housekeeper.unref();
  }

  /**
   * Every tick while there is something to do: agents idle for a whole tick
   * stop keeping the host alive (so the hot path never toggles that), and
   * agents above minAgents idle for idleTimeout stop.
   */
  #housekeep(): void {
    const { idleTimeout, minAgents } = this.#options;
    const retire = idleTimeout !== Infinity && !this.#closing;
    let live = this.#live();
    let pending = false;
    for (const slot of [...this.#slots]) {
      if (slot.state !== 'ready') continue;
      if (!slot.idle) {
        // Busy: it restarts the housekeeping when it goes idle.
        slot.seenActivity = slot.activity;
        slot.idleTicks = 0;
        continue;
      }
      if (slot.activity !== slot.seenActivity) {
        // Idle, but not for a whole tick yet.
        slot.seenActivity = slot.activity;
        slot.idleTicks = 0;
        pending = true;
        continue;
      }
      slot.idleTicks++;
      slot.unrefIfIdle();
      if (retire && live > minAgents) {
        if (slot.idleTicks * TICK_MS >= idleTimeout) {
          void slot.kill();
          live--;
        } else {
          pending = true;
        }
      }
    }
    if (!pending) {
      clearInterval(this.#housekeeper);
      this.#housekeeper = undefined;
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
