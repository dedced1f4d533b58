/**
 * JSON-lines reporter: one object per scenario, in completion order,
 *   {"file":"built-ins/Atomics/notify/foo.js","scenario":"strict mode","status":"pass","expected":"pass","error":null,"ms":12.3}
 * (`file` is relative to `<test262>/test`; `reason` is added when an
 * expectation gave one), preceded by a `{"shard":{…}}` line in a sharded run
 * (see shard.ts), then one final line
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
  /** Wall time, rounded to 0.1 ms (what `--durations` balances shards by). */
  ms: number;
  reason?: string;
}

export function jsonLine(r: TestResult): JsonLine {
  const line: JsonLine = {
    file: r.relPath,
    scenario: r.scenario,
    status: r.status,
    expected: r.expected,
    error: r.error ?? null,
    ms: Math.round(r.ms * 10) / 10,
  };
  if (r.reason !== undefined) line.reason = r.reason;
  return line;
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

/**
 * `close`: end the stream when the run ends (for files; never for stdout).
 * `header`: written as the first line (a shard's `{"shard":…}`).
 */
export function jsonReporter(out: NodeJS.WritableStream, close = false, header?: object): Reporter {
  return {
    start() {
      if (header !== undefined) out.write(JSON.stringify(header) + '\n');
    },
    result(r) {
      out.write(JSON.stringify(jsonLine(r)) + '\n');
    },
    async end(summary) {
      out.write(JSON.stringify(jsonSummary(summary)) + '\n');
      if (close) await closeStream(out);
    },
  };
}
