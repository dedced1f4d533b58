// CommonJS seen from ES modules, as Node does it: `import x from './m.cjs'`
// is module.exports; named imports are the names cjs-module-lexer (the
// lexer Node uses) finds statically, following `module.exports = require(...)`
// re-exports. Agents evaluate the module through a small ES facade that
// calls the agent's CommonJS runtime (native/agent/cjs_runtime.cc).
import { readRegularFile } from './read.js';
import { parse } from 'cjs-module-lexer';
import type { Resolver } from './resolver.js';
import { formatOf } from './resolver.js';

/** The specifier only facades may import: the agent's CommonJS loader. */
export const cjsRuntimeSpecifier = 'agentcluster:internal/cjs';

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Named exports of the CommonJS file at `path` (without 'default'). */
export function cjsExportNames(path: string, source: string, resolver: Resolver, seen = new Set<string>()): string[] {
  seen.add(path);
  let lexed: { exports: string[]; reexports: string[] };
  try {
    lexed = parse(source);
  } catch {
    return []; // a syntax error: the agent reports it with file:line:col when it compiles the file
  }
  const names = new Set(lexed.exports);
  for (const specifier of lexed.reexports) {
    const target = resolver.resolve(specifier, path, 'require');
    if (!('path' in target) || seen.has(target.path) || formatOf(target.path) !== 'cjs') continue;
    let text: string;
    try {
      text = readRegularFile(target.path);
    } catch {
      continue;
    }
    for (const name of cjsExportNames(target.path, text, resolver, seen)) names.add(name);
  }
  names.delete('default');
  return [...names].filter((name) => !loneSurrogate.test(name));
}

/** The ES module that stands for a CommonJS file in the ES graph. */
export function facadeSource(path: string, names: readonly string[]): string {
  const lines = [
    `import load from ${JSON.stringify(cjsRuntimeSpecifier)};`,
    `const m = load(${JSON.stringify(path)});`,
    'export default m;',
    'const o = m !== null && (typeof m === "object" || typeof m === "function");',
  ];
  const specifiers: string[] = [];
  names.forEach((name, i) => {
    lines.push(`const e${i} = o ? m[${JSON.stringify(name)}] : undefined;`);
    specifiers.push(`e${i} as ${JSON.stringify(name)}`);
  });
  if (specifiers.length > 0) lines.push(`export { ${specifiers.join(', ')} };`);
  return lines.join('\n');
}
