// `agentcluster run <module> [--agents N] [--input tasks.jsonl] [--output results.jsonl]`
//
// Each non-blank input line (JSON) is one task for the module's job; each
// result is written as one JSON line, in input order. A failed task writes
// {"error":{"name","message","code"}} on its line. Progress goes to stderr:
// a live bar on a terminal, an occasional plain line otherwise, and a
// summary at the end. Exit code: 0 if every task succeeded, 1 if any failed,
// 2 for bad usage.
import { createReadStream, createWriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import type { Readable, Writable } from 'node:stream';
import { AgentPool } from '../scheduler/index.js';
import { CpuProfiles } from './cpu-prof.js';

const usage = `usage: agentcluster run <module> [options]

Runs each line of the input (JSON) as a task on a pool of agents and writes
each result as a JSON line, in input order.

options:
  --agents, -n N        agents to run (default: ${availableParallelism()})
  --input, -i FILE      tasks, one JSON value per line (default: stdin)
  --output, -o FILE     results, one JSON value per line (default: stdout)
  --name NAME           export of the module to call (default: its default export)
  --cpu-prof DIR        write a V8 CPU profile of each agent to DIR/agent-<threadId>.cpuprofile
  --help, -h            show this help`;

interface Outcome {
  ok: boolean;
  value: unknown;
}

export interface RunStreams {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable & { isTTY?: boolean; columns?: number };
}

/** Counts the non-blank lines of a file (for the progress total). */
async function countLines(path: string): Promise<number> {
  let count = 0;
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) if (line.trim() !== '') count++;
  return count;
}

function errorJson(error: unknown): { error: { name: string; message: string; code?: unknown } } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { error: code === undefined ? { name: error.name, message: error.message } : { name: error.name, message: error.message, code } };
  }
  return { error: { name: 'Error', message: String(error) } };
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
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        agents: { type: 'string', short: 'n' },
        input: { type: 'string', short: 'i' },
        output: { type: 'string', short: 'o' },
        name: { type: 'string' },
        'cpu-prof': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    stderr.write(`${(error as Error).message}\n\n${usage}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    stderr.write(usage + '\n');
    return 0;
  }
  if (positionals.length !== 1) {
    stderr.write(`${positionals.length === 0 ? 'missing <module>' : `unexpected arguments: ${positionals.slice(1).join(' ')}`}\n\n${usage}\n`);
    return 2;
  }
  const agents = values.agents === undefined ? availableParallelism() : Number(values.agents);
  if (!Number.isInteger(agents) || agents < 1) {
    stderr.write(`--agents must be a positive integer, not ${values.agents}\n`);
    return 2;
  }

  let total: number | undefined;
  if (values.input !== undefined) {
    try {
      total = await countLines(values.input);
    } catch (error) {
      stderr.write(`cannot read --input ${values.input}: ${(error as Error).message}\n`);
      return 2;
    }
  }
  const pool = new AgentPool({ filename: resolve(positionals[0]!), name: values.name, minAgents: agents, maxAgents: agents });
  try {
    await pool.ready;
  } catch (error) {
    await pool.destroy();
    const cause = (error as Error).cause;
    stderr.write(`agentcluster run: cannot load ${positionals[0]}: ${cause instanceof Error ? cause.message : (error as Error).message}\n`);
    return 1;
  }
  // --cpu-prof: one profile per agent, from here to the end of the run.
  let profiles: CpuProfiles | undefined;
  if (values['cpu-prof'] !== undefined) {
    try {
      profiles = new CpuProfiles(values['cpu-prof']);
    } catch (error) {
      await pool.destroy();
      stderr.write(`cannot create --cpu-prof ${values['cpu-prof']}: ${(error as Error).message}\n`);
      return 2;
    }
    profiles.watch(pool);
  }
  const input = values.input === undefined ? stdin : createReadStream(values.input);
  const output = values.output === undefined ? stdout : createWriteStream(values.output);
  const state = { done: 0, failed: 0 };
  const failures: string[] = [];
  const progress = new Progress(stderr, total, state);
  const started = performance.now();

  // An ordered window: at most `window` lines read and not yet written.
  const window = Math.max(64, agents * 32);
  const pending: Promise<Outcome>[] = [];
  let lineNo = 0;
  const write = async (outcome: Outcome) => {
    const text = outcome.ok ? JSON.stringify(outcome.value ?? null) : JSON.stringify(errorJson(outcome.value));
    if (!output.write(`${text ?? 'null'}\n`)) await once(output, 'drain');
  };
  try {
    const lines = createInterface({ input, crlfDelay: Infinity });
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      const at = lineNo;
      let outcome: Promise<Outcome>;
      try {
        const task: unknown = JSON.parse(line);
        outcome = pool.run(task).then(
          (value): Outcome => ({ ok: true, value }),
          (error: unknown): Outcome => ({ ok: false, value: error }),
        );
      } catch (error) {
        outcome = Promise.resolve({ ok: false, value: new SyntaxError(`line ${at} is not JSON: ${(error as Error).message}`) });
      }
      pending.push(
        outcome.then((result) => {
          state.done++;
          if (!result.ok) {
            state.failed++;
            if (failures.length < 5) failures.push(`line ${at}: ${errorJson(result.value).error.message}`);
          }
          return result;
        }),
      );
      while (pending.length >= window) await write(await pending.shift()!);
    }
    while (pending.length > 0) await write(await pending.shift()!);
  } finally {
    progress.stop();
    if (profiles) {
      const { files, lost, failed } = await profiles.write();
      stderr.write(`agentcluster run: ${files.length} CPU profile${files.length === 1 ? '' : 's'} written${lost > 0 ? ` (${lost} lost with their agents)` : ''}\n`);
      for (const failure of failed) stderr.write(`agentcluster run: cannot write CPU profile ${failure}\n`);
    }
    await pool.close();
    if (output !== stdout) {
      (output as Writable).end();
      await once(output, 'close').catch(() => {});
    }
  }

  const seconds = (performance.now() - started) / 1000;
  const ok = state.done - state.failed;
  stderr.write(
    `agentcluster run: ${state.done} tasks, ${ok} ok, ${state.failed} failed in ${formatDuration(seconds)} ` +
      `(${(state.done / Math.max(seconds, 1e-9)).toFixed(0)} tasks/s on ${agents} agent${agents === 1 ? '' : 's'})\n`,
  );
  for (const failure of failures) stderr.write(`  ${failure}\n`);
  if (state.failed > failures.length) stderr.write(`  ... and ${state.failed - failures.length} more\n`);
  return state.failed > 0 ? 1 : 0;
}
