// $262.agent (the test262 host, native/agent/test262_host.cc): started agents
// keep their parent's resource limits, BigInt broadcast ids arrive whole,
// sleep() with Infinity or a huge duration really sleeps (and a terminate
// still wakes it), and start() returns once the agent runs, not when its
// script completed (test262's INTERPRETING.md: "block until that agent is
// running").
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Agent } from '../src/index.js';
import { delay, within } from './support/waits.js';
import { spawnAgent, terminateAll } from './support/agents.js';

afterEach(terminateAll);

/** Resolves with the first printed line that matches. */
function printedLine(agent: Agent, pattern: RegExp, ms = 20_000): Promise<string> {
  return within(
    new Promise<string>((resolve) => agent.on('console', (_level, text) => pattern.test(text) && resolve(text))),
    ms,
    `a line matching ${pattern}`,
  );
}

function lines(agent: Agent): string[] {
  const out: string[] = [];
  agent.on('console', (_level, text) => out.push(text));
  return out;
}

// The parent polls for one report (with a deadline, so a lost one prints 'no report').
const awaitReport = `
  function awaitReport(ms) {
    const end = $262.agent.monotonicNow() + ms;
    for (;;) {
      const r = $262.agent.getReport();
      if (r !== null) return r;
      if ($262.agent.monotonicNow() > end) return 'no report';
      $262.agent.sleep(5);
    }
  }`;

describe('$262.agent children inherit the parent\'s resource limits', () => {
  it('maxHeapMB: a child that allocates past the parent\'s heap limit runs out of memory', async () => {
    const agent = spawnAgent({
      globals: 'test262',
      resourceLimits: { maxHeapMB: 32 },
      source: `${awaitReport}
        $262.agent.start('const keep = []; for (let i = 0; i < 200; i++) keep.push(new Array(1 << 17).fill(i)); $262.agent.report("allocated 200 MiB");');
        print('report: ' + awaitReport(15000));`,
    });
    const out = lines(agent);
    await printedLine(agent, /^report: /);
    // Before: the child had V8's default heap and allocated 200 MiB under a 32 MiB parent.
    assert.ok(out.includes('report: no report'), out.join('\n'));
    assert.ok(out.some((line) => /uncaught out of memory/.test(line)), out.join('\n'));
  });

  it('stackSizeMB: a child recurses about as deep as its parent, not as deep as the default stack allows', async () => {
    const agent = spawnAgent({
      globals: 'test262',
      resourceLimits: { stackSizeMB: 1 },
      source: `${awaitReport}
        function depth(n) { try { return depth(n + 1); } catch { return n; } }
        const mine = depth(0);
        $262.agent.start('function depth(n) { try { return depth(n + 1); } catch { return n; } } $262.agent.report(String(depth(0)));');
        print('depths: ' + mine + ' ' + awaitReport(15000));`,
    });
    const [, parent, child] = /^depths: (\d+) (\d+)$/.exec(await printedLine(agent, /^depths: /))!.map(Number);
    // Before: the child had the default 4 MiB stack, about 4x the parent's depth.
    assert.ok(child! < parent! * 1.5, `child depth ${child} vs parent ${parent}`);
    assert.ok(child! > parent! / 2, `child depth ${child} vs parent ${parent}`);
  });
});

describe('$262.agent.broadcast ids', () => {
  it('a BigInt id past 64 bits arrives whole (both signs), a Number id as itself', async () => {
    const ids = ['2n ** 70n + 5n', '-(2n ** 100n) - 1n', '2n ** 64n', '-1n', '0n', '7'];
    const agent = spawnAgent({
      globals: 'test262',
      source: `${awaitReport}
        // One child receives every broadcast: each reports its id once.
        $262.agent.start('$262.agent.receiveBroadcast((sab, id) => { $262.agent.report(typeof id + ":" + String(id)); });');
        const got = [];
        for (const id of [${ids.join(', ')}]) {
          $262.agent.broadcast(new SharedArrayBuffer(8), id);
          got.push(awaitReport(10000));
        }
        print('ids: ' + got.join(' '));`,
    });
    const line = await printedLine(agent, /^ids: /);
    const expected = [2n ** 70n + 5n, -(2n ** 100n) - 1n, 2n ** 64n, -1n, 0n].map((id) => `bigint:${id}`).concat('number:7');
    // Before: BigInts were cut to their low 64 bits (2n ** 70n + 5n arrived as 5).
    assert.deepEqual(line.slice('ids: '.length).split(' '), expected);
  });
});

describe('$262.agent.sleep durations', () => {
  it('NaN and negative durations sleep 0; Infinity and 1e300 really sleep; a terminate wakes them', async () => {
    for (const duration of ['Infinity', '1e300']) {
      const agent = spawnAgent({
        globals: 'test262',
        source: `
          const t = $262.agent.monotonicNow();
          $262.agent.sleep(NaN); $262.agent.sleep(-5); $262.agent.sleep(-Infinity);
          print('short sleeps took ' + ($262.agent.monotonicNow() - t));
          $262.agent.sleep(${duration});
          print('RETURNED');`,
      });
      const out = lines(agent);
      const short = Number((await printedLine(agent, /^short sleeps took /)).split(' ').pop());
      assert.ok(short < 1000, `NaN/negative sleeps took ${short} ms`);
      await delay(400);
      // Before: the duration overflowed the clock conversion and sleep returned at once.
      assert.ok(!out.includes('RETURNED'), `sleep(${duration}) returned: ${out.join('\n')}`);
      const started = performance.now();
      const info = await within(agent.terminate(), 5_000, `terminate during sleep(${duration})`);
      assert.equal(info.reason, 'terminated');
      assert.ok(performance.now() - started < 2_000);
      assert.ok(!out.includes('RETURNED'));
    }
  });
});

describe('$262.agent.start', () => {
  it('returns once the agent is running, while its script still runs', async () => {
    const agent = spawnAgent({
      globals: 'test262',
      source: `${awaitReport}
        const t = $262.agent.monotonicNow();
        $262.agent.start('$262.agent.report("running"); $262.agent.sleep(3000); $262.agent.report("script done");');
        const took = $262.agent.monotonicNow() - t;
        print('start took ' + took + ', first report: ' + awaitReport(10000));`,
    });
    const line = await printedLine(agent, /^start took /);
    const [, took, report] = /^start took ([\d.]+), first report: (.*)$/.exec(line)!;
    // Before: start() waited for the child's whole script (3 s of sleep).
    assert.ok(Number(took) < 2000, line);
    assert.equal(report, 'running');
  });

  it('a child whose script never ends does not block start()', async () => {
    const agent = spawnAgent({ globals: 'test262', source: "$262.agent.start('for (;;) {}'); print('start returned');" });
    await printedLine(agent, /^start returned$/, 10_000);
  });
});
