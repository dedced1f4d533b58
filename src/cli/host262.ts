#!/usr/bin/env node
// `agentcluster-262 [--module] <file>`: a test262 host for test262-harness
// (eshost's engine262 contract). The file runs in a fresh agent with native
// print and $262; stdout carries only print output; an uncaught error prints
// one "Name: message" line on stderr and exits 1.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Agent } from '../agent/agent.js';

const asyncMarker = 'Test262:AsyncTestComplete';

async function main(argv: string[]): Promise<number> {
  const isModule = argv.includes('--module');
  const file = argv.filter((arg) => arg !== '--module')[0];
  if (!file) {
    process.stderr.write('usage: agentcluster-262 [--module] <file>\n');
    return 2;
  }
  const path = resolve(file);
  const source = readFileSync(path, 'utf8');
  // Tests that include doneprintHandle.js finish when they print; others when evaluated.
  const isAsync = source.includes(asyncMarker);
  const agent = new Agent({ source, type: isModule ? 'module' : 'classic', filename: path, host: 'test262', trackUnhandledRejections: false });
  let output = '';
  agent.on('console', (level, text) => {
    if (level === 'print') {
      output += text + '\n';
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
  process.stdout.write(output);
  const failure = agent.failure;
  if (failure) {
    process.stderr.write(`${failure.summary.split('\n')[0]}\n`);
    return 1;
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
