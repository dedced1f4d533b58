// F10: agents compiling modules must never call getenv() — the host's
// process.env writes (setenv/unsetenv) move `environ` under it (SIGSEGV).
// Run in a child process: the failure mode before the fix was a crash.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const lib = fileURLToPath(new URL('../src/index.ts', import.meta.url));

describe('module loading while the host writes process.env', () => {
  it('does not crash (no getenv on agent threads)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ac-envchurn-'));
    try {
      const N = 2000;
      const name = (i: number) => `m${i % N}.${(i % N) % 2 ? 'cjs' : 'mjs'}`;
      let job = '';
      for (let i = 0; i < N; i++) {
        writeFileSync(join(dir, name(i)), i % 2
          ? `exports.v${i} = ${i}; require('./${name(i + 2)}');`
          : `import './${name(i + 2)}'; import './${name(i + 1)}'; export const v${i} = ${i};`);
        job += `import * as n${i} from './${name(i)}';\n`;
      }
      writeFileSync(join(dir, 'job.mjs'), job + 'export {};\n');
      const script = `
        import { Agent } from ${JSON.stringify(lib)};
        let i = 0, stop = false;
        const churn = () => { if (stop) return;
          for (let k = 0; k < 2000; k++) { process.env['CHURN_' + (i++)] = 'x';
            if (i % 20000 === 0) for (let j = i - 20000; j < i; j++) delete process.env['CHURN_' + j]; }
          setImmediate(churn); };
        churn();
        const t0 = Date.now(); let n = 0;
        while (Date.now() - t0 < 8000) {
          const as = [0, 1].map(() => new Agent({ file: ${JSON.stringify(join(dir, 'job.mjs'))} }));
          await Promise.all(as.map((a) => a.ready));
          await Promise.all(as.map((a) => a.terminate())); n += 2;
        }
        stop = true; console.log('ok', n);`;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script],
        { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.signal, null, `child died by ${r.signal}: ${r.stderr}`);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^ok \d+/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
