/**
 * Expectations: which scenarios are known to fail or must be skipped because
 * of a limitation of the *engine* (V8 11.3 in Node 20), never of our host.
 * See the header of `test262/expectations` for the file format.
 */
import { readFileSync } from 'node:fs';
import type { Scenario } from './executor.js';
import { compileGlob, normalizePattern, type PathMatcher } from './glob.js';

export type Expected = 'pass' | 'fail' | 'skip';
export type SectionName = 'fail' | 'skip' | 'features-skip';

export interface PathEntry {
  kind: 'fail' | 'skip';
  /** As written, relative to `<test262>/test`. */
  pattern: string;
  /** Restricts the entry to one scenario; undefined = every scenario. */
  scenario?: Scenario;
  reason: string;
  line: number;
  match: PathMatcher;
}

export interface FeatureEntry {
  feature: string;
  reason: string;
  line: number;
}

export interface Expectations {
  source: string;
  paths: PathEntry[];
  features: Map<string, FeatureEntry>;
}

export interface Expectation {
  expected: Expected;
  /** Why (expectation reason or excluded feature). */
  reason?: string;
  /** The path entry responsible, if any (for unused-entry reporting). */
  entry?: PathEntry;
}

export class ExpectationsError extends Error {
  override name = 'ExpectationsError';
}

const SECTIONS: ReadonlySet<string> = new Set(['fail', 'skip', 'features-skip']);

const SCENARIO_WORDS: Record<string, Scenario> = {
  default: 'default',
  'non-strict': 'default',
  sloppy: 'default',
  strict: 'strict mode',
  'strict-mode': 'strict mode',
  'strict mode': 'strict mode',
};

export function emptyExpectations(source = '<none>'): Expectations {
  return { source, paths: [], features: new Map() };
}

/** Splits `text  # comment` at the first `#` preceded by whitespace (or at line start). */
function splitComment(line: string): { body: string; comment: string | undefined } {
  const m = /(^|\s)#/.exec(line);
  if (!m) return { body: line.trim(), comment: undefined };
  const at = m.index + m[1]!.length;
  return { body: line.slice(0, at).trim(), comment: line.slice(at + 1).trim() };
}

export function parseExpectations(text: string, source = '<expectations>'): Expectations {
  const out = emptyExpectations(source);
  let section: SectionName = 'fail';
  const lines = text.split(/\r?\n/);
  const seen = new Map<string, number>();
  const fail = (lineNo: number, msg: string): never => {
    throw new ExpectationsError(`${source}:${lineNo}: ${msg}`);
  };

  lines.forEach((raw, idx) => {
    const lineNo = idx + 1;
    const { body, comment } = splitComment(raw);
    if (body === '') return; // blank or comment-only line

    const header = /^\[([^\]]+)\]$/.exec(body);
    if (header) {
      const name = header[1]!.trim();
      if (!SECTIONS.has(name)) fail(lineNo, `unknown section [${name}] (expected [fail], [skip] or [features-skip])`);
      section = name as SectionName;
      return;
    }
    if (!comment) fail(lineNo, `entry ${JSON.stringify(body)} has no "# reason" (say which engine limitation causes it)`);
    const reason = comment!;

    if (section === 'features-skip') {
      if (/\s/.test(body)) fail(lineNo, `a [features-skip] entry is a single feature name, got ${JSON.stringify(body)}`);
      if (out.features.has(body)) fail(lineNo, `feature ${body} listed twice (first on line ${out.features.get(body)!.line})`);
      out.features.set(body, { feature: body, reason, line: lineNo });
      return;
    }

    const [first, ...restWords] = body.split(/\s+/);
    const pattern = normalizePattern(first!);
    if (pattern.startsWith('/') || pattern.startsWith('..') || pattern.startsWith('test/')) {
      fail(lineNo, `path ${JSON.stringify(first)} must be relative to test262's test/ directory`);
    }
    let scenario: Scenario | undefined;
    if (restWords.length > 0) {
      const word = restWords.join(' ').toLowerCase();
      scenario = SCENARIO_WORDS[word];
      if (!scenario) fail(lineNo, `unknown scenario ${JSON.stringify(word)} (use default or strict)`);
    }
    const key = `${section}\0${pattern}\0${scenario ?? '*'}`;
    if (seen.has(key)) fail(lineNo, `duplicate entry (first on line ${seen.get(key)})`);
    seen.set(key, lineNo);
    let match: PathMatcher;
    try {
      match = compileGlob(pattern);
    } catch (err) {
      return fail(lineNo, (err as Error).message);
    }
    out.paths.push({ kind: section, pattern, scenario, reason, line: lineNo, match });
  });
  return out;
}

export function loadExpectations(file: string): Expectations {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ExpectationsError(`cannot read expectations file ${file}: ${(err as Error).message}`);
  }
  return parseExpectations(text, file);
}

export interface LookupOptions {
  /** Features excluded on the command line (`--features-exclude`). */
  featuresExclude?: ReadonlySet<string>;
}

/**
 * What a scenario is expected to do. Precedence: skip by feature
 * (expectations, then command line) > `[skip]` path > `[fail]` path > pass.
 */
export function expectationFor(
  exp: Expectations,
  relPath: string,
  scenario: Scenario,
  features: readonly string[],
  opts: LookupOptions = {},
): Expectation {
  for (const f of features) {
    const e = exp.features.get(f);
    if (e) return { expected: 'skip', reason: `feature ${f}: ${e.reason}` };
  }
  if (opts.featuresExclude) {
    for (const f of features) {
      if (opts.featuresExclude.has(f)) return { expected: 'skip', reason: `feature ${f} excluded by --features-exclude` };
    }
  }
  let failEntry: PathEntry | undefined;
  for (const e of exp.paths) {
    if (e.scenario !== undefined && e.scenario !== scenario) continue;
    if (!e.match(relPath)) continue;
    if (e.kind === 'skip') return { expected: 'skip', reason: e.reason, entry: e };
    failEntry ??= e;
  }
  if (failEntry) return { expected: 'fail', reason: failEntry.reason, entry: failEntry };
  return { expected: 'pass' };
}
