/**
 * JSON-lines reporter: one object per scenario, in completion order,
 *   {"file":"built-ins/Atomics/notify/foo.js","scenario":"strict mode","status":"pass","expected":"pass","error":null}
 * (`file` is relative to `<test262>/test`), then one final line
 *   {"summary":{"total":…,"pass":…,"fail":…,"skip":…,"unexpectedFail":…,"unexpectedPass":…,"seconds":…}}
 */
import type { Reporter, RunSummary, TestResult } from '../results.js';
import { closeStream } from './stream.js';

export interface JsonLine {
  file: string;
  scenario: string;
  status: TestResult['status'];
  expected: TestResult['expected'];
  error: string | null;
}

export function jsonLine(r: TestResult): JsonLine {
  return { file: r.relPath, scenario: r.scenario, status: r.status, expected: r.expected, error: r.error ?? null };
}

export function jsonSummary(s: RunSummary): { summary: Record<string, number | boolean> } {
  return {
    summary: {
      total: s.total,
      pass: s.pass,
      fail: s.fail,
      skip: s.skip,
      unexpectedFail: s.unexpectedFail,
      unexpectedPass: s.unexpectedPass,
      seconds: Math.round(s.seconds * 1000) / 1000,
      ...(s.interrupted ? { interrupted: true } : {}),
    },
  };
}

/** `close`: end the stream when the run ends (for files; never for stdout). */
export function jsonReporter(out: NodeJS.WritableStream, close = false): Reporter {
  return {
    result(r) {
      out.write(JSON.stringify(jsonLine(r)) + '\n');
    },
    async end(summary) {
      out.write(JSON.stringify(jsonSummary(summary)) + '\n');
      if (close) await closeStream(out);
    },
  };
}
