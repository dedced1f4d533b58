// maxHeapMB with a loop of single allocations each bigger than the limit (a
// 128 MB array per iteration in a 64 MB heap, dead before the next). V8 calls
// the near-limit callback at the first one and the agent requests its stop
// there, but V8 acts on TerminateExecution only at a stack check; a loop body
// of builtins and our natives reaches none until its interrupt budget runs
// out (10-16 iterations, 700 MB RSS before the fix). The runtime now enforces
// a pending heap-limit stop at its own natives (postMessage here).
// Child process: a failure here must not take the test runner's memory.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const lib = fileURLToPath(new URL('../src/index.ts', import.meta.url));

describe('maxHeapMB with repeated allocations bigger than the limit', () => {
  it('stops the agent within two 128 MB allocations in a 64 MB heap, RSS near limit + one object', () => {
    const agentSource = `let n = 0;
      for (;;) {
        const big = new Array(2 ** 24).fill(1.5);  // a 128 MB FixedDoubleArray, live here
        n++;
        postMessage(n + ':' + big.length);
        if (n === 20) break;
      }`;
    const script = `
      import { Agent } from ${JSON.stringify(lib)};
      const a = new Agent({ source: ${JSON.stringify(agentSource)}, resourceLimits: { maxHeapMB: 64 } });
      let iterations = 0;
      a.on('message', () => { iterations++; });
      a.on('error', () => {});
      const code = await a.ready.then(() => 'none', (e) => e.code);
      await a.terminate();
      const maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
      console.log(JSON.stringify({ code, iterations, maxRssMB }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script],
      { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.signal, null, `child hung or died (${r.signal})`);
    assert.equal(r.status, 0, r.stderr);
    const { code, iterations, maxRssMB } = JSON.parse(r.stdout.trim().split('\n').pop()!) as
      { code: string; iterations: number; maxRssMB: number };
    assert.equal(code, 'ERR_AGENT_OUT_OF_MEMORY');
    assert.ok(iterations <= 2, `the agent ran ${iterations} iterations of a 128 MB allocation past its 64 MB limit`);
    // One iteration holds the 128 MB holey array and its 128 MB double copy
    // (fill's elements transition); the process itself takes about 100 MB.
    // Before the fix: 700-830 MB.
    assert.ok(maxRssMB < 560, `peak RSS ${maxRssMB} MB, far beyond the 64 MB limit plus one iteration's 256 MB`);
  });
});
