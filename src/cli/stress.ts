// `agentcluster stress FILE... [options]`: runs the litmus() and
// linearizable() tests a user's files export (see docs/stress-harness.md).
// Exit code: 0 when every test passed (ok or interesting), 1 when one saw a
// forbidden outcome, a non-linearizable history, got stuck or failed, or a
// test file could not be loaded, 2 for bad usage (an option out of range too).
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { parseFlags, UsageError, wholeNumber } from './args.js';
import { formatReport, isFailure, runStressFiles, StressError, type StressReport } from '../stress/index.js';
import { suiteFiles } from '../stress/suites.js';
import { MAX_STRESS_AGENTS, MAX_STRESS_BATCH } from '../stress/run.js';
import { divertStdoutToStderr } from './stdout-diversion.js';


const usage = `usage: agentcluster stress FILE... [options]

Runs the stress tests that each FILE exports: litmus() tests (actors run
concurrently, outcomes histogrammed and graded) and linearizable() tests
(generated operations on a concurrent object, the history checked against
a sequential model).

options:
  --duration D        per test, how long to run: 500ms, 2s, 1m (a bare number is seconds;
                      default 1s for litmus tests, 100 histories for linearizability tests)
  --iterations N      litmus: iterations per test; linearizability: histories per test
  --seed N            seed of the random choices (printed; reuse it to replay them)
  --agents N          linearizability: agents running operations (default: the cores, 2 to 4; at most ${MAX_STRESS_AGENTS})
  --batch N           litmus: iterations per batch between barriers (default 1024)
  --perturb           force start skew and point() spins on (--no-perturb: off)
  --filter TEXT       only tests whose id or name contains TEXT
  --suite NAME        also run a built-in suite: ${Object.keys(suiteFiles).join(', ')}
  --json              one JSON document on stdout instead of text (the test
                      file's and agents' own console output goes to stderr)
  --help, -h          show this help

Exit code 1 when a test fails (forbidden outcome, not linearizable, stuck, error)
or a test file cannot be loaded; 2 for bad usage or an option out of range.`;

export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  if (!match) throw new UsageError(`--duration must be a number with an optional unit (500ms, 2s, 1m), not ${JSON.stringify(text)}`);
  const value = Number(match[1]) * (match[2] === 'ms' ? 1 : match[2] === 'm' ? 60_000 : 1000);
  if (!(value >= 1)) throw new UsageError(`--duration must be at least 1ms, not ${JSON.stringify(text)}`);
  return Math.round(value);
}

export interface StressStreams {
  stdout?: Writable;
  stderr?: Writable;
}

export async function main(argv: string[], streams: StressStreams = {}): Promise<number> {
  const stdout = streams.stdout ?? process.stdout;
  const stderr = streams.stderr ?? process.stderr;
  let values, positionals;
  const files: string[] = [];
  try {
    ({ values, positionals } = parseFlags(argv, {
      duration: { type: 'string' },
      iterations: { type: 'string' },
      seed: { type: 'string' },
      agents: { type: 'string' },
      batch: { type: 'string' },
      perturb: { type: 'boolean' },
      'no-perturb': { type: 'boolean' },
      filter: { type: 'string' },
      suite: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    }));
    if (values.help) {
      stdout.write(usage + '\n');
      return 0;
    }
    for (const name of values.suite ?? []) {
      const file = Object.hasOwn(suiteFiles, name) ? suiteFiles[name] : undefined;
      if (file === undefined) throw new UsageError(`unknown --suite ${JSON.stringify(name)} (known: ${Object.keys(suiteFiles).join(', ')})`);
      files.push(file);
    }
    for (const file of positionals) {
      if (!existsSync(resolve(file))) throw new UsageError(`no such file ${file}`);
      if (statSync(resolve(file)).isDirectory()) throw new UsageError(`${file} is a directory (give the test files themselves)`);
      files.push(resolve(file));
    }
    if (files.length === 0) throw new UsageError('missing FILE (or --suite NAME)');
    if (values.perturb && values['no-perturb']) throw new UsageError('--perturb and --no-perturb together');
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    stderr.write(`agentcluster stress: ${error.message}\nRun 'agentcluster stress --help' for usage.\n`);
    return 2;
  }
  let options;
  try {
    options = {
      ...(values.duration !== undefined ? { durationMs: parseDuration(values.duration) } : {}),
      ...(values.iterations !== undefined ? { iterations: wholeNumber('--iterations', values.iterations) } : {}),
      ...(values.seed !== undefined ? { seed: wholeNumber('--seed', values.seed, 0, 2 ** 32 - 1) } : {}),
      ...(values.agents !== undefined ? { agents: wholeNumber('--agents', values.agents, 1, MAX_STRESS_AGENTS) } : {}),
      ...(values.batch !== undefined ? { batch: wholeNumber('--batch', values.batch, 1, MAX_STRESS_BATCH) } : {}),
      ...(values.perturb ? { perturb: true } : values['no-perturb'] ? { perturb: false } : {}),
      ...(values.filter !== undefined ? { filter: values.filter } : {}),
    };
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    stderr.write(`agentcluster stress: ${error.message}\n`);
    return 2;
  }
  const seed = options.seed ?? (Math.random() * 2 ** 32) >>> 0;
  if (!values.json) stdout.write(`agentcluster stress: seed ${seed}\n`);
  let reports: StressReport[];
  // The test file is imported and its agents log during the run, and its timers may fire after it:
  // with --json, only the document goes to stdout, so the diversion stays until the process exits.
  const diversion = values.json && stdout === process.stdout ? divertStdoutToStderr() : undefined;
  try {
    reports = await runStressFiles(files, {
      ...options,
      seed,
      onReport: (report) => {
        if (!values.json) stdout.write(`${formatReport(report)}\n`);
      },
    });
  } catch (error) {
    if (!(error instanceof StressError)) throw error;
    // One line with the stable code, no stack: the cause is the user's file or option, not ours.
    stderr.write(`agentcluster stress: ${error.message} (${error.code})\n`);
    return error.code === 'ERR_STRESS_INVALID_OPTION' ? 2 : 1;
  }
  const failed = reports.filter(isFailure);
  if (values.json) {
    const document = `${JSON.stringify({ seed, ok: failed.length === 0, reports }, null, 2)}\n`;
    if (diversion) diversion.write(document);
    else stdout.write(document);
  } else {
    stdout.write(`${reports.length} tests, ${failed.length} failed${failed.length ? `: ${failed.map((r) => r.id).join(', ')}` : ''} (seed ${seed})\n`);
  }
  return failed.length === 0 ? 0 : 1;
}
