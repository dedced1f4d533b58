// Loading real npm code in agents: resolution (resolver.ts), the host-side
// graph (graph.ts), CommonJS interop (cjs.ts), built-in refusals (builtins.ts).
export { buildGraph, type GraphEntry, type ModuleGraph } from './graph.js';
export { defaultConditions, formatOf, Resolver, type Format, type Resolution, type ResolveKind } from './resolver.js';
export { checkConditions, checkEnv, checkModuleRoots, defaultJobRoots } from './options.js';
export { checkLoader, type LoaderHooks, type LoadContext, type LoadResult, type ResolveContext, type ResolveResult } from './hooks.js';

/** Internal option: a pool hands its one graph to each of its agents through this key. */
export const moduleGraphKey: unique symbol = Symbol('agentcluster.moduleGraph');
/** Internal option: more `agentcluster:` specifiers the agent resolves before anything else (specifier -> graph key). */
export const extraBuiltinsKey: unique symbol = Symbol('agentcluster.extraBuiltins');
