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

#include "agent/agent_diagnostics.h"
#include "shared/agent_types.h"
#include "agent/atomics_wait.h"
#include "agent/mailbox.h"

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

  // Counters of the agent's Atomics.wait calls (see atomics_wait.h).
  using AtomicsStats = AtomicsWaitMonitor::Stats;
  AtomicsStats atomics_stats();

  // The platform every agent registers with (set once, from the first Node
  // environment that loads the addon).
  static void SetPlatform(node::MultiIsolatePlatform* platform);

 private:
  AgentThread(AgentOptions options, std::shared_ptr<AgentEventSink> sink);
  static void ThreadMain(void* arg);
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

  AtomicsWaitMonitor atomics_wait_{&terminate_requested_};

  std::mutex join_mutex_;
  uv_thread_t thread_{};
  bool joinable_ = false;
};

}  // namespace agentcluster
