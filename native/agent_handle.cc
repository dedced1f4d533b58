#include "agent_handle.h"

#include <algorithm>
#include <condition_variable>
#include <deque>

#include "agent_runtime.h"
#include "flow_control.h"
#include "v8_bridge.h"

namespace agentcluster {

namespace {

// Event kinds as the TypeScript side (src/agent/native.ts) knows them.
enum HostEventKind {
  kReady = 0, kMessage = 1, kConsole = 2, kError = 3, kEvalResult = 4, kExit = 5, kMessageError = 6,
  kDrain = 7,
};

Napi::Error CodedError(Napi::Env env, const char* code, const std::string& message) {
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
  return number > 0 ? static_cast<size_t>(number * 1024 * 1024) : fallback;
}

bool GetBool(const Napi::Object& options, const char* key, bool fallback) {
  Napi::Value value = options.Get(key);
  return value.IsBoolean() ? value.As<Napi::Boolean>().Value() : fallback;
}

// `highWaterMessages` / `highWaterBytes` (validated in TypeScript); absent
// means the default.
HighWaterMark GetHighWaterMark(const Napi::Object& options) {
  HighWaterMark mark;
  Napi::Value messages = options.Get("highWaterMessages");
  if (messages.IsNumber() && messages.As<Napi::Number>().DoubleValue() >= 1) {
    mark.messages = static_cast<size_t>(messages.As<Napi::Number>().DoubleValue());
  }
  Napi::Value bytes = options.Get("highWaterBytes");
  if (bytes.IsNumber() && bytes.As<Napi::Number>().DoubleValue() >= 1) {
    mark.bytes = static_cast<size_t>(bytes.As<Napi::Number>().DoubleValue());
  }
  return mark;
}

// Text from an agent (console output, error summaries) as a host string.
// Console output joins its arguments in UTF-8 and can exceed what one V8
// string holds: it is then cut at a character boundary and says so, instead
// of throwing in the middle of a batch (which would lose the batch).
Napi::Value HostString(Napi::Env env, const std::string& text) {
  constexpr size_t kNoteRoom = 128;
  const size_t limit = static_cast<size_t>(v8::String::kMaxLength) - kNoteRoom;
  if (text.size() <= limit) return Napi::String::New(env, text);
  size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) cut--;  // UTF-8 continuation
  std::string note = " \u2026 [agentcluster: truncated, " + std::to_string(text.size()) + " bytes in all]";
  std::string shown = text.substr(0, cut);
  shown += note;
  return Napi::String::New(env, shown);
}

}  // namespace

// Collects events on the agent's thread and wakes the owner's thread once
// per batch (never per message, never by polling). Flow control: the queue
// has a high-water mark; the agent's postMessage/console wait in
// WaitForRoom() while it is reached, and the host takes at most a bounded
// batch per callback (the rest on the next turn of its event loop).
class AgentHandle::Sink final : public AgentEventSink {
 public:
  explicit Sink(HighWaterMark mark) : mark_(mark) {}

  void Deliver(AgentEvent event) override {
    bool schedule;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closed_) return;  // the owner finished: nobody will read it
      queued_bytes_ += event.weight();
      events_.push_back(std::move(event));
      schedule = !scheduled_;
      scheduled_ = true;
    }
    if (schedule) {
      std::shared_ptr<Sink> self = self_.lock();
      if (self) {
        wakeup_.NonBlockingCall([self](Napi::Env env, Napi::Function) {
          GuardNativeCallback([&] {
            if (static_cast<napi_env>(env) != nullptr && self->handle_ != nullptr) {
              self->handle_->DrainEvents(env);
            }
          });
        });
      }
    }
  }

  bool WaitForRoom() override {
    std::unique_lock<std::mutex> lock(mutex_);
    if (mark_.Reached(events_.size(), queued_bytes_)) {
      cv_.wait(lock, [&] {
        return woken_ || closed_ || mark_.Drained(events_.size(), queued_bytes_);
      });
    }
    return !woken_ && !closed_;
  }

  void WakeBlocked() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      woken_ = true;
    }
    cv_.notify_all();
  }

  // The owner is gone (finished): refuse further events, release waiters.
  void Close() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed_ = true;
      events_.clear();
      queued_bytes_ = 0;
    }
    cv_.notify_all();
  }

  // At most one bounded batch, oldest first. *more: events are left, and the
  // caller must come back for them (no further wake-up is sent meanwhile).
  std::vector<AgentEvent> Take(bool* more) {
    std::vector<AgentEvent> taken;
    bool wake_senders = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      size_t bytes = 0;
      while (!events_.empty() && taken.size() < kMaxEventsPerDrain &&
             (taken.empty() || bytes + events_.front().weight() <= kMaxBytesPerDrain)) {
        size_t weight = events_.front().weight();
        bytes += weight;
        queued_bytes_ -= weight;
        taken.push_back(std::move(events_.front()));
        events_.pop_front();
      }
      *more = !events_.empty();
      if (!*more) scheduled_ = false;
      wake_senders = !taken.empty() && mark_.Drained(events_.size(), queued_bytes_);
    }
    if (wake_senders) cv_.notify_all();
    return taken;
  }

  std::weak_ptr<Sink> self_;
  Napi::ThreadSafeFunction wakeup_;
  AgentHandle* handle_ = nullptr;  // cleared on the owner thread when the handle finishes

 private:
  const HighWaterMark mark_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<AgentEvent> events_;
  size_t queued_bytes_ = 0;
  bool scheduled_ = false;  // a drain is due (wake-up sent or more to take)
  bool woken_ = false;      // terminate: WaitForRoom() returns false from now on
  bool closed_ = false;
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
        GuardNativeCallback([&] {
          auto self = weak.lock();
          if (self && static_cast<napi_env>(env) != nullptr) self->Drain(env);
        });
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

AddonState::~AddonState() {
  GuardNativeCallback([&] { Teardown(); });  // the environment's instance-data finalizer
}

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
          InstanceMethod<&AgentHandle::DrainMore>("drainEvents"),
          InstanceAccessor<&AgentHandle::GetThreadId>("threadId"),
          InstanceAccessor<&AgentHandle::GetBufferedMessages>("bufferedMessages"),
          InstanceAccessor<&AgentHandle::GetBufferedBytes>("bufferedBytes"),
      });
}

AgentHandle::AgentHandle(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<AgentHandle>(info), owner_thread_(std::this_thread::get_id()) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject() || !info[1].IsFunction()) {
    CodedError(env, "ERR_INVALID_ARG_TYPE", "AgentHandle(options, onEvents)")
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

  sink_ = std::make_shared<Sink>(GetHighWaterMark(options));
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
  // The mailbox's mark is the same option; falling back to low water after
  // reaching it sends a 'drain' event (from the agent's thread).
  std::weak_ptr<Sink> weak_sink = sink_;
  thread_->mailbox()->SetFlowControl(GetHighWaterMark(options), [weak_sink] {
    if (std::shared_ptr<Sink> sink = weak_sink.lock()) {
      AgentEvent event;
      event.kind = AgentEvent::Kind::kDrain;
      sink->Deliver(std::move(event));
    }
  });
  self_ref_ = Napi::Persistent(info.This().As<Napi::Object>());
  state_ = env.GetInstanceData<AddonState>();
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
  if (!CheckThread(env)) return env.Undefined();
  uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  std::string source = info[1].As<Napi::String>().Utf8Value();
  if (finished_) return Napi::Boolean::New(env, false);
  WorkItem item;
  item.weight = source.size();
  item.job = [id, source](AgentRuntime& runtime) { runtime.Evaluate(id, source); };
  return Napi::Boolean::New(
      env, thread_->mailbox()->PostCounted(std::move(item)) != Mailbox::PostResult::kRefused);
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
      case AgentEvent::Kind::kDrain:
        entry.Set(0u, Napi::Number::New(env, kDrain));
        break;
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
  // `more`: events are left; the dispatcher comes back for them from
  // setImmediate (drainEvents()), after timers and I/O had their turn.
  try {
    on_event.Call(Value().IsEmpty() ? env.Undefined() : Napi::Value(Value()),
                  {batch, Napi::Boolean::New(env, more && !exited)});
  } catch (const Napi::Error& error) {
    // The TypeScript dispatcher reports listener errors itself; nothing here.
  }
}

}  // namespace agentcluster
