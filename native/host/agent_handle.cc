#include "host/agent_handle.h"

#include <algorithm>

#include "agent/agent_runtime.h"
#include "agent/host_bridge.h"
#include "host/addon_state.h"
#include "host/agent_options_reader.h"
#include "host/coded_error.h"
#include "host/event_batch.h"
#include "host/native_args.h"
#include "host/raw_napi.h"
#include "host/sink.h"
#include "shared/flow_control.h"
#include "shared/v8_bridge.h"
#include "shared/v8_util.h"

namespace agentcluster {

namespace {

// The arguments of each AgentHandle entry point, by named index (see
// native_args.h). Entry points without arguments ignore any they are given.
namespace constructor_args {
enum : size_t { kOptions, kOnEvents };
constexpr ArgSpec kArgs[] = {{"options", ArgType::kObject}, {"onEvents", ArgType::kFunction}};
constexpr Signature kSignature = DeclareArgs("AgentHandle", kArgs);
}  // namespace constructor_args

namespace post_message_args {
enum : size_t { kValue, kTransfer };
// The transfer list's own checks (an array of transferables) are SerializeMessage's.
constexpr ArgSpec kArgs[] = {{"value", ArgType::kAny}, {"transfer", ArgType::kAny, true}};
constexpr Signature kSignature = DeclareArgs("AgentHandle.postMessage", kArgs);
}  // namespace post_message_args

namespace evaluate_args {
enum : size_t { kId, kSource };
constexpr ArgSpec kArgs[] = {{"id", ArgType::kNumber}, {"source", ArgType::kString}};
constexpr Signature kSignature = DeclareArgs("AgentHandle.evaluate", kArgs);
}  // namespace evaluate_args

namespace host_reply_args {
enum : size_t { kId, kSync, kAnswer, kTransfer };
constexpr ArgSpec kArgs[] = {{"id", ArgType::kNumber},
                             {"sync", ArgType::kBoolean},
                             {"answer", ArgType::kAny},
                             {"transfer", ArgType::kAny, true}};
constexpr Signature kSignature = DeclareArgs("AgentHandle.hostReply", kArgs);
}  // namespace host_reply_args

// diagnostics(op, ...numbers): the numbers each op takes (src/agent/diagnostics.ts).
namespace diagnostics_args {
enum : size_t { kOp };  // the numbers follow it (read by AgentDiagnostics::HostCall)
constexpr ArgSpec kOpOnly[] = {{"op", ArgType::kString}};
constexpr ArgSpec kPost[] = {{"op", ArgType::kString}, {"kind", ArgType::kNumber}, {"id", ArgType::kNumber}};
constexpr ArgSpec kAck[] = {{"op", ArgType::kString}, {"bytes", ArgType::kNumber}};
constexpr ArgSpec kCancel[] = {{"op", ArgType::kString}, {"id", ArgType::kNumber}};
constexpr const char* kCallee = "AgentHandle.diagnostics";
}  // namespace diagnostics_args

// Ids travel as uint32 (evaluate and host-call ids both).
constexpr uint64_t kMaxId = 4294967295u;

// Marks every AgentHandle this addon built, so that an accessor can tell one
// from any other object (a fake with AgentHandle.prototype, or an object
// another addon wrapped, whose napi_unwrap would yield a foreign pointer).
constexpr napi_type_tag kAgentHandleTag = {0x6167656e74636c75u, 0x48616e646c653031u};

}  // namespace

Napi::Function AgentHandle::DefineClass(Napi::Env env) {
  Napi::Function constructor = Napi::ObjectWrap<AgentHandle>::DefineClass(
      env, "AgentHandle",
      {
          InstanceMethod<&AgentHandle::PostMessage>("postMessage"),
          InstanceMethod<&AgentHandle::Evaluate>("evaluate"),
          InstanceMethod<&AgentHandle::Terminate>("terminate"),
          InstanceMethod<&AgentHandle::Ref>("ref"),
          InstanceMethod<&AgentHandle::Interrupt>("interrupt"),
          InstanceMethod<&AgentHandle::AtomicsStats>("atomicsStats"),
          InstanceMethod<&AgentHandle::Diagnostics>("diagnostics"),
          InstanceMethod<&AgentHandle::Unref>("unref"),
          InstanceMethod<&AgentHandle::CheckThreadFromForeignThread>("checkThreadFromForeignThread"),
          InstanceMethod<&AgentHandle::DrainMore>("drainEvents"),
          InstanceMethod<&AgentHandle::HostReply>("hostReply"),
          InstanceMethod<&AgentHandle::HostSyncWaiting>("hostSyncWaiting"),
          InstanceMethod<&AgentHandle::EndingReason>("endingReason"),
      });
  // The accessors go on the prototype by hand, each with a receiver check (CheckedGetter).
  using Napi::PropertyDescriptor;
  constructor.Get("prototype").As<Napi::Object>().DefineProperties({
      PropertyDescriptor::Accessor<CheckedGetter<&AgentHandle::GetThreadId>>(
          "threadId", napi_default, const_cast<char*>("threadId")),
      PropertyDescriptor::Accessor<CheckedGetter<&AgentHandle::GetBufferedMessages>>(
          "bufferedMessages", napi_default, const_cast<char*>("bufferedMessages")),
      PropertyDescriptor::Accessor<CheckedGetter<&AgentHandle::GetBufferedBytes>>(
          "bufferedBytes", napi_default, const_cast<char*>("bufferedBytes")),
  });
  return constructor;
}

AgentHandle* AgentHandle::FromReceiver(const Napi::CallbackInfo& info, const char* member) {
  napi_env env = info.Env();
  napi_value receiver = info.This();
  bool tagged = false;
  void* unwrapped = nullptr;
  // Raw calls: none of them throws; a non-object receiver fails the tag check.
  if (napi_check_object_type_tag(env, receiver, &kAgentHandleTag, &tagged) == napi_ok && tagged &&
      napi_unwrap(env, receiver, &unwrapped) == napi_ok && unwrapped != nullptr) {
    return static_cast<AgentHandle*>(unwrapped);
  }
  // V8 says "Illegal invocation" for the methods (uncoded); the same words, with a code.
  ThrowArgError(info.Env(), "ERR_INVALID_THIS",
                std::string("Illegal invocation: AgentHandle.") + member + " read on an object that is not an AgentHandle");
  return nullptr;
}

template <Napi::Value (AgentHandle::*Getter)(const Napi::CallbackInfo&)>
Napi::Value AgentHandle::CheckedGetter(const Napi::CallbackInfo& info) {
  AgentHandle* handle = FromReceiver(info, static_cast<const char*>(info.Data()));
  return handle ? (handle->*Getter)(info) : info.Env().Undefined();
}

AgentHandle::AgentHandle(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<AgentHandle>(info), owner_thread_(std::this_thread::get_id()) {
  Napi::Env env = info.Env();
  // First: the object is already wrapped (ObjectWrap's constructor), and the
  // accessors take only tagged objects (FromReceiver).
  if (napi_type_tag_object(env, info.This(), &kAgentHandleTag) != napi_ok) {
    CodedError(env, "ERR_AGENT_START_FAILED", "could not tag the AgentHandle").ThrowAsJavaScriptException();
    return;
  }
  if (!CheckArgs(info, constructor_args::kSignature)) return;
  Napi::Object options = info[constructor_args::kOptions].As<Napi::Object>();
  AgentOptions agent_options;
  if (!ReadAgentOptions(env, options, &agent_options)) return;
  bridge_ = agent_options.host_bridge;

  // The entry data is serialized now, but its transfer list moves only once
  // the thread is running: a failed start detaches nothing.
  Message data;
  PendingTransfer pending_data;
  bool has_data = false;
  if (options.Has("data") && !options.Get("data").IsUndefined()) {
    v8::Isolate* isolate = v8::Isolate::GetCurrent();
    v8::TryCatch try_catch(isolate);
    SerializeOptions serialize;
    serialize.defer = &pending_data;
    if (!SerializeMessage(isolate->GetCurrentContext(), ToV8(options.Get("data")),
                          ToV8(options.Get("dataTransfer")), &data, serialize)) {
      RethrowToNapi(env, try_catch);
      return;
    }
    has_data = true;
  }
  auto entry_data = std::make_shared<EntryData>();
  agent_options.entry_data = entry_data;

  const HighWaterMark high_water_mark = ReadHighWaterMark(options);
  sink_ = std::make_shared<Sink>(high_water_mark);
  sink_->self_ = sink_;
  sink_->handle_ = this;
  Napi::Function on_events = info[constructor_args::kOnEvents].As<Napi::Function>();
  on_event_ = Napi::Persistent(on_events);
  wakeup_ = Napi::ThreadSafeFunction::New(env, on_events, "agentcluster.agent",
                                          0, 1);
  sink_->wakeup_ = wakeup_;
  // Every N-API call that can fail comes before the thread starts: in a
  // worker_thread whose environment is terminating they all fail (and throw),
  // and a throw after the start would leave a running thread that no one
  // joins, delivering to a freed ThreadSafeFunction.
  self_ref_ = Napi::Persistent(info.This().As<Napi::Object>());
  AddonState* state = env.GetInstanceData<AddonState>();

  std::string error;
  thread_ = AgentThread::Start(std::move(agent_options), sink_, &error);
  if (!thread_) {
    sink_->handle_ = nullptr;
    wakeup_.Release();
    self_ref_.Reset();
    CodedError(env, "ERR_AGENT_START_FAILED", error).ThrowAsJavaScriptException();
    return;
  }
  pending_data.Commit();
  entry_data->Open(std::move(data), has_data);
  // The mailbox's mark is the same option; falling back to low water after
  // reaching it sends a 'drain' event (from the agent's thread).
  std::weak_ptr<Sink> weak_sink = sink_;
  thread_->mailbox()->SetFlowControl(high_water_mark, [weak_sink] {
    if (std::shared_ptr<Sink> sink = weak_sink.lock()) {
      AgentEvent event;
      event.kind = AgentEvent::Kind::kDrain;
      sink->Deliver(std::move(event));
    }
  });
  state_ = state;
  state_->live.push_back(this);
}

AgentHandle::~AgentHandle() {
  // A finalizer: nothing may throw out of it.
  GuardNativeCallback([&] {
    if (!finished_ && thread_) StopAndJoin();
  });
}

bool AgentHandle::CheckThread(Napi::Env env) const {
  if (std::this_thread::get_id() == owner_thread_) return true;
  CodedError(env, "ERR_AGENT_WRONG_THREAD",
             "This Agent handle belongs to the thread that created it; use it only there")
      .ThrowAsJavaScriptException();
  return false;
}

Napi::Value AgentHandle::CheckThreadFromForeignThread(const Napi::CallbackInfo& info) {
  // Test hook: would a call arriving on another OS thread be refused?
  bool refused = false;
  std::thread probe([&] { refused = std::this_thread::get_id() != owner_thread_; });
  probe.join();
  return Napi::Boolean::New(info.Env(), refused);
}

Napi::Value AgentHandle::PostMessage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckThread(env) || !CheckArgs(info, post_message_args::kSignature)) return env.Undefined();
  // Refuse before serializing, so that a refused message detaches nothing.
  // 0: refused (the caller throws ERR_AGENT_CLOSED / _TERMINATED); never a
  // plain `false`, which means "queued, but at the high-water mark".
  // Once terminate() was called the agent runs no more JS and would drop the
  // message with its moved buffers: refuse it too (the caller keeps them).
  if (finished_ || thread_->terminate_requested() || thread_->mailbox()->closed()) {
    return Napi::Number::New(env, 0);
  }
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  v8::TryCatch try_catch(isolate);
  auto message = std::make_shared<Message>();
  if (!SerializeMessage(isolate->GetCurrentContext(), ToV8(info[post_message_args::kValue]),
                        ToV8(info[post_message_args::kTransfer]), message.get())) {
    RethrowToNapi(env, try_catch);
    return env.Undefined();
  }
  WorkItem item;
  item.weight = message->bytes.size;
  item.job = [message](AgentRuntime& runtime) { runtime.DispatchMessage(std::move(*message)); };
  // Accepted: if the agent closes in the meantime the message is dropped, as
  // any message still queued when an agent ends (its buffers already moved).
  // 2: accepted, and the mailbox is now at its high-water mark.
  Mailbox::PostResult result = thread_->mailbox()->PostCounted(std::move(item));
  return Napi::Number::New(env, result == Mailbox::PostResult::kFull ? 2 : 1);
}

Napi::Value AgentHandle::GetBufferedMessages(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(),
                           thread_ ? static_cast<double>(thread_->mailbox()->buffered_messages()) : 0);
}

Napi::Value AgentHandle::GetBufferedBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(),
                           thread_ ? static_cast<double>(thread_->mailbox()->buffered_bytes()) : 0);
}

Napi::Value AgentHandle::DrainMore(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckThread(env)) return env.Undefined();
  if (!finished_) DrainEvents(env);
  return env.Undefined();
}

Napi::Value AgentHandle::Evaluate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckThread(env) || !CheckArgs(info, evaluate_args::kSignature)) return env.Undefined();
  uint64_t id = 0;
  if (!ReadIntegerArg(info, evaluate_args::kSignature.callee, "id", evaluate_args::kId, 0, kMaxId, &id)) {
    return env.Undefined();
  }
  // Refused as postMessage is (the caller rejects with ERR_AGENT_TERMINATED /
  // _CLOSED): once terminate() was called the agent runs no more JS, and the
  // evaluation would only wait for the exit to be rejected.
  if (finished_ || !thread_ || thread_->terminate_requested() || thread_->mailbox()->closed()) {
    return Napi::Boolean::New(env, false);
  }
  std::string source = info[evaluate_args::kSource].As<Napi::String>().Utf8Value();
  WorkItem item;
  item.weight = source.size();
  item.job = [id = static_cast<uint32_t>(id), source](AgentRuntime& runtime) { runtime.Evaluate(id, source); };
  return Napi::Boolean::New(
      env, thread_->mailbox()->PostCounted(std::move(item)) != Mailbox::PostResult::kRefused);
}

// hostReply(id, sync, answer, transferList): the answer of host call `id`,
// [status, payload] (src/agent/host-bridge.ts), serialized here on the host
// (a DataCloneError or a getter's exception is thrown to the caller, which
// then answers with that error instead). Returns whether it was delivered.
Napi::Value AgentHandle::HostReply(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckThread(env) || !CheckArgs(info, host_reply_args::kSignature)) return env.Undefined();
  uint64_t wide_id = 0;
  if (!ReadIntegerArg(info, host_reply_args::kSignature.callee, "id", host_reply_args::kId, 0, kMaxId, &wide_id)) {
    return env.Undefined();
  }
  const uint32_t id = static_cast<uint32_t>(wide_id);
  if (!bridge_) return Napi::Boolean::New(env, false);
  bool sync = info[host_reply_args::kSync].As<Napi::Boolean>().Value();
  if (finished_ || thread_->terminate_requested() || thread_->mailbox()->closed()) {
    return Napi::Boolean::New(env, false);  // nobody is left to read it: detach nothing
  }
  // An interrupted sync call's answer is dropped: check before serializing, so
  // that its transfer list detaches nothing (the host keeps its buffers).
  if (sync && !bridge_->waiting_for(id)) return Napi::Boolean::New(env, false);
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  v8::TryCatch try_catch(isolate);
  auto message = std::make_shared<Message>();
  if (!SerializeMessage(isolate->GetCurrentContext(), ToV8(info[host_reply_args::kAnswer]),
                        ToV8(info[host_reply_args::kTransfer]), message.get())) {
    RethrowToNapi(env, try_catch);
    return env.Undefined();
  }
  if (sync) return Napi::Boolean::New(env, bridge_->AnswerSync(id, std::move(*message)));
  WorkItem item;
  item.weight = message->bytes.size;
  item.job = [id, message](AgentRuntime& runtime) {
    runtime.host_calls().Settle(runtime, id, std::move(*message));
  };
  // Counted like a message (bufferedMessages/Bytes show it). The host never
  // blocks here, and need not: the agent sends at most highWaterMark.messages
  // calls before their answers (HostCalls), so at most that many answers
  // are ever queued; kFull only means the agent will hold back further calls.
  return Napi::Boolean::New(
      env, thread_->mailbox()->PostCounted(std::move(item)) != Mailbox::PostResult::kRefused);
}

Napi::Value AgentHandle::HostSyncWaiting(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), bridge_ && !finished_ && bridge_->waiting());
}

Napi::Value AgentHandle::Terminate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckThread(env)) return env.Undefined();
  if (thread_) thread_->Terminate();
  return env.Undefined();
}

Napi::Value AgentHandle::Interrupt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckThread(env)) return env.Undefined();
  return Napi::Boolean::New(env, thread_ && !finished_ && thread_->Interrupt());
}

Napi::Value AgentHandle::AtomicsStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AgentThread::AtomicsStats stats = thread_ ? thread_->atomics_stats() : AgentThread::AtomicsStats{};
  Napi::Object result = Napi::Object::New(env);
  result.Set("waits", static_cast<double>(stats.waits));
  result.Set("woken", static_cast<double>(stats.woken));
  result.Set("timedOut", static_cast<double>(stats.timed_out));
  result.Set("notEqual", static_cast<double>(stats.not_equal));
  result.Set("interrupted", static_cast<double>(stats.interrupted));
  result.Set("blockedMs", stats.blocked_ms);
  return result;
}

Napi::Value AgentHandle::Diagnostics(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckThread(env)) return env.Undefined();
  using namespace diagnostics_args;
  if (!CheckArgs(info, DeclareArgs(kCallee, kOpOnly))) return env.Undefined();
  std::string op = info[kOp].As<Napi::String>().Utf8Value();
  Signature signature = op == "post"     ? DeclareArgs(kCallee, kPost)
                        : op == "ack"    ? DeclareArgs(kCallee, kAck)
                        : op == "cancel" ? DeclareArgs(kCallee, kCancel)
                                         : DeclareArgs(kCallee, kOpOnly);
  if (signature.args == kOpOnly && op != "cpuUsage" && op != "heapUsed") {
    ThrowArgError(env, "ERR_INVALID_ARG_VALUE",
                  std::string(kCallee) + ": the \"op\" argument must be one of 'post', 'ack', 'cancel', "
                  "'cpuUsage', 'heapUsed'; received '" + op + "'");
    return env.Undefined();
  }
  if (!CheckArgs(info, signature)) return env.Undefined();
  return AgentDiagnostics::HostCall(info, thread_ ? thread_->diagnostics() : nullptr);
}

Napi::Value AgentHandle::Ref(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckThread(env)) return env.Undefined();
  if (!finished_) wakeup_.Ref(env);
  return env.Undefined();
}

Napi::Value AgentHandle::Unref(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckThread(env)) return env.Undefined();
  if (!finished_) wakeup_.Unref(env);
  return env.Undefined();
}

// The exit reason once the agent stopped, even before its exit event.
Napi::Value AgentHandle::EndingReason(const Napi::CallbackInfo& info) {
  const char* reason = thread_ ? thread_->ending_reason() : nullptr;
  return reason ? Napi::String::New(info.Env(), reason) : info.Env().Undefined();
}

Napi::Value AgentHandle::GetThreadId(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), thread_ ? static_cast<double>(thread_->id()) : 0);
}

void AgentHandle::StopAndJoin() {
  if (finished_ || !thread_) return;
  thread_->Terminate();
  thread_->Join();
  Finish();
}

void AgentHandle::Finish() {
  if (finished_) return;
  finished_ = true;
  sink_->handle_ = nullptr;
  sink_->Close();
  wakeup_.Release();
  if (state_ != nullptr) {
    auto& live = state_->live;
    live.erase(std::remove(live.begin(), live.end(), this), live.end());
  }
  if (!self_ref_.IsEmpty()) self_ref_.Reset();
  // The callback closes over the JS Agent, which holds this handle: drop it
  // so that an exited Agent can be collected.
  if (!on_event_.IsEmpty()) on_event_.Reset();
}

void AgentHandle::DrainEvents(Napi::Env env) {
  Napi::HandleScope scope(env);
  bool more = false;
  std::vector<AgentEvent> events = sink_->Take(&more);
  if (events.empty()) return;
  bool exited = false;
  Napi::Array batch;
  try {
    if (!CanCallIntoJs(env)) throw Napi::Error();
    batch = BuildEventBatch(env, events, state_->ports.get(), [this] { thread_->Join(); }, &exited);
  } catch (const Napi::Error&) {
    // The environment is going away (a worker_thread being terminated while
    // answers still arrive): nothing can reach JS. Still join an exited agent.
    for (const AgentEvent& event : events) {
      if (event.kind == AgentEvent::Kind::kExit && !exited) {
        thread_->Join();
        exited = true;
      }
    }
    if (exited) Finish();
    return;
  }

  if (on_event_.IsEmpty()) return;
  Napi::Function on_event = on_event_.Value();
  if (exited) Finish();
  // `more`: events are left; the dispatcher comes back for them from
  // setImmediate (drainEvents()), after timers and I/O had their turn.
  // A raw call: if the environment stops right now (a worker_thread being
  // terminated), node-addon-api's Call would turn the failure into an error
  // it cannot build, which is fatal. The TypeScript dispatcher reports
  // listener errors itself, so an exception left here is only cleared.
  napi_value receiver = Value().IsEmpty() ? env.Undefined() : Napi::Value(Value());
  napi_value argv[] = {batch, Napi::Boolean::New(env, more && !exited)};
  CallRaw(env, receiver, on_event, 2, argv);
}

}  // namespace agentcluster
