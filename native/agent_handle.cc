#include "agent_handle.h"

#include <algorithm>

#include "agent_runtime.h"
#include "host_string.h"
#include "v8_bridge.h"

namespace agentcluster {

namespace {

// Event kinds as the TypeScript side (src/agent/native.ts) knows them.
enum HostEventKind { kReady = 0, kMessage = 1, kConsole = 2, kError = 3, kEvalResult = 4, kExit = 5, kMessageError = 6 };

// An AgentError(code, message) when the class was handed over, else a plain
// Error with a `code`. Raw N-API calls: nothing here may throw in C++.
Napi::Error CodedError(Napi::Env env, const char* code, const std::string& message) {
  AddonState* state = env.GetInstanceData<AddonState>();
  if (state != nullptr && !state->error_class.IsEmpty()) {
    napi_value args[2];
    napi_value made = nullptr;
    if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &args[0]) == napi_ok &&
        napi_create_string_utf8(env, message.data(), message.size(), &args[1]) == napi_ok &&
        napi_new_instance(env, state->error_class.Value(), 2, args, &made) == napi_ok) {
      return Napi::Error(env, made);
    }
    napi_value ignored;
    napi_get_and_clear_last_exception(env, &ignored);  // fall back to a plain Error
  }
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

std::string GetString(const Napi::Object& options, const char* key) {
  Napi::Value value = options.Get(key);
  return value.IsString() ? value.As<Napi::String>().Utf8Value() : std::string();
}

// A size given in (possibly fractional) megabytes, in bytes.
size_t GetMegabytes(const Napi::Object& options, const char* key, size_t fallback) {
  Napi::Value value = options.Get(key);
  if (!value.IsNumber()) return fallback;
  double number = value.As<Napi::Number>().DoubleValue();
  // NaN, <= 0 and sizes past 1 TiB (whose byte count would not fit) are
  // never cast; src/options/limits.ts refuses them before they get here.
  return number > 0 && number <= 1024.0 * 1024 ? static_cast<size_t>(number * 1024 * 1024) : fallback;
}

bool GetBool(const Napi::Object& options, const char* key, bool fallback) {
  Napi::Value value = options.Get(key);
  return value.IsBoolean() ? value.As<Napi::Boolean>().Value() : fallback;
}

}  // namespace

// Collects events on the agent's thread and wakes the owner's thread once
// per batch (never per message, never by polling).
class AgentHandle::Sink final : public AgentEventSink {
 public:
  void Deliver(AgentEvent event) override {
    bool first;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      first = events_.empty();
      events_.push_back(std::move(event));
    }
    if (first) {
      std::shared_ptr<Sink> self = self_.lock();
      if (self) {
        wakeup_.NonBlockingCall([self](Napi::Env env, Napi::Function) {
          if (static_cast<napi_env>(env) != nullptr && self->handle_ != nullptr) self->handle_->DrainEvents(env);
        });
      }
    }
  }

  std::vector<AgentEvent> Take() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<AgentEvent> taken;
    taken.swap(events_);
    return taken;
  }

  std::weak_ptr<Sink> self_;
  Napi::ThreadSafeFunction wakeup_;
  AgentHandle* handle_ = nullptr;  // cleared on the owner thread when the handle finishes

 private:
  std::mutex mutex_;
  std::vector<AgentEvent> events_;
};

// Port events for host-owned ports: queued from any thread, dispatched on
// the environment's thread in one batch per wake-up. Unref'd: open ports do
// not keep the process alive (agents do).
class AddonState::HostPortOwner final : public PortOwner,
                                        public std::enable_shared_from_this<HostPortOwner> {
 public:
  explicit HostPortOwner(Napi::Env env) {
    wakeup_ = Napi::ThreadSafeFunction::New(
        env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "agentcluster.ports", 0, 1);
    wakeup_.Unref(env);
  }

  void DeliverToPort(std::shared_ptr<PortEndpoint> port, std::shared_ptr<Message> message) override {
    bool first;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (released_) return;
      first = queue_.empty();
      queue_.emplace_back(std::move(port), std::move(message));
    }
    if (first) {
      std::weak_ptr<HostPortOwner> weak = shared_from_this();
      wakeup_.NonBlockingCall([weak](Napi::Env env, Napi::Function) {
        auto self = weak.lock();
        if (self && static_cast<napi_env>(env) != nullptr) self->Drain(env);
      });
    }
  }

  void Drain(Napi::Env env) {
    std::vector<std::pair<std::shared_ptr<PortEndpoint>, std::shared_ptr<Message>>> queue;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue.swap(queue_);
    }
    if (binder == nullptr) return;
    Napi::HandleScope scope(env);
    v8::Isolate* isolate = v8::Isolate::GetCurrent();
    v8::Local<v8::Context> context = isolate->GetCurrentContext();
    for (auto& [port, message] : queue) {
      v8::TryCatch try_catch(isolate);
      if (!binder->Dispatch(context, port, std::move(message), binder) && try_catch.HasCaught() &&
          !try_catch.HasTerminated()) {
        // A port handler threw: the host's uncaught exception, as for any listener.
        v8::Local<v8::Value> exception = try_catch.Exception();
        try_catch.Reset();
        napi_fatal_exception(env, FromV8(exception));
      }
    }
  }

  void Release() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (released_) return;
      released_ = true;
      queue_.clear();
    }
    binder = nullptr;
    wakeup_.Release();
  }

  PortBinder* binder = nullptr;

 private:
  std::mutex mutex_;
  std::vector<std::pair<std::shared_ptr<PortEndpoint>, std::shared_ptr<Message>>> queue_;
  Napi::ThreadSafeFunction wakeup_;
  bool released_ = false;
};

AddonState::AddonState(Napi::Env env) : hub_(std::make_shared<HostPortOwner>(env)) {
  ports = std::make_unique<PortBinder>(v8::Isolate::GetCurrent(), hub_);
  hub_->binder = ports.get();
}

AddonState::~AddonState() { Teardown(); }

void AddonState::StopAll() {
  std::vector<AgentHandle*> agents = live;
  for (AgentHandle* agent : agents) agent->StopAndJoin();
}

void AddonState::Teardown() {
  StopAll();
  if (hub_) hub_->Release();
  ports.reset();
}

Napi::Function AgentHandle::DefineClass(Napi::Env env) {
  return Napi::ObjectWrap<AgentHandle>::DefineClass(
      env, "AgentHandle",
      {
          InstanceMethod<&AgentHandle::PostMessage>("postMessage"),
          InstanceMethod<&AgentHandle::Evaluate>("evaluate"),
          InstanceMethod<&AgentHandle::Terminate>("terminate"),
          InstanceMethod<&AgentHandle::Ref>("ref"),
          InstanceMethod<&AgentHandle::Interrupt>("interrupt"),
          InstanceMethod<&AgentHandle::AtomicsStats>("atomicsStats"),
          InstanceMethod<&AgentHandle::Unref>("unref"),
          InstanceMethod<&AgentHandle::CheckThreadFromForeignThread>("checkThreadFromForeignThread"),
          InstanceAccessor<&AgentHandle::GetThreadId>("threadId"),
          InstanceMethod<&AgentHandle::EndingReason>("endingReason"),
      });
}

AgentHandle::AgentHandle(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<AgentHandle>(info), owner_thread_(std::this_thread::get_id()) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject() || !info[1].IsFunction()) {
    CodedError(env, "ERR_AGENT_INVALID_OPTION", "AgentHandle(options, onEvents)")
        .ThrowAsJavaScriptException();
    return;
  }
  Napi::Object options = info[0].As<Napi::Object>();
  AgentOptions agent_options;
  agent_options.name = GetString(options, "name");
  agent_options.source = GetString(options, "source");
  agent_options.file_path = GetString(options, "filePath");
  agent_options.base_path = GetString(options, "basePath");
  agent_options.is_module = GetBool(options, "isModule", false);
  agent_options.max_heap_bytes = GetMegabytes(options, "maxHeapMB", 0);
  agent_options.max_young_gen_bytes = GetMegabytes(options, "maxYoungGenMB", 0);
  agent_options.stack_size_bytes = GetMegabytes(options, "stackSizeMB", 4 * 1024 * 1024);
  agent_options.terminated_before_start = GetBool(options, "terminatedBeforeStart", false);
  agent_options.can_block = GetBool(options, "canBlock", true);
  agent_options.track_unhandled_rejections =
      GetBool(options, "trackUnhandledRejections", true);
  std::string host = GetString(options, "host");
  if (host == "test262") agent_options.host = HostKind::kTest262;

  Napi::Value builtins = options.Get("builtinModules");
  if (builtins.IsObject()) {
    Napi::Object map = builtins.As<Napi::Object>();
    Napi::Array keys = map.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length(); i++) {
      std::string key = keys.Get(i).As<Napi::String>().Utf8Value();
      agent_options.builtin_modules[key] = map.Get(key).As<Napi::String>().Utf8Value();
    }
  }

  if (options.Has("data") && !options.Get("data").IsUndefined()) {
    v8::Isolate* isolate = v8::Isolate::GetCurrent();
    v8::TryCatch try_catch(isolate);
    if (!SerializeMessage(isolate->GetCurrentContext(), ToV8(options.Get("data")),
                          ToV8(options.Get("dataTransfer")), &agent_options.data)) {
      RethrowToNapi(env, try_catch);
      return;
    }
    agent_options.has_data = true;
  }

  sink_ = std::make_shared<Sink>();
  sink_->self_ = sink_;
  sink_->handle_ = this;
  on_event_ = Napi::Persistent(info[1].As<Napi::Function>());
  wakeup_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "agentcluster.agent",
                                          0, 1);
  sink_->wakeup_ = wakeup_;

  std::string error;
  thread_ = AgentThread::Start(std::move(agent_options), sink_, &error);
  if (!thread_) {
    sink_->handle_ = nullptr;
    wakeup_.Release();
    CodedError(env, "ERR_AGENT_START_FAILED", error).ThrowAsJavaScriptException();
    return;
  }
  self_ref_ = Napi::Persistent(info.This().As<Napi::Object>());
  state_ = env.GetInstanceData<AddonState>();
  state_->live.push_back(this);
}

AgentHandle::~AgentHandle() {
  if (!finished_ && thread_) StopAndJoin();
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
  if (!CheckThread(env)) return env.Undefined();
  // Refuse before serializing, so that a refused message detaches nothing.
  if (finished_ || thread_->mailbox()->closed()) return Napi::Boolean::New(env, false);
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  v8::TryCatch try_catch(isolate);
  auto message = std::make_shared<Message>();
  if (!SerializeMessage(isolate->GetCurrentContext(), ToV8(info[0]), ToV8(info[1]),
                        message.get())) {
    RethrowToNapi(env, try_catch);
    return env.Undefined();
  }
  WorkItem item;
  item.job = [message](AgentRuntime& runtime) { runtime.DispatchMessage(std::move(*message)); };
  // Accepted: if the agent closes in the meantime the message is dropped, as
  // any message still queued when an agent ends (its buffers already moved).
  thread_->mailbox()->Post(std::move(item));
  return Napi::Boolean::New(env, true);
}

Napi::Value AgentHandle::Evaluate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckThread(env)) return env.Undefined();
  uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  std::string source = info[1].As<Napi::String>().Utf8Value();
  if (finished_) return Napi::Boolean::New(env, false);
  WorkItem item;
  item.job = [id, source](AgentRuntime& runtime) { runtime.Evaluate(id, source); };
  return Napi::Boolean::New(env, thread_->mailbox()->Post(std::move(item)));
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
  std::vector<AgentEvent> events = sink_->Take();
  if (events.empty()) return;
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  Napi::Array batch = Napi::Array::New(env, events.size());
  bool exited = false;

  auto deserialize = [&](Message* message, Napi::Value* out) {
    v8::TryCatch try_catch(isolate);
    v8::Local<v8::Value> value;
    if (DeserializeMessage(context, message, state_->ports.get()).ToLocal(&value)) {
      *out = Napi::Value(env, FromV8(value));
      return true;
    }
    *out = try_catch.HasCaught() ? Napi::Value(env, FromV8(try_catch.Exception()))
                                 : env.Undefined();
    return false;
  };

  for (size_t i = 0; i < events.size(); i++) {
    AgentEvent& event = events[i];
    Napi::Array entry = Napi::Array::New(env);
    Napi::Value value;
    switch (event.kind) {
      case AgentEvent::Kind::kReady:
        entry.Set(0u, Napi::Number::New(env, kReady));
        break;
      case AgentEvent::Kind::kMessage:
        entry.Set(0u, Napi::Number::New(env, deserialize(&event.message, &value) ? kMessage : kMessageError));
        entry.Set(1u, value);
        break;
      case AgentEvent::Kind::kConsole:
        entry.Set(0u, Napi::Number::New(env, kConsole));
        entry.Set(1u, event.level);
        entry.Set(2u, HostString(env, event.text));
        break;
      case AgentEvent::Kind::kError:
        entry.Set(0u, Napi::Number::New(env, kError));
        if (event.message.empty()) {
          entry.Set(1u, env.Undefined());
        } else {
          deserialize(&event.message, &value);
          entry.Set(1u, value);
        }
        entry.Set(2u, HostString(env, event.summary));
        entry.Set(3u, Napi::Number::New(env, event.phase));
        entry.Set(4u, Napi::Boolean::New(env, event.out_of_memory));
        entry.Set(5u, HostString(env, event.text));
        break;
      case AgentEvent::Kind::kEvalResult: {
        bool ok = deserialize(&event.message, &value) && event.ok;
        entry.Set(0u, Napi::Number::New(env, kEvalResult));
        entry.Set(1u, event.id);
        entry.Set(2u, ok);
        entry.Set(3u, value);
        entry.Set(4u, HostString(env, event.summary));
        entry.Set(5u, HostString(env, event.text));
        break;
      }
      case AgentEvent::Kind::kExit:
        thread_->Join();
        exited = true;
        entry.Set(0u, Napi::Number::New(env, kExit));
        entry.Set(1u, event.exit_code);
        entry.Set(2u, Napi::String::New(env, ExitReasonName(event.reason)));
        break;
    }
    batch.Set(static_cast<uint32_t>(i), entry);
  }

  if (on_event_.IsEmpty()) return;
  Napi::Function on_event = on_event_.Value();
  if (exited) Finish();
  try {
    on_event.Call(Value().IsEmpty() ? env.Undefined() : Napi::Value(Value()), {batch});
  } catch (const Napi::Error& error) {
    // The TypeScript dispatcher reports listener errors itself; nothing here.
  }
}

}  // namespace agentcluster
