// Whether this Node process started its isolates from Node's built-in V8
// snapshot. Agents must make the same choice as the process (V8's read-only
// heap is process-wide), so the answer must not depend on which environment
// asks: a worker_thread's process.execArgv is its own `execArgv` option
// (e.g. []), not the flags the process really runs with (issue 11 item 17).
import { readFileSync } from 'node:fs';

const FLAG = '--no-node-snapshot';

// Node options that take their value as the next argument.
const TAKES_VALUE = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '-e', '--eval', '-p', '--print', '-C', '--conditions', '--input-type', '--title', '--inspect-port', '--env-file']);

/** The Node options of a full command line (argv[0] excluded): those before the script or `--`. */
function nodeOptionsOf(args: readonly string[]): string[] {
  const options: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--' || !arg.startsWith('-')) break;
    options.push(arg);
    if (TAKES_VALUE.has(arg)) i++;
  }
  return options;
}

function readProcFile(name: string): string[] | undefined {
  try {
    return readFileSync(`/proc/self/${name}`, 'latin1').split('\0');
  } catch {
    return undefined; // not Linux
  }
}

function nodeOptionsEnv(env: readonly string[] | undefined): string {
  const entry = env?.find((line) => line.startsWith('NODE_OPTIONS='));
  return entry === undefined ? '' : entry.slice('NODE_OPTIONS='.length);
}

/**
 * False when the process runs with --no-node-snapshot (on the command line or
 * in NODE_OPTIONS). Read from the process's real command line and starting
 * environment, the same in every thread; where /proc cannot be read (not
 * Linux), from this environment's execArgv and NODE_OPTIONS.
 */
export function processUsesNodeSnapshot(): boolean {
  return !processNodeOptions().includes(FLAG);
}

/**
 * True when the process was given V8's --max-semi-space-size (either spelling,
 * `=value` or not). The agent snapshot build sets that flag for a moment and
 * then resets it to V8's default, which would lose the user's value.
 */
export function processSetsSemiSpaceSize(): boolean {
  return processNodeOptions().some((option) => /^--max[-_]semi[-_]space[-_]size(=|$)/.test(option));
}

// The process's Node options: its real command line (the same in every
// thread) and starting NODE_OPTIONS; where /proc cannot be read (not Linux),
// this environment's execArgv and NODE_OPTIONS.
function processNodeOptions(): string[] {
  const cmdline = readProcFile('cmdline');
  return cmdline !== undefined
    ? [...nodeOptionsOf(cmdline.slice(1)), ...nodeOptionsEnv(readProcFile('environ')).split(/\s+/)]
    : [...process.execArgv, ...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/)];
}
