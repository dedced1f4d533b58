// Issue 13: the resolver differential. For every export path of the npm job
// set's packages (pattern exports expanded to the files they match), Node's
// own resolver (import.meta.resolve and require.resolve in a child
// `node --conditions=...`) and ours must give the same file, or both fail.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Resolver } from '../src/modules/index.js';
import { fixture } from './support/agents.js';

const root = join(import.meta.dirname, '..');
const packages = ['marked', 'nanoid', 'ms', 'lodash-es', 'date-fns', 'zod', 'ajv', 'uuid', 'fast-xml-parser', 'yaml', 'semver', 'fflate'];
const child = fixture('npm/resolve-child.mjs');

function filesUnder(dir: string, out: string[] = [], depth = 0): string[] {
  if (depth > 6) return out;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) filesUnder(path, out, depth + 1);
    else out.push(path);
  }
  return out;
}

function leaves(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => leaves(v, out));
  else if (value !== null && typeof value === 'object') Object.values(value).forEach((v) => leaves(v, out));
  return out;
}

/** Every specifier a package's `exports` offers ('pkg', 'pkg/sub', patterns expanded), or its main and a few files. */
function exportSpecifiers(name: string): string[] {
  const dir = join(root, 'node_modules', name);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { exports?: unknown };
  const exp = pkg.exports;
  if (exp === undefined) {
    // No exports: the main, and subpaths with and without extensions (legacy rules differ for import and require).
    const files = filesUnder(dir).filter((f) => f.endsWith('.js')).slice(0, 20).map((f) => relative(dir, f));
    return [name, ...files.map((f) => `${name}/${f}`), ...files.slice(0, 10).map((f) => `${name}/${f.slice(0, -3)}`), `${name}/package.json`];
  }
  if (typeof exp === 'string' || Array.isArray(exp) || Object.keys(exp as object).every((k) => !k.startsWith('.'))) return [name];
  const out: string[] = [];
  const all = filesUnder(dir).map((f) => `./${relative(dir, f)}`);
  for (const [key, value] of Object.entries(exp as Record<string, unknown>)) {
    if (!key.includes('*')) {
      out.push(key === '.' ? name : `${name}/${key.slice(2)}`);
      continue;
    }
    // Expand the pattern through its targets: every file a target matches gives the subpath that maps to it.
    const seen = new Set<string>();
    for (const target of leaves(value).filter((t) => t.includes('*'))) {
      const [before, after] = target.split('*') as [string, string];
      for (const file of all) {
        if (!file.startsWith(before) || !file.endsWith(after) || file.length < before.length + after.length) continue;
        const star = file.slice(before.length, file.length - after.length);
        seen.add(`${name}/${key.slice(2).replace('*', star)}`);
      }
    }
    out.push(...[...seen].slice(0, 60));
  }
  return out;
}

function ours(specifiers: string[], conditions: string[]): [string, string][] {
  const resolver = new Resolver(conditions);
  const importer = child; // resolve from the same file as the child
  return specifiers.map((s) => {
    const pair = (['import', 'require'] as const).map((kind) => {
      const result = resolver.resolve(s, importer, kind);
      return 'path' in result ? result.path : `!${result.error.code}`;
    });
    return pair as [string, string];
  });
}

function nodes(specifiers: string[], conditions: string[]): [string, string][] {
  const args = [...conditions.filter((c) => c !== 'node').map((c) => `--conditions=${c}`), child, JSON.stringify(specifiers)];
  const out = JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 << 20 })) as [string, string][];
  // Node's import.meta.resolve does not check that the final file exists (loading it would fail): count that as not found.
  return out.map(([imported, required]) => [imported.startsWith('!') || existsSync(imported) ? imported : '!ERR_MODULE_NOT_FOUND', required]);
}

/** Node's error codes we compare loosely: both sides failed to find it. */
const notFoundCodes = new Set(['!ERR_MODULE_NOT_FOUND', '!MODULE_NOT_FOUND', '!ERR_PACKAGE_PATH_NOT_EXPORTED', '!ERR_UNSUPPORTED_DIR_IMPORT']);
const same = (a: string, b: string) => a === b || (a.startsWith('!') && b.startsWith('!') && notFoundCodes.has(a) && notFoundCodes.has(b));

describe('resolver differential against Node', () => {
  const all = packages.flatMap(exportSpecifiers);

  it('covers the export paths of every package of the set', () => {
    for (const name of packages) assert.ok(all.some((s) => s === name), name);
    assert.ok(all.length > 200, `only ${all.length} specifiers`);
  });

  for (const conditions of [['node'], ['node', 'worker', 'browser']]) {
    it(`same file as Node for all ${all.length} specifiers, import and require, conditions [${conditions}]`, () => {
      const theirs = nodes(all, conditions);
      const mine = ours(all, conditions);
      const diffs: string[] = [];
      all.forEach((s, i) => {
        for (const k of [0, 1]) {
          if (!same(mine[i]![k]!, theirs[i]![k]!)) diffs.push(`${k ? 'require' : 'import'} ${s}: ours ${mine[i]![k]} node ${theirs[i]![k]}`);
        }
      });
      assert.deepEqual(diffs, []);
      // Not vacuous: most resolve to files.
      assert.ok(theirs.filter(([a]) => !a.startsWith('!')).length > all.length / 2);
    });
  }
});
