// Agents must start from the same V8 snapshot as the Node isolate that
// loaded us: Node 20 enables V8's shared read-only heap, and an isolate
// deserialized from a different snapshot silently gets wrong read-only
// roots (e.g. Math.E turns into a property named "'"). Node creates its
// worker isolates from its embedded snapshot; these entry points, exported
// by the node binary but not in its public headers, let us do the same.
#pragma once

#include <node.h>
#include <v8.h>

#include <mutex>
#include <string>

namespace agentcluster {

// Fills `params` (snapshot blob + external references) from Node's embedded
// snapshot. Returns false (and leaves `params` alone) when the entry points
// are not found; then agents use V8's default snapshot, which is only
// correct under `node --no-node-snapshot`.
bool UseNodeSnapshot(v8::Isolate::CreateParams* params);

// Checks once per process, before the first agent starts, that the snapshot
// agents would start from (Node's embedded one as found above, else V8's
// default) gives a sane realm: a probe isolate on a short-lived thread of
// ours must see Math.E == e and a global object with exactly the own property
// names of a fresh context in the calling (Node) isolate. If Node's blob
// fails, V8's default is tried; if both fail, every agent start fails with
// `error` (agents are never started from a mismatching blob). Must run on a
// thread that is in a V8 isolate (the addon's callers). `lifecycle` is the
// lock that serializes isolate creation and disposal.
bool VerifyAgentSnapshot(node::MultiIsolatePlatform* platform, std::mutex& lifecycle,
                         std::string* error);

// Whether the process was started with Node's snapshot (set from JS, which
// sees process.execArgv / NODE_OPTIONS). Default: true.
void SetNodeSnapshotInUse(bool in_use);

}  // namespace agentcluster
