// A lock-free (Treiber) stack over a pool of nodes in a SharedArrayBuffer,
// with its free list kept as a second Treiber stack.
//
// `taggedStack` packs a version tag with the top-of-stack index and bumps it
// on every change, so a compareExchange succeeds only if nothing happened in
// between. `abaStack` compares the index alone: a pop reads the top node's
// value and next pointer, pauses, and meanwhile another agent pops that node
// and pushes a new value into the same (recycled) node. The top index is the
// same again (A-B-A), the compareExchange succeeds, and the paused pop
// returns the old value a second time while the new one is lost.
import fc from 'fast-check';
import { linearizable, point } from 'agentcluster/stress';

const NODES = 256;
const TOP = 0, FREE = 1, NEXT = 2, VALUE = NEXT + NODES;
const NIL = 0; // indexes are stored + 1, so 0 is "none"

export class TreiberStack {
  /** Every node starts on the free list. */
  static create() {
    const sab = new SharedArrayBuffer(4 * (VALUE + NODES));
    const w = new Int32Array(sab);
    for (let i = 0; i < NODES; i++) w[NEXT + i] = i + 2 > NODES ? NIL : i + 2;
    w[FREE] = 1;
    return sab;
  }
  constructor(sab, { tagged = true } = {}) {
    this.w = new Int32Array(sab);
    this.tagged = tagged;
  }
  #word(node, old) {
    return this.tagged ? ((((old >>> 16) + 1) & 0x7fff) << 16) | node : node;
  }
  #popNode(list) {
    const { w } = this;
    for (;;) {
      const old = Atomics.load(w, list);
      const node = old & 0xffff;
      if (node === NIL) return NIL;
      const next = Atomics.load(w, NEXT + node - 1);
      point();
      if (Atomics.compareExchange(w, list, old, this.#word(next, old)) === old) return node;
    }
  }
  #pushNode(list, node) {
    const { w } = this;
    for (;;) {
      const old = Atomics.load(w, list);
      Atomics.store(w, NEXT + node - 1, old & 0xffff);
      if (Atomics.compareExchange(w, list, old, this.#word(node, old)) === old) return;
    }
  }
  push(value) {
    const node = this.#popNode(FREE);
    if (node === NIL) return false;
    Atomics.store(this.w, VALUE + node - 1, value);
    this.#pushNode(TOP, node);
    return true;
  }
  pop() {
    const { w } = this;
    for (;;) {
      const old = Atomics.load(w, TOP);
      const node = old & 0xffff;
      if (node === NIL) return null;
      const value = Atomics.load(w, VALUE + node - 1);
      const next = Atomics.load(w, NEXT + node - 1);
      point(); // the window in which the top node can be popped, recycled and pushed again
      if (Atomics.compareExchange(w, TOP, old, this.#word(next, old)) === old) {
        this.#pushNode(FREE, node);
        return value;
      }
    }
  }
}

const model = {
  init: () => [],
  step: (items, op) =>
    op.type === 'push'
      ? items.length === NODES ? [items, false] : [[...items, op.value], true]
      : items.length === 0 ? [items, null] : [items.slice(0, -1), items[items.length - 1]],
  describe: (op) => (op.type === 'push' ? `push(${op.value})` : 'pop()'),
};

const spec = {
  setup: () => TreiberStack.create(),
  run: (stack, op) => (op.type === 'push' ? stack.push(op.value) : stack.pop()),
  operation: fc.oneof(
    fc.record({ type: fc.constant('push'), value: fc.integer({ min: 1, max: 1_000_000 }) }),
    fc.constant({ type: 'pop' }),
  ),
  model,
};

export const taggedStack = linearizable({ ...spec, name: 'Treiber stack, tagged top', object: (sab) => new TreiberStack(sab) });
export const abaStack = linearizable({
  ...spec,
  name: 'Treiber stack, untagged top (ABA-prone, broken)',
  object: (sab) => new TreiberStack(sab, { tagged: false }),
});
