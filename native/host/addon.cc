// Module entry: the V8 platform hand-off, the AgentHandle class, the
// host-side clone() on the same native path as agent messages, and
// per-environment teardown of live agents.
#include "shared/module_table.h"
#include <node.h>
#include <v8.h>
#include <napi.h>

#include "host/addon_state.h"
#include "host/agent_handle.h"
#include "host/native_args.h"
#include "shared/flow_control.h"
#include "shared/message.h"
#include "agent/node_snapshot.h"
#include "agent/snapshot/agent_snapshot.h"
#include "shared/v8_bridge.h"

namespace agentcluster {

namespace {

// The arguments of each export, by named index (see host/native_args.h).
// Exports without arguments (stopAll, liveCount...) ignore any they are given.
namespace clone_args {
enum : size_t { kValue, kTransfer };
// The transfer list's own checks (an array of transferables) are SerializeMessage's.
constexpr ArgSpec kArgs[] = {{"value", ArgType::kAny}, {"transfer", ArgType::kAny, true}};
constexpr Signature kSignature = DeclareArgs("clone", kArgs);
}  // namespace clone_args

namespace create_channel_args {
enum : size_t { kMessages, kBytes };
constexpr ArgSpec kArgs[] = {{"messages", ArgType::kNumber}, {"bytes", ArgType::kNumber}};
constexpr Signature kSignature = DeclareArgs("createChannel", kArgs);
}  // namespace create_channel_args

namespace set_snapshot_in_use_args {
enum : size_t { kInUse };
constexpr ArgSpec kArgs[] = {{"inUse", ArgType::kBoolean}};
constexpr Signature kSignature = DeclareArgs("setNodeSnapshotInUse", kArgs);
}  // namespace set_snapshot_in_use_args

namespace set_semi_space_flag_args {
enum : size_t { kGiven };
constexpr ArgSpec kArgs[] = {{"given", ArgType::kBoolean}};
constexpr Signature kSignature = DeclareArgs("setSemiSpaceFlagGiven", kArgs);
}  // namespace set_semi_space_flag_args

namespace set_error_class_args {
enum : size_t { kErrorClass };
constexpr ArgSpec kArgs[] = {{"errorClass", ArgType::kFunction}};
constexpr Signature kSignature = DeclareArgs("setErrorClass", kArgs);
}  // namespace set_error_class_args

}  // namespace

// clone(value, transferList): serialize + deserialize on the host isolate.
Napi::Value Clone(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckArgs(info, clone_args::kSignature)) return env.Undefined();
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::TryCatch try_catch(isolate);
  Message message;
  v8::Local<v8::Value> result;
  if (!SerializeMessage(context, ToV8(info[clone_args::kValue]), ToV8(info[clone_args::kTransfer]), &message) ||
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
  if (!CheckArgs(info, create_channel_args::kSignature)) return info.Env().Undefined();
  // Positive safe integers, as src/flow-control.ts toHighWaterMark passes them.
  constexpr uint64_t kMaxSafeInteger = (uint64_t{1} << 53) - 1;
  uint64_t messages = 0;
  uint64_t bytes = 0;
  if (!ReadIntegerArg(info, create_channel_args::kSignature.callee, "messages", create_channel_args::kMessages, 1,
                      kMaxSafeInteger, &messages) ||
      !ReadIntegerArg(info, create_channel_args::kSignature.callee, "bytes", create_channel_args::kBytes, 1,
                      kMaxSafeInteger, &bytes)) {
    return info.Env().Undefined();
  }
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  AddonState* state = info.Env().GetInstanceData<AddonState>();
  HighWaterMark limits;
  limits.messages = static_cast<size_t>(messages);
  limits.bytes = static_cast<size_t>(bytes);
  v8::Local<v8::Object> channel = state->ports->NewChannel(isolate->GetCurrentContext(), limits);
  if (channel.IsEmpty()) return info.Env().Undefined();
  return Napi::Value(info.Env(), FromV8(channel));
}

// setNodeSnapshotInUse(bool): false when Node runs with --no-node-snapshot.
Napi::Value SetSnapshotInUse(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, set_snapshot_in_use_args::kSignature)) return info.Env().Undefined();
  SetNodeSnapshotInUse(info[set_snapshot_in_use_args::kInUse].As<Napi::Boolean>().Value());
  return info.Env().Undefined();
}

// setSemiSpaceFlagGiven(bool): true when Node runs with --max-semi-space-size.
Napi::Value SetSemiSpaceFlag(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, set_semi_space_flag_args::kSignature)) return info.Env().Undefined();
  SetSemiSpaceFlagGiven(info[set_semi_space_flag_args::kGiven].As<Napi::Boolean>().Value());
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
  if (!CheckArgs(info, set_error_class_args::kSignature)) return info.Env().Undefined();
  info.Env().GetInstanceData<AddonState>()->error_class =
      Napi::Persistent(info[set_error_class_args::kErrorClass].As<Napi::Function>());
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
  exports.Set("setSemiSpaceFlagGiven", Napi::Function::New(env, SetSemiSpaceFlag, "setSemiSpaceFlagGiven"));
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
