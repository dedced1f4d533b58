/**
 * Minimal glob matching for `/`-separated paths relative to `<test262>/test`
 * (Node 20 has no `path.matchesGlob`, and the runner must not depend on
 * test262-harness' transitive minimatch at run time).
 *
 * Supported: `*` (within one segment), `**` (any number of whole segments),
 * `?`, `[abc]` / `[!abc]` / `[a-z]`, `{a,b}` (may nest). A pattern without
 * glob characters matches that exact path and, if it names a directory,
 * everything beneath it.
 */

const GLOB_CHARS = /[*?[\]{}]/;

export function hasGlob(pattern: string): boolean {
  return GLOB_CHARS.test(pattern);
}

/** `a/b/**\/c*.js` -> `a/b`: the longest leading run of segments without glob characters. */
export function staticPrefix(pattern: string): string {
  const out: string[] = [];
  for (const seg of pattern.split('/')) {
    if (hasGlob(seg)) break;
    out.push(seg);
  }
  return out.join('/');
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Translates one glob into a regular-expression source (without anchors). */
function translate(pattern: string): string {
  let re = '';
  let i = 0;
  let braceDepth = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        const atSegStart = i === 0 || pattern[i - 1] === '/';
        const next = pattern[i + 2];
        if (atSegStart && next === '/') {
          // `**/`: zero or more whole segments
          re += '(?:[^/]*(?:/|$))*';
          i += 3;
          continue;
        }
        if (atSegStart && next === undefined) {
          // trailing `**`: everything below
          re += '.*';
          i += 2;
          continue;
        }
        // `a**b` behaves like `a*b`
        re += '[^/]*';
        i += 2;
        continue;
      }
      re += '[^/]*';
      i += 1;
    } else if (c === '?') {
      re += '[^/]';
      i += 1;
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) {
        re += '\\[';
        i += 1;
        continue;
      }
      let body = pattern.slice(i + 1, end);
      let negate = false;
      if (body[0] === '!' || body[0] === '^') {
        negate = true;
        body = body.slice(1);
      }
      body = body.replace(/[\\\]^]/g, '\\$&');
      re += negate ? `[^/${body}]` : `[${body}]`;
      i = end + 1;
    } else if (c === '{') {
      braceDepth += 1;
      re += '(?:';
      i += 1;
    } else if (c === '}' && braceDepth > 0) {
      braceDepth -= 1;
      re += ')';
      i += 1;
    } else if (c === ',' && braceDepth > 0) {
      re += '|';
      i += 1;
    } else if (c === '\\' && i + 1 < pattern.length) {
      re += escapeRe(pattern[i + 1]!);
      i += 2;
    } else {
      re += escapeRe(c);
      i += 1;
    }
  }
  if (braceDepth > 0) throw new Error(`unbalanced '{' in glob ${JSON.stringify(pattern)}`);
  return re;
}

export type PathMatcher = (relPath: string) => boolean;

/** Strips `./` and trailing `/`, turns `\` into `/`. */
export function normalizePattern(pattern: string): string {
  let p = pattern.replace(/\\(?![*?[\]{},])/g, '/').replace(/\/{2,}/g, '/');
  while (p.startsWith('./')) p = p.slice(2);
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

/**
 * Compiles a pattern into a predicate over `/`-separated relative paths.
 * Every pattern also matches the descendants of what it matches, so
 * `built-ins/Atomics` and `built-ins/Atomics/*` both select the whole tree.
 */
export function compileGlob(pattern: string): PathMatcher {
  const p = normalizePattern(pattern);
  if (p === '' || p === '.') return () => true;
  const re = new RegExp(`^${translate(p)}(?:/.*)?$`);
  return (relPath) => re.test(relPath);
}
