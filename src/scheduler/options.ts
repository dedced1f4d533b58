// AgentPool's options: the public shape, defaults and validation.
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { toHighWaterMark, type HighWaterMark } from '../flow-control.js';
import { validateResourceLimits, type ResourceLimits } from '../options/limits.js';
import { checkOptionNames } from '../options/names.js';
import { invalidOption, unknownOption, type PoolError } from './errors.js';
import { snapshotHost } from '../agent/host-bridge.js';
import type { HostFunctions } from '../agent/options.js';
import { checkConditions, checkEnv, checkLoader, checkModuleRoots, defaultJobRoots, type LoaderHooks } from '../modules/index.js';

/** Our names, or piscina's / Node Worker's (maxOldGenerationSizeMb, ...). */
export interface PoolResourceLimits extends ResourceLimits {
  maxOldGenerationSizeMb?: number;
  maxYoungGenerationSizeMb?: number;
  stackSizeMb?: number;
}

export interface AgentPoolOptions {
  /** Path or file: URL of the ES module exporting the job (relative paths resolve against the cwd). */
  filename?: string | URL;
  /** Or the job module's source text (ES module; imports must be absolute or file: URLs). */
  source?: string;
  /** Export run when a task names none (default 'default'). */
  name?: string;
  /** Agents kept even when idle (default: half the CPUs, at least 1; at most maxAgents). */
  minAgents?: number;
  /** Most agents at once (default: os.availableParallelism()). */
  maxAgents?: number;
  /** ms an agent above minAgents may stay idle before it stops (default 1000). */
  idleTimeout?: number;
  /** Most tasks waiting for an agent; past it run() rejects with ERR_POOL_QUEUE_FULL. 'auto': maxAgents². Default Infinity. */
  maxQueue?: number | 'auto';
  /** Async tasks one agent runs at once (default 1). */
  concurrentTasksPerAgent?: number;
  resourceLimits?: PoolResourceLimits;
  /** Default `timeout` of every task, in ms (default: none). */
  taskTimeout?: number;
  /** Whether Atomics.wait may block in the agents (default true). */
  canBlock?: boolean;
  /** Cloned into every agent (replacements too) as the global `agentData`. */
  data?: unknown;
  /** ms of waiting worth one priority level; see docs/scheduler.md (default 1000, Infinity: strict). */
  priorityAging?: number;
  /** Flow control of each agent's messages, both directions (see the Agent option; default { messages: 4096, bytes: 16 MiB }). */
  highWaterMark?: HighWaterMark;
  /** The host bridge of every agent (see the Agent option): read once, when the pool is created. */
  host?: HostFunctions;
  /** Package export/import conditions of the agents (see the Agent option; default ['agentcluster', 'worker', 'browser']). */
  conditions?: readonly string[];
  /** A frozen `process.env` of exactly these strings in every agent (see the Agent option). */
  env?: Record<string, string>;
  /** Resolve/load hooks, run on the host once per module for the whole pool (see the Agent option). */
  loader?: LoaderHooks;
  /**
   * Directories whose files the job's computed `import()` may load, beyond the
   * job's module graph (default: none, so the graph only; ERR_AGENT_MODULE_DENIED otherwise).
   */
  moduleRoots?: readonly (string | URL)[];
  // piscina's names, accepted so switching is a one-line change
  minThreads?: number;
  maxThreads?: number;
  concurrentTasksPerWorker?: number;
  workerData?: unknown;
}

export interface FilledOptions {
  url: string;
  /** Set when `source` was given: the file was written by the pool. */
  source: string | undefined;
  name: string;
  minAgents: number;
  maxAgents: number;
  idleTimeout: number;
  maxQueue: number;
  concurrency: number;
  resourceLimits: ResourceLimits | undefined;
  taskTimeout: number | undefined;
  canBlock: boolean;
  data: unknown;
  priorityAging: number;
  highWaterMark: Required<HighWaterMark>;
  host: HostFunctions | undefined;
  conditions: readonly string[] | undefined;
  env: Record<string, string> | undefined;
  loader: LoaderHooks | undefined;
  moduleRoots: readonly string[];
}

function count(value: unknown, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw invalidOption(name, `an integer >= ${min}`);
  }
  return value;
}

function duration(value: unknown, name: string, allowZero: boolean): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || (!allowZero && value === 0)) {
    throw invalidOption(name, allowZero ? 'a number >= 0 (or Infinity)' : 'a number > 0 (or Infinity)');
  }
  return value;
}

export function jobUrl(filename: string | URL): string {
  if (filename instanceof URL) {
    if (filename.protocol !== 'file:') throw invalidOption('filename', 'a path or a file: URL');
    return filename.href;
  }
  if (typeof filename !== 'string' || filename === '') throw invalidOption('filename', 'a path or a file: URL');
  if (filename.startsWith('file:')) return pathToFileURL(fileURLToPath(filename)).href;
  return pathToFileURL(resolve(filename)).href;
}

/** Every name `new AgentPool()` accepts (others are refused with the nearest of these). */
export const poolOptionNames: readonly (keyof AgentPoolOptions)[] = [
  'filename', 'source', 'name', 'minAgents', 'maxAgents', 'idleTimeout', 'maxQueue', 'concurrentTasksPerAgent',
  'resourceLimits', 'taskTimeout', 'canBlock', 'data', 'priorityAging', 'highWaterMark', 'host', 'conditions', 'env', 'loader', 'moduleRoots',
  'minThreads', 'maxThreads', 'concurrentTasksPerWorker', 'workerData',
];

/** Names run() accepts; map() takes these but transferList, plus its own. */
const runOptionNames = ['transferList', 'signal', 'name', 'priority', 'timeout'] as const;
const mapOptionNames = ['signal', 'name', 'priority', 'timeout', 'concurrency', 'ordered'] as const;

/** The error for a run()/map() options object that is not one or has an unknown name, if any. */
export function badTaskOptions(options: unknown, method: 'run' | 'map'): PoolError | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object') return invalidOption(`${method}() options`, 'an object', options);
  try {
    checkOptionNames(options, method === 'run' ? runOptionNames : mapOptionNames, `${method}()`, unknownOption);
  } catch (error) {
    return error as PoolError;
  }
  return undefined;
}

/** Node Worker's / piscina's resourceLimits names, and ours they stand for. */
const limitAliases = {
  maxOldGenerationSizeMb: 'maxHeapMB',
  maxYoungGenerationSizeMb: 'maxYoungGenMB',
  stackSizeMb: 'stackSizeMB',
} as const satisfies Record<keyof Omit<PoolResourceLimits, keyof ResourceLimits>, keyof ResourceLimits>;

/** The same validation as `new Agent()`'s, reported as the pool's error. */
function limits(value: PoolResourceLimits | undefined): ResourceLimits | undefined {
  return validateResourceLimits(value, invalidOption, unknownOption, limitAliases);
}

export function fillOptions(options: AgentPoolOptions): FilledOptions {
  if (options === null || typeof options !== 'object') throw invalidOption('options', 'an object', options);
  checkOptionNames(options, poolOptionNames, 'AgentPool', unknownOption);
  const { filename, source } = options;
  if ((filename === undefined) === (source === undefined)) throw invalidOption('filename/source', 'given, exactly one of them');
  if (source !== undefined && typeof source !== 'string') throw invalidOption('source', 'a string');
  const name = options.name ?? 'default';
  if (typeof name !== 'string' || name === '') throw invalidOption('name', 'a non-empty string');

  const cpus = availableParallelism();
  const givenMax = count(options.maxAgents ?? options.maxThreads, 'maxAgents', 1);
  const givenMin = count(options.minAgents ?? options.minThreads, 'minAgents', 0);
  let maxAgents = givenMax ?? Math.max(cpus, givenMin ?? 1);
  let minAgents = givenMin ?? Math.min(maxAgents, Math.max(1, Math.floor(cpus / 2)));
  if (minAgents > maxAgents) {
    if (givenMax !== undefined) throw invalidOption('minAgents', `at most maxAgents (${maxAgents})`);
    maxAgents = minAgents;
  }

  const concurrency = count(options.concurrentTasksPerAgent ?? options.concurrentTasksPerWorker, 'concurrentTasksPerAgent', 1) ?? 1;
  let maxQueue: number;
  if (options.maxQueue === 'auto') maxQueue = maxAgents * maxAgents;
  else if (options.maxQueue === undefined || options.maxQueue === Infinity) maxQueue = Infinity;
  else maxQueue = count(options.maxQueue, 'maxQueue', 0)!;

  if (options.canBlock !== undefined && typeof options.canBlock !== 'boolean') throw invalidOption('canBlock', 'a boolean');
  const taskTimeout = duration(options.taskTimeout, 'taskTimeout', false);
  return {
    url: source === undefined ? jobUrl(filename!) : '',
    source,
    name,
    minAgents,
    maxAgents,
    idleTimeout: duration(options.idleTimeout, 'idleTimeout', true) ?? 1000,
    maxQueue,
    concurrency,
    resourceLimits: limits(options.resourceLimits),
    taskTimeout: taskTimeout === Infinity ? undefined : taskTimeout,
    canBlock: options.canBlock ?? true,
    data: 'data' in options ? options.data : options.workerData,
    priorityAging: duration(options.priorityAging, 'priorityAging', false) ?? 1000,
    highWaterMark: toHighWaterMark(options.highWaterMark),
    host: poolHost(options.host),
    conditions: checkConditions(options.conditions, invalidOption),
    env: checkEnv(options.env, invalidOption),
    loader: checkLoader(options.loader, invalidOption),
    moduleRoots: checkModuleRoots(options.moduleRoots, invalidOption) ?? defaultJobRoots(filename === undefined ? undefined : fileURLToPath(jobUrl(filename))),
  };
}

/**
 * The pool's snapshot of `host`: one frozen object of the functions found now
 * (each still called with the original object as `this`), given to every agent
 * the pool starts, replacements included.
 */
function poolHost(host: unknown): HostFunctions | undefined {
  if (typeof host === 'string') throw invalidOption('host', 'an object of functions (the host bridge)', host);
  let snapshot;
  try {
    snapshot = snapshotHost(host);
  } catch {
    throw invalidOption('host', 'an object of functions (the host bridge), without a function named sync', host);
  }
  if (snapshot === undefined) return undefined;
  const { names, functions, receiver } = snapshot;
  const bound: HostFunctions = {};
  names.forEach((name, i) => {
    const fn = functions[i]!;
    Object.defineProperty(bound, name, { value: (...args: unknown[]) => fn.apply(receiver, args), enumerable: true });
  });
  return Object.freeze(bound);
}
