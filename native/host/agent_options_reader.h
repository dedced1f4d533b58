// Reads the options object src/agent/options.ts (toNativeOptions) builds
// into the AgentOptions an AgentThread starts from. The TypeScript side
// validated every field; here an absent or mistyped field takes its
// default, except where a wrong type would lose meaning (a non-string
// builtinModules path: TypeError ERR_INVALID_ARG_TYPE). Called by the
// AgentHandle constructor; the entry data (`data`, `dataTransfer`) stays
// there, since its transfer list moves only once the thread runs.
#pragma once

#include <napi.h>

#include "shared/agent_types.h"
#include "shared/flow_control.h"

namespace agentcluster {

// False with a TypeError pending in JS when `options` cannot be used.
bool ReadAgentOptions(Napi::Env env, const Napi::Object& options, AgentOptions* out);

// `highWaterMessages` / `highWaterBytes`; absent means the default.
HighWaterMark ReadHighWaterMark(const Napi::Object& options);

}  // namespace agentcluster
