// Node's module resolution (ESM and CommonJS) on the host, for agents: a
// runtime without Node built-ins whose condition list is the caller's.
// package.json `exports`/`imports` go through resolve.exports, which matches
// conditions in the package's key order as Node does; the rest (node_modules
// walk, self-reference, `main`, CommonJS extensions and directories,
// realpath) follows Node's documented algorithms.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve as resolvePath, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exports as exportsOf, imports as importsOf } from 'resolve.exports';
import { builtinError, isBuiltin } from './builtins.js';
import { checkTarget } from './targets.js';

export type ResolveKind = 'import' | 'require';

export type Format = 'esm' | 'cjs' | 'json';

/** What a specifier resolved to: a real file, or a typed failure kept for when the code asks for it. */
export type Resolution =
  | { path: string }
  | { error: { code: string; message: string } };

export interface PackageJson {
  name?: unknown;
  type?: unknown;
  main?: unknown;
  exports?: unknown;
  imports?: unknown;
}

/** The conditions agents use unless told otherwise, before 'import'|'require' and 'default'. */
export const defaultConditions: readonly string[] = ['agentcluster', 'worker', 'browser'];

const packageCache = new Map<string, PackageJson | null>();

function readPackage(dir: string): PackageJson | null {
  const file = join(dir, 'package.json');
  let cached = packageCache.get(file);
  if (cached !== undefined) return cached;
  cached = null;
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // no package.json here: look further up
  }
  if (text !== undefined) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      // As Node: a package.json that is not JSON is an error, not an absent file.
      throw new NotFound('ERR_INVALID_PACKAGE_CONFIG', `Invalid package config ${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) cached = value as PackageJson;
  }
  packageCache.set(file, cached);
  return cached;
}

/** Forgets package.json files read so far (tests that write fixtures). */
export function clearPackageCache(): void {
  packageCache.clear();
}

/** The nearest package.json above `file` and its folder (Node's "package scope"). */
export function packageScope(file: string): { dir: string; pkg: PackageJson } | undefined {
  let dir = dirname(file);
  for (;;) {
    if (dir.endsWith(`${sep}node_modules`)) return undefined;
    const pkg = readPackage(dir);
    if (pkg !== null) return { dir, pkg };
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** How a file is evaluated: by extension, `.js` by the nearest package.json `type` (as in Node). */
export function formatOf(file: string): Format {
  const ext = extname(file);
  if (ext === '.mjs' || ext === '.mts') return 'esm';
  if (ext === '.cjs' || ext === '.cts') return 'cjs';
  if (ext === '.json') return 'json';
  return packageScope(file)?.pkg.type === 'module' ? 'esm' : 'cjs';
}

/** A `.js` file whose package states no `type`: its syntax decides (Node 22's module detection). */
export function isAmbiguous(file: string): boolean {
  return (extname(file) === '.js' || extname(file) === '.ts') && packageScope(file)?.pkg.type === undefined;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

class NotFound extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

function notFound(specifier: string, importer: string, looked: readonly string[], why = ''): NotFound {
  const where = looked.length > 0 ? `; looked in ${looked.join(', ')}` : '';
  return new NotFound('ERR_MODULE_NOT_FOUND', `Cannot find module '${specifier}' imported from ${importer}${why}${where}`);
}

/** Splits 'pkg/sub' or '@scope/pkg/sub' into the name and './sub' (or '.'). */
function splitPackage(specifier: string): { name: string; subpath: string } | undefined {
  const parts = specifier.split('/');
  const count = specifier.startsWith('@') ? 2 : 1;
  if (parts.length < count || parts.slice(0, count).some((part) => part === '')) return undefined;
  const name = parts.slice(0, count).join('/');
  if (name.startsWith('.') || name.includes('\\') || name.includes('%')) return undefined;
  const rest = parts.slice(count).join('/');
  return { name, subpath: rest === '' ? '.' : `./${rest}` };
}

export class Resolver {
  readonly #conditions: readonly string[];

  /** `conditions`: the user's list; 'import' or 'require' (by kind) and 'default' are added. */
  constructor(conditions: readonly string[] = defaultConditions) {
    this.#conditions = conditions;
  }

  resolve(specifier: string, importer: string, kind: ResolveKind): Resolution {
    try {
      return { path: this.#resolve(specifier, importer, kind) };
    } catch (error) {
      if (error instanceof NotFound) return { error: { code: error.code, message: error.message } };
      const message = error instanceof Error ? error.message : String(error);
      return { error: { code: 'ERR_MODULE_NOT_FOUND', message: `Cannot resolve '${specifier}' imported from ${importer}: ${message}` } };
    }
  }

  #options(kind: ResolveKind) {
    return { unsafe: true, conditions: [...this.#conditions, kind] };
  }

  #resolve(specifier: string, importer: string, kind: ResolveKind): string {
    if (isBuiltin(specifier)) {
      const error = builtinError(specifier, importer);
      throw new NotFound(error.code, error.message);
    }
    if (specifier.startsWith('file:')) return this.#file(fileURLToPath(specifier), specifier, importer, kind);
    if (isAbsolute(specifier)) return this.#file(specifier, specifier, importer, kind);
    if (specifier === '.' || specifier === '..' || specifier.startsWith('./') || specifier.startsWith('../')) {
      return this.#file(resolvePath(dirname(importer), specifier), specifier, importer, kind);
    }
    if (specifier.startsWith('#')) return this.#imports(specifier, importer, kind);
    return this.#package(specifier, importer, kind);
  }

  /** A relative or absolute path: exact for import, with CommonJS's extension and directory search for require. */
  #file(path: string, specifier: string, importer: string, kind: ResolveKind): string {
    if (kind === 'import') {
      if (isFile(path)) return real(path);
      if (isDirectory(path)) {
        throw new NotFound('ERR_UNSUPPORTED_DIR_IMPORT', `Directory import '${path}' is not supported resolving ES modules imported from ${importer}`);
      }
      throw notFound(specifier, importer, [path]);
    }
    const looked: string[] = [];
    const found = this.#requireFile(path, looked) ?? this.#requireDirectory(path, looked);
    if (found === undefined) throw notFound(specifier, importer, looked);
    return real(found);
  }

  #requireFile(path: string, looked: string[]): string | undefined {
    for (const candidate of [path, `${path}.js`, `${path}.json`]) {
      looked.push(candidate);
      if (isFile(candidate)) return candidate;
    }
    return undefined;
  }

  #requireDirectory(path: string, looked: string[]): string | undefined {
    const pkg = isDirectory(path) ? readPackage(path) : null;
    if (pkg !== null && typeof pkg.main === 'string' && pkg.main !== '') {
      const main = join(path, pkg.main);
      const found = this.#requireFile(main, looked) ?? this.#index(main, looked);
      if (found !== undefined) return found;
    }
    return this.#index(path, looked);
  }

  #index(path: string, looked: string[]): string | undefined {
    for (const candidate of [join(path, 'index.js'), join(path, 'index.json')]) {
      looked.push(candidate);
      if (isFile(candidate)) return candidate;
    }
    return undefined;
  }

  /** `#name` through the importer's package.json `imports`. */
  #imports(specifier: string, importer: string, kind: ResolveKind): string {
    const scope = packageScope(importer);
    if (scope === undefined || scope.pkg.imports === undefined) {
      throw new NotFound('ERR_PACKAGE_IMPORT_NOT_DEFINED', `Package import specifier '${specifier}' is not defined${scope ? ` in ${join(scope.dir, 'package.json')}` : ' (no package.json above the importer)'} imported from ${importer}`);
    }
    let targets: string[] | void;
    try {
      targets = importsOf(scope.pkg as never, specifier, this.#options(kind));
    } catch {
      targets = undefined;
    }
    const target = targets?.[0];
    if (target === undefined) {
      throw new NotFound('ERR_PACKAGE_IMPORT_NOT_DEFINED', `Package import specifier '${specifier}' is not defined in ${join(scope.dir, 'package.json')} for conditions [${[...this.#conditions, kind, 'default'].join(', ')}] imported from ${importer}`);
    }
    // A target that is not a path is itself a package specifier (imports may map to dependencies).
    if (!target.startsWith('./') && !target.startsWith('../') && !target.startsWith('/')) {
      if (isBuiltin(target)) {
        const error = builtinError(target, importer);
        throw new NotFound(error.code, error.message);
      }
      return this.#package(target, importer, kind);
    }
    const problem = checkTarget(target, specifier, join(scope.dir, 'package.json'), importer);
    if (problem !== undefined) throw new NotFound(problem.code, problem.message);
    return this.#target(join(scope.dir, target), specifier, importer);
  }

  #target(path: string, specifier: string, importer: string): string {
    if (!isFile(path)) throw notFound(specifier, importer, [path], ' (the package maps it to a file that does not exist)');
    return real(path);
  }

  #package(specifier: string, importer: string, kind: ResolveKind): string {
    const parts = splitPackage(specifier);
    if (parts === undefined) {
      throw new NotFound('ERR_INVALID_MODULE_SPECIFIER', `Invalid module specifier '${specifier}' imported from ${importer}`);
    }
    // Self-reference: a package may import itself by name when it has `exports`.
    const scope = packageScope(importer);
    if (scope !== undefined && scope.pkg.name === parts.name && scope.pkg.exports !== undefined) {
      return this.#exports(scope.dir, scope.pkg, parts.subpath, specifier, importer, kind);
    }
    const looked: string[] = [];
    let dir = dirname(importer);
    for (;;) {
      if (!dir.endsWith(`${sep}node_modules`)) {
        const root = join(dir, 'node_modules', parts.name);
        looked.push(join(dir, 'node_modules'));
        if (isDirectory(root)) {
          const pkg = readPackage(root);
          if (pkg !== null && pkg.exports !== undefined && pkg.exports !== null) {
            return this.#exports(root, pkg, parts.subpath, specifier, importer, kind);
          }
          const found = this.#legacy(root, pkg, parts.subpath, kind);
          if (found !== undefined) return real(found);
        }
      }
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
    throw notFound(specifier, importer, looked);
  }

  #exports(root: string, pkg: PackageJson, subpath: string, specifier: string, importer: string, kind: ResolveKind): string {
    let targets: string[] | void;
    try {
      targets = exportsOf(pkg as never, subpath, this.#options(kind));
    } catch {
      targets = undefined;
    }
    const target = targets?.[0];
    if (target === undefined) {
      throw new NotFound('ERR_PACKAGE_PATH_NOT_EXPORTED', `Package subpath '${subpath}' is not defined by "exports" in ${join(root, 'package.json')} for conditions [${[...this.#conditions, kind, 'default'].join(', ')}] imported from ${importer}`);
    }
    const problem = checkTarget(target, subpath, join(root, 'package.json'), importer);
    if (problem !== undefined) throw new NotFound(problem.code, problem.message);
    return this.#target(join(root, target), specifier, importer);
  }

  /** No `exports`: `main` (and Node's index fallbacks), or the subpath as a file. */
  #legacy(root: string, pkg: PackageJson | null, subpath: string, kind: ResolveKind): string | undefined {
    const looked: string[] = [];
    if (subpath !== '.') {
      const path = join(root, subpath);
      if (kind === 'import') return isFile(path) ? path : undefined;
      return this.#requireFile(path, looked) ?? this.#requireDirectory(path, looked);
    }
    if (kind === 'require') return this.#requireDirectory(root, looked);
    // Node's ESM legacyMainResolve.
    const main = pkg !== null && typeof pkg.main === 'string' && pkg.main !== '' ? join(root, pkg.main) : undefined;
    const candidates = main === undefined ? [] : [main, `${main}.js`, `${main}.json`, join(main, 'index.js'), join(main, 'index.json')];
    candidates.push(join(root, 'index.js'), join(root, 'index.json'));
    return candidates.find(isFile);
  }
}
