// Child process for terminate-module-completion.repro.ts: one round of agents that load a
// module chain where synchronous modules import top-level-await modules, each
// terminated at a random moment while the chain completes. On V8 12.4 (Node
// 22) a termination that lands in a synchronous module body run from
// AsyncModuleExecutionFulfilled aborts this process; a clean exit is code 0.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Agent } from '../../src/index.js';

const depth = 30;
const dir = mkdtempSync(join(tmpdir(), 'agentcluster-tla-terminate-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
for (let i = 0; i < depth; i++) {
  const next = i + 1 < depth ? `import { value as nextValue } from './m${i + 1}.mjs';\n` : 'const nextValue = 0;\n';
  // Every third module awaits; the others are synchronous parents whose body
  // V8 runs from the fulfilled reaction of the awaiting child, and spends time
  // there (stack checks) so the termination interrupt lands inside it.
  const body = i % 3 === 1
    ? 'await new Promise((resolve) => setTimeout(resolve, 0));\n'
    : 'let spin = 0; for (let k = 0; k < 20000; k++) spin += Math.sqrt(k);\n';
  writeFileSync(join(dir, `m${i}.mjs`), `${next}${body}export const value = nextValue + ${i};\n`);
}
writeFileSync(join(dir, 'entry.mjs'), `import { value } from './m0.mjs';\npostMessage({ loaded: value });\n`);

const rounds = Number(process.argv[2] ?? 20);
for (let round = 0; round < rounds; round++) {
  const agents = Array.from({ length: 4 }, () => new Agent({ file: pathToFileURL(join(dir, 'entry.mjs')) }));
  await Promise.all(
    agents.map(async (agent, i) => {
      agent.on('error', () => {});
      agent.ready.catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, (round + i) % 6));
      await agent.terminate();
    }),
  );
}
