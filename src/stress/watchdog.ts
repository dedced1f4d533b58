// Stuck detection by progress, not by a fixed deadline: a run is stuck when
// its progress counter has not moved for far longer than the longest pause
// between moves seen so far (a loaded machine slows both alike), with a floor
// for runs stuck before their first move.
export class ProgressWatchdog {
  #last: number;
  #lastMove = Date.now();
  #longestGap: number;
  #moved = false;
  constructor(
    private readonly read: () => number,
    private readonly factor = 50,
    private readonly floorMs = 5000,
    /** The longest gap seen by earlier runs of the same test (so each run need not learn it again). */
    longestGap = 0,
  ) {
    this.#last = read();
    this.#longestGap = longestGap;
  }

  get longestGap(): number {
    return this.#longestGap;
  }

  /** undefined while progressing; the ms without progress once that counts as stuck. */
  check(now = Date.now()): number | undefined {
    const value = this.read();
    if (value !== this.#last) {
      // The wait before the first move is start-up (message delivery, thread wake-up), not a pause in the work.
      if (this.#moved) this.#longestGap = Math.max(this.#longestGap, now - this.#lastMove);
      this.#moved = true;
      this.#last = value;
      this.#lastMove = now;
      return undefined;
    }
    const idle = now - this.#lastMove;
    return idle > Math.max(this.floorMs, this.factor * this.#longestGap) ? idle : undefined;
  }
}
