// The agent thread's inbox: one FIFO of ready work plus a heap of delayed
// work, shared by the host, other agents, V8's task runner and timers.
// Everything here is thread-safe; only the agent thread calls Next().
#pragma once

#include <v8.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <vector>

#include "shared/flow_control.h"

namespace agentcluster {

using Clock = std::chrono::steady_clock;

class AgentRuntime;

// A unit of work for the agent thread: either a closure that receives the
// agent's runtime, or a task V8 posted through the platform.
struct WorkItem {
  std::function<void(AgentRuntime&)> job;
  std::unique_ptr<v8::Task> task;
  // Flow control: a message or evaluate request from the owner counts
  // against the mailbox's high-water mark until the agent takes it.
  bool counted = false;
  size_t weight = 0;  // bytes
};

class Mailbox {
 public:
  // Returns false (and drops the work) once the mailbox is closed.
  bool Post(WorkItem item);
  bool PostDelayed(WorkItem item, double delay_seconds);

  // Posts an owner's message (flow control, never blocks): the item counts
  // against the high-water mark until the agent takes it. Returns kRefused
  // (dropped: closed), kAccepted, or kFull (accepted, and the queue is now
  // at/over the mark: the owner should wait for the drain callback).
  enum class PostResult { kRefused, kAccepted, kFull };
  PostResult PostCounted(WorkItem item);
  // The mark, and what runs (on the agent thread, outside the lock) when a
  // queue that reached the mark falls back to the low-water mark.
  void SetFlowControl(HighWaterMark mark, std::function<void()> on_drain);
  // Counted items not yet taken by the agent.
  size_t buffered_messages() const;
  size_t buffered_bytes() const;

  // Blocks until an item is ready or the mailbox is woken/closed.
  // Returns false when woken without work (the caller re-checks its flags)
  // or closed.
  bool Next(WorkItem* out);

  // Wakes Next() without posting anything (used by terminate/close).
  void Wake();

  // The runtime's timers live in the runtime (so that clearTimeout frees an
  // entry at once); the mailbox only holds ONE wake-up for the earliest of
  // them: once `due` passes, Next() queues `job` behind the ready work.
  // Re-arming replaces the previous wake-up; Disarm() drops it.
  void ArmTimer(Clock::time_point due, std::function<void(AgentRuntime&)> job);
  void DisarmTimer();

  // Refuses new work and drops what is queued (on the calling thread, which
  // must be the agent thread while its isolate is still alive, so that V8
  // tasks are destroyed before the isolate is disposed).
  void Close();
  bool closed() const;

 private:
  struct Delayed {
    Clock::time_point due;
    uint64_t seq;
    std::shared_ptr<WorkItem> item;  // shared_ptr: priority_queue needs copyable
    bool operator>(const Delayed& other) const {
      return due != other.due ? due > other.due : seq > other.seq;
    }
  };

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<WorkItem> ready_;
  std::priority_queue<Delayed, std::vector<Delayed>, std::greater<Delayed>> delayed_;
  uint64_t seq_ = 0;
  HighWaterMark mark_;
  std::function<void()> on_drain_;
  size_t counted_messages_ = 0;
  size_t counted_bytes_ = 0;
  bool full_ = false;  // reached the mark since the last drain callback
  bool timer_armed_ = false;
  Clock::time_point timer_due_;
  std::function<void(AgentRuntime&)> timer_job_;
  bool woken_ = false;
  bool closed_ = false;
};

}  // namespace agentcluster
