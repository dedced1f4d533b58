// `agentcluster run <module> [--agents N] [--input tasks.jsonl] [--output results.jsonl]`
//
// Each non-blank input line (JSON) is one task for the module's job; each
// result is written as one line, in input order, in the encoding of
// result-codec.ts (JSON, with tagged objects for BigInt, Map, undefined...).
// A failed task, an input line that is not JSON or not UTF-8, and a result
// that cannot be written faithfully each write {"error":{"name","message",
// "code"}} on their line; the run goes on. Progress goes to stderr: a live
// bar on a terminal, an occasional plain line otherwise, and a summary at the
// end. Exit code: 0 if every task succeeded, 1 if any failed or the output
// closed early, 2 for bad usage.
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { Readable, Writable } from 'node:stream';
import { AgentPool } from '../scheduler/index.js';
import { parseFlags, UsageError, wholeNumber } from './args.js';
import { readLines, MAX_LINE_BYTES } from './lines.js';
import { encodeResultLine, encodeValue } from './result-codec.js';
import { CpuProfiles } from './cpu-prof.js';
import { isSameRegularFile } from './same-file.js';

/** Each agent is an OS thread with its own heap: a typo like `-n 100000` must not try to start that many. */
const MAX_AGENTS = 1024;

const usage = `usage: agentcluster run <module> [options]

Runs each line of the input (JSON) as a task on a pool of agents and writes
each result as a JSON line, in input order.

options:
  --agents, -n N        agents to run, 1 to ${MAX_AGENTS} (default: ${availableParallelism()})
  --input, -i FILE      tasks, one JSON value per line (default: stdin)
  --output, -o FILE     results, one JSON value per line (default: stdout)
  --name NAME           export of the module to call (default: its default export)
  --cpu-prof DIR        write a V8 CPU profile of each agent to DIR/agent-<threadId>.cpuprofile
  --help, -h            show this help

Results that JSON cannot hold (BigInt, undefined, NaN, Map, Set, Date,
typed arrays...) are written as {"$type": ...} objects; see docs/scheduler.md.`;

interface Outcome {
  ok: boolean;
  value: unknown;
}

export interface RunStreams {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable & { isTTY?: boolean; columns?: number };
  /** Longest input line accepted, in bytes (tests lower it). */
  maxLineBytes?: number;
}

/** Counts the non-blank lines of a file (for the progress total). */
async function countLines(path: string, maxBytes: number): Promise<number> {
  let count = 0;
  for await (const line of readLines(createReadStream(path), maxBytes)) if (!('text' in line) || line.text.trim() !== '') count++;
  return count;
}

function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return true; // let the count report why it cannot be read
  }
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return 'a value that cannot be converted to a string';
  }
}

interface ErrorLine {
  error: { name: string; message: string; code?: unknown };
}

/** The {"error": ...} object of a failed line; never throws, whatever was thrown. */
function errorJson(error: unknown): ErrorLine {
  if (error instanceof Error) {
    const name = safeString(error.name);
    const message = safeString(error.message);
    let code: unknown;
    try {
      code = (error as { code?: unknown }).code;
      if (code !== undefined) code = encodeValue(code);
    } catch {
      code = safeString(code);
    }
    return { error: code === undefined ? { name, message } : { name, message, code } };
  }
  return { error: { name: 'Error', message: safeString(error) } };
}

/** An input line that never became a task. */
class BadLine extends Error {
  constructor(readonly line: ErrorLine) {
    super(line.error.message);
  }
}

function lineError(name: string, message: string, code: string): ErrorLine {
  return { error: { name, message, code } };
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m < 60 ? `${m}m${String(s).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** done/total, rate and ETA on stderr: redrawn on a TTY, a plain line now and then otherwise. */
class Progress {
  readonly #err: RunStreams['stderr'] & {};
  readonly #tty: boolean;
  readonly #start = performance.now();
  #last = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    err: RunStreams['stderr'] & {},
    readonly total: number | undefined,
    readonly state: { done: number; failed: number },
  ) {
    this.#err = err;
    this.#tty = err.isTTY === true;
    if (this.#tty) {
      this.#timer = setInterval(() => this.#draw(), 100);
      this.#timer.unref();
    } else {
      this.#timer = setInterval(() => this.#line(), 2000);
      this.#timer.unref();
    }
  }

  #text(): string {
    const { done, failed } = this.state;
    const seconds = (performance.now() - this.#start) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const count = this.total === undefined ? `${done}` : `${done}/${this.total}`;
    const eta = this.total === undefined || rate === 0 ? '' : ` ETA ${formatDuration((this.total - done) / rate)}`;
    const failures = failed > 0 ? ` ${failed} failed` : '';
    return `${count} ${rate.toFixed(rate < 10 ? 1 : 0)}/s${eta}${failures}`;
  }

  #draw(): void {
    const text = this.#text();
    let bar = '';
    if (this.total !== undefined && this.total > 0) {
      const width = Math.max(10, Math.min(40, (this.#err.columns ?? 80) - text.length - 10));
      const filled = Math.round((this.state.done / this.total) * width);
      bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor((this.state.done / this.total) * 100)).padStart(3)}% `;
    }
    this.#err.write(`\r\x1b[2K${bar}${text}`);
  }

  #line(): void {
    if (this.state.done === this.#last) return;
    this.#last = this.state.done;
    this.#err.write(`agentcluster run: ${this.#text()}\n`);
  }

  stop(): void {
    clearInterval(this.#timer);
    if (this.#tty) {
      this.#draw();
      this.#err.write('\n');
    }
  }
}

export async function main(argv: string[], streams: RunStreams = {}): Promise<number> {
  const stdin = streams.stdin ?? process.stdin;
  const stdout = streams.stdout ?? process.stdout;
  const stderr = streams.stderr ?? process.stderr;
  const maxLineBytes = streams.maxLineBytes ?? MAX_LINE_BYTES;
  let values, positionals, agents: number;
  try {
    ({ values, positionals } = parseFlags(argv, {
      agents: { type: 'string', short: 'n' },
      input: { type: 'string', short: 'i' },
      output: { type: 'string', short: 'o' },
      name: { type: 'string' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    }));
    if (values.help) {
      stderr.write(usage + '\n');
      return 0;
    }
    if (positionals.length !== 1) {
      throw new UsageError(positionals.length === 0 ? 'missing <module>' : `unexpected arguments: ${positionals.slice(1).join(' ')}`);
    }
    agents = values.agents === undefined ? availableParallelism() : wholeNumber('--agents', values.agents, 1, MAX_AGENTS);
    if (!existsSync(resolve(positionals[0]!))) throw new UsageError(`no module file ${positionals[0]}`);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    stderr.write(`agentcluster run: ${error.message}\nRun 'agentcluster run --help' for usage.\n`);
    return 2;
  }

  // Every option is checked before -o is opened: opening truncates it, so a
  // mistake found later would already have emptied the previous results.
  const modulePath = resolve(positionals[0]!);
  if (values.output !== undefined) {
    const sameAs = isSameRegularFile(values.output, modulePath)
      ? 'the module'
      : values.input !== undefined
        ? isSameRegularFile(values.output, values.input) ? '--input' : undefined
        : stdin === process.stdin && isSameRegularFile(values.output, 0) ? 'the standard input' : undefined;
    if (sameAs !== undefined) {
      stderr.write(`agentcluster run: --output ${values.output} is the same file as ${sameAs}: writing it would destroy it before it is read\n`);
      return 2;
    }
  }
  let total: number | undefined;
  // Counted only in a regular file: a pipe (--input /dev/stdin, <(cmd)) would be read to its end by the count, leaving no task.
  if (values.input !== undefined && isRegularFile(values.input)) {
    try {
      total = await countLines(values.input, maxLineBytes);
    } catch (error) {
      stderr.write(`agentcluster run: cannot read --input ${values.input}: ${(error as Error).message}\n`);
      return 2;
    }
  }
  // --cpu-prof: the directory is made now (a bad one is a usage error); profiling starts once the pool is ready.
  let profiles: CpuProfiles | undefined;
  if (values['cpu-prof'] !== undefined) {
    try {
      profiles = new CpuProfiles(values['cpu-prof']);
    } catch (error) {
      stderr.write(`agentcluster run: cannot create --cpu-prof ${values['cpu-prof']}: ${(error as Error).message}\n`);
      return 2;
    }
  }

  const pool = new AgentPool({ filename: modulePath, name: values.name, minAgents: agents, maxAgents: agents });
  try {
    await pool.ready;
  } catch (error) {
    await pool.destroy();
    const cause = (error as Error).cause;
    stderr.write(`agentcluster run: cannot load ${positionals[0]}: ${cause instanceof Error ? cause.message : (error as Error).message}\n`);
    return 1;
  }
  let output: Writable = stdout;
  if (values.output !== undefined) {
    // Opened last (after the module loaded) and before any task runs, so a bad path is a usage error, not a lost run.
    const file = createWriteStream(values.output);
    try {
      await once(file, 'open');
    } catch (error) {
      await pool.destroy();
      stderr.write(`agentcluster run: cannot write --output ${values.output}: ${(error as Error).message}\n`);
      return 2;
    }
    output = file;
  }
  // A failed output (a closed pipe, a full disk) ends the run: nothing more can be delivered.
  let outputError: Error | undefined;
  const outputFailed = new Promise<void>((resolveFailed) => {
    output.on('error', (error: Error) => {
      outputError ??= error;
      resolveFailed();
    });
  });
  const closeOutput = async () => {
    if (output === stdout) return;
    if (outputError === undefined) output.end();
    else output.destroy();
    // finished(), not once('close'): a stream that failed (ENOSPC) may have closed already, and
    // waiting for a 'close' that never comes again ended the process with code 0 and no summary.
    await finished(output).catch(() => {});
  };
  profiles?.watch(pool);
  const input = values.input === undefined ? stdin : createReadStream(values.input);
  const state = { done: 0, failed: 0 };
  const failures: string[] = [];
  const progress = new Progress(stderr, total, state);
  const started = performance.now();
  let written = 0;
  let inputError: Error | undefined;

  // An ordered window: at most `window` lines read and not yet written.
  const window = Math.max(64, agents * 32);
  const pending: Promise<{ at: number; text: string }>[] = []; // text: the whole line, newline included
  const fail = (at: number, error: ErrorLine): string => {
    state.failed++;
    if (failures.length < 5) failures.push(`line ${at}: ${error.error.message}`);
    return `${JSON.stringify(error)}\n`;
  };
  const parseTask = (text: string, at: number): Promise<unknown> => {
    let task: unknown;
    try {
      task = JSON.parse(text);
    } catch (error) {
      return Promise.reject(new BadLine(lineError('SyntaxError', `line ${at} is not JSON: ${(error as Error).message}`, 'ERR_RUN_BAD_INPUT_LINE')));
    }
    return pool.run(task);
  };
  const write = async (line: { at: number; text: string }) => {
    if (outputError !== undefined) return;
    written++;
    if (!output.write(line.text)) await Promise.race([once(output, 'drain'), outputFailed]);
  };
  try {
    for await (const line of readLines(input, maxLineBytes)) {
      if (outputError !== undefined) break;
      const at = line.lineNo;
      if ('text' in line && line.text.trim() === '') continue;
      let outcome: Promise<{ at: number; text: string }>;
      if ('error' in line) {
        outcome = Promise.resolve({ at, text: fail(at, lineError('SyntaxError', line.error, 'ERR_RUN_BAD_INPUT_LINE')) });
      } else {
        outcome = parseTask(line.text, at).then(
          (value) => {
            try {
              // The newline is added here, in the try: a line at V8's longest string cannot take one more character.
              return { at, text: `${encodeResultLine(value)}\n` };
            } catch (error) {
              const message = `the result of line ${at} cannot be written: ${error instanceof Error ? error.message : safeString(error)}`;
              return { at, text: fail(at, lineError('TypeError', message, 'ERR_RUN_RESULT_NOT_ENCODABLE')) };
            }
          },
          (error: unknown) => ({ at, text: fail(at, error instanceof BadLine ? error.line : errorJson(error)) }),
        );
      }
      pending.push(outcome.finally(() => state.done++));
      while (pending.length >= window) await write(await pending.shift()!);
    }
  } catch (error) {
    // The input failed mid-way (a read error): write what was read, then report it.
    inputError = error as Error;
  }
  try {
    while (pending.length > 0) await write(await pending.shift()!);
  } finally {
    progress.stop();
    if (profiles) {
      const { files, lost, failed } = await profiles.write();
      stderr.write(`agentcluster run: ${files.length} CPU profile${files.length === 1 ? '' : 's'} written${lost > 0 ? ` (${lost} lost with their agents)` : ''}\n`);
      for (const failure of failed) stderr.write(`agentcluster run: cannot write CPU profile ${failure}\n`);
    }
    if (outputError !== undefined) await pool.destroy();
    else await pool.close();
    await closeOutput();
  }

  const seconds = (performance.now() - started) / 1000;
  const ok = state.done - state.failed;
  stderr.write(
    `agentcluster run: ${state.done} tasks, ${ok} ok, ${state.failed} failed in ${formatDuration(seconds)} ` +
      `(${(state.done / Math.max(seconds, 1e-9)).toFixed(0)} tasks/s on ${agents} agent${agents === 1 ? '' : 's'})\n`,
  );
  for (const failure of failures) stderr.write(`  ${failure}\n`);
  if (state.failed > failures.length) stderr.write(`  ... and ${state.failed - failures.length} more\n`);
  if (inputError !== undefined) {
    stderr.write(`agentcluster run: reading the input failed: ${inputError.message}\n`);
    return 1;
  }
  if (outputError !== undefined) {
    const code = (outputError as NodeJS.ErrnoException).code;
    stderr.write(`agentcluster run: the output closed (${code ?? outputError.message}) after ${written} result line${written === 1 ? '' : 's'}; the run stopped\n`);
    return 1;
  }
  return state.failed > 0 ? 1 : 0;
}
