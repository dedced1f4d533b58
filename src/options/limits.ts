// resourceLimits of an agent: the accepted ranges and their one validator,
// shared by `new Agent()` and `new AgentPool()` so both accept exactly the
// same values (the pool reports with its own error class).
import { checkOptionNames } from './names.js';

export interface ResourceLimits {
  /** Old-generation heap limit (4 to 1048576); an agent past it stops with ERR_AGENT_OUT_OF_MEMORY. */
  maxHeapMB?: number;
  /** Young-generation (semi-space) size (above 0, up to 1048576; V8 rounds it to its own bounds). */
  maxYoungGenMB?: number;
  /** Stack of the agent's OS thread (0.25 to 1024, default 4). */
  stackSizeMB?: number;
  /**
   * A file to write a heap snapshot (.heapsnapshot) to when the agent nears
   * its heap limit, before it is stopped (like Node's --heapsnapshot-near-heap-limit).
   */
  heapSnapshotNearLimitFile?: string;
}

type LimitName = Exclude<keyof ResourceLimits, 'heapSnapshotNearLimitFile'>;

/**
 * Inclusive bounds, in MB. Floors: the heap must hold V8's startup snapshot
 * (below 4 MB V8 aborts the process while creating the isolate); a thread
 * stack under 0.25 MB leaves no room for V8's own frames past the JS stack
 * limit (0.05 MB crashed with SIGSEGV). The ceilings only keep the byte
 * counts far inside what the native side can represent.
 */
export const limitRanges: Readonly<Record<LimitName, { min: number; minExclusive?: boolean; max: number }>> = {
  maxHeapMB: { min: 4, max: 1024 * 1024 },
  maxYoungGenMB: { min: 0, minExclusive: true, max: 1024 * 1024 },
  stackSizeMB: { min: 0.25, max: 1024 },
};

export const limitNames = Object.keys(limitRanges) as LimitName[];

export type OptionFailure = (name: string, expected: string, value: unknown) => Error;

/** A short rendering of a rejected value for error messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

function checkLimit(name: LimitName, value: unknown, path: string, fail: OptionFailure): number {
  const { min, minExclusive, max } = limitRanges[name];
  const low = minExclusive ? value as number > min : value as number >= min;
  if (typeof value !== 'number' || !low || !(value <= max)) {
    throw fail(path, `a number ${minExclusive ? 'above' : 'from'} ${min}${minExclusive ? ' and at most' : ' to'} ${max} (MB)`, value);
  }
  return value;
}

/**
 * Validates a resourceLimits object; `aliases` maps other accepted names
 * (e.g. Node Worker's maxOldGenerationSizeMb) to ours, which win when both
 * are given. Unknown names are rejected with the nearest valid one.
 */
export function validateResourceLimits(
  value: unknown,
  fail: OptionFailure,
  unknown: (message: string) => Error,
  aliases: Readonly<Record<string, LimitName>> = {},
): ResourceLimits | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object') throw fail('resourceLimits', 'an object', value);
  checkOptionNames(value, [...limitNames, 'heapSnapshotNearLimitFile', ...Object.keys(aliases)], 'resourceLimits', unknown);
  const given = value as Record<string, unknown>;
  const out: ResourceLimits = {};
  for (const name of limitNames) {
    let key: string = name;
    if (given[name] === undefined) key = Object.keys(aliases).find((alias) => aliases[alias] === name && given[alias] !== undefined) ?? name;
    if (given[key] !== undefined) out[name] = checkLimit(name, given[key], `resourceLimits.${key}`, fail);
  }
  const file = given['heapSnapshotNearLimitFile'];
  if (file !== undefined) {
    if (typeof file !== 'string' || file === '' || file.includes('\0')) {
      throw fail('resourceLimits.heapSnapshotNearLimitFile', 'a non-empty file path', file);
    }
    out.heapSnapshotNearLimitFile = file;
  }
  return out;
}
