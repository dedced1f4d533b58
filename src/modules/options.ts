// The `conditions`, `env` and `moduleRoots` options of Agent and AgentPool,
// validated the same way for both (each reports with its own error type).
import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { packageScope } from './resolver.js';
import { fileURLToPath } from 'node:url';
type Invalid = (name: string, expected: string, ...value: [unknown?]) => Error;

/** 'import'/'require' come from how a module is loaded and 'default' always matches: not the user's to list. */
const implied = new Set(['import', 'require', 'default']);

export function checkConditions(value: unknown, invalid: Invalid): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length > 64) throw invalid('conditions', 'an array of at most 64 condition names', value);
  const seen = new Set<string>();
  for (const item of value) {
    if (typeof item !== 'string' || item === '' || item.length > 256 || /[\s,]/.test(item)) {
      throw invalid('conditions', 'an array of non-empty condition names without spaces or commas', item);
    }
    if (implied.has(item)) throw invalid('conditions', `free of '${item}' (agents add 'import' or 'require' by how a module is loaded, and 'default')`);
    seen.add(item);
  }
  return [...seen];
}

export function checkEnv(value: unknown, invalid: Invalid): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid('env', 'an object of string values', value);
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') throw invalid(`env.${key}`, 'a string', item);
    if (key.includes('\0') || item.includes('\0')) throw invalid(`env.${key}`, 'free of NUL characters');
    out[key] = item;
  }
  return out;
}

/**
 * Directories whose files a computed import() may load (beyond the module
 * graph the host found): absolute real paths, so a symlink inside a root
 * cannot lead out of it. Paths or file: URLs; relative paths against the cwd.
 */
export function checkModuleRoots(value: unknown, invalid: Invalid): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length > 256) throw invalid('moduleRoots', 'an array of at most 256 directories (paths or file: URLs)', value);
  const roots = new Set<string>();
  for (const item of value as unknown[]) {
    let path: string;
    try {
      path = item instanceof URL || (typeof item === 'string' && item.startsWith('file:')) ? fileURLToPath(item as string | URL) : String(item);
    } catch {
      throw invalid('moduleRoots', 'an array of directories (paths or file: URLs)', item);
    }
    if ((typeof item !== 'string' && !(item instanceof URL)) || path === '' || path.includes('\0')) {
      throw invalid('moduleRoots', 'an array of directories (paths or file: URLs)', item);
    }
    let real: string;
    try {
      real = realpathSync(resolve(path));
      if (!statSync(real).isDirectory()) throw new Error('not a directory');
    } catch {
      throw invalid('moduleRoots', 'an array of existing directories', item);
    }
    roots.add(real);
  }
  return [...roots];
}

/**
 * The roots a pool job gets when `moduleRoots` is not given: the directory of
 * the nearest package.json above the job file (its own package, node_modules
 * included), so that a job can lazily `import()` its own files as it does under
 * Node; none when the job belongs to no package. Real paths, like the option.
 */
export function defaultJobRoots(jobFile: string | undefined): readonly string[] {
  if (jobFile === undefined) return [];
  try {
    const scope = packageScope(realpathSync(jobFile));
    return scope === undefined ? [] : [scope.dir];
  } catch {
    return []; // a missing job file or a broken package.json: the job's load reports it
  }
}
