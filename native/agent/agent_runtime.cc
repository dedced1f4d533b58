#include "agent/agent_runtime.h"

#include "agent/agent_diagnostics.h"
#include "agent/agent_globals.h"
#include "agent/atomics_wait.h"
#include "agent/isolate_slots.h"
#include "shared/regular_file.h"
#include "shared/v8_compat.h"
#include "shared/v8_util.h"

#include <algorithm>

namespace agentcluster {

namespace {

// Port events for ports this agent owns arrive through its mailbox: one
// job per event, so that other work (timers, messages) interleaves and each
// event gets its own microtask checkpoint.
class AgentPortOwner final : public PortOwner {
 public:
  explicit AgentPortOwner(std::weak_ptr<Mailbox> mailbox) : mailbox_(std::move(mailbox)) {}
  void Schedule(std::shared_ptr<PortEndpoint> port, uint64_t ticket) override {
    std::shared_ptr<Mailbox> mailbox = mailbox_.lock();
    if (!mailbox) return;
    WorkItem item;
    item.job = [port, ticket](AgentRuntime& runtime) { runtime.DispatchPortEvent(port, ticket); };
    mailbox->Post(std::move(item));
  }

 private:
  std::weak_ptr<Mailbox> mailbox_;
};

// "Name: message" for an uncaught value, read natively (no code of ours runs
// in the agent's realm to format it).
std::string DescribeError(v8::Local<v8::Context> context, v8::Local<v8::Value> error) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  v8::TryCatch try_catch(isolate);
  auto text = [&](v8::Local<v8::Value> value) {
    v8::Local<v8::String> string;
    if (value.IsEmpty() || !value->ToString(context).ToLocal(&string)) return std::string();
    v8::String::Utf8Value utf8(isolate, string);
    return *utf8 ? std::string(*utf8, utf8.length()) : std::string();
  };
  if (error->IsObject()) {
    v8::Local<v8::Object> object = error.As<v8::Object>();
    v8::Local<v8::Value> name;
    v8::Local<v8::Value> message;
    if (!object->Get(context, Str(isolate, "name")).ToLocal(&name)) name.Clear();
    try_catch.Reset();
    if (!object->Get(context, Str(isolate, "message")).ToLocal(&message)) message.Clear();
    try_catch.Reset();
    // Test262Error and other plain constructors have no `name`: use the constructor's.
    std::string name_text;
    if (name.IsEmpty() || name->IsUndefined()) {
      v8::Local<v8::Value> constructor;
      if (object->Get(context, Str(isolate, "constructor")).ToLocal(&constructor) &&
          constructor->IsFunction()) {
        name_text = text(constructor.As<v8::Function>()->GetName());
      }
      try_catch.Reset();
      if (name_text.empty()) name_text = "Error";
    } else {
      name_text = text(name);
    }
    try_catch.Reset();
    std::string message_text = message.IsEmpty() || message->IsUndefined() ? "" : text(message);
    return message_text.empty() ? name_text : name_text + ": " + message_text;
  }
  if (error->IsSymbol()) return "Symbol";
  std::string value_text = text(error);
  return value_text;
}

// The string `code` property of an error (e.g. ERR_MODULE_NOT_FOUND), which
// V8's error clone does not carry.
std::string ErrorCode(v8::Local<v8::Context> context, v8::Local<v8::Value> error) {
  if (!error->IsObject()) return std::string();
  v8::Isolate* isolate = compat::IsolateOf(context);
  v8::TryCatch try_catch(isolate);
  v8::Local<v8::Value> code;
  if (!error.As<v8::Object>()->Get(context, Str(isolate, "code")).ToLocal(&code) ||
      !code->IsString()) {
    return std::string();
  }
  v8::String::Utf8Value utf8(isolate, code);
  return *utf8 ? std::string(*utf8, utf8.length()) : std::string();
}

}  // namespace

AgentRuntime::AgentRuntime(v8::Isolate* isolate, const AgentOptions& options,
                           std::shared_ptr<AgentEventSink> sink, std::shared_ptr<Mailbox> mailbox,
                           const std::atomic<bool>& terminate_requested)
    : isolate_(isolate),
      options_(options),
      sink_(std::move(sink)),
      mailbox_(std::move(mailbox)),
      terminate_requested_(terminate_requested),
      start_time_(std::chrono::steady_clock::now()),
      modules_(std::make_unique<ModuleLoader>(isolate, options.builtin_modules)) {
  isolate_->SetData(kRuntimeSlot, this);
  isolate_->AddNearHeapLimitCallback(OnNearHeapLimit, this);
  isolate_->SetPromiseRejectCallback(OnPromiseReject);
  isolate_->AddMessageListenerWithErrorLevel(OnMessage, v8::Isolate::kMessageError);
  ModuleLoader::InstallCallbacks(isolate_);
}

AgentRuntime::~AgentRuntime() {
  v8::HandleScope scope(isolate_);
  test262_.reset();  // its agents are terminated and joined first
  ports_.reset();    // closes this agent's ports: their peers get 'close'
  web_.reset();
  mailbox_->DisarmTimer();
  due_.clear();
  timers_.clear();
  halt_probe_.Reset();
  host_calls_.Clear();
  message_listeners_.clear();
  unhandled_rejections_.clear();
  modules_.reset();
  context_.Reset();
  isolate_->RemoveMessageListeners(OnMessage);
  isolate_->SetData(kRuntimeSlot, nullptr);
}

AgentRuntime* AgentRuntime::From(v8::Isolate* isolate) {
  return static_cast<AgentRuntime*>(isolate->GetData(kRuntimeSlot));
}

int AgentRuntime::exit_code() const { return exit_reason_ == ExitReason::kClosed ? 0 : 1; }

double AgentRuntime::MillisecondsSinceStart() const {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_time_)
      .count();
}

bool AgentRuntime::ShouldStop() const {
  return stopping_ || terminate_requested_.load() || out_of_memory_ ||
         isolate_->IsExecutionTerminating();
}

void AgentRuntime::Run() {
  v8::HandleScope handle_scope(isolate_);
  v8::Local<v8::Context> context = v8::Context::New(isolate_);
  context_.Reset(isolate_, context);
  v8::Context::Scope context_scope(context);
  AtomicsWaitMonitor::Install(context);  // before any agent code can capture Atomics.wait
  port_owner_ = std::make_shared<AgentPortOwner>(mailbox_);
  ports_ = std::make_unique<PortBinder>(
      isolate_, port_owner_, &terminate_requested_, [this](const std::string& text) {
        AgentEvent event;  // console.warn, as the host prints a warning
        event.kind = AgentEvent::Kind::kConsole;
        event.level = ConsoleLevel::kWarn;
        event.text = "Warning: " + text;
        Send(std::move(event));
      });
  {
    v8::TryCatch try_catch(isolate_);
    v8::Local<v8::Script> script;
    v8::Local<v8::Value> probe;
    if (v8::Script::Compile(context, Str(isolate_, "(function () {})")).ToLocal(&script) &&
        script->Run(context).ToLocal(&probe) && probe->IsFunction()) {
      halt_probe_.Reset(isolate_, probe.As<v8::Function>());
    }
  }
  InstallGlobals(*this, context);
  InstallHostBridge(*this, context);
  if (options_.globals == GlobalsKind::kAgent) {
    web_ = std::make_unique<WebRealm>(*this);
    web_->Install(context);
  } else {
    test262_ = std::make_unique<Test262Host>(*this);
    test262_->Install(context);
  }

  if (EvaluateEntry()) {
    while (!ShouldStop()) {
      WorkItem item;
      if (!mailbox_->Next(&item)) continue;  // woken: re-check the flags
      RunItem(item);
    }
  }

  if (out_of_memory_) {
    exit_reason_ = ExitReason::kOutOfMemory;
    AgentEvent event;
    event.kind = AgentEvent::Kind::kError;
    v8::HandleScope scope(isolate_);
    // The heap is exhausted and terminating: report the error as plain data.
    event.out_of_memory = true;
    event.summary = "RangeError: the agent exceeded its heap limit";
    AgentDiagnostics::WriteNearLimitSnapshot(isolate_, [this] { return terminate_requested_.load(); });  // before the error: a listener may read the file
    Send(std::move(event));
  } else if (terminate_requested_.load() && exit_reason_ != ExitReason::kError) {
    exit_reason_ = ExitReason::kTerminated;
  }
}

void AgentRuntime::RunItem(WorkItem& item) {
  v8::HandleScope scope(isolate_);
  if (item.task) {
    item.task->Run();
  } else if (item.job) {
    item.job(*this);
  }
  AfterTask();
}

void AgentRuntime::AfterTask() {
  if (ShouldStop()) return;
  isolate_->PerformMicrotaskCheckpoint();
  if (ShouldStop()) return;
  if (!unhandled_rejections_.empty()) {
    v8::HandleScope scope(isolate_);
    v8::Local<v8::Value> reason = unhandled_rejections_.front().second.Get(isolate_);
    unhandled_rejections_.clear();
    ReportUncaught(reason);
  }
}

bool AgentRuntime::EvaluateEntry() {
  v8::HandleScope scope(isolate_);
  v8::Local<v8::Context> context = this->context();
  v8::TryCatch try_catch(isolate_);
  bool ok = true;
  v8::Local<v8::Value> completion;
  if (options_.globals == GlobalsKind::kTest262Child) {
    // $262.agent.start blocks "until that agent is running" (test262's
    // INTERPRETING.md), not until its script completed: say so now.
    AgentEvent started;
    started.kind = AgentEvent::Kind::kStarted;
    Send(std::move(started));
  }

  if (options_.is_module) {
    v8::Local<v8::Module> module;
    ErrorPhase phase = ErrorPhase::kRuntime;
    bool loaded = options_.file_path.empty()
                      ? modules_->LoadSource(context, options_.source, options_.base_path, &phase)
                            .ToLocal(&module)
                      : modules_->LoadFile(context, options_.file_path, &phase).ToLocal(&module);
    if (!loaded) entry_phase_ = phase;
    ok = loaded && module->Evaluate(context).ToLocal(&completion);
  } else {
    std::string source = options_.source;
    std::string path = options_.file_path.empty() ? options_.base_path : options_.file_path;
    if (!options_.file_path.empty()) {
      // Classic scripts from files are read here; modules read their own.
      if (!ReadRegularFile(options_.file_path, &source)) {
        isolate_->ThrowException(v8::Exception::Error(
            Str(isolate_, "Cannot read script " + options_.file_path)));
        ok = false;
      }
    }
    if (ok) {
      v8::ScriptOrigin origin = compat::Origin(isolate_, Str(isolate_, modules_->UrlOf(path)));
      v8::Local<v8::Script> script;
      v8::Local<v8::String> text;
      ok = NewString(isolate_, source).ToLocal(&text) &&
           v8::Script::Compile(context, text, &origin).ToLocal(&script);
      if (!ok) entry_phase_ = ErrorPhase::kParse;
      ok = ok && script->Run(context).ToLocal(&completion);
    }
  }

  if (!ok) {
    if (entry_phase_ != ErrorPhase::kRuntime) modules_->DescribeLoadFailure(context, try_catch);  // file:line:col
    if (!try_catch.HasTerminated() && try_catch.HasCaught()) ReportUncaught(try_catch.Exception());
    return false;
  }
  if (options_.is_module && completion->IsPromise()) {
    // Ready only once top-level await settles.
    v8::Local<v8::Promise> promise = completion.As<v8::Promise>();
    v8::Local<v8::Function> settled;
    v8::Local<v8::Function> failed;
    v8::Local<v8::Promise> chained;
    if (!v8::Function::New(context, OnEntrySettled, v8::True(isolate_)).ToLocal(&settled) ||
        !v8::Function::New(context, OnEntrySettled, v8::False(isolate_)).ToLocal(&failed) ||
        !promise->Then(context, settled, failed).ToLocal(&chained)) {
      return false;  // terminating
    }
  } else {
    AgentEvent event;
    event.kind = AgentEvent::Kind::kReady;
    Send(std::move(event));
  }
  AfterTask();
  return !ShouldStop();
}

void AgentRuntime::OnEntrySettled(const v8::FunctionCallbackInfo<v8::Value>& info) {
  AgentRuntime* self = From(info.GetIsolate());
  if (info.Data()->IsTrue()) {
    AgentEvent event;
    event.kind = AgentEvent::Kind::kReady;
    self->Send(std::move(event));
  } else {
    self->ReportUncaught(info[0]);
  }
}

bool AgentRuntime::WaitForRoom() {
  // A heap-limit decision still waiting for its interrupt is taken now.
  if (heap_check_pending_) CheckHeapAfterLargeAllocation(isolate_, this);
  // The heap-limit stop is enforced here too: V8 acts on TerminateExecution
  // only at a stack check, and a loop whose body calls builtins alone (each
  // allocating more than the limit) reaches one only when its interrupt
  // budget runs out, after many iterations.
  if (!out_of_memory_ && sink_->WaitForRoom()) return true;
  HaltIfTerminated();
  return false;
}

bool AgentRuntime::HaltIfTerminated() {
  if (!terminate_requested_.load() && !out_of_memory_ && !isolate_->IsExecutionTerminating()) {
    return false;
  }
  // TerminateExecution only requests termination: V8 acts on it at its next
  // stack check, which may be after more statements of the caller ran.
  // Entering a JS function performs that check now, and the termination
  // then unwinds through the native callback that called us.
  isolate_->TerminateExecution();
  if (!halt_probe_.IsEmpty()) {
    v8::HandleScope scope(isolate_);
    v8::Local<v8::Context> context = this->context();
    v8::Local<v8::Value> ignored;
    if (halt_probe_.Get(isolate_)->Call(context, v8::Undefined(isolate_), 0, nullptr).ToLocal(&ignored)) {
      // not reached once terminating: the call itself throws the termination
    }
  }
  return true;
}

void AgentRuntime::RequestClose() {
  stopping_ = true;
  mailbox_->Wake();
}

void AgentRuntime::ReportUncaught(v8::Local<v8::Value> exception) {
  // Only the first failure is reported, and none while terminating: the
  // "exception" may then be V8's internal termination marker, which must
  // never reach the serializer (a promise rejected by termination).
  if (ShouldStop()) return;
  AgentEvent event;
  event.kind = AgentEvent::Kind::kError;
  event.message = SerializeErrorForReport(context(), exception);
  event.summary = DescribeError(context(), exception);
  event.code = ErrorCode(context(), exception);
  event.phase = entry_phase_;
  entry_phase_ = ErrorPhase::kRuntime;
  Send(std::move(event));
  exit_reason_ = ExitReason::kError;
  stopping_ = true;
}

uint32_t AgentRuntime::AddTimer(v8::Local<v8::Function> callback,
                                std::vector<v8::Local<v8::Value>> args, double delay_ms,
                                bool repeat) {
  // As Node and browsers do: a delay past 2^31-1 ms (Infinity included)
  // becomes 1 ms; it must never overflow the clock arithmetic below.
  if (!(delay_ms <= 2147483647.0)) delay_ms = 1;
  uint32_t id;
  do {
    id = next_timer_id_++;  // wraps after 2^32 timers: skip 0 and live ids
  } while (id == 0 || timers_.count(id) != 0);
  Timer& timer = timers_[id];
  timer.callback.Reset(isolate_, callback);
  for (auto& arg : args) timer.args.emplace_back(isolate_, arg);
  timer.delay_ms = delay_ms;
  timer.repeat = repeat;
  ScheduleTimer(id, timer);
  return id;
}

void AgentRuntime::ScheduleTimer(uint32_t id, Timer& timer) {
  auto delay = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double, std::milli>(timer.delay_ms));
  timer.key = {Clock::now() + delay, next_timer_seq_++};
  bool earliest = due_.empty() || timer.key < due_.begin()->first;
  due_.emplace(timer.key, id);
  if (earliest) ArmEarliestTimer();
}

void AgentRuntime::ArmEarliestTimer() {
  if (due_.empty()) {
    mailbox_->DisarmTimer();
    return;
  }
  mailbox_->ArmTimer(due_.begin()->first.first,
                     [](AgentRuntime& runtime) { runtime.RunDueTimer(); });
}

void AgentRuntime::ClearTimer(uint32_t id) {
  auto found = timers_.find(id);
  if (found == timers_.end()) return;
  due_.erase(found->second.key);
  timers_.erase(found);
  // The mailbox may still wake for it once: RunDueTimer then re-arms.
}

// One timer per mailbox item, so that microtasks run between two timers and
// messages interleave with a burst of due timers (each is its own task).
void AgentRuntime::RunDueTimer() {
  if (due_.empty()) return;
  auto first = due_.begin();
  if (first->first.first > Clock::now()) {
    ArmEarliestTimer();  // woken for a timer that was cleared
    return;
  }
  uint32_t id = first->second;
  due_.erase(first);
  auto found = timers_.find(id);
  if (found == timers_.end()) {
    ArmEarliestTimer();
    return;
  }
  v8::HandleScope scope(isolate_);
  v8::Local<v8::Context> context = this->context();
  v8::Local<v8::Function> callback = found->second.callback.Get(isolate_);
  std::vector<v8::Local<v8::Value>> args;
  for (auto& arg : found->second.args) args.push_back(arg.Get(isolate_));
  if (found->second.repeat) {
    ScheduleTimer(id, found->second);
  } else {
    timers_.erase(found);
  }
  ArmEarliestTimer();
  v8::TryCatch try_catch(isolate_);
  if (callback->Call(context, context->Global(), static_cast<int>(args.size()), args.data())
          .IsEmpty() &&
      try_catch.HasCaught() && !try_catch.HasTerminated()) {
    ReportUncaught(try_catch.Exception());
  }
}

void AgentRuntime::AddMessageListener(v8::Local<v8::Function> listener) {
  for (auto& existing : message_listeners_) {
    if (existing == listener) return;
  }
  message_listeners_.emplace_back(isolate_, listener);
}

void AgentRuntime::RemoveMessageListener(v8::Local<v8::Function> listener) {
  for (auto it = message_listeners_.begin(); it != message_listeners_.end(); ++it) {
    if (*it == listener) {
      message_listeners_.erase(it);
      return;
    }
  }
}

void AgentRuntime::DispatchMessage(Message message) {
  v8::HandleScope scope(isolate_);
  v8::Local<v8::Context> context = this->context();
  v8::TryCatch try_catch(isolate_);
  v8::Local<v8::Value> data;
  std::vector<v8::Local<v8::Object>> ports;
  if (!DeserializeMessage(context, &message, ports_.get(), &ports).ToLocal(&data)) {
    if (!try_catch.HasTerminated()) ReportUncaught(try_catch.Exception());
    return;
  }
  v8::Local<v8::Array> port_list = v8::Array::New(isolate_, static_cast<int>(ports.size()));
  for (uint32_t i = 0; i < ports.size(); i++) port_list->Set(context, i, ports[i]).FromMaybe(false);
  v8::Local<v8::Object> event = v8::Object::New(isolate_);
  event->CreateDataProperty(context, Str(isolate_, "type"), Str(isolate_, "message")).FromMaybe(false);
  event->CreateDataProperty(context, Str(isolate_, "data"), data).FromMaybe(false);
  event->CreateDataProperty(context, Str(isolate_, "ports"), port_list).FromMaybe(false);

  std::vector<v8::Local<v8::Function>> handlers;
  v8::Local<v8::Value> onmessage;
  if (context->Global()->Get(context, Str(isolate_, "onmessage")).ToLocal(&onmessage) &&
      onmessage->IsFunction()) {
    handlers.push_back(onmessage.As<v8::Function>());
  }
  for (auto& listener : message_listeners_) handlers.push_back(listener.Get(isolate_));

  v8::Local<v8::Value> argv[] = {event};
  for (auto& handler : handlers) {
    if (handler->Call(context, context->Global(), 1, argv).IsEmpty()) {
      if (!try_catch.HasTerminated()) ReportUncaught(try_catch.Exception());
      return;
    }
  }
}

void AgentRuntime::DispatchPortEvent(const std::shared_ptr<PortEndpoint>& port, uint64_t ticket) {
  v8::HandleScope scope(isolate_);
  v8::TryCatch try_catch(isolate_);
  bool threw = false;
  if (!ports_->DispatchNext(context(), port, ticket, &threw)) return;
  if (threw && try_catch.HasCaught() && !try_catch.HasTerminated()) {
    ReportUncaught(try_catch.Exception());
    return;
  }
  port_owner_->Schedule(port, ticket);  // the port's next event, after other work
}

void AgentRuntime::Evaluate(uint32_t id, const std::string& source) {
  v8::HandleScope scope(isolate_);
  v8::Local<v8::Context> context = this->context();
  v8::TryCatch try_catch(isolate_);
  // evaluate() text has no file: its frames say agentcluster:evaluate/NAME.
  v8::ScriptOrigin origin =
      compat::Origin(isolate_, Str(isolate_, "agentcluster:evaluate/" + options_.name));
  v8::Local<v8::Script> script;
  v8::Local<v8::Value> result;
  v8::Local<v8::String> text;
  const bool has_text = NewString(isolate_, source).ToLocal(&text);
  const bool compiled = has_text && v8::Script::Compile(context, text, &origin).ToLocal(&script);
  if (!compiled || !script->Run(context).ToLocal(&result)) {
    if (try_catch.HasTerminated()) return;  // the owner rejects on exit
    if (has_text && !compiled) modules_->DescribeLoadFailure(context, try_catch);  // line:col of a SyntaxError
    SendEvalResult(id, false, try_catch.Exception());
    return;
  }
  if (result->IsPromise()) {
    v8::Local<v8::Function> fulfilled;
    v8::Local<v8::Function> rejected;
    v8::Local<v8::Promise> chained;
    v8::Local<v8::Value> request = v8::Integer::NewFromUnsigned(isolate_, id);
    if (!v8::Function::New(context, OnEvalFulfilled, request).ToLocal(&fulfilled) ||
        !v8::Function::New(context, OnEvalRejected, request).ToLocal(&rejected) ||
        !result.As<v8::Promise>()->Then(context, fulfilled, rejected).ToLocal(&chained)) {
      return;  // terminating: the owner rejects on exit
    }
    return;
  }
  SendEvalResult(id, true, result);
}

void AgentRuntime::OnEvalFulfilled(const v8::FunctionCallbackInfo<v8::Value>& info) {
  OnEvalSettled(info, true);
}

void AgentRuntime::OnEvalRejected(const v8::FunctionCallbackInfo<v8::Value>& info) {
  OnEvalSettled(info, false);
}

// The request id is the callback's data; which callback ran says how it settled.
void AgentRuntime::OnEvalSettled(const v8::FunctionCallbackInfo<v8::Value>& info, bool ok) {
  uint32_t id = info.Data().As<v8::Uint32>()->Value();
  AgentRuntime* self = From(info.GetIsolate());
  if (self->ShouldStop()) return;  // the owner rejects pending evaluations on exit
  self->SendEvalResult(id, ok, info[0]);
}

void AgentRuntime::SendEvalResult(uint32_t id, bool ok, v8::Local<v8::Value> value) {
  v8::HandleScope scope(isolate_);
  v8::Local<v8::Context> context = this->context();
  AgentEvent event;
  event.kind = AgentEvent::Kind::kEvalResult;
  event.id = id;
  event.ok = ok;
  v8::Local<v8::Value> error = ok ? v8::Local<v8::Value>() : value;
  if (ok) {
    v8::TryCatch try_catch(isolate_);
    if (!SerializeMessage(context, value, v8::Local<v8::Value>(), &event.message)) {
      if (try_catch.HasTerminated()) return;
      event.ok = false;
      error = try_catch.Exception();
    }
  }
  if (!event.ok) {
    // Name and code travel beside the clone, which keeps only standard names.
    event.message = SerializeErrorForReport(context, error);
    event.summary = DescribeError(context, error);
    event.code = ErrorCode(context, error);
  }
  Send(std::move(event));
}

size_t AgentRuntime::OnNearHeapLimit(void* data, size_t current_limit, size_t initial_limit) {
  AgentRuntime* self = static_cast<AgentRuntime*>(data);
  self->initial_heap_limit_ = initial_limit;
  // Headroom so V8 can finish the allocation under way and unwind to our
  // loop instead of aborting the process. V8 calls this before its last-
  // resort GC and then retries the failed allocation once: the limit must
  // then fit the largest single object V8 can allocate (a 1 GiB FixedArray
  // or two-byte string), whatever the heap already holds. The memory is
  // only reserved as a limit; every further call (an operation still
  // allocating before the agent stops) is granted the same again.
  constexpr size_t kLargestObject = size_t{1} << 30;
  constexpr size_t kSlack = 64 * 1024 * 1024;
  const size_t raised = current_limit + std::max<size_t>(initial_limit, kLargestObject + kSlack);
  if (!compat::kNearHeapLimitOnFailedBackingStore) {
    self->StopForHeapLimit();
    return raised;
  }
  v8::HeapStatistics heap;
  self->isolate_->GetHeapStatistics(&heap);
  const auto now = std::chrono::steady_clock::now();
  // A second call on a mostly empty heap soon after the first is a script
  // allocating oversized objects over and over (each one dead before the
  // check): stop it, or it runs at many times its limit.
  const bool repeated = self->last_empty_heap_call_.has_value() &&
                        now - *self->last_empty_heap_call_ < std::chrono::seconds(1);
  if (heap.used_heap_size() >= current_limit / 2 || repeated) {
    self->StopForHeapLimit();  // the heap filled up
    return raised;
  }
  // A mostly empty heap: one allocation bigger than the limit, or a huge
  // ArrayBuffer whose memory cannot be had, which V8 turns into a RangeError
  // the script may catch. Decide once it is done.
  self->last_empty_heap_call_ = now;
  self->heap_check_pending_ = true;
  self->isolate_->RequestInterrupt(CheckHeapAfterLargeAllocation, self);
  return raised;
}

void AgentRuntime::CheckHeapAfterLargeAllocation(v8::Isolate* isolate, void* data) {
  AgentRuntime* self = static_cast<AgentRuntime*>(data);
  // Taken once: by the interrupt, or earlier by a native call (WaitForRoom).
  if (!self->heap_check_pending_ || self->out_of_memory_) return;
  self->heap_check_pending_ = false;
  v8::HeapStatistics heap;
  isolate->GetHeapStatistics(&heap);
  if (heap.used_heap_size() > self->initial_heap_limit_) {
    self->StopForHeapLimit();
    return;
  }
  // Still within its limit: the limit goes back to what the user set.
  isolate->RemoveNearHeapLimitCallback(OnNearHeapLimit, self->initial_heap_limit_);
  isolate->AddNearHeapLimitCallback(OnNearHeapLimit, self);
}

void AgentRuntime::StopForHeapLimit() {
  AgentDiagnostics::OnNearHeapLimit(isolate_);  // heap statistics for the exit info
  out_of_memory_ = true;
  isolate_->TerminateExecution();
}

void AgentRuntime::OnPromiseReject(v8::PromiseRejectMessage message) {
  v8::Isolate* isolate = compat::IsolateOf(message.GetPromise());
  AgentRuntime* self = From(isolate);
  if (self == nullptr || !self->options_.track_unhandled_rejections) return;
  v8::Local<v8::Promise> promise = message.GetPromise();
  if (message.GetEvent() == v8::kPromiseRejectWithNoHandler) {
    self->unhandled_rejections_.emplace_back(v8::Global<v8::Promise>(isolate, promise),
                                             v8::Global<v8::Value>(isolate, message.GetValue()));
  } else if (message.GetEvent() == v8::kPromiseHandlerAddedAfterReject) {
    auto& list = self->unhandled_rejections_;
    for (auto it = list.begin(); it != list.end(); ++it) {
      if (it->first == promise) {
        list.erase(it);
        break;
      }
    }
  }
}

// Exceptions thrown where no TryCatch is (e.g. a queueMicrotask callback).
void AgentRuntime::OnMessage(v8::Local<v8::Message> message, v8::Local<v8::Value> error) {
  AgentRuntime* self = From(compat::IsolateOf(message));
  if (self != nullptr && !self->isolate_->IsExecutionTerminating()) self->ReportUncaught(error);
}

}  // namespace agentcluster
