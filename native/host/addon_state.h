// AddonState: one per Node environment that loaded the addon (main thread
// or a worker_thread), set as its instance data by Init (addon.cc) and
// read by every entry point and AgentHandle.
#pragma once

#include <napi.h>
#include <v8.h>

#include <memory>
#include <vector>

#include "shared/port.h"

namespace agentcluster {

class AgentHandle;

// Per-environment state: the live agents to stop when the environment ends,
// and the host's AgentPorts (their events reach this thread through `hub`).
class AddonState {
 public:
  AddonState(Napi::Env env);
  ~AddonState();
  std::vector<AgentHandle*> live;
  std::unique_ptr<PortBinder> ports;
  // AgentError (src/agent/errors.ts), handed over at load by src/native.ts:
  // native errors are built as instances of it (see CodedError).
  Napi::FunctionReference error_class;
  void StopAll();
  void Teardown();  // environment cleanup: stop agents, close ports

 private:
  class HostPortOwner;
  std::shared_ptr<HostPortOwner> hub_;
  v8::Global<v8::Function> structured_clone_;  // Node's, for moving ArrayBuffers
  v8::Global<v8::Function> dom_exception_;     // Node's, for DataCloneErrors
};

}  // namespace agentcluster
