#include "host/host_port_owner.h"

#include <chrono>

namespace agentcluster {

AddonState::HostPortOwner::HostPortOwner(Napi::Env env) {
  wakeup_ = Napi::ThreadSafeFunction::New(
      env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "agentcluster.ports", 0, 1);
  wakeup_.Unref(env);
}

void AddonState::HostPortOwner::Schedule(std::shared_ptr<PortEndpoint> port, uint64_t ticket) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (released_) return;
    ready_.emplace_back(std::move(port), ticket);
    if (wake_pending_) return;
    wake_pending_ = true;
  }
  Wake();
}

void AddonState::HostPortOwner::Drain(Napi::Env env) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_pending_ = false;
  }
  if (binder == nullptr) return;
  Napi::HandleScope scope(env);
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  auto started = std::chrono::steady_clock::now();
  for (size_t done = 0;; done++) {
    if (done >= kMaxEventsPerWakeup ||
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
                .count() >= kMaxMillisecondsPerWakeup) {
      bool wake = false;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!ready_.empty() && !wake_pending_) wake = wake_pending_ = true;
      }
      // The rest after the event loop had its turn (timers, I/O).
      if (wake && !DrainOnNextTurn(env)) Wake();
      return;
    }
    std::pair<std::shared_ptr<PortEndpoint>, uint64_t> next;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (ready_.empty()) return;
      next = std::move(ready_.front());
      ready_.pop_front();
    }
    v8::HandleScope handle_scope(isolate);
    v8::TryCatch try_catch(isolate);
    bool threw = false;
    bool more = binder->DispatchNext(context, next.first, next.second, &threw);
    if (more) {
      // Round-robin: this port's next event after the others' queued ones.
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.push_back(std::move(next));
    }
    if (try_catch.HasTerminated()) return;  // the environment is going away
    if (threw && try_catch.HasCaught()) {
      // A port handler threw: the host's uncaught exception, as for any listener.
      v8::Local<v8::Value> exception = try_catch.Exception();
      try_catch.Reset();
      napi_fatal_exception(env, FromV8(exception));
    }
  }
}

void AddonState::HostPortOwner::Release() {
  std::deque<std::pair<std::shared_ptr<PortEndpoint>, uint64_t>> dropped;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (released_) return;
    released_ = true;
    dropped.swap(ready_);
  }
  binder = nullptr;
  wakeup_.Release();
  set_immediate_.Reset();
  drain_.Reset();
}

bool AddonState::HostPortOwner::DrainOnNextTurn(Napi::Env env) {
  try {
    if (set_immediate_.IsEmpty()) {
      Napi::Value set_immediate = env.Global().Get("setImmediate");
      if (!set_immediate.IsFunction()) return false;
      set_immediate_ = Napi::Persistent(set_immediate.As<Napi::Function>());
      std::weak_ptr<HostPortOwner> weak = shared_from_this();
      drain_ = Napi::Persistent(Napi::Function::New(env, [weak](const Napi::CallbackInfo& info) {
        GuardNativeCallback([&] {
          auto self = weak.lock();
          if (self) self->Drain(info.Env());
        });
      }));
    }
    // Raw, for the reason given at AgentHandle::DrainEvents' final call.
    napi_value argv[] = {drain_.Value()};
    return CallRaw(env, env.Undefined(), set_immediate_.Value(), 1, argv);
  } catch (const Napi::Error&) {
    return false;
  }
}

void AddonState::HostPortOwner::Wake() {
  std::weak_ptr<HostPortOwner> weak = shared_from_this();
  wakeup_.NonBlockingCall([weak](Napi::Env env, Napi::Function) {
    GuardNativeCallback([&] {
      auto self = weak.lock();
      if (self && static_cast<napi_env>(env) != nullptr) self->Drain(env);
    });
  });
}
}  // namespace agentcluster
