// Loader hooks, shaped like Node's synchronous module hooks
// (module.registerHooks): `resolve(specifier, context, nextResolve)` and
// `load(url, context, nextLoad)`, run on the host while the graph is
// discovered, so once per module for a whole pool, never per agent.
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Format } from './resolver.js';

export interface ResolveContext {
  /** file: URL of the importing module. */
  parentURL: string;
  /** Every condition that applies: the agent's, then 'import' or 'require', then 'default'. */
  conditions: readonly string[];
  kind: 'import' | 'require';
}
export interface ResolveResult {
  /** A file: URL, or any other URL that the load hook serves (a virtual module). */
  url: string;
}
export interface LoadContext {
  /** The format found so far: 'module', 'commonjs' or 'json'. */
  format: NodeFormat;
}
export interface LoadResult {
  format: NodeFormat;
  source: string;
}
export type NodeFormat = 'module' | 'commonjs' | 'json';

export interface LoaderHooks {
  resolve?(specifier: string, context: ResolveContext, nextResolve: (specifier: string, context?: Partial<ResolveContext>) => ResolveResult): ResolveResult;
  load?(url: string, context: LoadContext, nextLoad: (url: string, context?: Partial<LoadContext>) => LoadResult): LoadResult;
}

type Invalid = (name: string, expected: string, ...value: [unknown?]) => Error;

export function checkLoader(value: unknown, invalid: Invalid): LoaderHooks | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object') throw invalid('loader', 'an object with resolve and/or load functions', value);
  const { resolve, load } = value as Record<string, unknown>;
  for (const [name, fn] of [['resolve', resolve], ['load', load]] as const) {
    if (fn !== undefined && typeof fn !== 'function') throw invalid(`loader.${name}`, 'a function', fn);
  }
  if (resolve === undefined && load === undefined) throw invalid('loader', 'an object with resolve and/or load functions', value);
  return value as LoaderHooks;
}

export const toNodeFormat: Record<Format, NodeFormat> = { esm: 'module', cjs: 'commonjs', json: 'json' };
const fromNode: Record<NodeFormat, Format> = { module: 'esm', commonjs: 'cjs', json: 'json' };

export function fromNodeFormat(format: unknown, url: string): Format {
  if (typeof format === 'string' && format in fromNode) return fromNode[format as NodeFormat];
  throw new TypeError(`The load hook gave ${url} the format ${JSON.stringify(format)}; expected 'module', 'commonjs' or 'json'`);
}

/** A URL as the graph's key: a file: URL's path, any other URL as it is (a virtual module). */
export function keyOfUrl(url: string): string {
  return url.startsWith('file:') ? fileURLToPath(url) : url;
}

export function urlOfKey(key: string): string {
  return key.startsWith('/') ? pathToFileURL(key).href : key;
}
