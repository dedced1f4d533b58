// agent.interrupt() and agent.atomicsStats() without V8's atomics-wait
// callback (SetAtomicsWaitCallback is gone in V8 13): every agent context gets
// a native Atomics.wait that calls the engine's own and counts around it, and
// an interrupt wakes the blocked call through Isolate::RequestInterrupt.
#pragma once

#include <v8.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>

namespace agentcluster {

class AtomicsWaitMonitor {
 public:
  struct Stats {
    uint64_t waits = 0;        // calls that actually blocked
    uint64_t woken = 0;        // ended by Atomics.notify
    uint64_t timed_out = 0;
    uint64_t not_equal = 0;    // returned "not-equal" without blocking
    uint64_t interrupted = 0;  // ended by Interrupt()
    double blocked_ms = 0;     // total time blocked
  };

  // `terminate_requested` is the agent's own flag: a real termination is
  // never mistaken for (and cancelled as) an interrupt.
  explicit AtomicsWaitMonitor(const std::atomic<bool>* terminate_requested)
      : terminate_requested_(terminate_requested) {}

  // Publishes the monitor to the wrappers of `isolate` (agent thread).
  void Attach(v8::Isolate* isolate);

  // From any thread, with `isolate` kept alive by the caller: wakes the
  // agent's blocked Atomics.wait, which then throws ERR_AGENT_INTERRUPTED.
  // Returns whether the agent was inside Atomics.wait.
  bool Interrupt(v8::Isolate* isolate);

  Stats stats();

  // Replaces Atomics.wait in `context` by the counting wrapper (every
  // context of an agent, realms included). No-op without an Atomics global.
  static void Install(v8::Local<v8::Context> context);

 private:
  enum class Outcome { kReturn, kInterrupted, kRethrow };

  static void Wait(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void OnInterrupt(v8::Isolate* isolate, void* data);
  void Begin();
  Outcome End(v8::Isolate* isolate, v8::Local<v8::Value> result, bool threw);

  const std::atomic<bool>* terminate_requested_;
  std::mutex mutex_;  // guards everything below
  bool in_wait_ = false;
  bool interrupt_pending_ = false;  // Interrupt() asked, not yet delivered
  bool interrupt_delivered_ = false;  // the interrupt terminated the wait
  std::chrono::steady_clock::time_point wait_started_;
  Stats stats_;
};

}  // namespace agentcluster
