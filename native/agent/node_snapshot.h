// Agents must start from the same V8 snapshot as the Node isolate that
// loaded us: Node 20 enables V8's shared read-only heap, and an isolate
// deserialized from a different snapshot silently gets wrong read-only
// roots (e.g. Math.E turns into a property named "'"). Node creates its
// worker isolates from its embedded snapshot; these entry points, exported
// by the node binary but not in its public headers, let us do the same.
#pragma once

#include <v8.h>

namespace agentcluster {

// Fills `params` (snapshot blob + external references) from Node's embedded
// snapshot. Returns false (and leaves `params` alone) when the entry points
// are not found; then agents use V8's default snapshot, which is only
// correct under `node --no-node-snapshot`.
bool UseNodeSnapshot(v8::Isolate::CreateParams* params);

// Whether the process was started with Node's snapshot (set from JS, which
// sees process.execArgv / NODE_OPTIONS). Default: true.
void SetNodeSnapshotInUse(bool in_use);

}  // namespace agentcluster
