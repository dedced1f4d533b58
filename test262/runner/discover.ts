/**
 * Discovery: turns path/glob arguments into a sorted list of test scenarios,
 * using test262-stream's own frontmatter parser and scenario splitter.
 *
 * Discovery only keeps metadata (no source text) so that the whole suite
 * (~54k files, ~95k scenarios) fits comfortably in memory; the runnable
 * source of a scenario is compiled on demand by {@link loadScenarioSource}.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import builder from 'test262-stream/lib/builder.js';
import type { Test262StreamAttrs, Test262StreamTest } from 'test262-stream/lib/builder.js';
import createScenarios from 'test262-stream/lib/create-scenarios.js';
import type { ErrorPhase, Scenario } from './executor.js';
import { compileGlob, hasGlob, normalizePattern, staticPrefix } from './glob.js';

/** Frontmatter as the runner uses it (normalised from test262-stream's attrs). */
export interface TestAttrs {
  description: string;
  flags: ReadonlySet<string>;
  features: readonly string[];
  /** Declared includes only (not the implicit assert.js/sta.js/doneprintHandle.js). */
  includes: readonly string[];
  negative?: { phase: ErrorPhase; type: string };
}

export interface TestCase {
  /** `relPath#default` or `relPath#strict`. */
  id: string;
  /** Relative to `<test262>/test`, `/`-separated. */
  relPath: string;
  absPath: string;
  scenario: Scenario;
  attrs: TestAttrs;
  /** Set when the file could not be read or its frontmatter is invalid; the case then fails. */
  loadError?: string;
}

export interface Test262Paths {
  /** The test262 checkout (contains `test/`, `harness/`, `package.json`). */
  root: string;
  /** `<root>/test`. */
  testDir: string;
}

/**
 * Resolves the test262 directory: explicit option, else `TEST262_DIR`, else
 * `../shared/test262` relative to `cwd`. Throws if it does not look like test262.
 */
export function resolveTest262(option: string | undefined, env: NodeJS.ProcessEnv, cwd: string): Test262Paths {
  const given = option ?? env['TEST262_DIR'] ?? '../shared/test262';
  const root = path.resolve(cwd, given);
  const testDir = path.join(root, 'test');
  const harness = path.join(root, 'harness', 'assert.js');
  if (!existsSync(testDir) || !existsSync(harness)) {
    throw new Error(
      `${root} does not look like a test262 checkout (expected test/ and harness/assert.js); ` +
        'pass --test262 <dir> or set TEST262_DIR',
    );
  }
  return { root, testDir };
}

const SCENARIO_ORDER: Record<Scenario, number> = { default: 0, 'strict mode': 1 };
const PHASES: ReadonlySet<string> = new Set(['parse', 'resolution', 'runtime']);

export function scenarioId(relPath: string, scenario: Scenario): string {
  return `${relPath}#${scenario === 'strict mode' ? 'strict' : 'default'}`;
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

function isTestFileName(name: string): boolean {
  // test262-stream also skips dot files and `_FIXTURE` files; only `.js`
  // files are tests (a stray extension-less file exists in the snapshot).
  return name.endsWith('.js') && !name.includes('_FIXTURE') && !name.startsWith('.');
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else if (e.isFile() && isTestFileName(e.name)) out.push(p);
  }
}

/**
 * Maps one command-line selector to a relative pattern under `testDir`.
 * Accepts paths relative to `test/`, absolute paths inside it, and, for
 * convenience, paths starting with `test/` (relative to the test262 root).
 */
function toRelativeSelector(sel: string, t262: Test262Paths): string {
  let s = sel;
  if (path.isAbsolute(s)) {
    const rel = path.relative(t262.testDir, s);
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new Error(`${sel} is outside ${t262.testDir}`);
    }
    s = toPosix(rel);
  }
  s = normalizePattern(s);
  if (s.startsWith('test/') || s === 'test') {
    const inside = staticPrefix(s);
    if (!existsSync(path.join(t262.testDir, inside))) s = s === 'test' ? '' : s.slice('test/'.length);
  }
  return s;
}

/** Lists the test files selected by `selectors` (all of `test/` if empty), sorted, de-duplicated. */
export async function listTestFiles(t262: Test262Paths, selectors: readonly string[]): Promise<string[]> {
  const sels = selectors.length === 0 ? [''] : selectors.map((s) => toRelativeSelector(s, t262));
  const found = new Set<string>();
  const walked = new Map<string, string[]>();
  for (const sel of sels) {
    const base = hasGlob(sel) ? staticPrefix(sel) : sel;
    const baseAbs = path.join(t262.testDir, base);
    let st;
    try {
      st = statSync(baseAbs);
    } catch {
      throw new Error(`no such test path: ${sel === '' ? '.' : sel} (under ${t262.testDir})`);
    }
    let files: string[];
    if (st.isDirectory()) {
      files = walked.get(baseAbs) ?? [];
      if (!walked.has(baseAbs)) {
        await walk(baseAbs, files);
        walked.set(baseAbs, files);
      }
    } else {
      files = isTestFileName(path.basename(baseAbs)) ? [baseAbs] : [];
    }
    const match = compileGlob(sel);
    for (const f of files) {
      const rel = toPosix(path.relative(t262.testDir, f));
      if (match(rel)) found.add(rel);
    }
  }
  return [...found].sort(compareCodeUnits);
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function normaliseAttrs(a: Test262StreamAttrs): TestAttrs {
  const flags = new Set<string>();
  for (const [k, v] of Object.entries(a.flags ?? {})) if (v) flags.add(k);
  const out: TestAttrs = {
    description: typeof a.description === 'string' ? a.description.trim() : '',
    flags,
    features: Array.isArray(a.features) ? a.features.map(String) : [],
    includes: Array.isArray(a.includes) ? a.includes.map(String) : [],
  };
  const neg = a.negative;
  if (neg && typeof neg === 'object') {
    const phase = String(neg.phase);
    if (!PHASES.has(phase)) throw new Error(`invalid negative.phase ${JSON.stringify(neg.phase)}`);
    out.negative = { phase: phase as ErrorPhase, type: String(neg.type) };
  }
  return out;
}

/**
 * Runs test262-stream's builder + scenario splitter on one file, as its
 * TestStream does, with two differences: module tests get only their
 * `default` scenario (see below), and the builder only sees the file up to
 * the end of its frontmatter; the full text is put back afterwards.
 *
 * Why: test262-stream's copyright extraction matches every line of the file
 * against `^(?:(?:\/\/.*)*) Copyright`, which backtracks
 * exponentially on long `/////` banner lines (staging/sm/misc/
 * function-definition-eval.js takes ~23 s). Attributes, includes, their order
 * and the scenarios are unaffected: the builder only ever *prepends* the
 * harness to the contents (insertionIndex = length of what it prepended).
 */
function compileTest(
  t262: Test262Paths,
  absPath: string,
  contents: string,
  omitRuntime: boolean,
): Test262StreamTest[] {
  if (contents.length === 0) throw new Error('empty file');
  const end = contents.indexOf(FRONTMATTER_END);
  const head = end === -1 ? contents : contents.slice(0, end + FRONTMATTER_END.length);
  const built = builder(toPosix(path.relative(t262.root, absPath)), head, { test262Dir: t262.root, omitRuntime });
  if (built.contents !== head) {
    const idx = built.insertionIndex ?? 0;
    if (idx < 0 || built.contents.slice(idx) !== head) throw new Error('unexpected test262-stream output');
    built.contents = built.contents.slice(0, idx) + contents;
  } else {
    built.contents = contents;
  }
  const scenarios = createScenarios(built);
  // test262-stream also emits a "strict mode" copy of module tests; per
  // INTERPRETING.md the `module` flag means one run (module code is strict).
  return built.attrs.flags['module'] ? scenarios.filter((s) => s.scenario === 'default') : scenarios;
}

const FRONTMATTER_END = '---*/';

/**
 * Parses one file's frontmatter and expands it into scenario cases (no source
 * kept). Synchronous on purpose: fs.promises.readFile costs ~10x more for
 * the suite's 54k small files, and nothing else runs during discovery.
 */
export function describeFile(t262: Test262Paths, relPath: string): TestCase[] {
  const absPath = path.join(t262.testDir, relPath);
  try {
    const contents = readFileSync(absPath, 'utf8');
    const scenarios = compileTest(t262, absPath, contents, true);
    const attrs = normaliseAttrs(scenarios[0]!.attrs);
    return scenarios.map((s) => {
      const scenario = s.scenario as Scenario;
      return { id: scenarioId(relPath, scenario), relPath, absPath, scenario, attrs };
    });
  } catch (err) {
    const attrs: TestAttrs = { description: '', flags: new Set(), features: [], includes: [] };
    return [
      {
        id: scenarioId(relPath, 'default'),
        relPath,
        absPath,
        scenario: 'default',
        attrs,
        loadError: `cannot load test: ${errorText(err)}`,
      },
    ];
  }
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? err.message;
  return String(err);
}

/** Discovers all scenarios selected by `selectors`, sorted by path then default-before-strict. */
export async function discover(t262: Test262Paths, selectors: readonly string[]): Promise<TestCase[]> {
  const files = await listTestFiles(t262, selectors);
  const cases = files.flatMap((rel) => describeFile(t262, rel));
  cases.sort(
    (a, b) => compareCodeUnits(a.relPath, b.relPath) || SCENARIO_ORDER[a.scenario] - SCENARIO_ORDER[b.scenario],
  );
  return cases;
}

/**
 * Compiles the runnable source of one scenario with test262-stream: harness
 * files + includes prepended (unless raw) and `"use strict";` for strict mode.
 */
export async function loadScenarioSource(t262: Test262Paths, tc: TestCase): Promise<string> {
  const contents = await readFile(tc.absPath, 'utf8');
  const scenario = compileTest(t262, tc.absPath, contents, false).find((s) => s.scenario === tc.scenario);
  if (!scenario) throw new Error(`scenario ${tc.scenario} no longer exists for ${tc.relPath}`);
  return scenario.contents;
}
