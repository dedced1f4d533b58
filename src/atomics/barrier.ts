/**
 * Barrier: a reusable (cyclic) barrier for a fixed number of parties, with a
 * generation counter, in 8 bytes of a SharedArrayBuffer.
 *
 * Layout (Int32): [0] state = generation << 16 | arrived, [1] parties.
 * Arrival count and generation share one word so that every transition is a
 * single CAS: the last arrival ("leader") resets the count and bumps the
 * generation atomically, and a waiter that times out can withdraw its arrival
 * only if its generation has not completed yet, so a timeout never breaks the
 * barrier for the others. Waiters sleep until the generation differs from
 * theirs; the leader notifies all.
 */
import { attaching } from './attach.js';
import { SharedRegion } from './shared-region.js';
import { checkInt, deadlineFrom, remaining, type SharedHandle } from './wait.js';
import { runAsync, runBlocking, type WaitLoop } from './wait-loop.js';

const STATE = 0;
const PARTIES = 1;
const ARRIVED_MASK = 0xffff;
const MAX_PARTIES = 0xffff;

/** Outcome of one arrival: leader, released follower, or timed out (withdrawn). */
type Arrival = { state: 'leader' } | { state: 'waiting'; gen: number; cur: number };

export class Barrier extends SharedRegion {
  static readonly byteLength = 8;
  static readonly alignment = 4;
  /** Largest supported number of parties. */
  static readonly maxParties = MAX_PARTIES;

  readonly #parties: number;

  /**
   * Create a barrier for `parties` threads (1..65535) in a new SAB or at
   * `byteOffset` of `buffer`. Use `Barrier.from()` on other threads.
   */
  constructor(parties: number, buffer?: SharedArrayBuffer, byteOffset = 0) {
    if (!attaching()) checkInt('Barrier parties', parties, 1, MAX_PARTIES);
    super('Barrier', Barrier, buffer, byteOffset, (s) => {
      Atomics.store(s, STATE, 0);
      Atomics.store(s, PARTIES, parties);
    });
    this.#parties = Atomics.load(this.words, PARTIES);
    if (attaching()) checkInt('Barrier.from(): stored parties', this.#parties, 1, MAX_PARTIES);
  }

  /** Re-attach to an existing barrier from an instance or its structured clone. */
  static from(cloned: SharedHandle): Barrier {
    return SharedRegion.reattach('Barrier', Barrier, cloned, (buffer, byteOffset) => new Barrier(0, buffer, byteOffset));
  }

  /** Number of parties per generation. */
  get parties(): number {
    return this.#parties;
  }

  /** Parties waiting in the current generation (a racy snapshot). */
  get arrived(): number {
    return Atomics.load(this.words, STATE) & ARRIVED_MASK;
  }

  /** Completed generations, modulo 65536 (a racy snapshot). */
  get generation(): number {
    return Atomics.load(this.words, STATE) >>> 16;
  }

  #arrive(): Arrival {
    const s = this.words;
    let cur = Atomics.load(s, STATE);
    for (;;) {
      const gen = cur >>> 16;
      const arrived = cur & ARRIVED_MASK;
      const next = arrived + 1 === this.#parties ? ((gen + 1) & 0xffff) << 16 : cur + 1;
      const prev = Atomics.compareExchange(s, STATE, cur, next);
      if (prev === cur) {
        if (arrived + 1 === this.#parties) {
          Atomics.notify(s, STATE);
          return { state: 'leader' };
        }
        return { state: 'waiting', gen, cur: next };
      }
      cur = prev;
    }
  }

  /**
   * After a timeout: withdraw our arrival if generation `gen` is still open.
   * Returns the new state word if the barrier completed meanwhile (we are then
   * released, not timed out), or null if withdrawn.
   */
  #withdraw(gen: number, cur: number): number | null {
    const s = this.words;
    for (;;) {
      if (cur >>> 16 !== gen) return cur;
      const prev = Atomics.compareExchange(s, STATE, cur, cur - 1);
      if (prev === cur) return null;
      cur = prev;
    }
  }

  /**
   * One arrival and, for a follower, the wait for its generation to complete
   * (see arriveAndWait). `withdrawOnError`: a wait that throws takes the
   * arrival back first (the blocking form only, as before).
   */
  *#arriveAndRelease(timeout: number | undefined, withdrawOnError: boolean): WaitLoop<boolean | null> {
    const deadline = deadlineFrom(timeout);
    const a = this.#arrive();
    if (a.state === 'leader') return true;
    let cur = a.cur;
    for (;;) {
      if (cur >>> 16 !== a.gen) return false;
      const left = remaining(deadline);
      if (left <= 0) return this.#withdraw(a.gen, cur) === null ? null : false;
      try {
        yield { index: STATE, value: cur, timeout: left };
      } catch (err) {
        // The wait threw (ERR_CANNOT_BLOCK, or an agent's ERR_AGENT_INTERRUPTED):
        // take the arrival back, so a throwing call leaves the barrier as it
        // was, unless the generation completed meanwhile (then we were released).
        if (!withdrawOnError || this.#withdraw(a.gen, Atomics.load(this.words, STATE)) === null) throw err;
        return false;
      }
      cur = Atomics.load(this.words, STATE);
    }
  }

  /**
   * Arrive and block until all parties of this generation have arrived.
   * Returns true for exactly one caller per generation (the last arrival, the
   * "leader"), false for the others. With a `timeout` (ms), returns null if it
   * elapses first; the arrival is then withdrawn, so the barrier stays usable.
   * Throws ERR_CANNOT_BLOCK on threads that cannot block (unless leader); a
   * call that throws from its wait withdraws its arrival first, so the other
   * parties are not released one short.
   */
  arriveAndWait(): boolean;
  arriveAndWait(timeout: number | undefined): boolean | null;
  arriveAndWait(timeout?: number): boolean | null {
    return runBlocking(this.words, this.#arriveAndRelease(timeout, true));
  }

  /** Async form of `arriveAndWait()`: resolves true (leader), false, or null on timeout. */
  arriveAndWaitAsync(): Promise<boolean>;
  arriveAndWaitAsync(timeout: number | undefined): Promise<boolean | null>;
  arriveAndWaitAsync(timeout?: number): Promise<boolean | null> {
    return runAsync(this.words, this.#arriveAndRelease(timeout, false));
  }
}
