// Stress-harness test files written to a temp dir (importing the built
// package by absolute URL), and runStressFiles() run on them in a child
// process, so that a hang or crash fails the test instead of the runner.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
const defineUrl = pathToFileURL(join(root, 'dist/src/stress/define.js')).href;
const indexUrl = pathToFileURL(join(root, 'dist/src/stress/index.js')).href;
const fastCheckUrl = import.meta.resolve('fast-check');
export const fixtures = mkdtempSync(join(tmpdir(), 'agentcluster-stress-hostile-'));

/** Writes a test file importing litmus/linearizable and fast-check. */
export function fixture(name: string, body: string): string {
  const file = join(fixtures, name);
  writeFileSync(file, `import { litmus, linearizable } from ${JSON.stringify(defineUrl)};\nimport fc from ${JSON.stringify(fastCheckUrl)};\n${body}\n`);
  return file;
}

/** runStressFiles(file, options) in a plain node child; prints the first report or the thrown error as JSON. */
export function runInChild(file: string, options: string, timeoutMs: number) {
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
    import { runStressFiles } from ${JSON.stringify(indexUrl)};
    try {
      const [report] = await runStressFiles([${JSON.stringify(file)}], { seed: 1, ...(${options}) });
      console.log(JSON.stringify({ report }));
    } catch (e) { console.log(JSON.stringify({ thrown: { name: e.name, code: e.code, message: e.message } })); }
  `], { cwd: root, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}
