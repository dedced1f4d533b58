// Module entry: the V8 platform hand-off, the AgentHandle class, the
// host-side clone() on the same native path as agent messages, and
// per-environment teardown of live agents.
#include "shared/module_table.h"
#include <node.h>
#include <v8.h>
#include <napi.h>

#include "host/addon_state.h"
#include "host/agent_handle.h"
#include "shared/flow_control.h"
#include "shared/message.h"
#include "agent/node_snapshot.h"
#include "agent/snapshot/agent_snapshot.h"
#include "shared/v8_bridge.h"

namespace agentcluster {

// clone(value, transferList): serialize + deserialize on the host isolate.
Napi::Value Clone(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::TryCatch try_catch(isolate);
  Message message;
  v8::Local<v8::Value> result;
  if (!SerializeMessage(context, ToV8(info[0]), ToV8(info[1]), &message) ||
      !DeserializeMessage(context, &message, env.GetInstanceData<AddonState>()->ports.get())
           .ToLocal(&result)) {
    RethrowToNapi(env, try_catch);
    return env.Undefined();
  }
  return Napi::Value(env, FromV8(result));
}

// createChannel(messages, bytes): { port1, port2 } owned by this thread,
// each port's queue with that high-water mark (validated by the TS side).
Napi::Value CreateChannel(const Napi::CallbackInfo& info) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  AddonState* state = info.Env().GetInstanceData<AddonState>();
  HighWaterMark limits;
  if (info[0].IsNumber() && info[0].As<Napi::Number>().DoubleValue() >= 1) {
    limits.messages = static_cast<size_t>(info[0].As<Napi::Number>().DoubleValue());
  }
  if (info[1].IsNumber() && info[1].As<Napi::Number>().DoubleValue() >= 1) {
    limits.bytes = static_cast<size_t>(info[1].As<Napi::Number>().DoubleValue());
  }
  v8::Local<v8::Object> channel = state->ports->NewChannel(isolate->GetCurrentContext(), limits);
  if (channel.IsEmpty()) return info.Env().Undefined();
  return Napi::Value(info.Env(), FromV8(channel));
}

// setNodeSnapshotInUse(bool): false when Node runs with --no-node-snapshot.
Napi::Value SetSnapshotInUse(const Napi::CallbackInfo& info) {
  SetNodeSnapshotInUse(info[0].ToBoolean().Value());
  return info.Env().Undefined();
}

// agentSnapshotInfo(): which blob agents start from, and why (diagnostics).
Napi::Value AgentSnapshotInfoValue(const Napi::CallbackInfo& info) {
  AgentSnapshotInfo snapshot = GetAgentSnapshotInfo();
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("state", snapshot.state);
  result.Set("reason", snapshot.reason);
  result.Set("bytes", static_cast<double>(snapshot.bytes));
  result.Set("nodeBytes", static_cast<double>(snapshot.node_bytes));
  result.Set("buildMs", snapshot.build_ms);
  return result;
}

// setErrorClass(AgentError): the class native errors are constructed from.
Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  if (info[0].IsFunction()) {
    info.Env().GetInstanceData<AddonState>()->error_class = Napi::Persistent(info[0].As<Napi::Function>());
  }
  return info.Env().Undefined();
}

Napi::Value StopAll(const Napi::CallbackInfo& info) {
  info.Env().GetInstanceData<AddonState>()->StopAll();
  return info.Env().Undefined();
}

Napi::Value LiveCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(),
                           static_cast<double>(info.Env().GetInstanceData<AddonState>()->live.size()));
}

Napi::Value SharedSources(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(SharedSourceCount()));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  node::Environment* node_env = node::GetCurrentEnvironment(isolate->GetCurrentContext());
  AgentThread::SetPlatform(node::GetMultiIsolatePlatform(node_env));
  ReadCodeCacheSetting();  // getenv here, never on agent threads (F10)
  ReadAgentSnapshotSetting();

  auto* state = new AddonState(env);  // owned by the environment (SetInstanceData)
  env.SetInstanceData<AddonState>(state);
  // Cleanup hooks run when the environment ends: main-thread exit or the
  // end of a worker_thread that loaded the addon.
  env.AddCleanupHook([state]() { GuardNativeCallback([&] { state->Teardown(); }); });

  exports.Set("AgentHandle", AgentHandle::DefineClass(env));
  exports.Set("clone", Napi::Function::New(env, Clone, "clone"));
  exports.Set("createChannel", Napi::Function::New(env, CreateChannel, "createChannel"));
  exports.Set("setNodeSnapshotInUse", Napi::Function::New(env, SetSnapshotInUse, "setNodeSnapshotInUse"));
  exports.Set("agentSnapshotInfo", Napi::Function::New(env, AgentSnapshotInfoValue, "agentSnapshotInfo"));
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass, "setErrorClass"));
  exports.Set("stopAll", Napi::Function::New(env, StopAll, "stopAll"));
  exports.Set("liveCount", Napi::Function::New(env, LiveCount, "liveCount"));
  exports.Set("sharedSourceCount", Napi::Function::New(env, SharedSources, "sharedSourceCount"));
  return exports;
}

}  // namespace agentcluster

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  return agentcluster::Init(env, exports);
}

NODE_API_MODULE(agentcluster, InitAddon)
