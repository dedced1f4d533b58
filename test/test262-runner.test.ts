/**
 * Tests of the test262 runner infrastructure (test262/runner/*), against the
 * real test262 snapshot, with a FAKE executor: no JavaScript from test262 is
 * executed here. Run: node --import tsx --test test/test262-runner.test.ts
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { main } from '../test262/runner/cli.js';
import {
  discover,
  listTestFiles,
  loadScenarioSource,
  resolveTest262,
  type Test262Paths,
  type TestAttrs,
  type TestCase,
} from '../test262/runner/discover.js';
import type { ExecRequest, ExecResult, Executor } from '../test262/runner/executor.js';
import {
  describeExpectations,
  emptyExpectations,
  expectationFor,
  ExpectationsError,
  loadExpectations,
  parseExpectations,
} from '../test262/runner/expectations.js';
import { compileGlob } from '../test262/runner/glob.js';
import { junitXml, xmlEscape } from '../test262/runner/reporters/junit.js';
import { progressReporter } from '../test262/runner/reporters/progress.js';
import { formatSummary } from '../test262/runner/reporters/summary.js';
import type { TestResult } from '../test262/runner/results.js';
import { runTests } from '../test262/runner/run.js';
import { toExecRequest } from '../test262/runner/scenarios.js';
import { validate } from '../test262/runner/validate.js';

const engineMajorMinor = process.versions.v8.split('.').slice(0, 2).join('.');
const engineMajor = Number(engineMajorMinor.split('.')[0]);

const repoDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

const T262_DIR = path.resolve(process.env['TEST262_DIR'] ?? path.join(process.cwd(), '../shared/test262'));
const EXPECTATIONS_FILE = path.resolve(process.cwd(), 'test262/expectations');
let t262: Test262Paths;

class Sink extends Writable {
  data = '';
  isTTY: boolean;
  columns = 200;
  constructor(tty = false) {
    super();
    this.isTTY = tty;
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.data += chunk.toString();
    cb();
  }
}

// ---------------------------------------------------------------------------
// A fake executor. It "interprets" a test only as far as its frontmatter
// (found in the source it is given): negative tests throw the declared error
// in the declared phase, async tests print Test262:AsyncTestComplete, the rest
// complete normally. Individual outcomes can be overridden per relPath.

type Override = Partial<ExecResult> | ((req: ExecRequest, signal: AbortSignal) => Promise<ExecResult>);

class FakeExecutor implements Executor {
  calls: ExecRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;
  constructor(
    private readonly overrides: Record<string, Override> = {},
    private readonly delayMs = 0,
  ) {}

  async run(req: ExecRequest, signal: AbortSignal): Promise<ExecResult> {
    this.calls.push(req);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      const o = this.overrides[req.relPath];
      if (typeof o === 'function') return await o(req, signal);
      const base = this.interpret(req);
      return o ? { ...base, ...o } : base;
    } finally {
      this.inFlight--;
    }
  }

  private interpret(req: ExecRequest): ExecResult {
    // The test's own frontmatter is the last one (harness files have theirs).
    const fm = [...req.source.matchAll(/\/\*---([\s\S]*?)---\*\//g)].pop()?.[1] ?? '';
    const neg = /negative:\s*\n\s*phase:\s*(\w+)\s*\n\s*type:\s*(\w+)/.exec(fm);
    if (neg) {
      return {
        stdout: '',
        error: { name: neg[2]!, message: 'fake', phase: neg[1] as 'parse' | 'resolution' | 'runtime' },
        timedOut: false,
      };
    }
    return { stdout: req.isAsync ? 'Test262:AsyncTestComplete' : '', error: null, timedOut: false };
  }
}

/** Synthetic test case (no file needed when `loadSource` is overridden). */
function fakeCase(relPath: string, attrs: Partial<Omit<TestAttrs, 'flags'>> & { flags?: string[] } = {}, scenario: 'default' | 'strict mode' = 'default'): TestCase {
  return {
    id: `${relPath}#${scenario === 'default' ? 'default' : 'strict'}`,
    relPath,
    absPath: `/nonexistent/${relPath}`,
    scenario,
    attrs: {
      description: attrs.description ?? '',
      flags: new Set(attrs.flags ?? []),
      features: attrs.features ?? [],
      includes: attrs.includes ?? [],
      ...(attrs.negative ? { negative: attrs.negative } : {}),
    },
  };
}

function mkResult(over: Partial<TestResult> & Pick<TestResult, 'relPath' | 'status' | 'expected' | 'outcome'>): TestResult {
  return { id: `${over.relPath}#default`, scenario: 'default', ms: 1, ...over };
}

/** Minimal XML 1.0 well-formedness check (prolog, nesting, attributes, entities, chars). */
function assertWellFormedXml(xml: string): void {
  assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n/);
  const body = xml.replace(/^<\?xml[^?]*\?>/, '');
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(body, /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u, 'invalid XML character');
  const checkText = (t: string): void => {
    for (const m of t.matchAll(/&([^;]*);?/g)) {
      assert.match(m[0], /^&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);$/, `bad entity ${m[0]}`);
    }
    assert.ok(!t.includes('>') || true);
  };
  const re = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/gy;
  const stack: string[] = [];
  let roots = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body)) !== null) {
    if (m[6] !== undefined) assert.fail(`stray '<' at ${m.index}: ${body.slice(m.index, m.index + 40)}`);
    if (m[5] !== undefined) {
      if (stack.length === 0) assert.equal(m[5].trim(), '', 'text outside the root element');
      checkText(m[5]);
      continue;
    }
    const [, close, name, attrText, selfClose] = m;
    const names = new Set<string>();
    for (const a of attrText!.matchAll(/([A-Za-z_][\w.-]*)="([^"]*)"/g)) {
      assert.ok(!names.has(a[1]!), `duplicate attribute ${a[1]}`);
      names.add(a[1]!);
      checkText(a[2]!);
    }
    if (close) {
      assert.equal(stack.pop(), name, `mismatched </${name}>`);
    } else {
      if (stack.length === 0) roots++;
      if (!selfClose) stack.push(name!);
    }
  }
  assert.equal(re.lastIndex === 0 ? body.length : re.lastIndex, body.length);
  assert.deepEqual(stack, [], 'unclosed elements');
  assert.equal(roots, 1, 'exactly one root element');
}

before(() => {
  t262 = resolveTest262(T262_DIR, {}, process.cwd());
});

// ---------------------------------------------------------------------------
describe('discovery (real snapshot)', () => {
  it('finds built-ins/Atomics/notify with both scenarios per non-flagged test', async () => {
    const cases = await discover(t262, ['built-ins/Atomics/notify']);
    assert.ok(cases.length > 50, `got ${cases.length}`);
    const files = new Set(cases.map((c) => c.relPath));
    assert.ok(files.size > 25);
    for (const c of cases) {
      assert.ok(c.relPath.startsWith('built-ins/Atomics/notify/'), c.relPath);
      assert.ok(!c.relPath.includes('_FIXTURE'));
      assert.ok(c.absPath.startsWith(t262.testDir));
    }
    // Tests without onlyStrict/noStrict/module/raw appear in both scenarios, in order.
    for (const f of files) {
      const sc = cases.filter((c) => c.relPath === f);
      const flags = sc[0]!.attrs.flags;
      const expected = flags.has('onlyStrict')
        ? ['strict mode']
        : flags.has('noStrict') || flags.has('module') || flags.has('raw')
          ? ['default']
          : ['default', 'strict mode'];
      assert.deepEqual(sc.map((c) => c.scenario), expected, f);
    }
    const ids = cases.map((c) => c.id);
    assert.equal(new Set(ids).size, ids.length, 'ids are unique');
    assert.deepEqual(
      [...ids],
      [...cases].sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : a.scenario < b.scenario ? -1 : 1)).map((c) => c.id),
      'sorted by path, default before strict',
    );
    assert.ok(cases.some((c) => c.relPath === 'built-ins/Atomics/notify/bigint/bad-range.js'));
  });

  it('derives scenarios from onlyStrict / noStrict / raw flags', async () => {
    const cases = await discover(t262, ['language/statements/with', 'language/directive-prologue', 'language/module-code/ambiguous-export-bindings']);
    const by = (pred: (c: TestCase) => boolean): TestCase[] => cases.filter(pred);
    const onlyStrict = by((c) => c.attrs.flags.has('onlyStrict'));
    const noStrict = by((c) => c.attrs.flags.has('noStrict'));
    const raw = by((c) => c.attrs.flags.has('raw'));
    const modules = by((c) => c.attrs.flags.has('module'));
    assert.ok(onlyStrict.length > 0 && noStrict.length > 0 && raw.length > 0 && modules.length > 5);
    assert.ok(onlyStrict.every((c) => c.scenario === 'strict mode'));
    assert.ok(noStrict.every((c) => c.scenario === 'default'));
    assert.ok(raw.every((c) => c.scenario === 'default'));
    // test262-stream would also emit a strict copy of module tests; INTERPRETING.md says run once.
    assert.ok(modules.every((c) => c.scenario === 'default'));
    assert.equal(new Set(modules.map((c) => c.relPath)).size, modules.length);
    assert.ok(cases.some((c) => c.scenario === 'strict mode') && cases.some((c) => c.scenario === 'default'));
  });

  it('accepts globs, absolute paths and a test/ prefix; rejects missing paths', async () => {
    const glob = await listTestFiles(t262, ['built-ins/Atomics/notify/**/count-*.js']);
    assert.ok(glob.length > 3);
    assert.ok(glob.every((f) => /^built-ins\/Atomics\/notify\/(bigint\/)?count-[^/]*\.js$/.test(f)), glob.join());
    const top = await listTestFiles(t262, ['built-ins/Atomics/notify/*.js']);
    assert.ok(top.every((f) => !f.includes('/bigint/')));
    const abs = await listTestFiles(t262, [path.join(t262.testDir, 'built-ins/Atomics/notify')]);
    const prefixed = await listTestFiles(t262, ['test/built-ins/Atomics/notify/']);
    const plain = await listTestFiles(t262, ['built-ins/Atomics/notify']);
    assert.deepEqual(abs, plain);
    assert.deepEqual(prefixed, plain);
    const both = await listTestFiles(t262, ['built-ins/Atomics/notify', 'built-ins/Atomics/notify/bigint']);
    assert.deepEqual(both, plain, 'de-duplicated');
    await assert.rejects(listTestFiles(t262, ['built-ins/NoSuchThing']), /no such test path/);
    // Fixtures are never tests.
    const fixtures = await listTestFiles(t262, ['language/module-code']);
    assert.ok(fixtures.length > 0 && fixtures.every((f) => !f.includes('_FIXTURE')));
  });

  it('compiles runnable sources with test262-stream (harness, strict prefix, raw)', async () => {
    const [def, strict] = await discover(t262, ['built-ins/Atomics/notify/bad-range.js']);
    assert.equal(def!.scenario, 'default');
    assert.equal(strict!.scenario, 'strict mode');
    const assertJs = readFileSync(path.join(t262.root, 'harness/assert.js'), 'utf8');
    const file = readFileSync(def!.absPath, 'utf8');
    const s1 = await loadScenarioSource(t262, def!);
    const s2 = await loadScenarioSource(t262, strict!);
    // test262-stream's order (as in test262-harness): declared includes, assert.js, sta.js, test.
    assert.deepEqual(def!.attrs.includes, ['testAtomics.js']);
    const testAtomics = readFileSync(path.join(t262.root, 'harness/testAtomics.js'), 'utf8');
    assert.ok(s1.startsWith(testAtomics));
    assert.ok(s1.includes(assertJs));
    assert.ok(s1.endsWith(file));
    assert.ok(s1.includes('function Test262Error('), 'sta.js');
    assert.equal(s2, '"use strict";\n' + s1);

    const [rawCase] = await discover(t262, ['language/directive-prologue/10.1.1-2gs.js']);
    assert.ok(rawCase!.attrs.flags.has('raw'));
    assert.equal(await loadScenarioSource(t262, rawCase!), readFileSync(rawCase!.absPath, 'utf8'));
    assert.deepEqual(rawCase!.attrs.negative, { phase: 'parse', type: 'SyntaxError' });

    const [asyncCase] = await discover(t262, ['built-ins/Atomics/waitAsync/nan-for-timeout-agent.js']);
    assert.ok((await loadScenarioSource(t262, asyncCase!)).includes('function $DONE('));
  });

  it('builds ExecRequests (module, async, raw, CanBlockIsFalse)', async () => {
    const [canBlockFalse] = await discover(t262, ['built-ins/Atomics/wait/cannot-suspend-throws.js']);
    const r1 = toExecRequest(canBlockFalse!, 'src', 1234);
    assert.equal(r1.canBlock, false);
    assert.equal(r1.timeoutMs, 1234);
    assert.equal(r1.file, path.join(t262.testDir, 'built-ins/Atomics/wait/cannot-suspend-throws.js'));
    const [notify] = await discover(t262, ['built-ins/Atomics/notify/bad-range.js']);
    assert.equal(toExecRequest(notify!, 's', 1).canBlock, true);

    const [mod] = await discover(t262, ['language/module-code/instn-iee-err-circular-as.js']);
    const r2 = toExecRequest(mod!, 's', 1);
    assert.equal(r2.isModule, true);
    assert.equal(mod!.scenario, 'default');
    assert.deepEqual(mod!.attrs.negative, { phase: 'resolution', type: 'SyntaxError' });

    const [asy] = await discover(t262, ['built-ins/Atomics/waitAsync/nan-for-timeout-agent.js']);
    const r3 = toExecRequest(asy!, 's', 1);
    assert.equal(r3.isAsync, true);
    assert.equal(r3.isModule, false);
    const [raw] = await discover(t262, ['language/directive-prologue/10.1.1-2gs.js']);
    assert.equal(toExecRequest(raw!, 's', 1).isRaw, true);
  });
});

// ---------------------------------------------------------------------------
describe('validation', () => {
  const attrs = (flags: string[] = [], negative?: TestAttrs['negative']): Pick<TestAttrs, 'flags' | 'negative'> => ({
    flags: new Set(flags),
    ...(negative ? { negative } : {}),
  });
  const ok: ExecResult = { stdout: '', error: null, timedOut: false };

  it('plain tests pass iff nothing is thrown', () => {
    assert.deepEqual(validate(attrs(), ok), { status: 'pass' });
    assert.deepEqual(validate(attrs(), { ...ok, stdout: 'some print output' }), { status: 'pass' });
    assert.deepEqual(validate(attrs(), { ...ok, error: { name: 'Test262Error', message: 'boom' } }), {
      status: 'fail',
      error: 'boom',
    });
    assert.deepEqual(validate(attrs(), { ...ok, error: { name: 'TypeError', message: 'x is not a function', phase: 'runtime' } }), {
      status: 'fail',
      error: 'Expected no error, got TypeError: x is not a function',
    });
    assert.equal(validate(attrs(['raw']), { ...ok, error: { name: 'SyntaxError', message: 'm' } }).status, 'fail');
  });

  it('negative tests need the declared type and phase', () => {
    const neg = attrs([], { phase: 'parse', type: 'SyntaxError' });
    assert.equal(validate(neg, { ...ok, error: { name: 'SyntaxError', message: 'm', phase: 'parse' } }).status, 'pass');
    assert.equal(validate(neg, { ...ok, error: { name: 'SyntaxError', message: 'm' } }).status, 'pass', 'phase unknown');
    assert.match(validate(neg, ok).error!, /Expected test to throw error of type SyntaxError, but did not throw error/);
    assert.match(
      validate(neg, { ...ok, error: { name: 'ReferenceError', message: 'm', phase: 'parse' } }).error!,
      /got ReferenceError: m/,
    );
    assert.match(
      validate(neg, { ...ok, error: { name: 'SyntaxError', message: 'm', phase: 'runtime' } }).error!,
      /during parse phase, got it during runtime phase/,
    );
    const res = attrs(['module'], { phase: 'resolution', type: 'SyntaxError' });
    assert.equal(validate(res, { ...ok, error: { name: 'SyntaxError', message: 'm', phase: 'resolution' } }).status, 'pass');
    assert.equal(validate(res, { ...ok, error: { name: 'SyntaxError', message: 'm', phase: 'parse' } }).status, 'fail');
  });

  it('async tests need Test262:AsyncTestComplete and fail on Test262:AsyncTestFailure', () => {
    const a = attrs(['async']);
    assert.deepEqual(validate(a, { ...ok, stdout: 'hello\nTest262:AsyncTestComplete\n' }), { status: 'pass' });
    assert.deepEqual(validate(a, ok), { status: 'fail', error: 'Test did not run to completion' });
    assert.match(validate(a, { ...ok, stdout: 'hello' }).error!, /did not run to completion; printed: hello/);
    assert.deepEqual(validate(a, { ...ok, stdout: 'Test262:AsyncTestFailure:Test262Error: nope' }), {
      status: 'fail',
      error: 'nope',
    });
    assert.deepEqual(validate(a, { ...ok, stdout: 'Test262:AsyncTestFailure:TypeError: bad\nTest262:AsyncTestComplete' }), {
      status: 'fail',
      error: 'Expected no error, got TypeError: bad',
    });
    // Uncaught error wins even if completion was printed.
    assert.equal(validate(a, { stdout: 'Test262:AsyncTestComplete', error: { name: 'Error', message: 'late' }, timedOut: false }).status, 'fail');
    // Only async tests look at the async protocol.
    assert.equal(validate(attrs(), { ...ok, stdout: 'Test262:AsyncTestFailure:Test262Error: x' }).status, 'pass');
  });

  it('agrees with test262-harness lib/validator.js where INTERPRETING.md does not say otherwise', () => {
    type HarnessTest = {
      attrs: { description: string; flags: Record<string, boolean>; negative?: { phase: string; type: string } };
      rawResult: { stdout: string; stderr: string; error: { name: string; message: string } | null; timeout?: boolean };
    };
    const harnessValidate = createRequire(import.meta.url)('test262-harness/lib/validator.js') as (
      t: HarnessTest,
    ) => { pass: boolean; message?: string };
    const flagSets: string[][] = [[], ['raw'], ['async'], ['module'], ['onlyStrict']];
    const negatives: Array<TestAttrs['negative']> = [
      undefined,
      { phase: 'parse', type: 'SyntaxError' },
      { phase: 'runtime', type: 'ReferenceError' },
    ];
    const results: ExecResult[] = [
      ok,
      { ...ok, error: { name: 'Test262Error', message: 'm1' } },
      { ...ok, error: { name: 'TypeError', message: 'm2' } },
      { ...ok, error: { name: 'SyntaxError', message: 'm3' } },
      { ...ok, error: { name: 'ReferenceError', message: 'm4' } },
      { ...ok, timedOut: true },
      { ...ok, stdout: 'Test262:AsyncTestComplete' },
      { ...ok, stdout: 'Test262:AsyncTestFailure:Test262Error: m5' },
      { ...ok, stdout: 'Test262:AsyncTestFailure:RangeError: m6' },
    ];
    let compared = 0;
    for (const flags of flagSets) {
      for (const negative of negatives) {
        for (const r of results) {
          const isAsync = flags.includes('async');
          // Known, documented differences: test262-harness fails sync tests that print
          // (eshost reports errors on stdout); it reads async lines for every test.
          if (!isAsync && r.stdout !== '') continue;
          // agent-pool.js turns the last AsyncTestFailure line into the error.
          const m = /^Test262:AsyncTestFailure:([^:]+): (.*)$/m.exec(r.stdout);
          const raw = { stdout: r.stdout, stderr: '', error: m ? { name: m[1]!, message: m[2]! } : r.error, ...(r.timedOut ? { timeout: true } : {}) };
          const theirs = harnessValidate({
            attrs: { description: 'd', flags: Object.fromEntries(flags.map((f) => [f, true])), ...(negative ? { negative } : {}) },
            rawResult: raw,
          });
          const ours = validate(attrs(flags, negative), r);
          const what = JSON.stringify({ flags, negative, r });
          assert.equal(ours.status, theirs.pass ? 'pass' : 'fail', what);
          if (!theirs.pass) assert.equal(ours.error, theirs.message, what);
          compared++;
        }
      }
    }
    assert.ok(compared > 80, String(compared));
  });

  it('timeouts and crashes fail', () => {
    assert.deepEqual(validate(attrs(), { ...ok, timedOut: true }), { status: 'fail', error: 'Test timed out' });
    assert.deepEqual(validate(attrs(['async']), { ...ok, stdout: 'Test262:AsyncTestComplete', timedOut: true }).status, 'fail');
    assert.deepEqual(validate(attrs(), { ...ok, crashed: 'agent died' }), { status: 'fail', error: 'Crashed: agent died' });
  });
});

// ---------------------------------------------------------------------------
describe('expectations', () => {
  const text = [
    '# header comment',
    'built-ins/Foo/a.js  # V8 11.3 lacks Foo',
    'built-ins/Bar  strict   # V8 11.3 bug in strict mode',
    'built-ins/Baz/**/x-*.js default # V8 11.3 parses x sloppily',
    '',
    '[skip]',
    'language/hang.js   # V8 11.3 loops forever on this',
    '[features-skip]',
    'Float16Array   # V8 11.3 has no Float16Array',
  ].join('\n');

  it('parses sections, scenarios, globs and reasons', () => {
    const e = parseExpectations(text, 'x');
    assert.equal(e.paths.length, 4);
    assert.deepEqual(
      e.paths.map((p) => [p.kind, p.pattern, p.scenario, p.reason, p.line]),
      [
        ['fail', 'built-ins/Foo/a.js', undefined, 'V8 11.3 lacks Foo', 2],
        ['fail', 'built-ins/Bar', 'strict mode', 'V8 11.3 bug in strict mode', 3],
        ['fail', 'built-ins/Baz/**/x-*.js', 'default', 'V8 11.3 parses x sloppily', 4],
        ['skip', 'language/hang.js', undefined, 'V8 11.3 loops forever on this', 7],
      ],
    );
    assert.equal(e.features.get('Float16Array')?.reason, 'V8 11.3 has no Float16Array');
  });

  it('matches paths, directories, globs, scenarios and features with precedence', () => {
    const e = parseExpectations(text);
    const x = (p: string, sc: 'default' | 'strict mode' = 'default', f: string[] = [], ex?: Set<string>) =>
      expectationFor(e, p, sc, f, ex ? { featuresExclude: ex } : {}).expected;
    assert.equal(x('built-ins/Foo/a.js'), 'fail');
    assert.equal(x('built-ins/Foo/a.js', 'strict mode'), 'fail');
    assert.equal(x('built-ins/Foo/ab.js'), 'pass');
    assert.equal(x('built-ins/Bar/deep/t.js', 'strict mode'), 'fail');
    assert.equal(x('built-ins/Bar/deep/t.js', 'default'), 'pass');
    assert.equal(x('built-ins/Barn/t.js', 'strict mode'), 'pass', 'directory match is per segment');
    assert.equal(x('built-ins/Baz/x-1.js'), 'fail');
    assert.equal(x('built-ins/Baz/a/b/x-2.js'), 'fail');
    assert.equal(x('built-ins/Baz/a/y-2.js'), 'pass');
    assert.equal(x('built-ins/Baz/x-1.js', 'strict mode'), 'pass');
    assert.equal(x('language/hang.js'), 'skip');
    assert.equal(x('built-ins/Foo/a.js', 'default', ['Float16Array']), 'skip');
    assert.equal(x('built-ins/Other.js', 'default', ['BigInt'], new Set(['BigInt'])), 'skip');
    assert.match(expectationFor(e, 'q.js', 'default', ['Float16Array']).reason!, /^feature Float16Array: V8 11.3/);
  });

  it('uses only the sections of the given V8 major and says which', () => {
    const engines = [
      'built-ins/All.js  # every engine',
      '[fail v8 11]',
      'built-ins/Old.js  # V8 11.3 gap',
      '[fail v8 12,13]',
      'built-ins/Old.js  # V8 12/13 gap (same path, other engines: no duplicate)',
      '[fail v8 >=13]',
      'built-ins/New.js  # V8 13.6 gap',
      '[features-skip v8 11-12]',
      'Float16Array  # V8 11.3/12.4 have no Float16Array',
    ].join('\n');
    const at = (major: number) => parseExpectations(engines, 'e', major);
    const x = (major: number, p: string, f: string[] = []) => expectationFor(at(major), p, 'default', f).expected;
    assert.deepEqual([11, 12, 13, 14].map((m) => x(m, 'built-ins/All.js')), ['fail', 'fail', 'fail', 'fail']);
    assert.deepEqual([11, 12, 13, 14].map((m) => x(m, 'built-ins/Old.js')), ['fail', 'fail', 'fail', 'pass']);
    assert.deepEqual([11, 12, 13, 14].map((m) => x(m, 'built-ins/New.js')), ['pass', 'pass', 'fail', 'fail']);
    assert.deepEqual([11, 12, 13].map((m) => x(m, 'q.js', ['Float16Array'])), ['skip', 'skip', 'pass']);
    assert.equal(expectationFor(at(12), 'built-ins/Old.js', 'default', []).reason, 'V8 12/13 gap (same path, other engines: no duplicate)');
    assert.deepEqual(at(13).sectionsUsed, ['[fail]', '[fail v8 12,13]', '[fail v8 >=13]']);
    assert.match(describeExpectations(at(11)), /^e for V8 11 \(sections \[fail\] \[fail v8 11\] \[features-skip v8 11-12\]: 2 path entries, 1 skipped features\)$/);
    assert.throws(() => parseExpectations('[fail v8 x]\na.js # r\n', 'f'), /f:1: bad engine filter/);
    assert.throws(() => parseExpectations('[fail v8 13]\na.js # r\n[fail v8 >=13]\na.js # r2\n', 'f', 13), /f:4: duplicate entry for V8 13/);
    assert.doesNotThrow(() => parseExpectations('[fail v8 13]\na.js # r\n[fail v8 >=13]\na.js # r2\n', 'f', 12));
  });

  it('the repository file has a set for every tested line (V8 11, 12, 13)', () => {
    for (const major of [11, 12, 13]) {
      const e = loadExpectations(path.join(repoDir, 'test262', 'expectations'), major);
      assert.ok(e.sectionsUsed.some((s) => s.includes(`v8 ${major}`)), `V8 ${major}: ${e.sectionsUsed.join(' ')}`);
      for (const entry of e.paths) {
        if (!/every engine/.test(entry.reason)) assert.match(entry.reason, new RegExp(`V8 ${major}\\.`), `line ${entry.line} names V8 ${major}`);
      }
    }
  });

  it('rejects malformed files with the line number', () => {
    assert.throws(() => parseExpectations('built-ins/Foo/a.js\n', 'f'), (err: Error) => err instanceof ExpectationsError && /f:1: .*no "# reason"/.test(err.message));
    assert.throws(() => parseExpectations('[nope]\n', 'f'), /f:1: unknown section/);
    assert.throws(() => parseExpectations('a.js weird # r\n', 'f'), /unknown scenario/);
    assert.throws(() => parseExpectations('/abs/a.js # r\n', 'f'), /relative to test262's test\//);
    assert.throws(() => parseExpectations('a.js # r\na.js # r2\n', 'f'), /f:2: duplicate entry/);
    assert.throws(() => parseExpectations('[features-skip]\nA B # r\n', 'f'), /single feature name/);
    assert.throws(() => parseExpectations('a/{b.js # r\n', 'f'), /unbalanced/);
  });

  it('the committed expectations file parses and lists only known features', () => {
    const e = loadExpectations(EXPECTATIONS_FILE);
    assert.ok(e.features.size > 20);
    const known = new Set(
      readFileSync(path.join(t262.root, 'features.txt'), 'utf8')
        .split('\n')
        .map((l) => l.replace(/#.*/, '').trim())
        .filter(Boolean),
    );
    for (const f of e.features.keys()) assert.ok(known.has(f), `${f} is not in features.txt`);
    // The sections of the running engine: V8 11.3 lacks many more features than 12-14 do.
    const missing = engineMajor === 11
      ? ['Float16Array', 'Temporal', 'set-methods', 'iterator-helpers', 'promise-with-resolvers']
      : ['immutable-arraybuffer', 'ShadowRealm', 'decorators'];
    for (const f of missing) assert.ok(e.features.has(f), f);
    for (const f of ['Atomics', 'SharedArrayBuffer', 'Atomics.waitAsync', 'resizable-arraybuffer', 'BigInt']) {
      assert.ok(!e.features.has(f), `${f} is supported by V8 ${engineMajorMinor}`);
    }
    for (const [, fe] of e.features) assert.match(fe.reason, /V8|engine/, fe.feature);
  });

  it('glob matcher basics', () => {
    assert.ok(compileGlob('a/*.js')('a/b.js'));
    assert.ok(!compileGlob('a/*.js')('a/b/c.js'));
    assert.ok(compileGlob('a/**/c.js')('a/c.js'));
    assert.ok(compileGlob('a/**/c.js')('a/b/b/c.js'));
    assert.ok(compileGlob('a/{x,y}/?.js')('a/y/z.js'));
    assert.ok(compileGlob('a/[!b]*.js')('a/c.js') && !compileGlob('a/[!b]*.js')('a/b.js'));
    assert.ok(compileGlob('a')('a/b/c.js') && !compileGlob('a')('ab/c.js'));
    assert.ok(compileGlob('')('anything.js'));
  });
});

// ---------------------------------------------------------------------------
describe('runner', () => {
  it('runs real scenarios with bounded concurrency and reports outcomes', async () => {
    const cases = await discover(t262, ['built-ins/Atomics/notify', 'language/directive-prologue', 'language/module-code/instn-iee-err-circular-as.js']);
    const fake = new FakeExecutor(
      {
        'built-ins/Atomics/notify/bad-range.js': { error: { name: 'Test262Error', message: 'expected RangeError', phase: 'runtime' } },
        'built-ins/Atomics/notify/count-from-nans.js': {},
      },
      1,
    );
    const exp = parseExpectations(
      [
        'built-ins/Atomics/notify/bad-range.js  strict  # V8 11.3 (pretend)',
        'built-ins/Atomics/notify/count-from-nans.js  # V8 11.3 (pretend, now passes)',
        '[features-skip]',
        'immutable-arraybuffer # V8 11.3 has no immutable ArrayBuffer',
      ].join('\n'),
    );
    const { summary, results } = await runTests({ t262, cases, executor: fake, expectations: exp, threads: 3, timeoutMs: 5000 });
    assert.ok(fake.maxInFlight <= 3 && fake.maxInFlight >= 2, `max in flight ${fake.maxInFlight}`);
    assert.equal(summary.total, cases.length);
    assert.equal(results.length, cases.length);
    assert.equal(summary.pass + summary.fail + summary.skip, summary.total);
    const get = (rel: string, sc: string) => results.find((r) => r.relPath === rel && r.scenario === sc)!;
    assert.equal(get('built-ins/Atomics/notify/bad-range.js', 'strict mode').outcome, 'xfail');
    assert.equal(get('built-ins/Atomics/notify/bad-range.js', 'default').outcome, 'fail');
    assert.equal(get('built-ins/Atomics/notify/bad-range.js', 'default').error, 'expected RangeError');
    assert.equal(get('built-ins/Atomics/notify/count-from-nans.js', 'default').outcome, 'xpass');
    assert.equal(get('built-ins/Atomics/notify/immutable-buffer-returns-0.js', 'default').status, 'skip');
    assert.equal(get('language/module-code/instn-iee-err-circular-as.js', 'default').status, 'pass');
    assert.equal(summary.unexpectedFail, 1);
    assert.equal(summary.expectedFail, 1);
    assert.equal(summary.unexpectedPass, 2);
    assert.ok(summary.groups.get('built-ins/Atomics')!.total > 0);
    assert.ok(summary.groups.get('language/directive-prologue')!.pass > 0);
    // Skipped scenarios never reach the executor; every other one does, once.
    assert.equal(fake.calls.length, summary.total - summary.skip);
    assert.equal(new Set(fake.calls.map((c) => c.id)).size, fake.calls.length);
    // Raw negative tests (`"use strict"` directive prologue) were given verbatim.
    const raw = fake.calls.find((c) => c.relPath === 'language/directive-prologue/10.1.1-2gs.js')!;
    assert.ok(raw.isRaw && !raw.source.includes('function Test262Error('));
    const text = formatSummary(summary);
    assert.match(text, /built-ins\/Atomics\s+\d+/);
    assert.match(text, /Unexpected failures \(1\):\n {2}FAIL built-ins\/Atomics\/notify\/bad-range\.js \(default\)/);
    assert.match(text, /Unexpected passes \(2\)/);
    assert.match(text, /^FAILED: /m);
  });

  it('enforces the timeout through the AbortSignal and survives executor misbehaviour', async () => {
    const cases = ['hang.js', 'honours.js', 'ignores.js', 'throws.js', 'rejects.js', 'garbage.js', 'fine.js'].map((f) => fakeCase(`t/${f}`));
    let sawAbort = false;
    const overrides: Record<string, Override> = {
      // honours the abort promptly
      't/honours.js': (_req, signal) =>
        new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            sawAbort = true;
            resolve({ stdout: '', error: null, timedOut: true });
          });
        }),
      // resolves normally right after the abort: still a timeout
      't/hang.js': (_req, signal) =>
        new Promise((resolve) => signal.addEventListener('abort', () => resolve({ stdout: '', error: null, timedOut: false }))),
      // never settles: abandoned after the grace period
      't/ignores.js': () => new Promise<ExecResult>(() => {}),
      't/throws.js': () => {
        throw new Error('sync boom');
      },
      't/rejects.js': async () => {
        throw new Error('async boom');
      },
      't/garbage.js': async () => null as unknown as ExecResult,
    };
    const fake = new FakeExecutor(overrides);
    const t0 = performance.now();
    const { summary, results } = await runTests({
      t262,
      cases,
      executor: fake,
      expectations: emptyExpectations(),
      threads: 8,
      timeoutMs: 60,
      abortGraceMs: 60,
      loadSource: async (tc) => `// ${tc.relPath}`,
    });
    assert.ok(performance.now() - t0 < 2000);
    assert.ok(sawAbort);
    const err = (f: string) => results.find((r) => r.relPath === `t/${f}`)!;
    assert.match(err('honours.js').error!, /^Test timed out after 60 ms$/);
    assert.match(err('hang.js').error!, /^Test timed out after 60 ms$/);
    assert.match(err('ignores.js').error!, /did not stop within 60 ms of the abort \(abandoned\)/);
    assert.match(err('throws.js').error!, /Crashed: executor error: sync boom/);
    assert.match(err('rejects.js').error!, /Crashed: executor error: async boom/);
    assert.match(err('garbage.js').error!, /Crashed: executor returned null/);
    assert.equal(err('fine.js').status, 'pass');
    assert.equal(summary.abandoned, 1);
    assert.equal(summary.unexpectedFail, 6);
  });

  it('reports load errors as failures without running them', async () => {
    const bad: TestCase = { ...fakeCase('t/bad.js'), loadError: 'cannot load test: bad YAML' };
    const fake = new FakeExecutor();
    const { results } = await runTests({
      t262,
      cases: [bad, fakeCase('t/src-fails.js')],
      executor: fake,
      expectations: emptyExpectations(),
      threads: 2,
      timeoutMs: 1000,
      loadSource: async () => {
        throw new Error('ENOENT');
      },
    });
    assert.deepEqual(results.map((r) => [r.relPath, r.status, r.error]).sort(), [
      ['t/bad.js', 'fail', 'cannot load test: bad YAML'],
      ['t/src-fails.js', 'fail', 'cannot load test: ENOENT'],
    ]);
    assert.equal(fake.calls.length, 0);
  });

  it('stops on interruption without counting aborted scenarios', async () => {
    const ac = new AbortController();
    const cases = Array.from({ length: 50 }, (_, i) => fakeCase(`t/${String(i).padStart(2, '0')}.js`));
    const fake = new FakeExecutor(
      Object.fromEntries(
        cases.map((c, i) => [
          c.relPath,
          ((_req: ExecRequest, signal: AbortSignal) =>
            new Promise<ExecResult>((resolve) => {
              if (i === 5) ac.abort();
              const t = setTimeout(() => resolve({ stdout: '', error: null, timedOut: false }), 5);
              signal.addEventListener('abort', () => {
                clearTimeout(t);
                resolve({ stdout: '', error: null, timedOut: true });
              });
            })) as Override,
        ]),
      ),
    );
    const { summary } = await runTests({
      t262,
      cases,
      executor: fake,
      expectations: emptyExpectations(),
      threads: 2,
      timeoutMs: 1000,
      signal: ac.signal,
      loadSource: async () => '',
    });
    assert.equal(summary.interrupted, true);
    assert.ok(summary.total < 10, `ran ${summary.total}`);
    assert.equal(summary.fail, 0, 'aborted scenarios are not failures');
  });
});

// ---------------------------------------------------------------------------
describe('reporters and CLI', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 't262-runner-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('json reporter: one line per scenario, then the summary; exit 1 on unexpected failure', async () => {
    const out = new Sink();
    const err = new Sink();
    const fake = new FakeExecutor({ 'built-ins/Atomics/notify/bad-range.js': { error: { name: 'Test262Error', message: 'nope' } } });
    const code = await main(
      ['--test262', T262_DIR, '--reporter', 'json', '--threads', '4', '--expectations', EXPECTATIONS_FILE, 'built-ins/Atomics/notify'],
      fake,
      { stdout: out, stderr: err, env: {}, cwd: process.cwd() },
    );
    assert.equal(code, 1);
    const lines = out.data.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const summaryLine = lines.pop()!;
    assert.ok(lines.length > 50);
    for (const l of lines) {
      assert.deepEqual(Object.keys(l).filter((k) => k !== 'reason'), ['file', 'scenario', 'status', 'expected', 'error', 'ms']);
      assert.match(String(l['file']), /^built-ins\/Atomics\/notify\//);
      assert.ok(['default', 'strict mode'].includes(String(l['scenario'])));
      assert.ok(['pass', 'fail', 'skip'].includes(String(l['status'])));
    }
    const fails = lines.filter((l) => l['status'] === 'fail');
    assert.deepEqual(
      fails.map((l) => [l['file'], l['error']]),
      [
        ['built-ins/Atomics/notify/bad-range.js', 'nope'],
        ['built-ins/Atomics/notify/bad-range.js', 'nope'],
      ],
    );
    const skip = lines.find((l) => l['file'] === 'built-ins/Atomics/notify/immutable-buffer-returns-0.js')!;
    assert.deepEqual([skip['status'], skip['expected'], skip['error']], ['skip', 'skip', null]);
    const s = summaryLine['summary'] as Record<string, number>;
    assert.deepEqual(Object.keys(s), ['total', 'pass', 'fail', 'skip', 'unexpectedFail', 'unexpectedPass', 'seconds']);
    assert.equal(s['total'], lines.length);
    assert.equal(s['fail'], 2);
    assert.equal(s['unexpectedFail'], 2);
    assert.equal(s['pass'] + s['fail'] + s['skip'], s['total']);
    // Human-readable summary went to stderr since stdout carries JSON.
    assert.match(err.data, /built-ins\/Atomics/);
    assert.match(err.data, /FAILED/);
  });

  it('expected failures keep the exit code 0; unexpected passes are reported (and optionally fatal)', async () => {
    const expFile = path.join(tmp, 'expectations');
    writeFileSync(
      expFile,
      '# test\nbuilt-ins/Atomics/notify/bad-range.js  # V8 11.3 (pretend)\nbuilt-ins/Atomics/notify/descriptor.js strict # V8 11.3 (pretend)\n',
    );
    const fake = (): FakeExecutor => new FakeExecutor({ 'built-ins/Atomics/notify/bad-range.js': { error: { name: 'Test262Error', message: 'nope' } } });
    const io = () => ({ stdout: new Sink(), stderr: new Sink(), env: { TEST262_DIR: T262_DIR }, cwd: process.cwd() });
    const a = io();
    assert.equal(await main(['--expectations', expFile, 'built-ins/Atomics/notify'], fake(), a), 0);
    assert.match(a.stdout.data, /Unexpected passes \(1\)[^\n]*\n {2}PASS built-ins\/Atomics\/notify\/descriptor\.js \(strict mode\) \[expectations line 3/);
    assert.match(a.stdout.data, /^OK: /m);
    const b = io();
    assert.equal(await main(['--expectations', expFile, '--fail-on-unexpected-pass', 'built-ins/Atomics/notify'], fake(), b), 1);
  });

  it('junit reporter writes well-formed XML to --junit-out', async () => {
    const junitFile = path.join(tmp, 'out', 'junit.xml');
    const fake = new FakeExecutor({
      'built-ins/Atomics/notify/bad-range.js': { error: { name: 'TypeError', message: 'a <b> & "c" \u0000 \uD800 ]]> \u{1F600}' } },
    });
    const io = { stdout: new Sink(), stderr: new Sink(), env: {}, cwd: process.cwd() };
    const code = await main(['--test262', T262_DIR, '-r', 'progress,junit', '--junit-out', junitFile, 'built-ins/Atomics/notify'], fake, io);
    assert.equal(code, 1);
    const xml = readFileSync(junitFile, 'utf8');
    assertWellFormedXml(xml);
    assert.match(xml, /<testsuites name="test262" tests="\d+" failures="2" errors="0" skipped="\d+"/);
    assert.match(xml, /<testsuite name="built-ins\/Atomics" /);
    assert.match(xml, /<testcase classname="test262\.built-ins\.Atomics\.notify" name="bad-range\.js \(strict mode\)"/);
    assert.match(xml, /&lt;b&gt; &amp; &quot;c&quot; \\u0000 \\ud800 \]\]&gt; \u{1F600}/u);
    assert.match(xml, new RegExp(`<skipped message="feature immutable-arraybuffer: V8 ${engineMajorMinor.replace('.', '\\.')}`));
    // progress reporter (non-TTY) printed a final status line and the failure.
    assert.match(io.stdout.data, /\[\d+\/\d+ 100%\]/);
    assert.match(io.stdout.data, /FAIL built-ins\/Atomics\/notify\/bad-range\.js \(default\)/);
  });

  it('junitXml maps outcomes and escapes everything', () => {
    const results: TestResult[] = [
      mkResult({ relPath: 'a/b/p.js', status: 'pass', expected: 'pass', outcome: 'pass' }),
      mkResult({ relPath: 'a/b/f.js', status: 'fail', expected: 'pass', outcome: 'fail', error: 'x\u0001<y>' }),
      mkResult({ relPath: 'a/b/xf.js', status: 'fail', expected: 'fail', outcome: 'xfail', error: 'e', reason: 'V8 "r"' }),
      mkResult({ relPath: 'a/c/xp.js', status: 'pass', expected: 'fail', outcome: 'xpass', reason: 'r' }),
      mkResult({ relPath: 'top.js', status: 'skip', expected: 'skip', outcome: 'skip', reason: "feature 'q'" }),
    ];
    const summary = { seconds: 1.5 } as Parameters<typeof junitXml>[0];
    const xml = junitXml(summary, results, { timestamp: new Date(0) });
    assertWellFormedXml(xml);
    assert.match(xml, /tests="5" failures="1" errors="0" skipped="2"/);
    assert.match(xml, /<failure message="x\\u0001&lt;y&gt;" type="fail">/);
    assert.match(xml, /<skipped message="expected failure: V8 &quot;r&quot;"\/>/);
    assert.match(xml, /<testsuite name="\." /);
    const strict = junitXml(summary, results, { xpassIsFailure: true });
    assertWellFormedXml(strict);
    assert.match(strict, /tests="5" failures="2"/);
    assert.equal(xmlEscape('\uDC00x'), '\\udc00x');
  });

  it('progress reporter redraws in place on a TTY', () => {
    const out = new Sink(true);
    const rep = progressReporter(out, { tty: true });
    rep.start!({ total: 2, threads: 1, timeoutMs: 1, test262Dir: '/t' });
    const counts = { total: 1, pass: 1, fail: 0, skip: 0, expectedFail: 0, unexpectedFail: 0, unexpectedPass: 0 };
    rep.result!(mkResult({ relPath: 'a.js', status: 'pass', expected: 'pass', outcome: 'pass' }), { done: 1, total: 2, counts, elapsedMs: 10 });
    rep.end!({} as never, []);
    assert.match(out.data, /\r\x1b\[2K\[1\/2 50%\] 1 pass, 0 fail, 0 skip \| [\d.]+\/s/);
    assert.match(out.data, /ETA/);
  });

  it('usage errors exit 2; --list and --help run nothing', async () => {
    const fake = new FakeExecutor();
    const io = () => ({ stdout: new Sink(), stderr: new Sink(), env: { TEST262_DIR: T262_DIR }, cwd: process.cwd() });
    const a = io();
    assert.equal(await main(['--bogus'], fake, a), 2);
    assert.match(a.stderr.data, /Unknown option/);
    assert.equal(await main(['--threads', '0', 'built-ins/Atomics/notify'], fake, io()), 2);
    assert.equal(await main(['-r', 'json,junit', 'built-ins/Atomics/notify'], fake, io()), 2);
    assert.equal(await main(['--test262', tmp], fake, io()), 2);
    assert.equal(await main(['built-ins/Atomics/notify/*_FIXTURE*'], fake, io()), 2);
    const l = io();
    assert.equal(await main(['--list', '--features-exclude', 'BigInt', 'built-ins/Atomics/notify'], fake, l), 0);
    assert.match(l.stdout.data, /^built-ins\/Atomics\/notify\/bigint\/bad-range\.js\tdefault\tskip\tfeature BigInt excluded/m);
    assert.match(l.stdout.data, /^built-ins\/Atomics\/notify\/bad-range\.js\tstrict mode\tpass$/m);
    const h = io();
    assert.equal(await main(['--help'], fake, h), 0);
    assert.match(h.stdout.data, /--threads/);
    assert.equal(fake.calls.length, 0);
  });

  it('an aborted signal interrupts the run with exit code 130', async () => {
    const ac = new AbortController();
    const fake = new FakeExecutor({}, 2);
    const origRun = fake.run.bind(fake);
    let n = 0;
    fake.run = (req, signal) => {
      if (++n === 3) ac.abort();
      return origRun(req, signal);
    };
    const io = { stdout: new Sink(), stderr: new Sink(), env: { TEST262_DIR: T262_DIR }, cwd: process.cwd(), signal: ac.signal };
    assert.equal(await main(['-t', '2', 'built-ins/Atomics/notify'], fake, io), 130);
    assert.match(io.stdout.data, /INTERRUPTED/);
  });
});
