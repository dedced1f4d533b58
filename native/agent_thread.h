// The OS thread behind one agent, and the state the owner shares with it.
// Owns the isolate's whole life: allocate, register with Node's platform,
// run the AgentRuntime, then drop tasks, unregister and dispose. Every
// method is safe to call from any thread.
#pragma once

#include <node.h>
#include <uv.h>
#include <v8.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>

#include "agent_diagnostics.h"
#include "agent_types.h"
#include "mailbox.h"

namespace agentcluster {

class AgentThread : public std::enable_shared_from_this<AgentThread> {
 public:
  // Starts the thread. Returns nullptr (and sets *error) if it could not start.
  static std::shared_ptr<AgentThread> Start(AgentOptions options,
                                            std::shared_ptr<AgentEventSink> sink,
                                            std::string* error);
  ~AgentThread();

  uint64_t id() const { return id_; }
  const std::shared_ptr<Mailbox>& mailbox() const { return mailbox_; }
  const std::shared_ptr<AgentDiagnostics>& diagnostics() const { return diagnostics_; }

  // Idempotent; works before the isolate exists, while JS runs, while the
  // agent is blocked in Atomics.wait, and after it ended.
  void Terminate();
  bool terminate_requested() const { return terminate_requested_.load(); }

  // Why the agent ended, as soon as its runtime stopped (before the exit
  // event reaches the owner); nullptr while it runs.
  const char* ending_reason() const { return ending_reason_.load(); }

  // Waits for the thread to end. Call after Terminate() or after kExit.
  void Join();

  // Wakes the agent if it is blocked in Atomics.wait: the wait throws an
  // Error with code ERR_AGENT_INTERRUPTED and the agent goes on. Returns
  // whether a wait was interrupted.
  bool Interrupt();

  // Counters of the agent's Atomics.wait calls (from V8's wait callback).
  struct AtomicsStats {
    uint64_t waits = 0;        // calls that actually blocked
    uint64_t woken = 0;        // ended by Atomics.notify
    uint64_t timed_out = 0;
    uint64_t not_equal = 0;    // returned "not-equal" without blocking
    uint64_t interrupted = 0;  // ended by Interrupt()
    double blocked_ms = 0;     // total time blocked
  };
  AtomicsStats atomics_stats();

  // The platform every agent registers with (set once, from the first Node
  // environment that loads the addon).
  static void SetPlatform(node::MultiIsolatePlatform* platform);

 private:
  AgentThread(AgentOptions options, std::shared_ptr<AgentEventSink> sink);
  static void ThreadMain(void* arg);
  static void OnAtomicsWait(v8::Isolate::AtomicsWaitEvent event,
                            v8::Local<v8::SharedArrayBuffer> buffer, size_t offset, int64_t value,
                            double timeout_ms, v8::Isolate::AtomicsWaitWakeHandle* handle,
                            void* data);
  void Main();

  const uint64_t id_;
  AgentOptions options_;
  std::shared_ptr<AgentEventSink> sink_;
  std::shared_ptr<Mailbox> mailbox_;
  std::shared_ptr<AgentDiagnostics> diagnostics_;
  std::shared_ptr<AgentThread> self_while_running_;  // keeps this alive until Main returns

  std::mutex isolate_mutex_;        // guards isolate_ against disposal during Terminate()
  v8::Isolate* isolate_ = nullptr;  // published while the runtime runs
  std::atomic<bool> terminate_requested_{false};
  std::atomic<const char*> ending_reason_{nullptr};

  std::mutex wait_mutex_;  // guards the fields below
  v8::Isolate::AtomicsWaitWakeHandle* wait_handle_ = nullptr;  // set while blocked
  bool wait_interrupted_ = false;
  std::chrono::steady_clock::time_point wait_started_;
  AtomicsStats atomics_stats_;

  std::mutex join_mutex_;
  uv_thread_t thread_{};
  bool joinable_ = false;
};

}  // namespace agentcluster
