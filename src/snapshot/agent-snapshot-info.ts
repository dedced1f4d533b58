// Diagnostics: whether agents start from the snapshot built in-process or
// from Node's blob (after a failed verification, or when disabled).
import { native, type AgentSnapshotInfo } from '../native.js';

export type { AgentSnapshotInfo };

/** Which V8 startup snapshot agents start from, and why. "unbuilt" until the first agent starts. */
export function agentSnapshotInfo(): AgentSnapshotInfo {
  return native.agentSnapshotInfo();
}
