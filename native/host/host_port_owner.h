// AddonState::HostPortOwner: serves the host thread's AgentPorts. Owned
// (shared) by AddonState and the ports' PortBinder; Schedule is called from
// any thread, Drain/Release on the environment's thread.
#pragma once

#include <napi.h>
#include <v8.h>

#include <deque>
#include <memory>
#include <mutex>
#include <utility>

#include "host/addon_state.h"
#include "host/raw_napi.h"
#include "shared/flow_control.h"
#include "shared/port.h"
#include "shared/v8_bridge.h"

namespace agentcluster {

// Port events for host-owned ports: ports with work are queued from any
// thread and served on the environment's thread, a bounded amount per
// wake-up (then it yields to the event loop, so that timers and I/O keep
// running under any flood). Unref'd: open ports do not keep the process
// alive (agents do).
class AddonState::HostPortOwner final : public PortOwner,
                                        public std::enable_shared_from_this<HostPortOwner> {
 public:
  static constexpr size_t kMaxEventsPerWakeup = kMaxEventsPerDrain;
  static constexpr double kMaxMillisecondsPerWakeup = 2;

  explicit HostPortOwner(Napi::Env env);

  // Any thread: `port` has an event; wakes the environment's thread once.
  void Schedule(std::shared_ptr<PortEndpoint> port, uint64_t ticket) override;

  // Environment thread: dispatches a bounded amount round-robin, then yields.
  void Drain(Napi::Env env);

  // Environment teardown: drops queued work and the JS references.
  void Release();

  PortBinder* binder = nullptr;

 private:
  // setImmediate(drain). Not NonBlockingCall: the threadsafe function runs
  // calls queued during its own callback in the same turn of the loop.
  bool DrainOnNextTurn(Napi::Env env);

  void Wake();

  std::mutex mutex_;
  std::deque<std::pair<std::shared_ptr<PortEndpoint>, uint64_t>> ready_;
  Napi::ThreadSafeFunction wakeup_;
  Napi::FunctionReference set_immediate_;
  Napi::FunctionReference drain_;
  bool wake_pending_ = false;
  bool released_ = false;
};

}  // namespace agentcluster
