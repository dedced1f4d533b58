// The built-in litmus suite of the ECMAScript memory model
// (`agentcluster stress --suite memory-model`). Each shape comes in plain,
// Atomics and, where it means something, mixed form, graded from the spec
// (ECMA-262 "Memory Model"):
//
// - Atomics accesses are SeqCst: an outcome that no interleaving of the
//   actors gives is forbidden, and seeing it is an engine or harness bug.
// - Plain accesses that race are Unordered: the model allows the relaxed
//   outcomes (graded "interesting"), so these tests record which ones this
//   hardware and compiler actually show (store buffering's 0,0 on x86).
// - Mixed forms forbid what happens-before forbids: a SeqCst store read by a
//   SeqCst load synchronizes, so plain accesses ordered around that pair are
//   ordered too (message passing with an atomic flag).
//
// It imports through the package name so that agents load the agent-safe
// build of `agentcluster/stress` (the `agentcluster` export condition).
import { litmus, type Grade } from 'agentcluster/stress';

const xy = { x: Int32Array, y: Int32Array };

/** Every combination of `values` for `n` results, graded ok except the listed ones. */
function grades(n: number, values: number[], special: Record<string, Grade>): Record<string, Grade> {
  let keys = [''];
  for (let i = 0; i < n; i++) keys = keys.flatMap((k) => values.map((v) => (k === '' ? `${v}` : `${k},${v}`)));
  return Object.fromEntries(keys.map((k) => [k, special[k] ?? 'ok']));
}

// Store buffering: write one, read the other. 0,0 = both reads passed both writes.
export const sbPlain = litmus({
  name: 'SB (store buffering), plain',
  state: xy,
  actors: [
    (s, r) => { s.x[0] = 1; r.r1 = s.y[0]!; },
    (s, r) => { s.y[0] = 1; r.r2 = s.x[0]!; },
  ],
  outcomes: grades(2, [0, 1], { '0,0': 'interesting' }),
});
export const sbAtomics = litmus({
  name: 'SB (store buffering), Atomics',
  state: xy,
  actors: [
    (s, r) => { Atomics.store(s.x, 0, 1); r.r1 = Atomics.load(s.y, 0); },
    (s, r) => { Atomics.store(s.y, 0, 1); r.r2 = Atomics.load(s.x, 0); },
  ],
  outcomes: grades(2, [0, 1], { '0,0': 'forbidden' }),
});
export const sbMixed = litmus({
  name: 'SB (store buffering), Atomics stores, plain loads',
  state: xy,
  actors: [
    (s, r) => { Atomics.store(s.x, 0, 1); r.r1 = s.y[0]!; },
    (s, r) => { Atomics.store(s.y, 0, 1); r.r2 = s.x[0]!; },
  ],
  // The plain loads race with the other actor's store: Unordered, so allowed.
  outcomes: grades(2, [0, 1], { '0,0': 'interesting' }),
});

// Message passing: data then flag; the reader sees the flag but old data?
export const mpPlain = litmus({
  name: 'MP (message passing), plain',
  state: xy,
  actors: [
    (s) => { s.x[0] = 1; s.y[0] = 1; },
    (s, r) => { r.flag = s.y[0]!; r.data = s.x[0]!; },
  ],
  outcomes: grades(2, [0, 1], { '1,0': 'interesting' }),
});
export const mpAtomics = litmus({
  name: 'MP (message passing), Atomics',
  state: xy,
  actors: [
    (s) => { Atomics.store(s.x, 0, 1); Atomics.store(s.y, 0, 1); },
    (s, r) => { r.flag = Atomics.load(s.y, 0); r.data = Atomics.load(s.x, 0); },
  ],
  outcomes: grades(2, [0, 1], { '1,0': 'forbidden' }),
});
export const mpMixed = litmus({
  name: 'MP (message passing), plain data, Atomics flag',
  state: xy,
  actors: [
    (s) => { s.x[0] = 1; Atomics.store(s.y, 0, 1); },
    (s, r) => { r.flag = Atomics.load(s.y, 0); r.data = s.x[0]!; },
  ],
  // flag = 1: the store synchronizes with the load, so the data write happens-before the data read.
  outcomes: grades(2, [0, 1], { '1,0': 'forbidden' }),
});

// Load buffering: read one, write the other. 1,1 = each read saw the other's later write.
export const lbPlain = litmus({
  name: 'LB (load buffering), plain',
  state: xy,
  actors: [
    (s, r) => { r.r1 = s.x[0]!; s.y[0] = 1; },
    (s, r) => { r.r2 = s.y[0]!; s.x[0] = 1; },
  ],
  outcomes: grades(2, [0, 1], { '1,1': 'interesting' }),
});
export const lbAtomics = litmus({
  name: 'LB (load buffering), Atomics',
  state: xy,
  actors: [
    (s, r) => { r.r1 = Atomics.load(s.x, 0); Atomics.store(s.y, 0, 1); },
    (s, r) => { r.r2 = Atomics.load(s.y, 0); Atomics.store(s.x, 0, 1); },
  ],
  outcomes: grades(2, [0, 1], { '1,1': 'forbidden' }),
});
export const lbMixed = litmus({
  name: 'LB (load buffering), plain x, Atomics y',
  state: xy,
  actors: [
    (s, r) => { r.r1 = s.x[0]!; Atomics.store(s.y, 0, 1); },
    (s, r) => { r.r2 = Atomics.load(s.y, 0); s.x[0] = 1; },
  ],
  // r2 = 1: the y pair synchronizes, so the read of x happens-before the write it would have to see.
  outcomes: grades(2, [0, 1], { '1,1': 'forbidden' }),
});

// Independent reads of independent writes: do two readers disagree on the order of two writes?
const iriwState = xy;
export const iriwPlain = litmus({
  name: 'IRIW (independent reads of independent writes), plain',
  state: iriwState,
  actors: [
    (s) => { s.x[0] = 1; },
    (s) => { s.y[0] = 1; },
    (s, r) => { r.r1 = s.x[0]!; r.r2 = s.y[0]!; },
    (s, r) => { r.r3 = s.y[0]!; r.r4 = s.x[0]!; },
  ],
  outcomes: grades(4, [0, 1], { '1,0,1,0': 'interesting' }),
});
export const iriwAtomics = litmus({
  name: 'IRIW (independent reads of independent writes), Atomics',
  state: iriwState,
  actors: [
    (s) => { Atomics.store(s.x, 0, 1); },
    (s) => { Atomics.store(s.y, 0, 1); },
    (s, r) => { r.r1 = Atomics.load(s.x, 0); r.r2 = Atomics.load(s.y, 0); },
    (s, r) => { r.r3 = Atomics.load(s.y, 0); r.r4 = Atomics.load(s.x, 0); },
  ],
  outcomes: grades(4, [0, 1], { '1,0,1,0': 'forbidden' }),
});

// 2+2W: two writers, two locations, opposite orders; the arbiter reads the final values.
export const twoPlusTwoWPlain = litmus({
  name: '2+2W (two writers, final values), plain',
  state: xy,
  actors: [
    (s) => { s.x[0] = 1; s.y[0] = 2; },
    (s) => { s.y[0] = 1; s.x[0] = 2; },
  ],
  arbiter: (s, r) => { r.x = s.x[0]!; r.y = s.y[0]!; },
  outcomes: grades(2, [1, 2], { '1,1': 'interesting' }),
});
export const twoPlusTwoWAtomics = litmus({
  name: '2+2W (two writers, final values), Atomics',
  state: xy,
  actors: [
    (s) => { Atomics.store(s.x, 0, 1); Atomics.store(s.y, 0, 2); },
    (s) => { Atomics.store(s.y, 0, 1); Atomics.store(s.x, 0, 2); },
  ],
  arbiter: (s, r) => { r.x = s.x[0]!; r.y = s.y[0]!; },
  outcomes: grades(2, [1, 2], { '1,1': 'forbidden' }),
});

// Read-read coherence: two reads of one location in order; the second older than the first?
export const corrPlain = litmus({
  name: 'CoRR (read-read coherence), plain',
  state: { x: Int32Array },
  actors: [
    (s) => { s.x[0] = 1; },
    (s, r) => { r.r1 = s.x[0]!; r.r2 = s.x[0]!; },
  ],
  // Unordered reads need not be coherent in ECMAScript (the spec allows it; engines may reorder them).
  outcomes: grades(2, [0, 1], { '1,0': 'interesting' }),
});
export const corrAtomics = litmus({
  name: 'CoRR (read-read coherence), Atomics',
  state: { x: Int32Array },
  actors: [
    (s) => { Atomics.store(s.x, 0, 1); },
    (s, r) => { r.r1 = Atomics.load(s.x, 0); r.r2 = Atomics.load(s.x, 0); },
  ],
  outcomes: grades(2, [0, 1], { '1,0': 'forbidden' }),
});

// Write-write coherence within one agent, seen after the iteration's barrier (which synchronizes).
export const cowwPlain = litmus({
  name: 'CoWW (write-write coherence), plain',
  state: { x: Int32Array },
  actors: [(s) => { s.x[0] = 1; s.x[0] = 2; }, (s, r) => { r.r1 = s.x[0]!; }],
  arbiter: (s, r) => { r.final = s.x[0]!; },
  outcomes: { '0,2': 'ok', '1,2': 'ok', '2,2': 'ok', '0,1': 'forbidden', '1,1': 'forbidden', '2,1': 'forbidden' },
});

// Atomic read-modify-write: two increments are never lost.
export const addAtomics = litmus({
  name: 'RMW (two Atomics.add), final value',
  state: { x: Int32Array },
  actors: [(s, r) => { r.old1 = Atomics.add(s.x, 0, 1); }, (s, r) => { r.old2 = Atomics.add(s.x, 0, 1); }],
  arbiter: (s, r) => { r.final = s.x[0]!; },
  outcomes: { '0,1,2': 'ok', '1,0,2': 'ok' },
});
export const addPlain = litmus({
  name: 'RMW (two plain x += 1), final value',
  state: { x: Int32Array },
  actors: [(s) => { s.x[0] = s.x[0]! + 1; }, (s) => { s.x[0] = s.x[0]! + 1; }],
  arbiter: (s, r) => { r.final = s.x[0]!; },
  // A lost update is a plain data race: allowed, and common.
  outcomes: { '2': 'ok', '1': 'interesting' },
});
