// A bounded FIFO queue in a SharedArrayBuffer, and a deliberately broken twin.
//
// `sabQueue` guards its ring with a futex-style lock (Atomics.compareExchange
// plus Atomics.wait/notify): every access to head, tail and the items is made
// while holding it, so the program is data-race free and the queue is
// linearizable. `racyQueue` claims slots with a non-atomic read-modify-write
// (load, then store) of head and tail: two pushes can claim one slot, two pops
// can return one item. Run: agentcluster stress examples/stress/sab-queue.mjs
import fc from 'fast-check';
import { linearizable, point } from 'agentcluster/stress';

const CAPACITY = 128;
const LOCK = 0, HEAD = 1, TAIL = 2, ITEMS = 3;

export class SabQueue {
  static create() {
    return new SharedArrayBuffer(4 * (ITEMS + CAPACITY));
  }
  constructor(sab) {
    this.w = new Int32Array(sab);
  }
  #lock() {
    while (Atomics.compareExchange(this.w, LOCK, 0, 1) !== 0) Atomics.wait(this.w, LOCK, 1);
  }
  #unlock() {
    Atomics.store(this.w, LOCK, 0);
    Atomics.notify(this.w, LOCK, 1);
  }
  push(value) {
    this.#lock();
    try {
      const { w } = this;
      if (w[TAIL] - w[HEAD] === CAPACITY) return false;
      point();
      w[ITEMS + (w[TAIL] % CAPACITY)] = value;
      w[TAIL]++;
      return true;
    } finally {
      this.#unlock();
    }
  }
  pop() {
    this.#lock();
    try {
      const { w } = this;
      if (w[HEAD] === w[TAIL]) return null;
      point();
      const value = w[ITEMS + (w[HEAD] % CAPACITY)];
      w[HEAD]++;
      return value;
    } finally {
      this.#unlock();
    }
  }
}

/** The same ring without the lock: each index is bumped by a separate load and store. */
export class RacyQueue {
  constructor(sab) {
    this.w = new Int32Array(sab);
  }
  push(value) {
    const { w } = this;
    const tail = Atomics.load(w, TAIL);
    if (tail - Atomics.load(w, HEAD) === CAPACITY) return false;
    point(); // another push can read the same tail here
    Atomics.store(w, TAIL, tail + 1);
    Atomics.store(w, ITEMS + (tail % CAPACITY), value);
    return true;
  }
  pop() {
    const { w } = this;
    const head = Atomics.load(w, HEAD);
    if (head === Atomics.load(w, TAIL)) return null;
    point(); // another pop can read the same head here
    Atomics.store(w, HEAD, head + 1);
    return Atomics.load(w, ITEMS + (head % CAPACITY));
  }
}

/** The sequential specification both are checked against. */
export const queueModel = {
  init: () => [],
  step: (items, op) =>
    op.type === 'push'
      ? items.length === CAPACITY ? [items, false] : [[...items, op.value], true]
      : items.length === 0 ? [items, null] : [items.slice(1), items[0]],
  describe: (op) => (op.type === 'push' ? `push(${op.value})` : 'pop()'),
};

const operation = fc.oneof(
  fc.record({ type: fc.constant('push'), value: fc.integer({ min: 1, max: 1_000_000 }) }),
  fc.constant({ type: 'pop' }),
);
const run = (queue, op) => (op.type === 'push' ? queue.push(op.value) : queue.pop());

export const sabQueue = linearizable({
  name: 'SAB queue (lock-based ring)',
  setup: () => SabQueue.create(),
  object: (sab) => new SabQueue(sab),
  run,
  operation,
  model: queueModel,
});

export const racyQueue = linearizable({
  name: 'SAB queue with a non-atomic read-modify-write (broken)',
  setup: () => SabQueue.create(),
  object: (sab) => new RacyQueue(sab),
  run,
  operation,
  model: queueModel,
});
