#include "agent/host_bridge.h"

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "agent/agent_globals.h"
#include "agent/agent_runtime.h"
#include "shared/v8_compat.h"
#include "shared/v8_util.h"

namespace agentcluster {

// ---- the slot of a sync call (agent thread waits, owner answers) ----

void HostBridge::OpenSync(uint32_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  waiting_id_ = id;
  waiting_ = true;
  answered_ = false;
  interrupted_ = false;
  reply_ = Message();
}

HostBridge::WaitResult HostBridge::WaitSync(Message* reply) {
  std::unique_lock<std::mutex> lock(mutex_);
  // No timeout: Terminate() and Interrupt() notify this condition variable.
  cv_.wait(lock, [this] { return answered_ || interrupted_ || terminated_; });
  waiting_ = false;
  waiting_id_ = 0;
  if (terminated_) return WaitResult::kTerminated;
  if (answered_) {
    *reply = std::move(reply_);
    reply_ = Message();
    return WaitResult::kAnswered;
  }
  return WaitResult::kInterrupted;
}

bool HostBridge::AnswerSync(uint32_t id, Message reply) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!waiting_ || waiting_id_ != id || answered_ || interrupted_ || terminated_) return false;
    reply_ = std::move(reply);
    answered_ = true;
  }
  cv_.notify_all();
  return true;
}

bool HostBridge::Interrupt() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!waiting_ || answered_ || terminated_) return false;
    interrupted_ = true;
  }
  cv_.notify_all();
  return true;
}

void HostBridge::Terminate() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    terminated_ = true;
  }
  cv_.notify_all();
}

namespace {

// What the owner answers: [status, payload] (src/agent/host-bridge.ts).
enum AnswerStatus { kReturned = 0, kThrewError = 1, kThrewValue = 2 };

v8::Local<v8::Value> GetOwn(v8::Local<v8::Context> context, v8::Local<v8::Object> object,
                            const char* key) {
  v8::Local<v8::Value> value;
  if (!object->Get(context, Str(compat::IsolateOf(context), key)).ToLocal(&value)) {
    return v8::Undefined(compat::IsolateOf(context));
  }
  return value;
}

// An error of the agent's own realm from the owner's record {name, message,
// stack, code}: an intrinsic class when the name is one (TypeError, RangeError,
// SyntaxError, ReferenceError),
// else an Error that keeps the name (e.g. "AgentError") and the code.
v8::Local<v8::Value> RebuildError(v8::Local<v8::Context> context, v8::Local<v8::Value> record) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  if (!record->IsObject()) return v8::Exception::Error(Str(isolate, "host call failed"));
  v8::Local<v8::Object> fields = record.As<v8::Object>();
  std::string name = ToStdString(isolate, GetOwn(context, fields, "name"));
  v8::Local<v8::Value> message_value = GetOwn(context, fields, "message");
  v8::Local<v8::String> message =
      message_value->IsString() ? message_value.As<v8::String>() : v8::String::Empty(isolate);
  v8::Local<v8::Value> error;
  bool intrinsic = true;
  if (name == "TypeError") error = v8::Exception::TypeError(message);
  else if (name == "RangeError") error = v8::Exception::RangeError(message);
  else if (name == "SyntaxError") error = v8::Exception::SyntaxError(message);
  else if (name == "ReferenceError") error = v8::Exception::ReferenceError(message);
  else {
    error = v8::Exception::Error(message);
    intrinsic = name == "Error";
  }
  if (!error->IsObject()) return error;
  v8::Local<v8::Object> object = error.As<v8::Object>();
  auto define = [&](const char* key, v8::Local<v8::Value> value) {
    object->DefineOwnProperty(context, Str(isolate, key), value, v8::DontEnum).FromMaybe(false);
  };
  if (!intrinsic && !name.empty()) define("name", Str(isolate, name));
  v8::Local<v8::Value> stack = GetOwn(context, fields, "stack");
  if (stack->IsString()) define("stack", stack);
  v8::Local<v8::Value> code = GetOwn(context, fields, "code");
  if (code->IsString() || code->IsNumber()) {
    object->CreateDataProperty(context, Str(isolate, "code"), code).FromMaybe(false);
  }
  return error;
}

// Reads an answer: true with the returned value, or false with what to throw.
// False with an empty value: an exception is pending (the answer could not
// be deserialized, or the agent is terminating).
bool ReadAnswer(AgentRuntime& runtime, v8::Local<v8::Context> context, Message* reply,
                v8::Local<v8::Value>* out) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  v8::Local<v8::Value> answer;
  if (!DeserializeMessage(context, reply, runtime.ports()).ToLocal(&answer)) return false;
  if (!answer->IsArray()) {
    *out = v8::Exception::Error(Str(isolate, "malformed host answer"));
    return false;
  }
  v8::Local<v8::Array> pair = answer.As<v8::Array>();
  v8::Local<v8::Value> status;
  v8::Local<v8::Value> payload;
  if (!pair->Get(context, 0).ToLocal(&status) || !pair->Get(context, 1).ToLocal(&payload)) {
    return false;
  }
  int32_t kind = status->IsInt32() ? status.As<v8::Int32>()->Value() : kThrewError;
  if (kind == kReturned) {
    *out = payload;
    return true;
  }
  *out = kind == kThrewValue ? payload : RebuildError(context, payload);
  return false;
}

v8::Local<v8::Value> CodedError(v8::Isolate* isolate, const std::string& text, const char* code,
                                bool type_error = false) {
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::Value> error = type_error ? v8::Exception::TypeError(Str(isolate, text))
                                          : v8::Exception::Error(Str(isolate, text));
  if (error->IsObject()) {
    error.As<v8::Object>()->CreateDataProperty(context, Str(isolate, "code"), Str(isolate, code))
        .FromMaybe(false);
  }
  return error;
}

// Call flags, packed in the function's data: method index << 2 | sync << 1 | transfer.
constexpr int32_t kSyncFlag = 2;
constexpr int32_t kTransferFlag = 1;

void HostCall(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  AgentRuntime& runtime = *AgentRuntime::From(isolate);
  HostBridge* bridge = runtime.options().host_bridge.get();
  if (bridge == nullptr) return;
  int32_t flags = info.Data().As<v8::Int32>()->Value();
  uint32_t index = static_cast<uint32_t>(flags) >> 2;
  bool sync = (flags & kSyncFlag) != 0;
  bool with_transfer = (flags & kTransferFlag) != 0;
  const std::string& name = bridge->names()[index];
  if (sync && !runtime.options().can_block) {
    isolate->ThrowException(CodedError(
        isolate, "host.sync." + name + "() cannot block in an agent created with canBlock: false; use host." + name + "() (a promise)",
        "ERR_AGENT_CANNOT_BLOCK", true));
    return;
  }

  // The arguments as one array (after the transfer list, for .transfer()).
  int from = with_transfer ? 1 : 0;
  v8::Local<v8::Value> transfer = with_transfer ? info[0] : v8::Undefined(isolate).As<v8::Value>();
  v8::Local<v8::Array> args = v8::Array::New(isolate, info.Length() > from ? info.Length() - from : 0);
  for (int i = from; i < info.Length(); i++) {
    // Define, never [[Set]]: a setter on Array.prototype must not see the arguments.
    if (!args->CreateDataProperty(context, static_cast<uint32_t>(i - from), info[i]).FromMaybe(false)) return;
  }

  HostCalls& calls = runtime.host_calls();
  if (!sync) {
    v8::Local<v8::Promise::Resolver> resolver;
    if (!v8::Promise::Resolver::New(context).ToLocal(&resolver)) return;
    calls.Call(runtime, context, index, args, transfer, resolver);
    info.GetReturnValue().Set(resolver->GetPromise());
    return;
  }
  // Bounded like a message: wait while the host's queue is at its mark.
  if (!runtime.WaitForRoom()) return;
  AgentEvent event;
  event.kind = AgentEvent::Kind::kHostCall;
  event.method = static_cast<uint32_t>(index);
  event.sync = true;
  if (!SerializeMessage(context, args, transfer, &event.message)) return;  // DataCloneError thrown
  uint32_t id = calls.NextId();
  event.id = id;
  bridge->OpenSync(id);
  runtime.Send(std::move(event));
  Message reply;
  switch (bridge->WaitSync(&reply)) {
    case HostBridge::WaitResult::kTerminated:
      runtime.HaltIfTerminated();
      return;
    case HostBridge::WaitResult::kInterrupted:
      isolate->ThrowException(CodedError(isolate, "host.sync." + name + "() was interrupted by the host",
                                         "ERR_AGENT_INTERRUPTED"));
      return;
    case HostBridge::WaitResult::kAnswered:
      break;
  }
  if (runtime.HaltIfTerminated()) return;
  v8::Local<v8::Value> value;
  if (ReadAnswer(runtime, context, &reply, &value)) {
    info.GetReturnValue().Set(value);
  } else if (!value.IsEmpty()) {
    isolate->ThrowException(value);
  }
}

bool Freeze(v8::Local<v8::Context> context, v8::Local<v8::Object> object) {
  return object->SetIntegrityLevel(context, v8::IntegrityLevel::kFrozen).FromMaybe(false);
}

// host.NAME (or host.sync.NAME) with its .transfer(list, ...args) form.
v8::Local<v8::Function> MakeMethod(v8::Local<v8::Context> context, const std::string& name,
                                   uint32_t index, bool sync) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  int32_t flags = static_cast<int32_t>(index << 2) | (sync ? kSyncFlag : 0);
  v8::Local<v8::Function> method =
      NewFunction(context, name.c_str(), HostCall, 0, v8::Integer::New(isolate, flags));
  if (method.IsEmpty()) return method;
  v8::Local<v8::Function> transfer =
      NewFunction(context, "transfer", HostCall, 1, v8::Integer::New(isolate, flags | kTransferFlag));
  if (transfer.IsEmpty() || !Freeze(context, transfer)) return v8::Local<v8::Function>();
  DefineHidden(context, method, "transfer", transfer);
  if (!Freeze(context, method)) return v8::Local<v8::Function>();
  return method;
}

}  // namespace

// Sends while fewer than max_in_flight calls are unanswered and the answers
// already in the mailbox are under its byte mark; with none in flight, one
// always goes out (its answer is what wakes the queue again).
bool HostCalls::MaySend(AgentRuntime& runtime) const {
  HostBridge* bridge = runtime.options().host_bridge.get();
  if (pending_.empty()) return true;
  size_t limit = std::min(window_, bridge->max_in_flight());
  if (large_answer_ > 0) limit = std::min(limit, std::max<size_t>(1, bridge->mark_bytes() / large_answer_));
  return pending_.size() < limit && argument_bytes_ < bridge->mark_bytes() &&
         runtime.mailbox()->buffered_bytes() < bridge->mark_bytes();
}

void HostCalls::Call(AgentRuntime& runtime, v8::Local<v8::Context> context, uint32_t index,
                     v8::Local<v8::Array> args, v8::Local<v8::Value> transfer,
                     v8::Local<v8::Promise::Resolver> resolver) {
  if (queued_ == 0 && MaySend(runtime)) {
    Send(runtime, context, index, args, transfer, resolver);
    return;
  }
  v8::Isolate* isolate = compat::IsolateOf(context);
  v8::Local<v8::Value> fields[] = {v8::Integer::NewFromUnsigned(isolate, index), args, transfer,
                                   resolver, v8::Undefined(isolate)};
  v8::Local<v8::Array> entry = v8::Array::New(isolate, fields, 5);
  if (queued_ == 0) {
    head_.Reset(isolate, entry);
  } else if (!tail_.Get(isolate)->CreateDataProperty(context, 4, entry).FromMaybe(false)) {
    return;  // terminating
  }
  tail_.Reset(isolate, entry);
  queued_++;
}

bool HostCalls::Send(AgentRuntime& runtime, v8::Local<v8::Context> context, uint32_t index,
                     v8::Local<v8::Value> args, v8::Local<v8::Value> transfer,
                     v8::Local<v8::Promise::Resolver> resolver) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  // Bounded like a message: wait while the host's queue is at its mark.
  if (!runtime.WaitForRoom()) return false;
  AgentEvent event;
  event.kind = AgentEvent::Kind::kHostCall;
  event.method = static_cast<uint32_t>(index);
  event.sync = false;
  v8::TryCatch try_catch(isolate);
  if (!SerializeMessage(context, args, transfer, &event.message)) {
    if (try_catch.HasTerminated()) {
      try_catch.ReThrow();
      return false;
    }
    // A DataCloneError is the call's rejection, as an async function would report it.
    resolver->Reject(context, try_catch.Exception()).FromMaybe(false);
    return true;
  }
  uint32_t id = NextId();
  event.id = id;
  Pending& pending = pending_[id];
  pending.resolver.Reset(isolate, resolver);
  pending.argument_bytes = event.message.bytes.size;
  argument_bytes_ += pending.argument_bytes;
  runtime.Send(std::move(event));
  return true;
}

void HostCalls::Pump(AgentRuntime& runtime, v8::Local<v8::Context> context) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  while (queued_ > 0 && MaySend(runtime)) {
    v8::HandleScope scope(isolate);
    v8::Local<v8::Array> entry = head_.Get(isolate);
    v8::Local<v8::Value> fields[5];
    for (uint32_t i = 0; i < 5; i++) {
      if (!entry->Get(context, i).ToLocal(&fields[i])) return;  // terminating
    }
    queued_--;
    if (queued_ == 0) {
      head_.Reset();
      tail_.Reset();
    } else if (fields[4]->IsArray()) {
      head_.Reset(isolate, fields[4].As<v8::Array>());
    }
    if (!fields[0]->IsUint32() || !fields[3]->IsPromise()) continue;  // cannot happen: our own arrays
    if (!Send(runtime, context, fields[0].As<v8::Uint32>()->Value(), fields[1], fields[2],
              fields[3].As<v8::Promise::Resolver>())) {
      return;
    }
  }
}

void HostCalls::Settle(AgentRuntime& runtime, uint32_t id, Message reply) {
  auto found = pending_.find(id);
  if (found == pending_.end()) return;
  v8::Isolate* isolate = runtime.isolate();
  v8::HandleScope scope(isolate);
  v8::Local<v8::Context> context = runtime.context();
  v8::Context::Scope context_scope(context);
  v8::Local<v8::Promise::Resolver> resolver = found->second.resolver.Get(isolate);
  argument_bytes_ -= found->second.argument_bytes;
  pending_.erase(found);
  size_t answer_bytes = reply.bytes.size;
  large_answer_ = std::max(answer_bytes, large_answer_ - large_answer_ / 8);
  if (window_ < SIZE_MAX) window_++;
  {
    v8::TryCatch try_catch(isolate);
    v8::Local<v8::Value> value;
    bool ok = ReadAnswer(runtime, context, &reply, &value);
    if (try_catch.HasTerminated()) return;
    if (value.IsEmpty()) {
      value = try_catch.HasCaught() ? try_catch.Exception()
                                    : v8::Exception::Error(Str(isolate, "host answer unreadable"));
      try_catch.Reset();
    }
    if (ok) resolver->Resolve(context, value).FromMaybe(false);
    else resolver->Reject(context, value).FromMaybe(false);
  }
  // A place is free: the oldest queued calls go out (their promises were returned long ago).
  v8::TryCatch try_catch(isolate);
  Pump(runtime, context);
}

void InstallHostBridge(AgentRuntime& runtime, v8::Local<v8::Context> context) {
  HostBridge* bridge = runtime.options().host_bridge.get();
  if (bridge == nullptr) return;
  v8::Isolate* isolate = compat::IsolateOf(context);
  runtime.host_calls().set_id_limit(bridge->call_id_limit);
  // Null prototypes: the objects lead nowhere but to these functions.
  v8::Local<v8::Object> host = v8::Object::New(isolate, v8::Null(isolate), nullptr, nullptr, 0);
  v8::Local<v8::Object> sync = v8::Object::New(isolate, v8::Null(isolate), nullptr, nullptr, 0);
  const std::vector<std::string>& names = bridge->names();
  for (uint32_t i = 0; i < names.size(); i++) {
    v8::Local<v8::Function> async_method = MakeMethod(context, names[i], i, false);
    v8::Local<v8::Function> sync_method = MakeMethod(context, names[i], i, true);
    if (async_method.IsEmpty() || sync_method.IsEmpty()) return;  // terminating
    host->CreateDataProperty(context, Str(isolate, names[i]), async_method).FromMaybe(false);
    sync->CreateDataProperty(context, Str(isolate, names[i]), sync_method).FromMaybe(false);
  }
  if (!Freeze(context, sync)) return;
  DefineHidden(context, host, "sync", sync);
  if (!Freeze(context, host)) return;
  DefineHidden(context, context->Global(), "host", host);
}

}  // namespace agentcluster
