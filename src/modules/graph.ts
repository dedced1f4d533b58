// Static discovery of a job's module graph on the host: every file reachable
// from the entry by static import, literal import() and literal require(),
// each specifier resolved once (Node's algorithm, the agent's conditions).
// Agents get the result as a table (importer + kind + specifier -> file) and
// never touch the file system to resolve; a pool computes it once for all
// its agents. Failures are recorded, not thrown: an import that fails fails
// when the agent links it, a require() when it runs (as in Node, where a
// guarded `try { require('fs') } catch {}` is fine).
import { randomBytes } from 'node:crypto';
import { readRegularFile } from './read.js';
import { parse as parseEsm } from 'es-module-lexer/js';
import { cjsExportNames, facadeSource } from './cjs.js';
import { detectsAsModule } from './detect.js';
import { isTypeScript, stripTypes } from './typescript.js';
import { clearPackageCache, defaultConditions, formatOf, isAmbiguous, Resolver, type Format, type Resolution, type ResolveKind } from './resolver.js';
import { keyOfUrl, toNodeFormat, fromNodeFormat, urlOfKey, type LoaderHooks, type ResolveResult } from './hooks.js';

export interface ModuleGraph {
  /** Agents of one pool share one native copy of the graph through this id. */
  id: number;
  /** `${importer}\0${'i'|'r'}\0${specifier}` -> absolute real path, or '\u0001CODE\u0001message'. */
  resolutions: Record<string, string>;
  formats: Record<string, Format>;
  /** CommonJS file -> the ES facade source that stands for it in the ES graph. */
  facades: Record<string, string>;
  /** Files agents get as transformed here (TypeScript with its types blanked out). */
  sources: Record<string, string>;
  /** Files that cannot load, with the SyntaxError message agents throw for them. */
  failures: Record<string, string>;
}

export interface GraphEntry {
  path: string;
  /** The entry's text when it is not read from `path` (a source agent). */
  source?: string;
  /** What the entry is when its name does not say (source text is an ES module). */
  format?: Format;
}

// Ids are random: two copies of this library in one process share the addon's table cache.
const newId = (): number => randomBytes(6).readUIntBE(0, 6) + 1;

/** `require('x')` calls with a literal name: over-approximate, failures are recorded lazily. */
const requirePattern = /(?<![\w$.])require\s*\(\s*(['"])((?:(?!\1)[^\\\n]|\\.)*)\1\s*\)/g;

/** Imports of an ES module; of a CommonJS file (`dynamicOnly`), its literal import() calls. */
function esmSpecifiers(source: string, dynamicOnly = false): string[] {
  try {
    const [imports] = parseEsm(source);
    const out: string[] = [];
    for (const entry of imports) {
      const record = entry as { specifier?: string; type?: string; typeOnly?: boolean };
      if (dynamicOnly && record.type !== 'dynamic') continue;
      if (typeof record.specifier === 'string' && record.typeOnly !== true) out.push(record.specifier);
    }
    return out;
  } catch {
    return []; // a syntax error: the agent reports it with file:line:col when it compiles the file
  }
}

function cjsSpecifiers(source: string): string[] {
  const out: string[] = [];
  for (const match of source.matchAll(requirePattern)) {
    const raw = match[2]!;
    try {
      out.push(raw.includes('\\') ? (JSON.parse(`"${raw.replace(/"/g, '\\"')}"`) as string) : raw);
    } catch {
      // not a plain string literal
    }
  }
  return out;
}

/** The JavaScript of a TypeScript file (positions kept), or why it has none. */
function typeScript(path: string, text: string): string | { failure: string } | undefined {
  try {
    const { code, error } = stripTypes(text);
    if (error === undefined) return code;
    return {
      failure: `TypeScript syntax that cannot be stripped (it is not just types: enum, namespace, parameter property...) ` +
        `'${error.text}' at ${path}:${error.line}:${error.column}; agents run TypeScript by erasing types only, as Node does`,
    };
  } catch (error) {
    return { failure: `${path}: ${error instanceof Error ? error.message : String(error)}` };
  }
}

export function buildGraph(entries: readonly GraphEntry[], conditions?: readonly string[], hooks?: LoaderHooks): ModuleGraph {
  // package.json files are read afresh for each graph (edits between pools count) and not kept after.
  clearPackageCache();
  try {
    return discover(entries, conditions, hooks);
  } finally {
    clearPackageCache();
  }
}

/** The built-in load step: the file's text, TypeScript stripped, typeless `.js` by its syntax. */
function defaultLoad(path: string, format: Format, source: string | undefined): { format: Format; source: string } {
  let text = source ?? readRegularFile(path);
  if (isTypeScript(path)) {
    const stripped = typeScript(path, text);
    if (typeof stripped !== 'string') throw new SyntaxError(stripped?.failure ?? `${path}: could not strip its types`);
    text = stripped;
  }
  if (format === 'cjs' && source === undefined && isAmbiguous(path) && detectsAsModule(text)) format = 'esm';
  return { format, source: text };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function discover(entries: readonly GraphEntry[], conditions: readonly string[] | undefined, hooks: LoaderHooks | undefined): ModuleGraph {
  const resolver = new Resolver(conditions);
  const conditionList = [...(conditions ?? defaultConditions)];
  const resolve = (specifier: string, importer: string, kind: ResolveKind): Resolution => {
    if (hooks?.resolve === undefined) return resolver.resolve(specifier, importer, kind);
    const next = (s: string): ResolveResult => {
      const found = resolver.resolve(s, importer, kind);
      if ('path' in found) return { url: urlOfKey(found.path) };
      throw Object.assign(new Error(found.error.message), { code: found.error.code });
    };
    try {
      const result = hooks.resolve.call(hooks, specifier, { parentURL: urlOfKey(importer), conditions: [...conditionList, kind, 'default'], kind }, next);
      if (result === null || typeof result !== 'object' || typeof result.url !== 'string') throw new TypeError(`the resolve hook returned ${String(result)} for '${specifier}', not { url }`);
      return { path: keyOfUrl(result.url) };
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      return { error: { code: typeof code === 'string' ? code : 'ERR_LOADER_HOOK', message: `${message(error)} (resolving '${specifier}' from ${importer} in the loader's resolve hook)` } };
    }
  };
  const load = (path: string, format: Format, source: string | undefined): { format: Format; source: string } => {
    if (hooks?.load === undefined) return defaultLoad(path, format, source);
    try {
      return hookedLoad(path, format, source);
    } catch (error) {
      throw new Error(`${message(error)} (loading ${urlOfKey(path)} in the loader's load hook)`);
    }
  };
  const hookedLoad = (path: string, format: Format, source: string | undefined): { format: Format; source: string } => {
    const load = hooks!.load!;
    const url = urlOfKey(path);
    const result = load.call(hooks, url, { format: toNodeFormat[format] }, (u) => {
      const key = keyOfUrl(u);
      const loaded = defaultLoad(key, key === path ? format : formatOf(key), key === path ? source : undefined);
      return { format: toNodeFormat[loaded.format], source: loaded.source };
    });
    if (result === null || typeof result !== 'object' || typeof result.source !== 'string') throw new TypeError(`the load hook returned no { format, source } for ${url}`);
    return { format: fromNodeFormat(result.format, url), source: result.source };
  };
  const graph: ModuleGraph = { id: newId(), resolutions: {}, formats: {}, facades: {}, sources: {}, failures: {} };
  const queue: { path: string; source?: string; format: Format }[] = [];
  const queued = new Set<string>();
  const enqueue = (path: string, format: Format, source?: string) => {
    if (queued.has(path)) return;
    queued.add(path);
    queue.push({ path, format, ...(source === undefined ? {} : { source }) });
  };
  for (const entry of entries) enqueue(entry.path, entry.format ?? formatOf(entry.path), entry.source);

  while (queue.length > 0) {
    const next = queue.shift()!;
    const { path } = next;
    let format = next.format;
    graph.formats[path] = format;
    if (format === 'json' && hooks?.load === undefined) continue;
    let text: string;
    try {
      ({ format, source: text } = load(path, format, next.source));
    } catch (error) {
      // Unreadable files are reported by the agent when it loads them; anything else is a load failure.
      const code = (error as { code?: unknown } | null)?.code;
      if ((code !== 'ENOENT' && code !== 'ENOTREG') || hooks?.load !== undefined) graph.failures[path] = message(error);
      continue;
    }
    graph.formats[path] = format;
    if (hooks?.load !== undefined || text !== next.source && isTypeScript(path)) graph.sources[path] = text;
    if (format === 'json') continue;
    if (format === 'cjs') graph.facades[path] = facadeSource(path, cjsExportNames(path, text, resolver));
    const requests: [ResolveKind, string][] = format === 'esm'
      ? esmSpecifiers(text).map((specifier) => ['import', specifier])
      : [...cjsSpecifiers(text).map((specifier): [ResolveKind, string] => ['require', specifier]),
        ...esmSpecifiers(text, true).map((specifier): [ResolveKind, string] => ['import', specifier])];
    for (const [kind, specifier] of requests) {
      // agentcluster: built-ins, data: and other URL schemes are the agent's own business
      // (A resolve hook sees the other schemes: it may serve them.)
      if (specifier.startsWith('agentcluster:') || (hooks?.resolve === undefined && /^[a-z][a-z0-9+.-]*:/i.test(specifier) && !/^(file|node):/.test(specifier))) continue;
      const key = `${path}\0${kind === 'import' ? 'i' : 'r'}\0${specifier}`;
      if (key in graph.resolutions) continue;
      const resolved = resolve(specifier, path, kind);
      if ('path' in resolved) {
        graph.resolutions[key] = resolved.path;
        // A virtual module (a URL the load hook serves) is an ES module unless the hook says otherwise.
        enqueue(resolved.path, resolved.path.startsWith('/') ? formatOf(resolved.path) : 'esm');
      } else {
        graph.resolutions[key] = `\u0001${resolved.error.code}\u0001${resolved.error.message}`;
      }
    }
  }
  return graph;
}
