// The Agent class: a JavaScript isolate on its own OS thread, driven like a
// Node Worker (events, postMessage, terminate) plus evaluate().
import { EventEmitter } from 'node:events';
import { native, type AtomicsWaitStats, type NativeAgentHandle, type NativeEventBatch } from '../native.js';
import {
  consoleLevelNames,
  ConsoleField,
  DiagnosticField,
  ErrorField,
  errorPhaseNames,
  EvalResultField,
  ExitField,
  HostCallField,
  HostEventKind,
  MessageField,
} from '../native-event-schema.js';
import { AgentError, asAgentError } from './errors.js';
import { toNativeOptions, type AgentOptions } from './options.js';
import { installExitHook } from './exit-hook.js';
import { HostBridgeServer, hostCallIdLimitForTests, snapshotHost } from './host-bridge.js';
import { AgentDiagnosticsClient, readAll, type AgentCpuUsage, type AgentHeapStatistics, type CpuProfile } from './diagnostics.js';
import type { Readable } from 'node:stream';
import type { AgentPort } from '../clone/channel.js';

/** What a transfer list may hold: ArrayBuffers (moved) and AgentPorts. */
export type Transferable = ArrayBuffer | AgentPort;

export type ExitReason = 'closed' | 'terminated' | 'out-of-memory' | 'error';

export interface ExitInfo {
  /** 0 when the agent closed itself, 1 otherwise. */
  code: number;
  reason: ExitReason;
  /** reason 'out-of-memory': the agent's heap statistics when it reached its heap limit. */
  heapStatistics?: AgentHeapStatistics;
}

/** 'print' comes only from test262-host agents (the `print` global). */
export type ConsoleLevel = (typeof consoleLevelNames)[number];

/** What ended an agent with an uncaught error, as the agent itself saw it. */
export interface AgentFailure {
  /** The thrown value, cloned to the host (an Error keeps name, message and stack). */
  error: unknown;
  /** "Name: message", read inside the agent (survives values that do not clone). */
  summary: string;
  /** Where the entry code failed: compiling it, linking its modules, or running. */
  phase: 'parse' | 'resolution' | 'runtime';
  outOfMemory: boolean;
}

export interface AgentEvents {
  // `any`, as Node types Worker messages: the listener states what it expects.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  message: [value: any];
  messageerror: [error: unknown];
  error: [error: unknown];
  exit: [info: ExitInfo];
  console: [level: ConsoleLevel, text: string];
  online: [];
  /** The agent's mailbox fell back to half its high-water mark after postMessage() returned false. */
  drain: [];
}

interface Pending {
  resolve(value: unknown): void;
  reject(reason: unknown): void;
}

export class Agent extends EventEmitter<AgentEvents> {
  /** Resolves once the agent's code has been evaluated (after top-level await for modules). */
  readonly ready: Promise<void>;
  /** Resolves with the exit information once the agent's thread has been joined. */
  readonly exited: Promise<ExitInfo>;
  readonly name: string;
  readonly threadId: number;

  #handle: NativeAgentHandle;
  #state: 'starting' | 'running' | 'exited' = 'starting';
  #exitInfo: ExitInfo | undefined;
  #failure: AgentFailure | undefined;
  #resolveReady!: () => void;
  #rejectReady!: (error: unknown) => void;
  #resolveExited!: (info: ExitInfo) => void;
  #evaluations = new Map<number, Pending>();
  #nextEvaluation = 1;
  #diagnostics: AgentDiagnosticsClient;
  #referenced = true;
  #host: HostBridgeServer | undefined;
  readonly #drainMore = () => this.#handle.drainEvents();

  constructor(options: AgentOptions) {
    super();
    const nativeOptions = toNativeOptions(options);
    // Read once, now: later changes to the object are not seen by the agent.
    const host = snapshotHost(options.host);
    if (host) nativeOptions.hostMethods = host.names;
    const idLimit = (options as { [hostCallIdLimitForTests]?: unknown })[hostCallIdLimitForTests];
    if (typeof idLimit === 'number') nativeOptions.hostCallIdLimit = idLimit;
    this.name = nativeOptions.name;
    this.ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.exited = new Promise<ExitInfo>((resolve) => (this.#resolveExited = resolve));
    installExitHook();
    const signal = options.signal;
    if (signal?.aborted) nativeOptions.terminatedBeforeStart = true;
    try {
      this.#handle = new native.AgentHandle(nativeOptions, (batch, more) => {
        // Flow control: one bounded batch per turn of the event loop; the rest
        // after timers and I/O ran. An unref()'d agent must not keep the loop
        // alive: an unref'd 0 ms timer still bounds how long the loop sleeps
        // (an unref'd immediate would not).
        if (more) {
          if (this.#referenced) setImmediate(this.#drainMore);
          else setTimeout(this.#drainMore, 0).unref();
        }
        this.#dispatch(batch);
      });
    } catch (error) {
      throw asAgentError(error, this.name); // e.g. ERR_AGENT_START_FAILED
    }
    this.threadId = this.#handle.threadId;
    if (host) {
      const handle = this.#handle;
      this.#host = new HostBridgeServer(host, (id, sync, answer, transfer) => handle.hostReply(id, sync, answer, transfer));
    }
    this.#diagnostics = new AgentDiagnosticsClient(this.#handle, this.name, () => this.#deadError('the diagnostics request'), this.exited);

    if (signal && !signal.aborted) {
      const onAbort = () => this.#handle.terminate();
      signal.addEventListener('abort', onAbort, { once: true });
      void this.exited.then(() => signal.removeEventListener('abort', onAbort));
    }
  }

  /** Set when the agent stopped on an uncaught error or ran out of memory. */
  get failure(): AgentFailure | undefined {
    return this.#failure;
  }

  /** 'starting' until ready, 'running', then 'exited'. */
  get state(): 'starting' | 'running' | 'exited' {
    return this.#state;
  }

  /**
   * Sends a structured clone of `value`; ArrayBuffers in `transfer` move (zero-copy).
   * Never blocks: returns false when the agent's mailbox is now at its high-water
   * mark (the message is queued all the same); wait for 'drain' before sending more.
   */
  postMessage(value: unknown, transfer?: readonly Transferable[] | { transfer?: readonly Transferable[] }): boolean {
    const list = Array.isArray(transfer) ? transfer : (transfer as { transfer?: readonly Transferable[] } | undefined)?.transfer;
    if (this.#state === 'exited') throw this.#deadError('postMessage');
    const queued = this.#handle.postMessage(value, list);
    if (queued === 0) throw this.#deadError('postMessage');
    return queued === 1;
  }

  /** Messages and evaluate() requests queued for the agent that it has not taken yet. */
  get bufferedMessages(): number {
    return this.#handle.bufferedMessages;
  }

  /** Serialized bytes of those (transferred buffers are not counted). */
  get bufferedBytes(): number {
    return this.#handle.bufferedBytes;
  }

  /** Runs `source` as a classic script in the agent; resolves with its (awaited) completion value, cloned. */
  evaluate<T = unknown>(source: string): Promise<T> {
    if (typeof source !== 'string') return Promise.reject(new TypeError('evaluate() takes a source string'));
    if (this.#state === 'exited') return Promise.reject(this.#deadError('evaluate'));
    // The agent is blocked in host.sync.NAME() until the host answers: an evaluate
    // awaited by that host function would never run (a deadlock), so refuse it now.
    // (Both sides: a call the host is serving, and the agent still waiting for it,
    // not interrupted.)
    const blocked = this.#blockedIn('evaluate()');
    if (blocked) return Promise.reject(blocked);
    const id = this.#nextEvaluation++;
    return new Promise<T>((resolve, reject) => {
      this.#evaluations.set(id, { resolve: resolve as (value: unknown) => void, reject });
      if (!this.#handle.evaluate(id, source)) {
        this.#evaluations.delete(id);
        reject(this.#deadError('evaluate'));
      }
    });
  }

  /** Stops the agent whatever it is doing; resolves once its thread has been joined. */
  terminate(): Promise<ExitInfo> {
    if (this.#state !== 'exited') this.#handle.terminate();
    return this.exited;
  }

  /**
   * Wakes the agent if it is blocked in `Atomics.wait`, without stopping it:
   * that wait throws an Error with code ERR_AGENT_INTERRUPTED (catchable in
   * the agent). Returns false, and does nothing, if no wait was in progress.
   */
  interrupt(): boolean {
    return this.#state !== 'exited' && this.#handle.interrupt();
  }

  /** Counters of this agent's Atomics.wait calls (cheap: counted by the agent's native Atomics.wait wrapper). */
  atomicsStats(): AtomicsWaitStats {
    return this.#handle.atomicsStats();
  }

  /**
   * ERR_AGENT_BLOCKED while the agent is blocked in host.sync.NAME() until the host answers:
   * a request awaited by that host function would never be served (a deadlock), so it is
   * refused at once. (Both sides: a call the host is serving, and the agent still waiting
   * for it, not interrupted.)
   */
  #blockedIn(what: string): AgentError | undefined {
    if (this.#host === undefined || this.#host.pendingSync === 0 || !this.#handle.hostSyncWaiting()) return undefined;
    return new AgentError('ERR_AGENT_BLOCKED', `Agent "${this.name}" is blocked in a host.sync call; ${what} would run only after the host answers it`, { agentName: this.name });
  }

  // Observability (src/agent/diagnostics.ts): answered even while the agent
  // runs a long loop; rejected with the agent's exit error if it exits first,
  // and with ERR_AGENT_BLOCKED while it waits in host.sync.NAME() (as evaluate()).

  /** V8's heap statistics of this agent (names as `v8.getHeapStatistics()`), plus `externalMemory`. */
  getHeapStatistics(): Promise<AgentHeapStatistics> {
    const blocked = this.#blockedIn('getHeapStatistics()');
    return blocked ? Promise.reject(blocked) : this.#diagnostics.heapStatistics();
  }

  /** A `.heapsnapshot` (Chrome DevTools format) of this agent's heap, streamed with bounded memory. */
  getHeapSnapshot(): Promise<Readable> {
    const blocked = this.#blockedIn('getHeapSnapshot()');
    return blocked ? Promise.reject(blocked) : this.#diagnostics.heapSnapshot();
  }

  /** The same snapshot as one string (convenient for small heaps). */
  async getHeapSnapshotString(): Promise<string> {
    return readAll(await this.getHeapSnapshot());
  }

  /** Starts V8's CPU profiler on this agent (one profile at a time). */
  startCpuProfile(): Promise<void> {
    const blocked = this.#blockedIn('startCpuProfile()');
    return blocked ? Promise.reject(blocked) : this.#diagnostics.startCpuProfile();
  }

  /** Stops the profile begun by startCpuProfile() and returns it (`.cpuprofile` format). */
  stopCpuProfile(): Promise<CpuProfile> {
    const blocked = this.#blockedIn('stopCpuProfile()');
    return blocked ? Promise.reject(blocked) : this.#diagnostics.stopCpuProfile();
  }

  /** CPU time of the agent's thread and wall time since it started, in ms (synchronous, cheap). */
  cpuUsage(): AgentCpuUsage {
    return this.#diagnostics.cpuUsage();
  }

  /** Used heap bytes as of the agent's last garbage collection (synchronous, cheap; for stats). */
  heapUsedAtLastGC(): number {
    return this.#diagnostics.heapUsed();
  }

  /** Keep the host's event loop alive while the agent runs (the default). */
  ref(): this {
    this.#referenced = true;
    this.#handle.ref();
    return this;
  }

  /** Let the host exit even while this agent runs. */
  unref(): this {
    this.#referenced = false;
    this.#handle.unref();
    return this;
  }

  #deadError(operation: string): AgentError {
    // Between the agent's end and its exit event the handle already knows why.
    const reason = this.#exitInfo?.reason ?? (this.#handle.endingReason() as ExitReason | undefined);
    if (reason === 'out-of-memory') {
      return new AgentError('ERR_AGENT_OUT_OF_MEMORY', `Agent "${this.name}" ran out of memory; ${operation}() cannot run`, { agentName: this.name, cause: this.#failure?.error });
    }
    if (reason === 'closed') {
      return new AgentError('ERR_AGENT_CLOSED', `Agent "${this.name}" closed itself; ${operation}() cannot run`, { agentName: this.name });
    }
    return new AgentError('ERR_AGENT_TERMINATED', `Agent "${this.name}" has ${reason === 'error' ? 'stopped on an uncaught error' : 'been terminated'}; ${operation}() cannot run`, {
      agentName: this.name,
      cause: this.#failure?.error,
    });
  }

  #dispatch(batch: NativeEventBatch): void {
    for (const event of batch) {
      try {
        this.#handleEvent(event);
      } catch (error) {
        // A listener threw: surface it as the host's uncaught exception
        // without losing the rest of the batch.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  #handleEvent(event: readonly [HostEventKind, ...unknown[]]): void {
    switch (event[0]) {
      case HostEventKind.Ready:
        this.#state = 'running';
        this.#resolveReady();
        this.emit('online');
        return;
      case HostEventKind.Message:
        this.emit('message', event[MessageField.Value]);
        return;
      case HostEventKind.MessageError:
        this.emit('messageerror', event[MessageField.Value]);
        return;
      case HostEventKind.Drain:
        this.emit('drain');
        return;
      case HostEventKind.Console: {
        const level = consoleLevelNames[event[ConsoleField.Level] as number] ?? 'log';
        const text = event[ConsoleField.Text] as string;
        if (this.listenerCount('console') > 0) this.emit('console', level, text);
        else (level === 'warn' || level === 'error' ? process.stderr : process.stdout).write(text + '\n');
        return;
      }
      case HostEventKind.Error: {
        const outOfMemory = event[ErrorField.OutOfMemory] === true;
        const summary = event[ErrorField.Summary] as string;
        const error = outOfMemory
          ? new AgentError('ERR_AGENT_OUT_OF_MEMORY', `Agent "${this.name}" exceeded its heap limit and was stopped`, { agentName: this.name })
          : restoreIdentity(event[ErrorField.Value], summary, event[ErrorField.Code] as string);
        this.#failure = { error, summary, phase: errorPhaseNames[event[ErrorField.Phase] as number] ?? 'runtime', outOfMemory };
        if (this.#state === 'starting') {
          // Startup failures reject `ready`; an 'error' listener counts as handling them.
          if (this.listenerCount('error') > 0) {
            this.ready.catch(() => {});
            this.emit('error', error);
          }
          this.#rejectReady(error);
        } else {
          this.emit('error', error);
        }
        return;
      }
      case HostEventKind.EvalResult: {
        const id = event[EvalResultField.Id] as number;
        const pending = this.#evaluations.get(id);
        if (!pending) return;
        this.#evaluations.delete(id);
        const value = event[EvalResultField.Value];
        if (event[EvalResultField.Ok]) pending.resolve(value);
        else pending.reject(restoreIdentity(value, event[EvalResultField.Summary] as string, event[EvalResultField.Code] as string));
        return;
      }
      case HostEventKind.HostCall:
        this.#host?.call(
          event[HostCallField.Id] as number,
          event[HostCallField.Method] as number,
          event[HostCallField.Sync] as boolean,
          event[HostCallField.Ok] as boolean,
          event[HostCallField.Value],
        );
        return;
      case HostEventKind.Diagnostic:
        this.#diagnostics.onAnswer(
          event[DiagnosticField.Id] as number,
          event[DiagnosticField.Ok] as boolean,
          event[DiagnosticField.Partial] as boolean,
          event[DiagnosticField.Payload] as Buffer | string,
        );
        return;
      case HostEventKind.Exit: {
        const info: ExitInfo = { code: event[ExitField.Code] as number, reason: event[ExitField.Reason] as ExitReason };
        if (info.reason === 'out-of-memory' && this.#diagnostics.nearHeapLimit) info.heapStatistics = this.#diagnostics.nearHeapLimit;
        this.#exitInfo = info;
        const wasStarting = this.#state === 'starting';
        this.#state = 'exited';
        const error = this.#deadError('the pending operation');
        if (wasStarting && this.#failure === undefined) {
          this.ready.catch(() => {}); // terminated before it ran: not an unhandled rejection
          this.#rejectReady(error);
        }
        for (const pending of this.#evaluations.values()) pending.reject(error);
        this.#evaluations.clear();
        this.#diagnostics.onExit(error);
        this.#resolveExited(info);
        this.emit('exit', info);
        return;
      }
    }
  }
}

/**
 * V8's error clone keeps only the standard error names and no extra
 * properties; the agent sends the thrown value's own name and `code` beside
 * it, and they are put back here (as Node's Worker does for its errors).
 */
function restoreIdentity(error: unknown, summary: string, code: string): unknown {
  if (!(error instanceof Error)) return error;
  const name = /^([\w$]+)(?::|$)/.exec(summary)?.[1];
  if (name && name !== error.name) {
    Object.defineProperty(error, 'name', { value: name, writable: true, configurable: true, enumerable: false });
  }
  if (code && (error as { code?: unknown }).code === undefined) {
    Object.defineProperty(error, 'code', { value: code, writable: true, configurable: true, enumerable: true });
  }
  return error;
}
