// A V8 startup snapshot for agents, built in-process from Node's embedded
// blob. Node's blob carries Node's whole bootstrap (~1.4 MB) that every
// agent would deserialize; rebuilding it with only a fresh default context
// leaves the part agents need (~0.3 MB). Each built blob is verified against
// an isolate from Node's blob before any agent starts from it; on any doubt
// agents keep Node's blob.
#pragma once

#include <node.h>
#include <v8.h>

#include <string>

namespace agentcluster {

struct AgentSnapshotInfo {
  std::string state;   // "unbuilt" | "in-use" | "fallback" | "off"
  std::string reason;  // why "fallback" or "off"
  size_t bytes = 0;    // size of the blob agents start from (0: Node's)
  size_t node_bytes = 0;
  double build_ms = 0;
};

// Reads AGENTCLUSTER_AGENT_SNAPSHOT once per process, at the first addon load
// (later loads by Node worker threads keep that reading; never getenv on agent
// threads). Case-insensitive: "off" / "0" / "false" / "no" disable the built
// snapshot, unset / "" / "on" / "1" / "true" enable it; "skip-readonly-fix"
// builds without the serializer fix, which yields a wrong blob, so that tests
// can prove that verification rejects it. Any other value keeps the default
// and is named in agentSnapshotInfo().reason.
void ReadAgentSnapshotSetting();

// Fills `params` with the verified agent snapshot, building it on first use.
// Must be called with the isolate lifecycle lock held (the builder creates
// and disposes isolates). Returns false when agents must use Node's blob
// (UseNodeSnapshot) instead.
bool UseAgentSnapshot(node::MultiIsolatePlatform* platform, v8::Isolate::CreateParams* params);

// True when the process was started with --max-semi-space-size (its command
// line or NODE_OPTIONS): the build then keeps Node's full-size number cache,
// since shrinking it resets that V8 flag for a moment (number_string_cache.h).
void SetSemiSpaceFlagGiven(bool given);

AgentSnapshotInfo GetAgentSnapshotInfo();

}  // namespace agentcluster
