// The job module an AgentWorker's pool actually loads: a small wrapper that
// imports the user's module and calls its export with a BullMQ-like `job`
// (id, name, data, attemptsMade, updateProgress, log), so job code reads like
// one of BullMQ's sandboxed processors. Progress and log rows travel to the
// host over an AgentPort that comes with each task; the wrapper closes it
// before returning, and the host waits for that close, so every update is
// recorded before the job completes.

/** What the host sends per job (the pool task). */
export interface JobTask {
  id: string | undefined;
  name: string;
  data: unknown;
  attemptsMade: number;
  /** The user module's export to call. */
  export: string;
  /** Progress/log channel, or null when the worker runs with `progress: false`. */
  port: unknown;
}

/** Messages on the per-job port (agent to host; the host answers each progress with an ack). */
export type JobMessage = { progress: unknown } | { log: string };

/** The wrapper's export (the pool's `name`). */
export const WRAPPER_EXPORT = 'runBullmqJob';

export function jobModuleSource(userModuleUrl: string): string {
  return `import * as userModule from ${JSON.stringify(userModuleUrl)};

export async function ${WRAPPER_EXPORT}(task) {
  const port = task.port;
  // At most one progress message in flight: the host acknowledges each one
  // once it reached Redis; meanwhile only the latest value is kept, so a
  // flood of updateProgress calls cannot pile up messages in the port.
  let inFlight = false;
  let pending;
  let closed = false;
  const sendProgress = (progress) => {
    inFlight = true;
    port.postMessage({ progress });
  };
  if (port) {
    port.onmessage = () => {
      inFlight = false;
      if (pending && !closed) {
        const next = pending;
        pending = undefined;
        sendProgress(next.value);
      }
    };
  }
  const job = {
    id: task.id,
    name: task.name,
    data: task.data,
    attemptsMade: task.attemptsMade,
    updateProgress(progress) {
      if (!port || closed) return Promise.resolve();
      if (inFlight) pending = { value: progress };
      else sendProgress(progress);
      return Promise.resolve();
    },
    log(row) {
      if (port) port.postMessage({ log: String(row) });
      return Promise.resolve(0);
    },
  };
  try {
    const fn = userModule[task.export];
    if (typeof fn !== 'function') {
      const error = new TypeError('the job module has no function export ' + JSON.stringify(task.export));
      error.code = 'ERR_POOL_JOB_NOT_FOUND';
      throw error;
    }
    return await fn(job);
  } finally {
    if (port) {
      closed = true;
      // The latest value goes out before the close (the host records it).
      if (pending) port.postMessage({ progress: pending.value });
      port.onmessage = null;
      port.close();
    }
  }
}
`;
}
