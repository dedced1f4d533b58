/**
 * JUnit XML reporter (written once, at the end of the run).
 *
 * One <testsuite> per directory group (e.g. `built-ins/Atomics`), one
 * <testcase> per scenario. Mapping of outcomes (the pytest convention):
 *  - unexpected failure -> <failure>;
 *  - expected failure   -> <skipped message="expected failure: …">;
 *  - skip               -> <skipped>;
 *  - unexpected pass    -> passed, with a <system-out> note
 *                          (a <failure> with `xpassIsFailure`).
 */
import type { Reporter, RunSummary, TestResult } from '../results.js';
import { groupOf } from '../results.js';
import { closeStream } from './stream.js';

export interface JunitOptions {
  /** Report unexpected passes as failures (mirrors --fail-on-unexpected-pass). */
  xpassIsFailure?: boolean;
  /** End the stream after writing (files; never stdout). */
  close?: boolean;
  /** Timestamp to put on suites (default: now). */
  timestamp?: Date;
}

// Characters allowed by XML 1.0 (lone surrogates included in the complement).
const INVALID_XML = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function xmlEscape(s: string): string {
  return s
    .replace(INVALID_XML, (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function attrs(a: Record<string, string | number>): string {
  return Object.entries(a)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');
}

function secs(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function isFailure(r: TestResult, o: JunitOptions): boolean {
  return r.outcome === 'fail' || (o.xpassIsFailure === true && r.outcome === 'xpass');
}
function isSkipped(r: TestResult): boolean {
  return r.outcome === 'skip' || r.outcome === 'xfail';
}

function testcase(r: TestResult, o: JunitOptions): string {
  const slash = r.relPath.lastIndexOf('/');
  const dir = slash === -1 ? '' : r.relPath.slice(0, slash);
  const base = r.relPath.slice(slash + 1);
  const head = `    <testcase${attrs({
    classname: dir === '' ? 'test262' : `test262.${dir.replace(/\//g, '.')}`,
    name: `${base} (${r.scenario})`,
    file: r.relPath,
    time: secs(r.ms),
  })}`;
  let body = '';
  if (isFailure(r, o)) {
    const msg = r.outcome === 'xpass' ? `unexpected pass (expected to fail: ${r.reason ?? ''})` : r.error ?? 'failed';
    body = `      <failure${attrs({ message: firstLine(msg), type: r.outcome === 'xpass' ? 'unexpected-pass' : 'fail' })}>${xmlEscape(msg)}</failure>\n`;
  } else if (r.outcome === 'xfail') {
    body =
      `      <skipped${attrs({ message: `expected failure: ${r.reason ?? ''}` })}/>\n` +
      `      <system-out>${xmlEscape(r.error ?? '')}</system-out>\n`;
  } else if (r.outcome === 'skip') {
    body = `      <skipped${attrs({ message: r.reason ?? 'skipped' })}/>\n`;
  } else if (r.outcome === 'xpass') {
    body = `      <system-out>${xmlEscape(`UNEXPECTED PASS: expected to fail (${r.reason ?? ''})`)}</system-out>\n`;
  }
  return body === '' ? `${head}/>\n` : `${head}>\n${body}    </testcase>\n`;
}

function firstLine(s: string): string {
  const l = s.split('\n')[0] ?? '';
  return l.length > 500 ? `${l.slice(0, 500)}…` : l;
}

export function junitXml(summary: RunSummary, results: readonly TestResult[], o: JunitOptions = {}): string {
  const stamp = (o.timestamp ?? new Date()).toISOString().replace(/\.\d+Z$/, '');
  const byGroup = new Map<string, TestResult[]>();
  for (const r of results) {
    const g = groupOf(r.relPath);
    let list = byGroup.get(g);
    if (!list) byGroup.set(g, (list = []));
    list.push(r);
  }
  const sortKey = (r: TestResult): string => r.id;
  let totalFailures = 0;
  let totalSkipped = 0;
  const suites: string[] = [];
  for (const g of [...byGroup.keys()].sort()) {
    const list = byGroup.get(g)!.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1));
    const failures = list.filter((r) => isFailure(r, o)).length;
    const skipped = list.filter(isSkipped).length;
    totalFailures += failures;
    totalSkipped += skipped;
    const time = list.reduce((t, r) => t + r.ms, 0);
    suites.push(
      `  <testsuite${attrs({ name: g, tests: list.length, failures, errors: 0, skipped, time: secs(time), timestamp: stamp })}>\n` +
        list.map((r) => testcase(r, o)).join('') +
        '  </testsuite>\n',
    );
  }
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<testsuites${attrs({
      name: 'test262',
      tests: results.length,
      failures: totalFailures,
      errors: 0,
      skipped: totalSkipped,
      time: summary.seconds.toFixed(3),
    })}>\n` +
    suites.join('') +
    '</testsuites>\n'
  );
}

export function junitReporter(out: NodeJS.WritableStream, o: JunitOptions = {}): Reporter {
  return {
    async end(summary, results) {
      out.write(junitXml(summary, results, o));
      if (o.close) await closeStream(out);
    },
  };
}
