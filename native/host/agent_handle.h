// The host side of one agent, as a JS class (N-API ObjectWrap). It starts the
// AgentThread, forwards messages and evaluate requests to it, and turns the
// agent's events into JS callbacks on the thread that created it.
#pragma once

#include <node.h>
#include <v8.h>
#include <napi.h>

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "agent/agent_thread.h"
#include "shared/port.h"

namespace agentcluster {

class AddonState;

class AgentHandle : public Napi::ObjectWrap<AgentHandle> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  explicit AgentHandle(const Napi::CallbackInfo& info);
  ~AgentHandle() override;

  // Terminates and joins the agent now (environment teardown, process exit).
  void StopAndJoin();

 private:
  class Sink;

  Napi::Value PostMessage(const Napi::CallbackInfo& info);
  Napi::Value Evaluate(const Napi::CallbackInfo& info);
  Napi::Value Terminate(const Napi::CallbackInfo& info);
  Napi::Value Ref(const Napi::CallbackInfo& info);
  Napi::Value Unref(const Napi::CallbackInfo& info);
  Napi::Value GetThreadId(const Napi::CallbackInfo& info);
  Napi::Value GetBufferedMessages(const Napi::CallbackInfo& info);
  Napi::Value GetBufferedBytes(const Napi::CallbackInfo& info);
  Napi::Value DrainMore(const Napi::CallbackInfo& info);
  Napi::Value HostReply(const Napi::CallbackInfo& info);
  Napi::Value HostSyncWaiting(const Napi::CallbackInfo& info);
  Napi::Value EndingReason(const Napi::CallbackInfo& info);
  Napi::Value Interrupt(const Napi::CallbackInfo& info);
  Napi::Value AtomicsStats(const Napi::CallbackInfo& info);
  Napi::Value Diagnostics(const Napi::CallbackInfo& info);
  Napi::Value CheckThreadFromForeignThread(const Napi::CallbackInfo& info);

  // An accessor that checks its receiver first: node-addon-api's
  // InstanceAccessor unwraps any `this` and throws an uncoded "Invalid
  // argument" Error for a foreign one (V8's signature check, which guards the
  // methods, does not cover accessors). data: the accessor's name.
  template <Napi::Value (AgentHandle::*Getter)(const Napi::CallbackInfo&)>
  static Napi::Value CheckedGetter(const Napi::CallbackInfo& info);
  // The AgentHandle `info.This()` is, or nullptr with ERR_INVALID_THIS pending.
  static AgentHandle* FromReceiver(const Napi::CallbackInfo& info, const char* member);

  bool CheckThread(Napi::Env env) const;
  void DrainEvents(Napi::Env env);
  void Finish();

  std::thread::id owner_thread_;
  AddonState* state_ = nullptr;
  std::shared_ptr<Sink> sink_;
  std::shared_ptr<AgentThread> thread_;
  std::shared_ptr<HostBridge> bridge_;  // set when the agent has a `host` bridge
  Napi::FunctionReference on_event_;
  Napi::ObjectReference self_ref_;  // keeps the wrapper alive while the agent runs
  Napi::ThreadSafeFunction wakeup_;
  bool finished_ = false;
};

}  // namespace agentcluster
