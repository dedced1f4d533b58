// Everything that runs on an agent's thread once its isolate exists: the
// context and its globals, the event loop over the mailbox, timers, message
// listeners, evaluate requests, uncaught-error and out-of-memory handling.
// One instance per agent, used only on that agent's thread.
#pragma once

#include <v8.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <map>
#include <memory>
#include <vector>

#include "shared/agent_types.h"
#include "agent/host_bridge.h"
#include "agent/mailbox.h"
#include "agent/module_loader.h"
#include "shared/port.h"
#include "agent/test262_host.h"
#include "agent/web/web_realm.h"

namespace agentcluster {

class AgentRuntime {
 public:
  AgentRuntime(v8::Isolate* isolate, const AgentOptions& options,
               std::shared_ptr<AgentEventSink> sink, std::shared_ptr<Mailbox> mailbox,
               const std::atomic<bool>& terminate_requested);
  ~AgentRuntime();
  AgentRuntime(const AgentRuntime&) = delete;
  AgentRuntime& operator=(const AgentRuntime&) = delete;

  static AgentRuntime* From(v8::Isolate* isolate);

  // Evaluates the entry script/module, then runs the event loop until the
  // agent closes, is terminated, fails or runs out of memory.
  void Run();
  ExitReason exit_reason() const { return exit_reason_; }
  int exit_code() const;

  v8::Isolate* isolate() const { return isolate_; }
  v8::Local<v8::Context> context() const { return context_.Get(isolate_); }
  const AgentOptions& options() const { return options_; }
  ModuleLoader& modules() { return *modules_; }
  Test262Host* test262() { return test262_.get(); }
  PortBinder* ports() { return ports_.get(); }
  // The web globals; null in test262 agents (they do not have them).
  WebRealm* web() { return web_.get(); }
  HostCalls& host_calls() { return host_calls_; }
  const std::shared_ptr<AgentEventSink>& sink() const { return sink_; }
  const std::shared_ptr<Mailbox>& mailbox() const { return mailbox_; }
  // True once the agent must stop (terminate, close, failure, out of memory).
  bool terminating() const { return ShouldStop(); }
  double MillisecondsSinceStart() const;

  // Called from the globals.
  void Send(AgentEvent event) { sink_->Deliver(std::move(event)); }
  // Flow control before a Send() of a message or console text: waits while
  // the owner's queue is full. False if the agent was terminated meanwhile;
  // termination has then been enforced (HaltIfTerminated) and the caller
  // must return to JS at once.
  bool WaitForRoom();
  // For native functions that block (waits, sleeps, broadcasts): if the
  // agent is being terminated, makes the termination take effect now, so
  // that not one more line of JS runs once the native call returns. Returns
  // true when it did (the caller returns without touching JS).
  bool HaltIfTerminated();
  void RequestClose();
  uint32_t AddTimer(v8::Local<v8::Function> callback, std::vector<v8::Local<v8::Value>> args,
                    double delay_ms, bool repeat);
  void ClearTimer(uint32_t id);
  void AddMessageListener(v8::Local<v8::Function> listener);
  void RemoveMessageListener(v8::Local<v8::Function> listener);

  // An exception nobody caught: reported to the owner, then the agent stops.
  void ReportUncaught(v8::Local<v8::Value> exception);

  // Jobs posted by the owner.
  void DispatchMessage(Message message);
  void Evaluate(uint32_t id, const std::string& source);
  void DispatchPortEvent(const std::shared_ptr<PortEndpoint>& port, uint64_t ticket);

 private:
  struct Timer {
    v8::Global<v8::Function> callback;
    std::vector<v8::Global<v8::Value>> args;
    double delay_ms;
    bool repeat;
    std::pair<Clock::time_point, uint64_t> key;  // its place in due_
  };

  bool ShouldStop() const;
  void RunItem(WorkItem& item);
  void AfterTask();
  bool EvaluateEntry();
  void ScheduleTimer(uint32_t id, Timer& timer);
  void ArmEarliestTimer();
  void RunDueTimer();
  void SendEvalResult(uint32_t id, bool ok, v8::Local<v8::Value> value);

  static size_t OnNearHeapLimit(void* data, size_t current_limit, size_t initial_limit);
  // After a near-limit call made while the heap was mostly empty: the agent
  // is stopped only if the heap really outgrew its limit.
  static void CheckHeapAfterLargeAllocation(v8::Isolate* isolate, void* data);
  void StopForHeapLimit();
  static void OnPromiseReject(v8::PromiseRejectMessage message);
  static void OnMessage(v8::Local<v8::Message> message, v8::Local<v8::Value> error);
  static void OnEvalFulfilled(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void OnEvalRejected(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void OnEvalSettled(const v8::FunctionCallbackInfo<v8::Value>& info, bool ok);
  static void OnEntrySettled(const v8::FunctionCallbackInfo<v8::Value>& info);

  v8::Isolate* isolate_;
  const AgentOptions& options_;
  std::shared_ptr<AgentEventSink> sink_;
  std::shared_ptr<Mailbox> mailbox_;
  const std::atomic<bool>& terminate_requested_;
  std::chrono::steady_clock::time_point start_time_;

  v8::Global<v8::Context> context_;
  v8::Global<v8::Function> halt_probe_;  // an empty JS function (HaltIfTerminated)
  std::unique_ptr<ModuleLoader> modules_;
  std::unique_ptr<Test262Host> test262_;
  std::shared_ptr<PortOwner> port_owner_;
  std::unique_ptr<PortBinder> ports_;
  std::unique_ptr<WebRealm> web_;
  HostCalls host_calls_;  // async host.NAME() calls awaiting their answer
  ErrorPhase entry_phase_ = ErrorPhase::kRuntime;  // where the entry failed
  std::vector<v8::Global<v8::Function>> message_listeners_;
  // Live timers by id, and the same ordered by (due time, creation order):
  // clearTimeout erases both at once, so a cleared timer costs nothing.
  std::map<uint32_t, Timer> timers_;
  std::map<std::pair<Clock::time_point, uint64_t>, uint32_t> due_;
  uint32_t next_timer_id_ = 1;
  uint64_t next_timer_seq_ = 0;
  std::vector<std::pair<v8::Global<v8::Promise>, v8::Global<v8::Value>>> unhandled_rejections_;

  bool stopping_ = false;
  bool out_of_memory_ = false;
  bool heap_check_pending_ = false;  // CheckHeapAfterLargeAllocation requested, not run
  size_t initial_heap_limit_ = 0;  // V8's, as the near-limit callback reports it
  // The last near-limit call made on a mostly empty heap (V8 14+).
  std::optional<std::chrono::steady_clock::time_point> last_empty_heap_call_;
  ExitReason exit_reason_ = ExitReason::kClosed;
};

}  // namespace agentcluster
