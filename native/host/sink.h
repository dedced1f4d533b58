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

  void Deliver(AgentEvent event) override {
    bool schedule;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closed_) return;  // the owner finished: nobody will read it
      queued_bytes_ += event.weight();
      events_.push_back(std::move(event));
      schedule = !scheduled_;
      scheduled_ = true;
    }
    if (schedule) {
      std::shared_ptr<Sink> self = self_.lock();
      if (self) {
        wakeup_.NonBlockingCall([self](Napi::Env env, Napi::Function) {
          GuardNativeCallback([&] {
            if (static_cast<napi_env>(env) != nullptr && self->handle_ != nullptr) {
              self->handle_->DrainEvents(env);
            }
          });
        });
      }
    }
  }

  bool WaitForRoom() override {
    std::unique_lock<std::mutex> lock(mutex_);
    if (mark_.Reached(events_.size(), queued_bytes_)) {
      cv_.wait(lock, [&] {
        return woken_ || closed_ || mark_.Drained(events_.size(), queued_bytes_);
      });
    }
    return !woken_ && !closed_;
  }

  void WakeBlocked() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      woken_ = true;
    }
    cv_.notify_all();
  }

  // The owner is gone (finished): refuse further events, release waiters.
  void Close() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed_ = true;
      events_.clear();
      queued_bytes_ = 0;
    }
    cv_.notify_all();
  }

  // At most one bounded batch, oldest first. *more: events are left, and the
  // caller must come back for them (no further wake-up is sent meanwhile).
  std::vector<AgentEvent> Take(bool* more) {
    std::vector<AgentEvent> taken;
    bool wake_senders = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      size_t bytes = 0;
      while (!events_.empty() && taken.size() < kMaxEventsPerDrain &&
             (taken.empty() || bytes + events_.front().weight() <= kMaxBytesPerDrain)) {
        size_t weight = events_.front().weight();
        bytes += weight;
        queued_bytes_ -= weight;
        taken.push_back(std::move(events_.front()));
        events_.pop_front();
      }
      *more = !events_.empty();
      if (!*more) scheduled_ = false;
      wake_senders = !taken.empty() && mark_.Drained(events_.size(), queued_bytes_);
    }
    if (wake_senders) cv_.notify_all();
    return taken;
  }

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
