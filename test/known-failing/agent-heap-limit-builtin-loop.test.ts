// Open: maxHeapMB and a loop whose body calls builtins only (no agent native:
// no postMessage, console or host call), each iteration allocating a 128 MB
// array in a 64 MB heap. V8 calls the near-limit callback at the first one and
// the agent requests its stop (TerminateExecution), but Ignition and Sparkplug
// act on it only when the loop's interrupt budget runs out: here all 20 capped
// iterations run (hundreds uncapped, peak RSS about 700 MB: the headroom V8
// must be given lets the dead arrays pile up between GCs). The runtime cannot
// shorten that from outside V8. docs/architecture.md, "Teardown paths".
// Child process: a failure here must not take the test runner's memory.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const lib = fileURLToPath(new URL('../../src/index.ts', import.meta.url));

describe('maxHeapMB with a builtin-only loop of allocations bigger than the limit', () => {
  it('stops the agent within two 128 MB allocations in a 64 MB heap', () => {
    // The counter is shared memory: the loop must call no agent native.
    const agentSource = `onmessage = (e) => {
      const count = new Int32Array(e.data);
      for (let n = 0; n < 120; n++) {
        const big = n < 100 ? [n] : new Array(2 ** 24).fill(1.5);  // 20 of 128 MB after a warm-up
        if (n >= 100) count[0]++;
      }
    }`;
    const script = `
      import { Agent } from ${JSON.stringify(lib)};
      const a = new Agent({ source: ${JSON.stringify(agentSource)}, resourceLimits: { maxHeapMB: 64 } });
      const count = new Int32Array(new SharedArrayBuffer(4));
      const exited = new Promise((resolve) => a.on('exit', resolve));
      let code = 'none';
      a.on('error', (e) => { code = e.code; });
      await a.ready;
      a.postMessage(count.buffer);
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 60_000))]);
      await a.terminate().catch(() => {});
      console.log(JSON.stringify({ code, iterations: Atomics.load(count, 0) }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script],
      { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.signal, null, `child hung or died (${r.signal})`);
    assert.equal(r.status, 0, r.stderr);
    const { code, iterations } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { code: string; iterations: number };
    assert.equal(code, 'ERR_AGENT_OUT_OF_MEMORY');
    assert.ok(iterations <= 2, `the agent ran ${iterations} iterations of a 128 MB allocation past its 64 MB limit`);
  });
});
