#!/usr/bin/env node
// `agentcluster-262 [--module] <file>`: a test262 host for test262-harness
// (eshost's engine262 contract). The file runs in a fresh agent with native
// print and $262; stdout carries only print output; an uncaught error prints
// one "Name: message" line on stderr and exits 1.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Agent } from '../agent/agent.js';
import { everyFileIsAModule } from '../../test262/host/module-loader.js';
import { exitQuietlyOnEpipe, parseFlags, UsageError } from './args.js';

const asyncMarker = 'Test262:AsyncTestComplete';

const usage = `usage: agentcluster-262 [--module] <file>

Runs <file> in a fresh agent with print and $262 (a test262 host for
test262-harness). --module runs it as a module; use -- before a file name
that starts with '-'.`;

async function main(argv: string[]): Promise<number> {
  let values, positionals;
  try {
    ({ values, positionals } = parseFlags(argv, { module: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }));
    if (!values.help && positionals.length !== 1) {
      throw new UsageError(positionals.length === 0 ? 'missing <file>' : `one file at a time, got ${positionals.length}`);
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`agentcluster-262: ${error.message}\nRun 'agentcluster-262 --help' for usage.\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(usage + '\n');
    return 0;
  }
  const isModule = values.module === true;
  const path = resolve(positionals[0]!);
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (error) {
    process.stderr.write(`agentcluster-262: cannot read ${path}: ${(error as Error).message}\n`);
    return 2;
  }
  // Tests that include doneprintHandle.js finish when they print; others when evaluated.
  const isAsync = source.includes(asyncMarker);
  const agent = new Agent({ source, type: isModule ? 'module' : 'classic', filename: path, globals: 'test262', trackUnhandledRejections: false, loader: everyFileIsAModule });
  // Written through as it comes, never gathered: a test may print more in
  // total than V8's longest string (2^29 - 24 characters). On Linux, stdout
  // writes to a file or a pipe are synchronous, so nothing piles up in memory.
  agent.on('console', (level, text) => {
    if (level === 'print') {
      process.stdout.write(text + '\n');
      if (isAsync && text.startsWith('Test262:AsyncTest')) void agent.terminate();
    } else process.stderr.write(text + '\n');
  });
  agent.on('error', () => void agent.terminate());
  agent.ready.then(
    () => {
      if (!isAsync) void agent.terminate();
    },
    () => {},
  );
  await agent.exited;
  const failure = agent.failure;
  if (failure) {
    process.stderr.write(`${failure.summary.split('\n')[0]}\n`);
    return 1;
  }
  return 0;
}

exitQuietlyOnEpipe();
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
