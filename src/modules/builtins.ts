// Node built-ins (`node:fs`, or a bare `crypto`) do not exist in agents:
// agents are bare isolates with only what their creator passed. Resolving
// one gives ERR_AGENT_NODE_BUILTIN naming the importer, its package, and
// the ways out.
import { builtinModules } from 'node:module';
import { packageScope } from './resolver.js';

const names = new Set(builtinModules);

export function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || names.has(specifier);
}

export function builtinError(specifier: string, importer: string): { code: 'ERR_AGENT_NODE_BUILTIN'; message: string } {
  const scope = packageScope(importer);
  const name = typeof scope?.pkg.name === 'string' ? ` (package "${scope.pkg.name}")` : '';
  return {
    code: 'ERR_AGENT_NODE_BUILTIN',
    message:
      `'${specifier}' imported from ${importer}${name} is a Node built-in; agents have no Node built-ins. ` +
      'Ways out: a runtime-neutral build of the package through the "conditions" option ' +
      "(the default ['agentcluster', 'worker', 'browser'] already prefers one when the package has it), " +
      'a host bridge that does the Node work on the host, or bundling the job for a browser/worker target.',
  };
}
