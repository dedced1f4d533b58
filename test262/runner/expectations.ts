/**
 * Expectations: which scenarios are known to fail or must be skipped because
 * of a limitation of the *engine* (the V8 of the Node line we run on), never
 * of our host. Sections may name the V8 majors they apply to (`[fail v8 13]`);
 * only the sections of the running engine are used. See the header of
 * `test262/expectations` for the file format.
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
  /** The V8 major the entries were selected for. */
  v8Major: number;
  /** The section headers that applied to it, in file order (e.g. `[fail]`, `[fail v8 13]`). */
  sectionsUsed: string[];
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

/** The major version of the V8 this process (and every agent in it) runs. */
export function currentV8Major(): number {
  return Number.parseInt(process.versions.v8.split('.')[0]!, 10);
}

export function emptyExpectations(source = '<none>', v8Major = currentV8Major()): Expectations {
  return { source, v8Major, sectionsUsed: [], paths: [], features: new Map() };
}

/** One line for reports: which expectation set a run used. */
export function describeExpectations(exp: Expectations): string {
  const sections = exp.sectionsUsed.length > 0 ? exp.sectionsUsed.join(' ') : 'none';
  return `${exp.source} for V8 ${exp.v8Major} (sections ${sections}: ${exp.paths.length} path entries, ${exp.features.size} skipped features)`;
}

/**
 * `v8 13`, `v8 12,13`, `v8 11-12`, `v8 >=13`: which V8 majors a section
 * header applies to. Returns undefined when the text is not such a filter.
 */
function parseEngineFilter(text: string): ((major: number) => boolean) | undefined {
  const m = /^v8\s+(.+)$/i.exec(text.trim());
  if (!m) return undefined;
  const tests: ((major: number) => boolean)[] = [];
  for (const part of m[1]!.split(',')) {
    const p = part.trim();
    let r: RegExpExecArray | null;
    if ((r = /^(\d+)$/.exec(p))) {
      const v = Number(r[1]);
      tests.push((x) => x === v);
    } else if ((r = /^(\d+)-(\d+)$/.exec(p)) && Number(r[1]) <= Number(r[2])) {
      const lo = Number(r[1]);
      const hi = Number(r[2]);
      tests.push((x) => x >= lo && x <= hi);
    } else if ((r = /^>=\s*(\d+)$/.exec(p))) {
      const lo = Number(r[1]);
      tests.push((x) => x >= lo);
    } else {
      return undefined;
    }
  }
  return (major) => tests.some((t) => t(major));
}

/** Splits `text  # comment` at the first `#` preceded by whitespace (or at line start). */
function splitComment(line: string): { body: string; comment: string | undefined } {
  const m = /(^|\s)#/.exec(line);
  if (!m) return { body: line.trim(), comment: undefined };
  const at = m.index + m[1]!.length;
  return { body: line.slice(0, at).trim(), comment: line.slice(at + 1).trim() };
}

export function parseExpectations(
  text: string,
  source = '<expectations>',
  v8Major = currentV8Major(),
): Expectations {
  const out = emptyExpectations(source, v8Major);
  let section: SectionName = 'fail';
  // Entries of sections for another engine are checked, then dropped.
  let applies = true;
  let usedDefault = false;
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
      const [name = '', ...filterWords] = header[1]!.trim().split(/\s+/);
      if (!SECTIONS.has(name)) fail(lineNo, `unknown section [${header[1]}] (expected [fail], [skip] or [features-skip], optionally followed by "v8 <major>")`);
      section = name as SectionName;
      if (filterWords.length === 0) {
        applies = true;
      } else {
        const filter = parseEngineFilter(filterWords.join(' '));
        if (!filter) fail(lineNo, `bad engine filter in [${header[1]}] (use v8 13, v8 12,13, v8 11-12 or v8 >=13)`);
        applies = filter!(v8Major);
      }
      const label = `[${[name, ...filterWords].join(' ')}]`;
      if (applies && !out.sectionsUsed.includes(label)) out.sectionsUsed.push(label);
      usedDefault = true;
      return;
    }
    if (!usedDefault) {
      out.sectionsUsed.push('[fail]');
      usedDefault = true;
    }
    if (!comment) fail(lineNo, `entry ${JSON.stringify(body)} has no "# reason" (say which engine limitation causes it)`);
    const reason = comment!;

    if (section === 'features-skip') {
      if (/\s/.test(body)) fail(lineNo, `a [features-skip] entry is a single feature name, got ${JSON.stringify(body)}`);
      if (!applies) return;
      if (out.features.has(body)) fail(lineNo, `feature ${body} listed twice for V8 ${v8Major} (first on line ${out.features.get(body)!.line})`);
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
    // Duplicates are errors among the entries that apply to one engine.
    const key = `${section}\0${pattern}\0${scenario ?? '*'}`;
    if (applies && seen.has(key)) fail(lineNo, `duplicate entry for V8 ${v8Major} (first on line ${seen.get(key)})`);
    let match: PathMatcher;
    try {
      match = compileGlob(pattern);
    } catch (err) {
      return fail(lineNo, (err as Error).message);
    }
    if (!applies) return;
    seen.set(key, lineNo);
    out.paths.push({ kind: section, pattern, scenario, reason, line: lineNo, match });
  });
  return out;
}

export function loadExpectations(file: string, v8Major = currentV8Major()): Expectations {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ExpectationsError(`cannot read expectations file ${file}: ${(err as Error).message}`);
  }
  return parseExpectations(text, file, v8Major);
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
