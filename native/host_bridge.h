// The host bridge (issue 14): the `host` global of an agent created with
// `new Agent({ host: { fn, ... } })`. host.NAME(...) sends a kHostCall event
// through the agent's ordinary event queue (so it is bounded by the same
// high-water mark as postMessage) and returns a promise that the owner's
// answer settles; host.sync.NAME(...) blocks the agent's thread on a
// per-call slot until the answer comes, an interrupt() or a terminate.
// Arguments and answers are our structured clone (native/message.h) and
// nothing else crosses: the agent only ever holds clones, never host objects.
#pragma once

#include <v8.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "message.h"

namespace agentcluster {

class AgentRuntime;

// Shared by the agent thread and its owner (held by AgentOptions): the
// names the owner exposes, snapshot at creation, and the slot of the one
// sync call that can be pending (an agent blocks on one call at a time).
class HostBridge {
 public:
  explicit HostBridge(std::vector<std::string> names) : names_(std::move(names)) {}
  const std::vector<std::string>& names() const { return names_; }

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
  // Whether the agent's thread is blocked in a sync call right now.
  bool waiting() {
    std::lock_guard<std::mutex> lock(mutex_);
    return waiting_ && !answered_ && !interrupted_ && !terminated_;
  }

 private:
  const std::vector<std::string> names_;
  std::mutex mutex_;
  std::condition_variable cv_;
  uint32_t waiting_id_ = 0;
  bool waiting_ = false;
  bool answered_ = false;
  bool interrupted_ = false;
  bool terminated_ = false;
  Message reply_;
};

// Agent thread: the async calls waiting for an answer (owned by the runtime,
// released before its isolate).
class HostCalls {
 public:
  uint32_t NextId() {
    if (++next_id_ == 0) ++next_id_;  // 0 means "no call"
    return next_id_;
  }
  void Add(uint32_t id, v8::Isolate* isolate, v8::Local<v8::Promise::Resolver> resolver) {
    pending_[id].Reset(isolate, resolver);
  }
  // The job the owner's answer posts into the mailbox.
  void Settle(AgentRuntime& runtime, uint32_t id, Message reply);
  void Clear() { pending_.clear(); }

 private:
  std::map<uint32_t, v8::Global<v8::Promise::Resolver>> pending_;
  uint32_t next_id_ = 0;
};

// Installs the frozen `host` global (only when the agent has a bridge).
void InstallHostBridge(AgentRuntime& runtime, v8::Local<v8::Context> context);

}  // namespace agentcluster
