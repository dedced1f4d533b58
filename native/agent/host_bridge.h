// The host bridge (issue 14): the `host` global of an agent created with
// `new Agent({ host: { fn, ... } })`. host.NAME(...) sends a kHostCall event
// through the agent's ordinary event queue (so it is bounded by the same
// high-water mark as postMessage) and returns a promise that the owner's
// answer settles; host.sync.NAME(...) blocks the agent's thread on a
// per-call slot until the answer comes, an interrupt() or a terminate.
// Arguments and answers are our structured clone (native/shared/message.h) and
// nothing else crosses: the agent only ever holds clones, never host objects.
#pragma once

#include <v8.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "shared/message.h"

namespace agentcluster {

class AgentRuntime;

// Shared by the agent thread and its owner (held by AgentOptions): the
// names the owner exposes, snapshot at creation, and the slot of the one
// sync call that can be pending (an agent blocks on one call at a time).
class HostBridge {
 public:
  // `max_in_flight` / `mark_bytes`: the agent's highWaterMark (messages,
  // bytes); they bound its unanswered async calls (HostCalls).
  HostBridge(std::vector<std::string> names, size_t max_in_flight, size_t mark_bytes)
      : names_(std::move(names)), max_in_flight_(max_in_flight < 1 ? 1 : max_in_flight),
        mark_bytes_(mark_bytes) {}
  const std::vector<std::string>& names() const { return names_; }
  size_t max_in_flight() const { return max_in_flight_; }
  size_t mark_bytes() const { return mark_bytes_; }
  uint64_t call_id_limit = 0;  // tests only: where call ids wrap (0: at 2^32)

  enum class WaitResult { kAnswered, kInterrupted, kTerminated };
  // Agent thread: opens the slot for call `id` (before the call is sent, so
  // that an answer can never come too early), then waits on it.
  void OpenSync(uint32_t id);
  WaitResult WaitSync(Message* reply);
  // Owner thread: the answer of sync call `id`; false if nobody waits for it
  // any more (interrupted, terminated), and then the answer is dropped.
  bool AnswerSync(uint32_t id, Message reply);
  // Any thread: ends a pending sync wait, which throws ERR_AGENT_INTERRUPTED.
  bool Interrupt();
  // Any thread: ends every wait, now and later (terminate).
  void Terminate();
  // Owner thread: whether sync call `id` is still waited on (checked before
  // its answer is serialized, so a dropped answer detaches nothing).
  bool waiting_for(uint32_t id) {
    std::lock_guard<std::mutex> lock(mutex_);
    return waiting_ && waiting_id_ == id && !answered_ && !interrupted_ && !terminated_;
  }
  // Whether the agent's thread is blocked in a sync call right now.
  bool waiting() {
    std::lock_guard<std::mutex> lock(mutex_);
    return waiting_ && !answered_ && !interrupted_ && !terminated_;
  }

 private:
  const std::vector<std::string> names_;
  const size_t max_in_flight_;
  const size_t mark_bytes_;
  std::mutex mutex_;
  std::condition_variable cv_;
  uint32_t waiting_id_ = 0;
  bool waiting_ = false;
  bool answered_ = false;
  bool interrupted_ = false;
  bool terminated_ = false;
  Message reply_;
};

// Agent thread: the async calls. At most `max_in_flight` are sent and
// unanswered; later ones wait here, FIFO, as JS values in the agent's own
// heap (a linked list of arrays, so its maxHeapMB bounds them), and are
// serialized only when they go out, as answers come back. The answers in
// the agent's mailbox are thus at most max_in_flight at any time.
class HostCalls {
 public:
  // host.NAME(...): sends the call now or queues it; settles `resolver`.
  void Call(AgentRuntime& runtime, v8::Local<v8::Context> context, uint32_t index,
            v8::Local<v8::Array> args, v8::Local<v8::Value> transfer,
            v8::Local<v8::Promise::Resolver> resolver);
  // The job the owner's answer posts into the mailbox; sends queued calls.
  void Settle(AgentRuntime& runtime, uint32_t id, Message reply);
  // An id not used by a call still pending (ids wrap after 2^32 calls; a
  // long-poll from then may still be waiting). 0 means "no call". At most
  // highWaterMark.messages calls are pending, far fewer than the ids.
  uint32_t NextId() {
    for (uint64_t tries = 0; tries < id_limit_; tries++) {
      next_id_ = next_id_ + 1 >= id_limit_ ? 1 : next_id_ + 1;
      if (pending_.count(static_cast<uint32_t>(next_id_)) == 0) break;
    }
    return static_cast<uint32_t>(next_id_);
  }
  size_t in_flight() const { return pending_.size(); }
  size_t queued() const { return queued_; }
  void Clear() {
    pending_.clear();
    argument_bytes_ = 0;
    head_.Reset();
    tail_.Reset();
    queued_ = 0;
  }
  // Tests only: ids wrap at `limit` instead of 2^32 (to reach the wrap quickly).
  void set_id_limit(uint64_t limit) {
    if (limit >= 2) id_limit_ = limit;
  }

 private:
  bool MaySend(AgentRuntime& runtime) const;
  // False when the agent is terminating (nothing more can go out).
  bool Send(AgentRuntime& runtime, v8::Local<v8::Context> context, uint32_t index,
            v8::Local<v8::Value> args, v8::Local<v8::Value> transfer,
            v8::Local<v8::Promise::Resolver> resolver);
  void Pump(AgentRuntime& runtime, v8::Local<v8::Context> context);

  struct Pending {
    v8::Global<v8::Promise::Resolver> resolver;
    size_t argument_bytes = 0;
  };
  std::map<uint32_t, Pending> pending_;
  // Byte bounds (highWaterMark.bytes): the arguments the host holds for
  // calls in flight, and the answers those calls may bring back. Answer
  // sizes are unknown before they come, so the window starts at 256 and
  // grows by one per answer (doubling per round trip) up to max_in_flight,
  // and never exceeds mark_bytes / (recent largest answer).
  size_t argument_bytes_ = 0;
  size_t window_ = 256;
  size_t large_answer_ = 0;  // decays: one huge answer does not slow the agent for ever
  // Queued calls: [index, args, transfer, resolver, next] arrays.
  v8::Global<v8::Array> head_;
  v8::Global<v8::Array> tail_;
  size_t queued_ = 0;
  uint64_t next_id_ = 0;
  uint64_t id_limit_ = uint64_t{1} << 32;
};

// Installs the frozen `host` global (only when the agent has a bridge).
void InstallHostBridge(AgentRuntime& runtime, v8::Local<v8::Context> context);

}  // namespace agentcluster
