// process.exit() skips the addon's environment cleanup hooks, and static
// destructors would then run under live agent threads. Stop every agent from
// an 'exit' listener as well (the cleanup hook covers natural exits and
// worker_thread environments).
import { native } from '../native.js';

let installed = false;

export function installExitHook(): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => native.stopAll());
}

/** Number of agents started from this thread that have not exited yet. */
export function liveAgentCount(): number {
  return native.liveCount();
}
