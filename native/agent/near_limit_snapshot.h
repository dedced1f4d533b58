// The heap snapshot `resourceLimits.heapSnapshotNearLimitFile` asks for when
// an agent stops at its heap limit. Called by AgentDiagnostics on the agent's
// own thread, after the stop (under the raised limit).
#pragma once

#include <v8.h>

#include <functional>
#include <string>

namespace agentcluster {

// Writes a snapshot of `isolate` to `target`, aside and then renamed into
// place. Never replaces anything but a regular file (a symlink is followed
// to its target; a FIFO, device or directory is left alone and nothing is
// written). One near-limit snapshot at a time per process, and none for a
// path another agent is writing already (its file would be replaced anyway).
// `cancelled` (terminate(), process exit) is polled while waiting, while the
// snapshot is taken and while it is written: it stops the work at once and
// leaves no file behind. Returns whether the file was written.
bool WriteNearLimitSnapshotFile(v8::Isolate* isolate, const std::string& target,
                                const std::function<bool()>& cancelled);

}  // namespace agentcluster
