// Process exit while agents are in every state: a child process starts
// agents blocked in Atomics.wait, with waitAsync pending, mid message storm,
// mid clone, loading modules, running out of memory, spinning, inside
// evaluate() (some being terminated at that moment), then ends by returning
// (agents unref()d), process.exit() (also from a listener), an uncaught
// exception (also from a listener), an unhandled rejection, or SIGTERM (with
// and without a handler). Checked: the exit code or signal is exactly the
// one that mode gives a plain Node process, 'exit' listeners ran, nothing
// crashed or aborted (stderr), and the process did not hang.
import { CRASH_PATTERN, describeChild, runHost } from '../lib/child.js';
import { iterate } from '../lib/loop.js';
import type { Scenario, StressContext } from '../lib/types.js';
import { EXIT_MODES, expectedExit } from '../hosts/exit-host.js';

export const teardownExit: Scenario = {
  name: 'teardown-exit',
  description: 'process exit (natural, process.exit, uncaught exception, unhandled rejection, SIGTERM) while agents wait, storm, clone, load, OOM',
  async run(ctx: StressContext) {
    const byMode: Record<string, number> = {};
    const result = await iterate(
      ctx,
      async ({ rng, seed }) => {
        const mode = rng.pick(EXIT_MODES);
        const childSeed = seed % 100_000;
        byMode[mode] = (byMode[mode] ?? 0) + 1;
        const expected = expectedExit(mode, childSeed);
        let signalled = false;
        const child = await runHost('exit-host.ts', [mode, String(childSeed)], {
          timeoutMs: 60_000,
          onStdout(chunk, proc) {
            if (!signalled && mode.startsWith('sigterm') && chunk.includes('READY')) {
              signalled = true;
              setTimeout(() => proc.kill('SIGTERM'), rng.int(0, 20));
            }
          },
        });
        const details = `mode ${mode} (child seed ${childSeed}): ${describeChild(child)}`;
        ctx.assert(!child.timedOut, `the process hung: ${details}`);
        ctx.assert(child.stdout.includes('READY'), `the child never got its agents going: ${details}`);
        const stderr = expected.stderr ? child.stderr.split(expected.stderr).join('') : child.stderr;
        ctx.assert(!CRASH_PATTERN.test(stderr), `crash output: ${details}`);
        ctx.assert(child.signal === expected.signal, `expected signal ${expected.signal}, got ${child.signal}: ${details}`);
        ctx.assert(child.code === expected.code, `expected exit code ${expected.code}, got ${child.code}: ${details}`);
        if (expected.signal === null) ctx.assert(child.stdout.includes(`EXIT-EVENT ${expected.code}`), `process 'exit' listeners did not run: ${details}`);
        if (expected.stderr) ctx.assert(child.stderr.includes(expected.stderr), `the error is not on stderr: ${details}`);
      },
      { timeoutMs: 90_000, reserveMs: 2000 },
    );
    result.stats = Object.fromEntries(Object.entries(byMode).map(([k, v]) => [`n_${k}`, v]));
    return result;
  },
};
