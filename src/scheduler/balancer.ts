// Which agent takes the next task, and how far ahead agents are fed.
//
// - A task goes to the ready agent holding the fewest tasks, as long as it
//   holds fewer than `concurrentTasksPerAgent`.
// - Prefetch: when tasks are short, an agent that must wait a round trip
//   for its next task idles most of the time. So, when the queue is not
//   empty and every agent is busy, agents may also hold up to `prefetch`
//   more tasks, sized so that what an agent holds ahead is about
//   PREFETCH_MS of work (none at all for tasks of PREFETCH_MS or more,
//   where a round trip is noise and prefetching would only unbalance the
//   tail). Task length is an average of what the agents report.
import type { AgentSlot } from './agent-slot.js';

/** Work an agent may hold beyond what it is running, in ms. */
const PREFETCH_MS = 0.5;
export const MAX_PREFETCH = 32;

export class Balancer {
  #avgMs = NaN;
  #prefetch = 0;

  /** A task ran `ms` in an agent. */
  observe(ms: number): void {
    const avg = (this.#avgMs = this.#avgMs !== this.#avgMs ? ms : this.#avgMs * 0.9 + ms * 0.1);
    this.#prefetch = avg >= PREFETCH_MS ? 0 : Math.min(MAX_PREFETCH, Math.floor(PREFETCH_MS / Math.max(avg, PREFETCH_MS / MAX_PREFETCH)));
  }

  /** Tasks an agent may hold beyond its concurrency right now. */
  get prefetch(): number {
    return this.#prefetch;
  }

  /** The ready agent holding the fewest tasks, if it holds fewer than `limit`. */
  pick(slots: readonly AgentSlot[], limit: number): AgentSlot | undefined {
    let best: AgentSlot | undefined;
    let least = limit;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      if (slot.inflight < least && slot.state === 'ready') {
        best = slot;
        least = slot.inflight;
        if (least === 0) break;
      }
    }
    return best;
  }
}
