// The pool's queue of tasks waiting for an agent: priorities with aging.
//
// Policy. A task of priority p submitted at time t gets the key
//   key = t - p * priorityAging
// and the smallest key runs first. So:
// - at the same moment a higher priority runs first, and equal priorities
//   run in submission order (FIFO: within one priority keys only grow);
// - a task is passed by a task of priority +1 only if that one was submitted
//   less than `priorityAging` ms after it: however steady the stream of
//   high-priority work, a waiting task is served once it has waited
//   (priority difference x priorityAging) ms. No starvation, and the bound
//   is explicit.
//
// Implementation: one FIFO per distinct priority (keys are monotonic inside
// each), so push is O(1) and shift compares the heads of the FIFOs (O(1)
// for the usual single priority). Removed tasks are skipped lazily.
import { QUEUED, type Task } from './task.js';

/** A growable ring buffer. */
class Deque<T> {
  #items: (T | undefined)[] = new Array(16);
  #head = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) & (this.#items.length - 1)] = item;
    this.#length++;
  }

  unshift(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#head = (this.#head - 1) & (this.#items.length - 1);
    this.#items[this.#head] = item;
    this.#length++;
  }

  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head];
  }

  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#length--;
    return item;
  }

  #grow(): void {
    const old = this.#items;
    const items: (T | undefined)[] = new Array(old.length * 2);
    for (let i = 0; i < this.#length; i++) items[i] = old[(this.#head + i) & (old.length - 1)];
    this.#items = items;
    this.#head = 0;
  }
}

interface Lane {
  priority: number;
  tasks: Deque<Task>;
}

export class TaskQueue {
  readonly #aging: number;
  #lanes: Lane[] = [];
  #byPriority = new Map<number, Lane>();
  #size = 0;

  /** `priorityAging`: ms of waiting worth one priority level (Infinity: strict priorities). */
  constructor(priorityAging: number) {
    this.#aging = priorityAging;
  }

  /** Tasks waiting (removed ones excluded). */
  get size(): number {
    return this.#size;
  }

  push(task: Task): void {
    const p = task.priority;
    task.key = p === 0 ? task.enqueuedAt : this.#aging === Infinity ? -p * 1e15 + task.enqueuedAt : task.enqueuedAt - p * this.#aging;
    this.#lane(p).tasks.push(task);
    this.#size++;
  }

  /** Puts a task back at the front of its priority (it was taken from an agent that went away). */
  unshift(task: Task): void {
    this.#lane(task.priority).tasks.unshift(task);
    this.#size++;
  }

  /** The next task to run, or undefined. */
  shift(): Task | undefined {
    if (this.#size === 0) return undefined;
    const lanes = this.#lanes;
    if (lanes.length === 1) {
      const task = this.#head(lanes[0]!);
      if (task !== undefined) {
        lanes[0]!.tasks.shift();
        this.#size--;
      }
      return task;
    }
    let best: Lane | undefined;
    let bestKey = Infinity;
    for (let i = 0; i < lanes.length; i++) {
      const lane = lanes[i]!;
      const task = this.#head(lane);
      if (task !== undefined && (best === undefined || task.key < bestKey)) {
        best = lane;
        bestKey = task.key;
      }
    }
    if (lanes.length > 4) this.#prune();
    if (best === undefined) return undefined;
    this.#size--;
    return best.tasks.shift();
  }

  /** Marks a queued task as gone (the caller changes its state); O(1). */
  removed(): void {
    this.#size--;
  }

  /** Takes every waiting task out (for destroy / force close). */
  drain(): Task[] {
    const all: Task[] = [];
    for (const lane of this.#lanes) {
      for (let task = lane.tasks.shift(); task !== undefined; task = lane.tasks.shift()) {
        if (task.state === QUEUED) all.push(task);
      }
    }
    this.#size = 0;
    return all;
  }

  #lane(priority: number): Lane {
    let lane = this.#byPriority.get(priority);
    if (lane === undefined) {
      lane = { priority, tasks: new Deque() };
      this.#byPriority.set(priority, lane);
      this.#lanes.push(lane);
    }
    return lane;
  }

  /** Forgets empty lanes, so that many distinct priorities over time cost nothing. */
  #prune(): void {
    this.#lanes = this.#lanes.filter((lane) => {
      if (lane.tasks.length > 0) return true;
      this.#byPriority.delete(lane.priority);
      return false;
    });
  }

  /** The first live task of a lane (drops removed ones on the way). */
  #head(lane: Lane): Task | undefined {
    for (;;) {
      const task = lane.tasks.peek();
      if (task === undefined || task.state === QUEUED) return task;
      lane.tasks.shift();
    }
  }
}
