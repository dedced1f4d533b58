/**
 * Re-attaching (`X.from(cloned)`) runs a class's public constructor on memory
 * that already holds a live object: the constructor must then skip argument
 * checks and initialisation. One flag for every class in agentcluster:atomics,
 * set only while `make` runs (try/finally: a throwing constructor never leaves
 * it set), and restored rather than cleared, because SharedQueue's attaching
 * constructor re-attaches its Mutex and Conditions in turn.
 */
let attachingNow = false;

/** Whether the constructor running now was called from a `from()`. */
export function attaching(): boolean {
  return attachingNow;
}

/** Runs `make` (a constructor call) in attach mode. */
export function attach<T>(make: () => T): T {
  const outer = attachingNow;
  attachingNow = true;
  try {
    return make();
  } finally {
    attachingNow = outer;
  }
}
