/**
 * Live progress. On a TTY: one status line rewritten in place
 * (`done/total, pass/fail/skip, rate, ETA`). Otherwise: the same line printed
 * periodically. Unexpected failures/passes are printed as they happen.
 */
import type { Progress, Reporter, RunInfo, TestResult } from '../results.js';
import { formatDuration } from './summary.js';

export interface ProgressStream extends NodeJS.WritableStream {
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Force TTY/non-TTY behaviour (default: `out.isTTY`). */
  tty?: boolean;
  /** Non-TTY: print a status line at most this often. Default 10 s. */
  intervalMs?: number;
  /** Print every result, not just unexpected ones. */
  verbose?: boolean;
}

export function statusLine(p: Progress): string {
  const c = p.counts;
  const secs = p.elapsedMs / 1000;
  const rate = secs > 0 ? p.done / secs : 0;
  const eta = rate > 0 ? (p.total - p.done) / rate : Number.NaN;
  const pct = p.total > 0 ? Math.floor((p.done / p.total) * 100) : 100;
  const unexpected = c.unexpectedFail > 0 ? ` (${c.unexpectedFail} UNEXPECTED)` : '';
  return (
    `[${p.done}/${p.total} ${pct}%] ${c.pass} pass, ${c.fail} fail${unexpected}, ${c.skip} skip | ` +
    `${rate.toFixed(rate < 10 ? 1 : 0)}/s | ${formatDuration(secs)} elapsed | ETA ${p.done === p.total ? '0:00' : formatDuration(eta)}`
  );
}

export function progressReporter(out: ProgressStream, opts: ProgressOptions = {}): Reporter {
  const tty = opts.tty ?? out.isTTY === true;
  const intervalMs = opts.intervalMs ?? 10_000;
  let last: Progress = { done: 0, total: 0, counts: zero(), elapsedMs: 0 };
  let startedAt = 0;
  let lastDraw = 0;
  let lineShown = false;
  let ticker: NodeJS.Timeout | undefined;

  const width = (): number => Math.max(40, (out.columns || 120) - 1);
  const current = (): Progress => ({ ...last, elapsedMs: performance.now() - startedAt });

  const clear = (): void => {
    if (tty && lineShown) {
      out.write('\r\x1b[2K');
      lineShown = false;
    }
  };
  const draw = (force = false): void => {
    const now = performance.now();
    if (tty) {
      if (!force && now - lastDraw < 100) return;
      const line = statusLine(current());
      out.write(`\r\x1b[2K${line.length > width() ? line.slice(0, width()) : line}`);
      lineShown = true;
    } else {
      if (!force && now - lastDraw < intervalMs) return;
      out.write(statusLine(current()) + '\n');
    }
    lastDraw = now;
  };

  const describe = (r: TestResult): string | undefined => {
    const name = `${r.relPath} (${r.scenario})`;
    switch (r.outcome) {
      case 'fail':
        return `FAIL ${name}\n     ${(r.error ?? '').replace(/\n/g, '\n     ')}`;
      case 'xpass':
        return `UNEXPECTED PASS ${name} (expected to fail: ${r.reason ?? ''})`;
      default:
        if (!opts.verbose) return undefined;
        if (r.outcome === 'skip') return `skip ${name}: ${r.reason ?? ''}`;
        if (r.outcome === 'xfail') return `xfail ${name}: ${r.error ?? ''}`;
        return `pass ${name}`;
    }
  };

  return {
    start(info: RunInfo) {
      startedAt = performance.now();
      lastDraw = tty ? 0 : startedAt;
      last = { done: 0, total: info.total, counts: zero(), elapsedMs: 0 };
      out.write(
        `test262: ${info.total} scenarios from ${info.test262Dir}, ${info.threads} threads, ` +
          `timeout ${info.timeoutMs} ms\n`,
      );
      ticker = setInterval(() => draw(tty), tty ? 1000 : intervalMs);
      ticker.unref();
    },
    result(r: TestResult, p: Progress) {
      last = p;
      const text = describe(r);
      if (text !== undefined) {
        clear();
        out.write(text + '\n');
        if (tty) draw(true);
      }
      draw();
    },
    end() {
      if (ticker) clearInterval(ticker);
      clear();
      out.write(statusLine(current()) + '\n');
    },
  };
}

function zero(): Progress['counts'] {
  return { total: 0, pass: 0, fail: 0, skip: 0, expectedFail: 0, unexpectedFail: 0, unexpectedPass: 0 };
}
