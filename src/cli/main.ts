#!/usr/bin/env node
// `agentcluster <command>`: each command lives in its own module.
const commands: Record<string, () => Promise<{ main(argv: string[]): Promise<number> }>> = {
  run: () => import('./run.js'),
  test262: () => import('./test262.js'),
};

const usage = `usage: agentcluster <command> [options]

commands:
  run <module> [--agents N] [--input tasks.jsonl] [--output results.jsonl]
  test262 [paths/globs] --test262 <dir> [--threads N] [--reporter progress|json|junit]`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const load = name === undefined ? undefined : commands[name];
  if (!load) {
    process.stderr.write(usage + '\n');
    return name === undefined || name === '--help' || name === '-h' ? 0 : 2;
  }
  return (await load()).main(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
