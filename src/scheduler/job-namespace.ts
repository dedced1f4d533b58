// How a pool agent reaches its job module's namespace. A plain
// `await import(url)` adopts the namespace as a thenable when the module
// exports `then` (the import() promise is resolved with it), so a job with a
// `then` export hung the pool's ready. Instead the bootstrap imports a tiny
// wrapper that re-exports the namespace as one binding, `ns`: the wrapper's
// own namespace has no `then`. The wrapper lives in the pool's module graph
// (a virtual module, read from graph.sources) and is reached through a
// built-in specifier, so it resolves from any importer.
import { fileURLToPath } from 'node:url';
import type { ModuleGraph } from '../modules/index.js';

/** The specifier the bootstrap imports; also the wrapper's key in the graph (not a path: a virtual module). */
export const jobNamespaceSpecifier = 'agentcluster:internal/pool-job';

/** Adds the wrapper of the job at `url` (a file: URL) to the pool's graph. */
export function addJobNamespaceModule(graph: ModuleGraph, url: string): void {
  graph.sources[jobNamespaceSpecifier] = `import * as ns from ${JSON.stringify(url)};\nexport { ns };\n`;
  graph.formats[jobNamespaceSpecifier] = 'esm';
  // In the table, so the job counts as a file of the graph (computed imports outside it are checked).
  graph.resolutions[`${jobNamespaceSpecifier}\0i\0${url}`] = fileURLToPath(url);
}

/** The agent option that makes the specifier resolve to the wrapper. */
export const jobNamespaceBuiltins: Readonly<Record<string, string>> = { [jobNamespaceSpecifier]: jobNamespaceSpecifier };
