// Jobs of bench/pool.ts, the same code for every peer (plain JS, no imports:
// it also runs inside agents). The peer files add only how a result buffer
// is moved back, which each library spells its own way.

export function inc(x) {
  return x + 1;
}

// Returns once `n` tasks are inside this function at the same time (each in
// its own thread): "the pool has n threads running code".
export function rendezvous({ sab, n }) {
  const a = new Int32Array(sab);
  Atomics.add(a, 0, 1);
  Atomics.notify(a, 0);
  const deadline = Date.now() + 30_000;
  for (let seen = Atomics.load(a, 0); seen < n; seen = Atomics.load(a, 0)) {
    if (Date.now() > deadline) throw new Error('rendezvous timed out');
    Atomics.wait(a, 0, seen, 100);
  }
  return 0;
}

// CPU-bound work: `iterations` rounds of integer mixing (no allocation).
export function work(iterations) {
  let h = 0x811c9dc5;
  for (let i = 0; i < iterations; i++) {
    h ^= i;
    h = Math.imul(h, 0x01000193);
    h ^= h >>> 13;
  }
  return h >>> 0;
}
