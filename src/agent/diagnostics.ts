// Per-agent observability on the host side: heap statistics, heap snapshots
// (a stream), CPU profiles and the thread's CPU time. Requests go to
// native/agent/agent_diagnostics.cc, which answers on the agent's thread whether
// it is idle or busy; answers come back as Diagnostic events. The Agent
// class holds one of these and forwards its thin methods here.
import { Readable } from 'node:stream';
import type { NativeAgentHandle } from '../native.js';
import { AgentError } from './errors.js';

/** V8's HeapStatistics, with the names of Node's `v8.getHeapStatistics()`, plus `externalMemory`. */
export interface AgentHeapStatistics {
  total_heap_size: number;
  total_heap_size_executable: number;
  total_physical_size: number;
  total_available_size: number;
  used_heap_size: number;
  heap_size_limit: number;
  malloced_memory: number;
  peak_malloced_memory: number;
  does_zap_garbage: number;
  number_of_native_contexts: number;
  number_of_detached_contexts: number;
  total_global_handles_size: number;
  used_global_handles_size: number;
  external_memory: number;
  /** Bytes allocated since the agent started; V8 14+ (Node 26), as in Node's `v8.getHeapStatistics()` there. */
  total_allocated_bytes?: number;
  /** Bytes V8 counts as held outside the heap by this agent (ArrayBuffer backing stores, received ones included). */
  externalMemory: number;
}

/** A V8 CPU profile in the DevTools `.cpuprofile` format (write it with JSON.stringify). */
export interface CpuProfile {
  nodes: Array<{
    id: number;
    hitCount: number;
    callFrame: { functionName: string; scriptId: string; url: string; lineNumber: number; columnNumber: number };
    children: number[];
  }>;
  /** Microseconds, on V8's monotonic clock. */
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface AgentCpuUsage {
  /** CPU time of the agent's OS thread (user + system), in ms. Frozen once the thread ended. */
  cpuMs: number;
  /** Wall time since the thread started (until it ended), in ms. */
  wallMs: number;
}

/** Request kinds, as native/agent/agent_diagnostics.h numbers them. */
const enum Request {
  HeapStatistics = 0,
  HeapSnapshot = 1,
  StartCpuProfile = 2,
  StopCpuProfile = 3,
}

/** Id 0 is never a request: it carries the heap statistics taken at the heap limit. */
const nearHeapLimitId = 0;

interface PendingAnswer {
  resolve(text: string): void;
  reject(error: unknown): void;
}

export class AgentDiagnosticsClient {
  #handle: NativeAgentHandle;
  #agentName: string;
  #pending = new Map<number, PendingAnswer>();
  #snapshots = new Map<number, SnapshotStream>();
  #nextId = 1;
  #deadError: () => AgentError;
  #exited: Promise<unknown>;
  /** The heap statistics at the moment the agent reached its heap limit. */
  nearHeapLimit: AgentHeapStatistics | undefined;

  constructor(handle: NativeAgentHandle, agentName: string, deadError: () => AgentError, exited: Promise<unknown>) {
    this.#handle = handle;
    this.#agentName = agentName;
    this.#deadError = deadError;
    this.#exited = exited;
  }

  cpuUsage(): AgentCpuUsage {
    return this.#handle.diagnostics('cpuUsage') as AgentCpuUsage;
  }

  heapUsed(): number {
    return this.#handle.diagnostics('heapUsed') as number;
  }

  async heapStatistics(): Promise<AgentHeapStatistics> {
    return JSON.parse(await this.#request(Request.HeapStatistics)) as AgentHeapStatistics;
  }

  async startCpuProfile(): Promise<void> {
    await this.#request(Request.StartCpuProfile);
  }

  async stopCpuProfile(): Promise<CpuProfile> {
    return JSON.parse(await this.#request(Request.StopCpuProfile)) as CpuProfile;
  }

  /** Resolves with the stream once the agent has taken the snapshot (its first chunk arrived). */
  heapSnapshot(): Promise<Readable> {
    const id = this.#nextId++;
    const stream = new SnapshotStream(this.#handle, id);
    return new Promise<Readable>((resolve, reject) => {
      stream.onStart = () => resolve(stream);
      stream.onFail = reject;
      this.#snapshots.set(id, stream);
      if (!this.#handle.diagnostics('post', Request.HeapSnapshot, id)) {
        this.#snapshots.delete(id);
        void this.#exited.then(() => reject(this.#deadError()));
      }
    });
  }

  /** A Diagnostic event: [id, ok, partial, Buffer chunk | string answer]. */
  onAnswer(id: number, ok: boolean, partial: boolean, value: Buffer | string): void {
    if (id === nearHeapLimitId) {
      this.nearHeapLimit = JSON.parse(value as string) as AgentHeapStatistics;
      return;
    }
    const stream = this.#snapshots.get(id);
    if (stream) {
      if (!ok) {
        this.#snapshots.delete(id);
        stream.fail(this.#failure(value as string));
      } else if (partial) {
        stream.chunk(value as Buffer);
      } else {
        this.#snapshots.delete(id);
        stream.end();
      }
      return;
    }
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    if (ok) pending.resolve(value as string);
    else pending.reject(this.#failure(value as string));
  }

  /** The agent exited: nothing pending will be answered. */
  onExit(error: AgentError): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    for (const stream of this.#snapshots.values()) stream.fail(error);
    this.#snapshots.clear();
  }

  #request(kind: Request): Promise<string> {
    const id = this.#nextId++;
    return new Promise<string>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      if (!this.#handle.diagnostics('post', kind, id)) {
        this.#pending.delete(id);
        void this.#exited.then(() => reject(this.#deadError()));
      }
    });
  }

  #failure(code: string): AgentError {
    const messages: Record<string, string> = {
      ERR_AGENT_PROFILE_ACTIVE: 'a CPU profile is already running',
      ERR_AGENT_NO_PROFILE: 'no CPU profile is running (call startCpuProfile() first)',
      ERR_AGENT_SNAPSHOT_FAILED: 'the heap snapshot was cancelled or the agent is stopping',
    };
    const known = code in messages ? (code as 'ERR_AGENT_PROFILE_ACTIVE' | 'ERR_AGENT_NO_PROFILE' | 'ERR_AGENT_SNAPSHOT_FAILED') : 'ERR_AGENT_SNAPSHOT_FAILED';
    return new AgentError(known, `Agent "${this.#agentName}": ${messages[known]}`, { agentName: this.#agentName });
  }
}

/**
 * The snapshot's bytes as the agent serializes them, in 64 KiB chunks. The
 * agent may run ahead of the reader by a bounded window only: each chunk is
 * acknowledged once this stream takes it (at once, or when read() asks for
 * more), and the agent waits while the window is full. Destroying the
 * stream cancels the snapshot.
 */
class SnapshotStream extends Readable {
  onStart: (() => void) | undefined;
  onFail: ((error: unknown) => void) | undefined;
  #handle: NativeAgentHandle;
  #id: number;
  #unacknowledged = 0;
  #done = false;

  constructor(handle: NativeAgentHandle, id: number) {
    super();
    this.#handle = handle;
    this.#id = id;
  }

  chunk(bytes: Buffer): void {
    this.#started();
    if (this.push(bytes)) this.#handle.diagnostics('ack', bytes.length);
    else this.#unacknowledged += bytes.length;
  }

  end(): void {
    this.#started();
    this.#done = true;
    this.push(null);
  }

  fail(error: unknown): void {
    this.#done = true;
    if (this.onFail) {
      // Never handed out: the promise carries the error, and an 'error'
      // event on a stream nobody holds would crash the process.
      const onFail = this.onFail;
      this.onStart = this.onFail = undefined;
      onFail(error);
      this.destroy();
      return;
    }
    // Handed out in this same turn maybe (first chunk and failure in one
    // batch): let the consumer's await resume and attach its listeners first.
    setImmediate(() => this.destroy(error as Error));
  }

  override _read(): void {
    if (this.#unacknowledged > 0) {
      this.#handle.diagnostics('ack', this.#unacknowledged);
      this.#unacknowledged = 0;
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.#done) {
      this.#done = true;
      this.#handle.diagnostics('cancel', this.#id);
      if (this.#unacknowledged > 0) this.#handle.diagnostics('ack', this.#unacknowledged);
    }
    callback(error);
  }

  #started(): void {
    const onStart = this.onStart;
    this.onStart = this.onFail = undefined;
    onStart?.();
  }
}

/** Reads a whole heap snapshot stream into one string. */
export async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
