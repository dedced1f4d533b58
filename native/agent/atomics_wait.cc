#include "agent/atomics_wait.h"

#include <vector>

#include "shared/v8_compat.h"
#include "agent/agent_globals.h"
#include "agent/isolate_slots.h"
#include "shared/v8_util.h"

namespace agentcluster {

namespace {

double MillisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

enum class WaitResult { kOk, kTimedOut, kNotEqual };

// Atomics.wait returns one of three strings.
WaitResult Classify(v8::Isolate* isolate, v8::Local<v8::Value> result) {
  if (!result->IsString()) return WaitResult::kOk;
  v8::String::Utf8Value text(isolate, result);
  if (*text == nullptr || text.length() < 1) return WaitResult::kOk;
  if ((*text)[0] == 'n') return WaitResult::kNotEqual;
  if ((*text)[0] == 't') return WaitResult::kTimedOut;
  return WaitResult::kOk;
}

void ThrowInterrupted(v8::Isolate* isolate) {
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::Value> error = v8::Exception::Error(
      v8::String::NewFromUtf8Literal(isolate, "Atomics.wait was interrupted by the host"));
  if (error->IsObject()) {
    error.As<v8::Object>()
        ->CreateDataProperty(context, v8::String::NewFromUtf8Literal(isolate, "code"),
                             v8::String::NewFromUtf8Literal(isolate, "ERR_AGENT_INTERRUPTED"))
        .FromMaybe(false);
  }
  isolate->ThrowException(error);
}

}  // namespace

void AtomicsWaitMonitor::Attach(v8::Isolate* isolate) { isolate->SetData(kAtomicsWaitSlot, this); }

bool AtomicsWaitMonitor::Interrupt(v8::Isolate* isolate) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!in_wait_) return false;
    if (interrupt_pending_) return true;  // one request already on its way
    interrupt_pending_ = true;
  }
  // Requested outside mutex_: V8 takes its own locks to wake the futex.
  isolate->RequestInterrupt(OnInterrupt, this);
  return true;
}

AtomicsWaitMonitor::Stats AtomicsWaitMonitor::stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  Stats stats = stats_;
  if (in_wait_) stats.blocked_ms += MillisecondsSince(wait_started_);
  return stats;
}

// Runs on the agent thread at a stack check, which includes the one V8 makes
// inside a blocked Atomics.wait. Only when the agent is still in the wait it
// was interrupted in: TerminateExecution ends the wait at once on every V8
// line, and Wait() cancels it again before any other JS could see it.
void AtomicsWaitMonitor::OnInterrupt(v8::Isolate* isolate, void* data) {
  auto* self = static_cast<AtomicsWaitMonitor*>(data);
  {
    std::lock_guard<std::mutex> lock(self->mutex_);
    if (!self->in_wait_ || !self->interrupt_pending_) return;
    self->interrupt_pending_ = false;
    self->interrupt_delivered_ = true;
  }
  isolate->TerminateExecution();
}

void AtomicsWaitMonitor::Begin() {
  std::lock_guard<std::mutex> lock(mutex_);
  in_wait_ = true;
  interrupt_pending_ = false;
  interrupt_delivered_ = false;
  wait_started_ = std::chrono::steady_clock::now();
}

AtomicsWaitMonitor::Outcome AtomicsWaitMonitor::End(v8::Isolate* isolate,
                                                    v8::Local<v8::Value> result, bool threw) {
  std::lock_guard<std::mutex> lock(mutex_);
  const double elapsed = MillisecondsSince(wait_started_);
  const bool delivered = interrupt_delivered_;
  const bool pending = interrupt_pending_;  // asked, but the wait ended first
  in_wait_ = interrupt_pending_ = interrupt_delivered_ = false;
  if (threw || delivered) {
    if (delivered && !terminate_requested_->load()) {
      stats_.waits++;
      stats_.interrupted++;
      stats_.blocked_ms += elapsed;
      return Outcome::kInterrupted;
    }
    // Terminated, or an argument error thrown before blocking.
    if (isolate->IsExecutionTerminating()) {
      stats_.waits++;
      stats_.blocked_ms += elapsed;
    }
    return Outcome::kRethrow;
  }
  const WaitResult kind = Classify(isolate, result);
  if (kind == WaitResult::kNotEqual) {
    // Never blocked; an interrupt that already said it woke this call still throws.
    stats_.not_equal++;
    if (pending) stats_.interrupted++;
    return pending ? Outcome::kInterrupted : Outcome::kReturn;
  }
  stats_.waits++;
  stats_.blocked_ms += elapsed;
  if (pending) {
    stats_.interrupted++;
    return Outcome::kInterrupted;
  }
  if (kind == WaitResult::kTimedOut) {
    stats_.timed_out++;
  } else {
    stats_.woken++;
  }
  return Outcome::kReturn;
}

void AtomicsWaitMonitor::Wait(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  if (!info.Data()->IsFunction()) return;
  v8::Local<v8::Function> original = info.Data().As<v8::Function>();
  std::vector<v8::Local<v8::Value>> argv;
  argv.reserve(static_cast<size_t>(info.Length()));
  for (int i = 0; i < info.Length(); i++) argv.push_back(info[i]);
  auto* self = static_cast<AtomicsWaitMonitor*>(isolate->GetData(kAtomicsWaitSlot));
  if (self == nullptr) {
    v8::Local<v8::Value> result;
    if (original->Call(context, v8::Undefined(isolate), info.Length(), argv.data()).ToLocal(&result)) {
      info.GetReturnValue().Set(result);
    }
    return;
  }

  Outcome outcome;
  {
    v8::TryCatch try_catch(isolate);
    self->Begin();
    v8::Local<v8::Value> result;
    const bool ok =
        original->Call(context, v8::Undefined(isolate), info.Length(), argv.data()).ToLocal(&result);
    outcome = self->End(isolate, result, !ok);
    if (outcome == Outcome::kRethrow) {
      // A TypeError/RangeError of the engine's own, or a termination (which
      // the TryCatch passes on by itself).
      if (try_catch.HasCaught() && try_catch.CanContinue()) try_catch.ReThrow();
      return;
    }
    if (outcome == Outcome::kInterrupted) {
      isolate->CancelTerminateExecution();  // ours, from OnInterrupt (no-op otherwise)
      try_catch.Reset();
    } else {
      info.GetReturnValue().Set(result);
    }
  }
  if (outcome == Outcome::kInterrupted) ThrowInterrupted(isolate);
}

void AtomicsWaitMonitor::Install(v8::Local<v8::Context> context) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  v8::HandleScope scope(isolate);
  v8::TryCatch try_catch(isolate);
  v8::Local<v8::Value> atomics;
  v8::Local<v8::Value> wait;
  if (!context->Global()->Get(context, Str(isolate, "Atomics")).ToLocal(&atomics) ||
      !atomics->IsObject() ||
      !atomics.As<v8::Object>()->Get(context, Str(isolate, "wait")).ToLocal(&wait) ||
      !wait->IsFunction()) {
    return;
  }
  v8::Local<v8::Function> wrapper = NewFunction(context, "wait", Wait, 4, wait);
  if (wrapper.IsEmpty()) return;
  // Same attributes as the built-in: writable, configurable, not enumerable.
  DefineHidden(context, atomics.As<v8::Object>(), "wait", wrapper);
}

}  // namespace agentcluster
