// The test262 host inside agents: `print` and `$262` (global, createRealm,
// evalScript, detachArrayBuffer, gc, IsHTMLDDA, agent) installed natively, so
// no host code runs in the test's realm. `$262.agent.start` starts real
// concurrent agents; a Test262Cluster holds what the test and its agents
// share (reports, readiness, broadcast receipts).
#pragma once

#include <v8.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/agent_thread.h"
#include "shared/agent_types.h"

namespace agentcluster {

class AgentRuntime;

struct Test262Cluster {
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::string> reports;
  // Broadcast jobs posted but not yet received (or dropped). Atomic: a
  // receipt may be released while the broadcaster holds `mutex`.
  std::atomic<int> pending_receipts{0};
};

// One child's receipt of one broadcast. Released (the count drops) when the
// child's callback is about to run, or, by the destructor, when the job or
// its pending entry is destroyed unrun: the child died or was terminated
// after accepting it, so the broadcaster stops waiting for it.
class BroadcastReceipt {
 public:
  explicit BroadcastReceipt(std::shared_ptr<Test262Cluster> cluster);
  ~BroadcastReceipt() { Release(); }
  BroadcastReceipt(const BroadcastReceipt&) = delete;
  BroadcastReceipt& operator=(const BroadcastReceipt&) = delete;
  void Release();

 private:
  std::shared_ptr<Test262Cluster> cluster_;
};

class Test262Host {
 public:
  explicit Test262Host(AgentRuntime& runtime);
  ~Test262Host();  // terminates and joins the agents the test started

  // Defines print and $262 on the context's global object.
  void Install(v8::Local<v8::Context> context);

  // A broadcast arriving in a started agent (runs on its thread).
  void ReceiveBroadcast(std::shared_ptr<v8::BackingStore> buffer, v8::Local<v8::Value> id,
                        std::shared_ptr<BroadcastReceipt> receipt);

 private:
  struct Child;
  class ChildSink;

  v8::Local<v8::Object> MakeAgentObject(v8::Local<v8::Context> context);
  void DeliverPending();
  // Waits on the cluster until `done()` or this agent is terminated.
  template <typename Predicate>
  bool WaitFor(std::unique_lock<std::mutex>& lock, Predicate done);

  static void Print(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void CreateRealm(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void EvalScript(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void DetachArrayBuffer(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void Gc(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void Start(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void Broadcast(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void GetReport(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void Sleep(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void MonotonicNow(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void ReceiveBroadcastFn(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void Report(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void Leaving(const v8::FunctionCallbackInfo<v8::Value>& info);

  AgentRuntime& runtime_;
  std::shared_ptr<Test262Cluster> cluster_;
  std::vector<std::shared_ptr<Child>> children_;  // kTest262 only
  v8::Global<v8::Function> broadcast_callback_;   // kTest262Child only
  struct PendingBroadcast {
    std::shared_ptr<v8::BackingStore> buffer;
    v8::Global<v8::Value> id;
    std::shared_ptr<BroadcastReceipt> receipt;
  };
  std::vector<PendingBroadcast> pending_;
};

// Milliseconds on the clock V8 uses for Atomics.wait timeouts (monotonic).
double MonotonicMilliseconds();

}  // namespace agentcluster
