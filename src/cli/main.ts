#!/usr/bin/env node
// `agentcluster <command>`: each command lives in its own module.
import { readFileSync } from 'node:fs';
import { exitQuietlyOnEpipe } from './args.js';

const commands: Record<string, () => Promise<{ main(argv: string[]): Promise<number> }>> = {
  run: () => import('./run.js'),
  test262: () => import('./test262.js'),
  stress: () => import('./stress.js'),
};

const usage = `usage: agentcluster <command> [options]

commands:
  run <module> [--agents N] [--input tasks.jsonl] [--output results.jsonl]
  test262 [paths/globs] --test262 <dir> [--threads N] [--reporter progress|json|junit]
  stress FILE... [--duration 2s] [--seed N] [--iterations N] [--agents N] [--json] [--suite memory-model]

'agentcluster <command> --help' describes a command; --version prints the version.`;

/** package.json's version (src/cli/ when run from source, dist/src/cli/ when built). */
function version(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'agentcluster' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // try the next place
    }
  }
  return 'unknown';
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    if (name === 'help' && rest[0] !== undefined && commands[rest[0]]) return (await commands[rest[0]]!()).main(['--help']);
    if (name === undefined) {
      process.stderr.write(`agentcluster: missing <command>\n\n${usage}\n`);
      return 2;
    }
    exitQuietlyOnEpipe();
    process.stdout.write(usage + '\n');
    return 0;
  }
  if (name === '--version' || name === '-v') {
    exitQuietlyOnEpipe();
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!load) {
    const what = name.startsWith('-') ? `unknown option '${name}'` : `unknown command '${name}'`;
    process.stderr.write(`agentcluster: ${what}\nRun 'agentcluster --help' for usage.\n`);
    return 2;
  }
  // `run` reports a closed output itself (with its summary); the others just stop.
  if (name !== 'run') exitQuietlyOnEpipe();
  return (await load()).main(rest);
}

// A command that awaits something nothing will ever settle (a stress test file's top-level await on a
// promise no one resolves) lets the event loop empty with main() pending: Node would exit 0 with no
// report, which reads as a pass. beforeExit sees that case: one error line with a code, and exit 1.
let settled = false;
process.once('beforeExit', () => {
  if (settled) return;
  const command = process.argv[2] === undefined ? 'agentcluster' : `agentcluster ${process.argv[2]}`;
  process.stderr.write(
    `${command}: the command never finished: the event loop emptied while it was still waiting on a promise nothing can settle ` +
      '(a top-level await in a test file that never resolves?) (ERR_CLI_UNSETTLED)\n',
  );
  process.exitCode = 1;
});

main(process.argv.slice(2)).then(
  (code) => {
    settled = true;
    process.exitCode = code;
  },
  (error: unknown) => {
    settled = true;
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
