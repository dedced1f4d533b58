import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Barrier, type SharedHandle } from '../src/atomics/index.js';
import { runAgents, type AgentFn } from './support/atomics-harness.js';

type RoundsData = {
  b: SharedHandle;
  parties: number;
  rounds: number;
  modes: string[];
  slots: Int32Array; // two banks of `parties` slots, alternating by round
  leaders: Int32Array; // leaders per round
  errors: Int32Array; // [0] stale slot seen, [1] wrong generation seen
};

// Each round every party writes the round number into its slot, then passes
// the barrier and checks that every party's slot holds this round and that
// the generation advanced by exactly one.
const roundsThread: AgentFn<RoundsData, number> = async (A, d, me) => {
  const b = A.Barrier.from(d.b);
  let mode = d.modes[me % d.modes.length];
  if (!A.canBlock()) mode = mode === 'sync' ? 'async' : mode === 'timed' ? 'timedAsync' : mode;
  let withdrawals = 0;
  for (let r = 0; r < d.rounds; r++) {
    const bank = (r % 2) * d.parties;
    d.slots[bank + me] = r;
    let leader: boolean | null;
    if (mode === 'sync') leader = b.arriveAndWait();
    else if (mode === 'async') leader = await b.arriveAndWaitAsync();
    else if (mode === 'timed') {
      // Tiny timeouts: withdraw and re-arrive until the round completes.
      while ((leader = b.arriveAndWait(0.2)) === null) withdrawals++;
    } else {
      while ((leader = await b.arriveAndWaitAsync(0.2)) === null) withdrawals++;
    }
    if (leader) Atomics.add(d.leaders, r, 1);
    for (let j = 0; j < d.parties; j++) if (d.slots[bank + j] !== r) Atomics.add(d.errors, 0, 1);
    if (b.generation !== ((r + 1) & 0xffff)) Atomics.add(d.errors, 1, 1);
  }
  return withdrawals;
};

async function runRounds(parties: number, rounds: number, modes: string[], canBlock: boolean[] = [true]): Promise<number[]> {
  const b = new Barrier(parties);
  const slots = new Int32Array(new SharedArrayBuffer(8 * parties)).fill(-1);
  const leaders = new Int32Array(new SharedArrayBuffer(4 * rounds));
  const errors = new Int32Array(new SharedArrayBuffer(8));
  const withdrawals = await runAgents(parties, roundsThread, { b, parties, rounds, modes, slots, leaders, errors }, { canBlock });
  assert.equal(errors[0], 0, 'a party passed the barrier before everyone arrived');
  assert.equal(errors[1], 0, 'generation did not advance by exactly one per round');
  assert.deepEqual([...new Set(leaders)], [1], 'exactly one leader per round');
  assert.equal(b.generation, rounds & 0xffff);
  assert.equal(b.arrived, 0);
  return withdrawals;
}

test('generations are correct across many rounds (4 agents x 1000 rounds)', async () => {
  await runRounds(4, 1000, ['sync']);
});

test('random mixes of sync / async / timed-withdrawing parties, canBlock:false agents too (fast-check)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 2, max: 4 }),
      fc.array(fc.constantFrom('sync', 'async', 'timed', 'timedAsync'), { minLength: 4, maxLength: 4 }),
      fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      fc.integer({ min: 50, max: 400 }),
      async (parties, modes, canBlock, rounds) => {
        await runRounds(parties, rounds, modes, canBlock);
      },
    ),
    { numRuns: 10 },
  );
});

test('host main thread takes part with arriveAndWaitAsync', async () => {
  const parties = 3;
  const rounds = 100;
  const b = new Barrier(parties);
  const slots = new Int32Array(new SharedArrayBuffer(8 * parties)).fill(-1);
  const leaders = new Int32Array(new SharedArrayBuffer(4 * rounds));
  const errors = new Int32Array(new SharedArrayBuffer(8));
  // Agents are parties 0 and 1; the host main thread is party 2.
  const agents = runAgents(2, roundsThread, { b, parties, rounds, modes: ['sync', 'sync'], slots, leaders, errors });
  for (let r = 0; r < rounds; r++) {
    const bank = (r % 2) * parties;
    slots[bank + 2] = r;
    if (await b.arriveAndWaitAsync()) leaders[r]++;
    for (let j = 0; j < parties; j++) assert.equal(slots[bank + j], r);
  }
  await agents;
  assert.deepEqual(errors, new Int32Array([0, 0]));
  assert.deepEqual([...new Set(leaders)], [1]);
});

test('timeout returns null after at least the timeout and withdraws the arrival', async () => {
  const b = new Barrier(2);
  let t0 = performance.now();
  assert.equal(b.arriveAndWait(30), null);
  assert.ok(performance.now() - t0 >= 30);
  assert.equal(b.arrived, 0);
  t0 = performance.now();
  assert.equal(await b.arriveAndWaitAsync(30), null);
  assert.ok(performance.now() - t0 >= 30);
  assert.equal(b.arrived, 0);
  assert.equal(b.generation, 0);
  // Still usable afterwards.
  const results = await runAgents(2, (A, h: SharedHandle) => A.Barrier.from(h).arriveAndWait(5000), structuredClone(b));
  assert.deepEqual(results.slice().sort(), [false, true]);
  assert.equal(b.generation, 1);
});

test('one party: every arrival leads; validation', () => {
  const b = new Barrier(1);
  for (let i = 0; i < 5; i++) assert.equal(b.arriveAndWait(), true);
  assert.equal(b.generation, 5);
  assert.throws(() => new Barrier(0), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => new Barrier(65536), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => Barrier.from({ buffer: new SharedArrayBuffer(8), byteOffset: 0 }), { code: 'ERR_OUT_OF_RANGE' });
  const c = Barrier.from(structuredClone(b));
  assert.equal(c.parties, 1);
  assert.equal(c.generation, 5);
});
