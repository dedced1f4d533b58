// A blocking queue: take() waits (Atomics.wait) while the queue is empty and
// put() wakes one waiter (Atomics.notify). `missingNotify` forgets the
// notify: a taker asleep on an empty queue is never woken, although items
// arrive. The harness reports that as stuck, naming the take that never
// returned. Producers and consumers are separate agents and there are never
// more takes than puts, so a correct queue never blocks forever.
import fc from 'fast-check';
import { linearizable } from 'agentcluster/stress';

const CAPACITY = 256;
const LOCK = 0, HEAD = 1, TAIL = 2, AVAILABLE = 3, ITEMS = 4;

export class BlockingQueue {
  static create() {
    return new SharedArrayBuffer(4 * (ITEMS + CAPACITY));
  }
  constructor(sab, { notify = true } = {}) {
    this.w = new Int32Array(sab);
    this.notify = notify;
  }
  #lock() {
    while (Atomics.compareExchange(this.w, LOCK, 0, 1) !== 0) Atomics.wait(this.w, LOCK, 1);
  }
  #unlock() {
    Atomics.store(this.w, LOCK, 0);
    Atomics.notify(this.w, LOCK, 1);
  }
  put(value) {
    this.#lock();
    this.w[ITEMS + (this.w[TAIL]++ % CAPACITY)] = value;
    this.#unlock();
    Atomics.add(this.w, AVAILABLE, 1);
    if (this.notify) Atomics.notify(this.w, AVAILABLE, 1);
    return true;
  }
  take() {
    // Claim one available item, sleeping while there is none.
    for (;;) {
      const available = Atomics.load(this.w, AVAILABLE);
      if (available === 0) Atomics.wait(this.w, AVAILABLE, 0);
      else if (Atomics.compareExchange(this.w, AVAILABLE, available, available - 1) === available) break;
    }
    this.#lock();
    const value = this.w[ITEMS + (this.w[HEAD]++ % CAPACITY)];
    this.#unlock();
    return value;
  }
}

const model = {
  init: () => [],
  step: (items, op) => (op.type === 'put' ? [[...items, op.value], true] : items.length === 0 ? [items, 'blocked'] : [items.slice(1), items[0]]),
  describe: (op) => (op.type === 'put' ? `put(${op.value})` : 'take()'),
};

const OPS = 20;
/** Even agents put, odd agents take, and the takes never outnumber the puts. */
function operationLists(agents) {
  return fc.tuple(...Array.from({ length: agents }, (_, k) =>
    k % 2 === 0
      ? fc.array(fc.integer({ min: 1, max: 1_000_000 }).map((value) => ({ type: 'put', value })), { minLength: 1, maxLength: OPS })
      : fc.integer({ min: 1, max: OPS }).map((n) => Array.from({ length: n }, () => ({ type: 'take' })))),
  );
}

function balanced(lists) {
  let puts = 0;
  for (let k = 0; k < lists.length; k += 2) puts += lists[k].length;
  return lists.map((list, k) => {
    if (k % 2 === 0) return list;
    const kept = list.slice(0, puts);
    puts -= kept.length;
    return kept;
  });
}

const spec = {
  setup: () => BlockingQueue.create(),
  run: (queue, op) => (op.type === 'put' ? queue.put(op.value) : queue.take()),
  operationLists: (agents) => operationLists(agents).map(balanced),
  opsPerAgent: OPS,
  model,
};

export const blockingQueue = linearizable({ ...spec, name: 'blocking SAB queue', object: (sab) => new BlockingQueue(sab) });

export const missingNotify = linearizable({
  ...spec,
  name: 'blocking SAB queue without notify (broken)',
  object: (sab) => new BlockingQueue(sab, { notify: false }),
});
