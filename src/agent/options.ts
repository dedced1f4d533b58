// The options of `new Agent(...)` and their translation to the native ones.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinModules, type NativeAgentOptions } from '../native.js';
import { invalidOption } from './errors.js';
import { toHighWaterMark, type HighWaterMark } from '../flow-control.js';

export interface ResourceLimits {
  /** Old-generation heap limit; an agent past it stops with ERR_AGENT_OUT_OF_MEMORY. */
  maxHeapMB?: number;
  /** Young-generation (semi-space) size. */
  maxYoungGenMB?: number;
  /** Stack of the agent's OS thread (default 4). */
  stackSizeMB?: number;
  /**
   * A file to write a heap snapshot (.heapsnapshot) to when the agent nears
   * its heap limit, before it is stopped (like Node's --heapsnapshot-near-heap-limit).
   */
  heapSnapshotNearLimitFile?: string;
}

export interface AgentOptions {
  /** Code to run: a classic script unless `type: 'module'`. */
  source?: string;
  /** A `.js`/`.mjs` file path or `file:` URL to run: an ES module unless `type: 'classic'` (or `.cjs`). */
  file?: string | URL;
  type?: 'classic' | 'module';
  /** Path that relative imports in `source` resolve against (default: `<cwd>/[agent]`). */
  filename?: string;
  /** Shown in errors and available in the agent as `self.name`. */
  name?: string;
  resourceLimits?: ResourceLimits;
  /** Whether `Atomics.wait` may block in this agent (the spec's [[CanBlock]]). Default true. */
  canBlock?: boolean;
  /** Aborting terminates the agent. */
  signal?: AbortSignal;
  /** Cloned into the agent as the global `agentData`. */
  data?: unknown;
  /** ArrayBuffers in `data` to move instead of copy. */
  transferList?: readonly ArrayBuffer[];
  /** Report unhandled promise rejections as uncaught errors (default true, as Node does). */
  trackUnhandledRejections?: boolean;
  /**
   * The agent's global scope: 'agent' (default: postMessage, onmessage, ...) or
   * 'test262' (print and a native $262 with $262.agent, as test262's INTERPRETING.md defines).
   */
  host?: 'agent' | 'test262';
  /**
   * Flow control, for each direction (host → agent mailbox, agent → host queue);
   * default `{ messages: 4096, bytes: 16 MiB }`. An agent's postMessage/console
   * waits while the host's queue is at the mark; the host's postMessage returns
   * false at the mark and the Agent emits 'drain' at half of it.
   */
  highWaterMark?: HighWaterMark;
}

function positive(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw invalidOption(name, 'a positive number');
  }
  return value;
}

function snapshotFile(value: unknown): { heapSnapshotNearLimitFile?: string } {
  if (value === undefined) return {};
  if (typeof value !== 'string' || value === '' || value.includes('\0')) {
    throw invalidOption('resourceLimits.heapSnapshotNearLimitFile', 'a non-empty file path');
  }
  return { heapSnapshotNearLimitFile: resolve(value) };
}

let anonymousCount = 0;

export function toNativeOptions(options: AgentOptions): NativeAgentOptions {
  if (options === null || typeof options !== 'object') throw invalidOption('options', 'an object');
  const { source, file } = options;
  if ((source === undefined) === (file === undefined)) {
    throw invalidOption('source/file', 'given, exactly one of them');
  }
  if (source !== undefined && typeof source !== 'string') throw invalidOption('source', 'a string');
  let filePath: string | undefined;
  if (file !== undefined) {
    if (file instanceof URL) filePath = fileURLToPath(file);
    else if (typeof file === 'string') filePath = file.startsWith('file:') ? fileURLToPath(file) : resolve(file);
    else throw invalidOption('file', 'a path or a file: URL');
  }
  if (options.type !== undefined && options.type !== 'classic' && options.type !== 'module') {
    throw invalidOption('type', "'classic' or 'module'");
  }
  const isModule = options.type ? options.type === 'module' : filePath !== undefined && !filePath.endsWith('.cjs');
  if (options.canBlock !== undefined && typeof options.canBlock !== 'boolean') throw invalidOption('canBlock', 'a boolean');
  if (options.name !== undefined && typeof options.name !== 'string') throw invalidOption('name', 'a string');
  if (options.host !== undefined && options.host !== 'agent' && options.host !== 'test262') {
    throw invalidOption('host', "'agent' or 'test262'");
  }
  const limits = options.resourceLimits ?? {};
  const mark = toHighWaterMark(options.highWaterMark);
  const name = options.name ?? `agent-${++anonymousCount}`;
  return {
    name,
    source,
    filePath,
    basePath: filePath ?? resolve(options.filename ?? `[${name}]`),
    // What stacks call source text with no file to name (a filename, when given, names it).
    ...(filePath === undefined && options.filename === undefined ? { sourceUrl: `agentcluster:source/${encodeURIComponent(name)}` } : {}),
    isModule,
    maxHeapMB: positive(limits.maxHeapMB, 'resourceLimits.maxHeapMB'),
    maxYoungGenMB: positive(limits.maxYoungGenMB, 'resourceLimits.maxYoungGenMB'),
    stackSizeMB: positive(limits.stackSizeMB, 'resourceLimits.stackSizeMB'),
    ...snapshotFile(limits.heapSnapshotNearLimitFile),
    canBlock: options.canBlock ?? true,
    ...('data' in options ? { data: options.data, dataTransfer: options.transferList } : {}),
    builtinModules: builtinModules(),
    trackUnhandledRejections: options.trackUnhandledRejections ?? true,
    host: options.host ?? 'agent',
    highWaterMessages: mark.messages,
    highWaterBytes: mark.bytes,
  };
}
