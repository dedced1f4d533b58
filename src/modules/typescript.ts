// TypeScript for agents, as a load step of the host's graph: types are
// blanked out by ts-blank-space (built on TypeScript's own parser), which
// replaces them with spaces so every line and column of the .ts file stays
// where it was: errors and stacks in agents point at the file's own
// positions without source maps. (Node's own stripper, amaro, needs
// Node >= 22.) ts-blank-space is an ES module without top-level await, so
// the synchronous graph build (inside `new Agent()`) loads it with
// `require()` of ESM (on by default since Node 20.19), on first use only:
// TypeScript's parser takes about half a second to load.
import { createRequire } from 'node:module';

export interface Stripped {
  code: string;
  /** Syntax ts-blank-space cannot erase (enum, namespace, parameter properties...): the first one. */
  error?: { line: number; column: number; text: string };
}

interface BlankNode {
  pos: number;
  end: number;
}
type Blank = (source: string, onError: (node: BlankNode) => void) => string;

let blank: Blank | undefined;

function loadBlank(): Blank {
  const loaded = createRequire(import.meta.url)('ts-blank-space') as { default?: Blank };
  if (typeof loaded.default !== 'function') throw new Error('ts-blank-space did not load as expected (no default export)');
  return loaded.default;
}

/** Where `node` really starts: past leading blanks and comments (nodes come without parents). */
function errorAt(source: string, node: BlankNode): NonNullable<Stripped['error']> {
  let start = node.pos;
  for (;;) {
    const skip = /^(\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/)/.exec(source.slice(start));
    if (skip === null) break;
    start += skip[0].length;
  }
  const before = source.slice(0, start).split('\n');
  return {
    line: before.length,
    column: before[before.length - 1]!.length + 1,
    text: source.slice(start, node.end).split('\n')[0]!.slice(0, 60),
  };
}

/** Types blanked out, positions kept; `error` names the first syntax that cannot be blanked. */
export function stripTypes(source: string): Stripped {
  blank ??= loadBlank();
  let error: Stripped['error'];
  const code = blank(source, (node) => {
    error ??= errorAt(source, node);
  });
  return error === undefined ? { code } : { code, error };
}

export function isTypeScript(path: string): boolean {
  return /\.[cm]?ts$/.test(path) && !path.endsWith('.d.ts');
}
