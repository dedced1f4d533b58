// Compares isolates started from two snapshot blobs: a fingerprint of the
// global object graph (keys, attributes, typeof, function name/length,
// primitive constants) plus semantic probes (Math.E, JSON, RegExp, BigInt,
// Proxy, ...). A blob built in-process with a wrong read-only cache shows
// up here as renamed or missing properties and wrong constants.
#pragma once

#include <node.h>
#include <v8.h>

#include <string>

namespace agentcluster {

// Starts an isolate from `params`, runs the fingerprint script in a fresh
// context and returns its output ("" on any failure). Caller holds the
// isolate lifecycle lock.
std::string SnapshotFingerprint(node::MultiIsolatePlatform* platform,
                                const v8::Isolate::CreateParams& params);

// Semantic probes that must hold in every correct isolate; the fingerprint
// output contains this line when they all do.
extern const char kProbesPassedLine[];

}  // namespace agentcluster
