// One drained batch of an agent's events as the JS array of tuples the
// TypeScript dispatcher reads (kinds and field indices: shared/event_schema.h,
// mirrored by src/native-event-schema.ts). Called by AgentHandle::DrainEvents
// on the handle's owner thread; messages are deserialized into the host isolate.
#pragma once

#include <napi.h>

#include <functional>
#include <vector>

#include "shared/agent_types.h"
#include "shared/port.h"

namespace agentcluster {

// `ports`: the host's PortBinder (ports inside messages bind to it). `join`
// runs when the batch holds the agent's exit event, before its tuple is made
// (the thread is over by then), and sets *exited. Throws Napi::Error if the
// environment stops mid-batch (see CanCallIntoJs).
Napi::Array BuildEventBatch(Napi::Env env, std::vector<AgentEvent>& events, PortBinder* ports,
                            const std::function<void()>& join, bool* exited);

}  // namespace agentcluster
