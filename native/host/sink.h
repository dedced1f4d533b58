// AgentHandle::Sink: the host end of one agent's event queue. Owned (shared)
// by its AgentHandle and the agent's AgentThread; Deliver/WaitForRoom are
// called on the agent's thread, Take/Close on the handle's owner thread.
#pragma once

#include <napi.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "host/agent_handle.h"
#include "shared/agent_types.h"
#include "shared/flow_control.h"

namespace agentcluster {

// Collects events on the agent's thread and wakes the owner's thread once
// per batch (never per message, never by polling). Flow control: the queue
// has a high-water mark; the agent's postMessage/console wait in
// WaitForRoom() while it is reached, and the host takes at most a bounded
// batch per callback (the rest on the next turn of its event loop).
class AgentHandle::Sink final : public AgentEventSink {
 public:
  explicit Sink(HighWaterMark mark) : mark_(mark) {}

  void Deliver(AgentEvent event) override;
  bool WaitForRoom() override;
  void WakeBlocked() override;

  // The owner is gone (finished): refuse further events, release waiters.
  void Close();

  // At most one bounded batch, oldest first. *more: events are left, and the
  // caller must come back for them (no further wake-up is sent meanwhile).
  std::vector<AgentEvent> Take(bool* more);

  std::weak_ptr<Sink> self_;
  Napi::ThreadSafeFunction wakeup_;
  AgentHandle* handle_ = nullptr;  // cleared on the owner thread when the handle finishes

 private:
  const HighWaterMark mark_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<AgentEvent> events_;
  size_t queued_bytes_ = 0;
  bool scheduled_ = false;  // a drain is due (wake-up sent or more to take)
  bool woken_ = false;      // terminate: WaitForRoom() returns false from now on
  bool closed_ = false;
};

}  // namespace agentcluster
