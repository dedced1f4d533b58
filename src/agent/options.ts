// The options of `new Agent(...)` and their translation to the native ones.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinModules, type NativeAgentOptions } from '../native.js';
import { invalidOption, unknownOption } from './errors.js';
import { validateResourceLimits, type ResourceLimits } from '../options/limits.js';
import { checkOptionNames } from '../options/names.js';
import { toHighWaterMark, type HighWaterMark } from '../flow-control.js';
import { buildGraph, checkConditions, checkEnv, checkLoader, checkModuleRoots, extraBuiltinsKey, moduleGraphKey, type LoaderHooks, type ModuleGraph } from '../modules/index.js';

/** What the `host` option takes: named functions, each called with cloned arguments. */
export type HostFunctions = Record<string, (...args: any[]) => unknown>;

export type { ResourceLimits } from '../options/limits.js';

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
  globals?: 'agent' | 'test262';
  /**
   * The host bridge: functions the agent may call as `host.NAME(...)` (a promise) or
   * `host.sync.NAME(...)` (blocks the agent). Only own enumerable function-valued
   * properties, read once at creation; nothing else of the host is reachable.
   */
  host?: HostFunctions;
  /**
   * Flow control, for each direction (host → agent mailbox, agent → host queue);
   * default `{ messages: 4096, bytes: 16 MiB }`. An agent's postMessage/console
   * waits while the host's queue is at the mark; the host's postMessage returns
   * false at the mark and the Agent emits 'drain' at half of it.
   */
  highWaterMark?: HighWaterMark;
  /**
   * Package export/import conditions for bare specifiers, in addition to
   * 'import'/'require' and 'default' (default ['agentcluster', 'worker', 'browser']:
   * runtime-neutral builds first; see docs/modules.md).
   */
  conditions?: readonly string[];
  /** A frozen `process.env` holding exactly these strings (and `process` nothing else). Default: no `process`. */
  env?: Record<string, string>;
  /** Resolve/load hooks run on the host while the module graph is found (docs/modules.md#loader-hooks). */
  loader?: LoaderHooks;
  /**
   * Directories (paths or file: URLs) whose files a computed `import()` may
   * load. Given: any file outside the module graph found on the host and
   * outside these is refused with ERR_AGENT_MODULE_DENIED (an empty array: the
   * graph only). Absent: no such check (pool agents always check, see
   * AgentPool's option). docs/modules.md#module-roots.
   */
  moduleRoots?: readonly (string | URL)[];
  /** @internal A pool's module graph, shared by its agents. */
  [moduleGraphKey]?: ModuleGraph;
  /** @internal Specifiers served from that graph (a pool's job namespace module, src/scheduler/job-namespace.ts). */
  [extraBuiltinsKey]?: Record<string, string>;
}

/** Every name `new Agent()` accepts (others are refused with the nearest of these). */
export const agentOptionNames: readonly Exclude<keyof AgentOptions, symbol>[] = [
  'source', 'file', 'type', 'filename', 'name', 'resourceLimits', 'canBlock', 'signal',
  'data', 'transferList', 'trackUnhandledRejections', 'globals', 'host', 'highWaterMark', 'conditions', 'env', 'loader',
  'moduleRoots',
];

export function checkResourceLimits(value: unknown): ResourceLimits {
  return validateResourceLimits(value, invalidOption, unknownOption) ?? {};
}

function snapshotFile(value: unknown): { heapSnapshotNearLimitFile?: string } {
  if (value === undefined) return {};
  if (typeof value !== 'string' || value === '' || value.includes('\0')) {
    throw invalidOption('resourceLimits.heapSnapshotNearLimitFile', 'a non-empty file path');
  }
  return { heapSnapshotNearLimitFile: resolve(value) };
}

/** V8's String::kMaxLength on 64-bit hosts. */
export const maxSourceBytes = 2 ** 29 - 24;

let anonymousCount = 0;

export function toNativeOptions(options: AgentOptions): NativeAgentOptions {
  if (options === null || typeof options !== 'object') throw invalidOption('options', 'an object', options);
  checkOptionNames(options, agentOptionNames, 'Agent', unknownOption);
  const { source, file } = options;
  if ((source === undefined) === (file === undefined)) {
    throw invalidOption('source/file', 'given, exactly one of them');
  }
  if (source !== undefined && typeof source !== 'string') throw invalidOption('source', 'a string', source);
  // The agent rebuilds the text from UTF-8, which must fit in one V8 string.
  if (source !== undefined && source.length > maxSourceBytes / 3 && Buffer.byteLength(source) > maxSourceBytes) {
    throw invalidOption('source', `at most ${maxSourceBytes} bytes as UTF-8 (the longest string V8 can hold); got ${Buffer.byteLength(source)} bytes`);
  }
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
  if (options.globals !== undefined && options.globals !== 'agent' && options.globals !== 'test262') {
    throw invalidOption('globals', "'agent' or 'test262'", options.globals);
  }
  // `host` used to pick the global set; a string there is that old form, refused with its new name.
  const legacyHost = (options as { host?: unknown }).host;
  if (typeof legacyHost === 'string') {
    throw invalidOption('host', `an object of functions (the host bridge); the global set is now chosen with globals: '${legacyHost === 'test262' ? 'test262' : 'agent'}'`, legacyHost);
  }
  const limits = checkResourceLimits(options.resourceLimits);
  const mark = toHighWaterMark(options.highWaterMark);
  const name = options.name ?? `agent-${++anonymousCount}`;
  const conditions = checkConditions(options.conditions, invalidOption);
  const env = checkEnv(options.env, invalidOption);
  const moduleRoots = checkModuleRoots(options.moduleRoots, invalidOption);
  const loader = checkLoader(options.loader, invalidOption);
  const basePath = filePath ?? resolve(options.filename ?? `[${name}]`);
  // Modules resolve bare specifiers and CommonJS through a graph found on the host, before start.
  const moduleGraph = options[moduleGraphKey] ??
    (isModule ? buildGraph([filePath !== undefined ? { path: filePath } : { path: basePath, source: source!, format: 'esm' }], conditions, loader) : undefined);
  return {
    name,
    source,
    filePath,
    basePath,
    // What stacks call source text with no file to name (a filename, when given, names it).
    ...(filePath === undefined && options.filename === undefined ? { sourceUrl: `agentcluster:source/${encodeURIComponent(name)}` } : {}),
    isModule,
    maxHeapMB: limits.maxHeapMB,
    maxYoungGenMB: limits.maxYoungGenMB,
    stackSizeMB: limits.stackSizeMB,
    ...snapshotFile(limits.heapSnapshotNearLimitFile),
    canBlock: options.canBlock ?? true,
    ...('data' in options ? { data: options.data, dataTransfer: options.transferList } : {}),
    builtinModules: { ...builtinModules(), ...options[extraBuiltinsKey] },
    trackUnhandledRejections: options.trackUnhandledRejections ?? true,
    globals: options.globals ?? 'agent',
    highWaterMessages: mark.messages,
    highWaterBytes: mark.bytes,
    ...(moduleGraph === undefined ? {} : { moduleGraph }),
    ...(env === undefined ? {} : { env }),
    ...(moduleRoots === undefined ? {} : { moduleRoots }),
  };
}
