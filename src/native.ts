// Loads the compiled addon (build/Release/agentcluster.node) and types what
// it exports. The same path works from src/ (tsx) and dist/ (compiled).
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processSetsSemiSpaceSize, processUsesNodeSnapshot } from './node-snapshot.js';
import { AgentError, type AgentErrorCode } from './agent/errors.js';
import type { HostEventKind } from './native-event-schema.js';

/** Root of the installed package: the nearest folder above this file with a package.json (src/ under tsx, dist/src/ compiled). */
export const packageRoot = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'binding.gyp'))) return dir;
    if (dirname(dir) === dir) return join(from, '..');
  }
}

export interface NativeAgentOptions {
  name: string;
  source?: string;
  filePath?: string;
  basePath: string;
  /** The URL stacks show for `source` that has no file (agentcluster:source/NAME). */
  sourceUrl?: string;
  isModule: boolean;
  maxHeapMB?: number;
  maxYoungGenMB?: number;
  stackSizeMB?: number;
  canBlock: boolean;
  data?: unknown;
  dataTransfer?: readonly unknown[];
  builtinModules: Record<string, string>;
  /** The host's module graph (src/modules/graph.ts). */
  moduleGraph?: { id: number; resolutions: Record<string, string>; formats: Record<string, string>; facades: Record<string, string>; sources: Record<string, string>; failures: Record<string, string> };
  /** Set: imports outside the module graph must be under one of these real directories (ERR_AGENT_MODULE_DENIED). */
  moduleRoots?: readonly string[];
  /** A frozen process.env of these. */
  env?: Record<string, string>;
  trackUnhandledRejections?: boolean;
  /** Never run the code (the AbortSignal was aborted before construction). */
  terminatedBeforeStart?: boolean;
  /** Where to write a heap snapshot when the agent nears its heap limit. */
  heapSnapshotNearLimitFile?: string;
  /** The global set: 'test262' gives print + $262 instead of the messaging globals. */
  globals?: 'agent' | 'test262';
  /** The host bridge's function names (src/agent/host-bridge.ts); absent: no `host` global. */
  hostMethods?: readonly string[];
  hostCallIdLimit?: number;  // tests only (src/agent/host-bridge.ts hostCallIdLimitForTests)
  /** Flow control, both directions (src/flow-control.ts). */
  highWaterMessages?: number;
  highWaterBytes?: number;
}

/** One bounded batch of `[kind, ...fields]` tuples (kinds and field indices: src/native-event-schema.ts). */
export type NativeEventBatch = ReadonlyArray<readonly [HostEventKind, ...unknown[]]>;

export interface NativeAgentHandle {
  readonly threadId: number;
  /** 0: refused (the agent is gone, nothing detached), 1: queued, 2: queued and the mailbox is at its high-water mark. */
  postMessage(value: unknown, transfer?: readonly unknown[]): 0 | 1 | 2;
  /** Takes the next bounded batch of events (after a batch came with `more`). */
  drainEvents(): void;
  /** Messages and evaluate() requests queued for the agent, not yet taken. */
  readonly bufferedMessages: number;
  readonly bufferedBytes: number;
  evaluate(id: number, source: string): boolean;
  /** The answer of host call `id`: [status, payload]; throws what serializing it threw. */
  hostReply(id: number, sync: boolean, answer: unknown, transfer?: readonly unknown[]): boolean | undefined;
  /** Whether the agent's thread is blocked in host.sync.NAME() right now. */
  hostSyncWaiting(): boolean;
  terminate(): void;
  ref(): void;
  unref(): void;
  checkThreadFromForeignThread(): boolean;
  interrupt(): boolean;
  atomicsStats(): AtomicsWaitStats;
  /** See src/agent/diagnostics.ts: 'post' (kind, id) | 'ack' (bytes) | 'cancel' (id) | 'cpuUsage' | 'heapUsed'. */
  diagnostics(op: 'post' | 'ack' | 'cancel' | 'cpuUsage' | 'heapUsed', ...args: number[]): unknown;
  /** 'closed' | 'terminated' | 'out-of-memory' | 'error' once the agent stopped (before its exit event), else undefined. */
  endingReason(): string | undefined;
}

/** Counters of an agent's Atomics.wait calls. */
export interface AtomicsWaitStats {
  /** Calls that blocked (ended by notify, timeout or interrupt). */
  waits: number;
  woken: number;
  timedOut: number;
  /** Calls that returned "not-equal" without blocking. */
  notEqual: number;
  interrupted: number;
  /** Total time spent blocked, in milliseconds. */
  blockedMs: number;
}

/** Which V8 startup snapshot agents start from (see docs/architecture.md, "Agent snapshot"). */
export interface AgentSnapshotInfo {
  /** "unbuilt" before the first agent, "in-use", "fallback" (verification failed: Node's blob), or "off". */
  state: 'unbuilt' | 'in-use' | 'fallback' | 'off';
  /** Why "fallback" or "off"; empty otherwise. */
  reason: string;
  /** Size of the built blob agents start from (0 when they use Node's). */
  bytes: number;
  /** Size of Node's embedded blob. */
  nodeBytes: number;
  /** Time to build and verify the blob, in milliseconds (once per process). */
  buildMs: number;
}

export interface NativeAddon {
  AgentHandle: new (options: NativeAgentOptions, onEvents: (batch: NativeEventBatch, more: boolean) => void) => NativeAgentHandle;
  clone(value: unknown, transfer?: readonly unknown[]): unknown;
  createChannel(messages: number, bytes: number): unknown;
  stopAll(): void;
  setNodeSnapshotInUse(inUse: boolean): void;
  setSemiSpaceFlagGiven(given: boolean): void;
  setErrorClass(errorClass: new (code: AgentErrorCode, message: string) => Error): void;
  liveCount(): number;
  agentSnapshotInfo(): AgentSnapshotInfo;
  /** Entries in the process-wide source cache (native/shared/module_table.cc), for tests. */
  sharedSourceCount(): number;
}

function load(): NativeAddon {
  const require = createRequire(import.meta.url);
  const candidates = ['build/Release/agentcluster.node', 'build/Debug/agentcluster.node'];
  for (const candidate of candidates) {
    const path = join(packageRoot, candidate);
    if (existsSync(path)) return require(path) as NativeAddon;
  }
  throw new Error(
    `agentcluster: the native addon is not built (looked for ${candidates.join(', ')} under ${packageRoot}); run \`npm install\` or \`npm run build:native\``,
  );
}

export const native: NativeAddon = load();

// Agents start from Node's own V8 snapshot (required by V8's shared
// read-only heap), unless this process runs without it. Every environment
// that loads the addon (main thread or worker) gives the same, process-wide answer.
native.setNodeSnapshotInUse(processUsesNodeSnapshot());
native.setSemiSpaceFlagGiven(processSetsSemiSpaceSize());

// Native errors (ERR_AGENT_START_FAILED, ERR_AGENT_WRONG_THREAD...) are
// AgentErrors on every path, not only where TypeScript rewraps them.
native.setErrorClass(AgentError);

/** Modules agents can import by name (compiled JS shipped in dist/). */
export function builtinModules(): Record<string, string> {
  const modules: Record<string, string> = {};
  const atomics = join(packageRoot, 'dist', 'src', 'atomics', 'index.js');
  if (existsSync(atomics)) modules['agentcluster:atomics'] = atomics;
  return modules;
}
