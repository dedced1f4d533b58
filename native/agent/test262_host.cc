#include "agent/test262_host.h"

#include <chrono>
#include <thread>
#include <vector>

#include "agent/agent_globals.h"
#include "agent/agent_runtime.h"
#include "agent/atomics_wait.h"
#include "shared/v8_compat.h"
#include "shared/v8_util.h"

namespace agentcluster {

namespace {

Test262Host& HostOf(const v8::FunctionCallbackInfo<v8::Value>& info) {
  return *AgentRuntime::From(info.GetIsolate())->test262();
}

}  // namespace

BroadcastReceipt::BroadcastReceipt(std::shared_ptr<Test262Cluster> cluster)
    : cluster_(std::move(cluster)) {
  cluster_->pending_receipts++;
}

void BroadcastReceipt::Release() {
  if (!cluster_) return;
  cluster_->pending_receipts--;
  // Without the mutex (the broadcaster may hold it while a failed post
  // destroys its job): WaitFor re-checks in short slices anyway.
  cluster_->changed.notify_all();
  cluster_.reset();
}

double MonotonicMilliseconds() {
  // steady_clock is CLOCK_MONOTONIC on Linux, as V8's base::TimeTicks.
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A started agent, as the test sees it.
struct Test262Host::Child {
  std::shared_ptr<AgentThread> thread;
  bool running = false;  // guarded by the cluster mutex
  bool exited = false;
};

// Events of a started agent: readiness and exit wake the test; its output
// and errors go to the test's own owner as console text.
class Test262Host::ChildSink final : public AgentEventSink {
 public:
  ChildSink(std::shared_ptr<Test262Cluster> cluster, std::shared_ptr<Child> child,
            std::shared_ptr<AgentEventSink> parent)
      : cluster_(std::move(cluster)), child_(std::move(child)), parent_(std::move(parent)) {}

  void Deliver(AgentEvent event) override {
    switch (event.kind) {
      case AgentEvent::Kind::kStarted:
      case AgentEvent::Kind::kReady:
      case AgentEvent::Kind::kExit: {
        std::lock_guard<std::mutex> lock(cluster_->mutex);
        if (event.kind != AgentEvent::Kind::kExit) child_->running = true;
        else child_->exited = true;
        cluster_->changed.notify_all();
        return;
      }
      case AgentEvent::Kind::kConsole:
        parent_->Deliver(std::move(event));
        return;
      case AgentEvent::Kind::kError: {
        AgentEvent forwarded;
        forwarded.kind = AgentEvent::Kind::kConsole;
        forwarded.level = ConsoleLevel::kError;
        forwarded.text = "[$262.agent] uncaught " +
                         (event.out_of_memory ? std::string("out of memory") : event.summary);
        parent_->Deliver(std::move(forwarded));
        return;
      }
      default:
        return;
    }
  }

 private:
  std::shared_ptr<Test262Cluster> cluster_;
  std::shared_ptr<Child> child_;
  std::shared_ptr<AgentEventSink> parent_;
};

Test262Host::Test262Host(AgentRuntime& runtime)
    : runtime_(runtime),
      cluster_(runtime.options().test262_cluster ? runtime.options().test262_cluster
                                                 : std::make_shared<Test262Cluster>()) {}

Test262Host::~Test262Host() {
  for (auto& child : children_) child->thread->Terminate();
  for (auto& child : children_) child->thread->Join();
}

template <typename Predicate>
bool Test262Host::WaitFor(std::unique_lock<std::mutex>& lock, Predicate done) {
  // Slices, so that terminating the test also ends a wait on its agents.
  while (!done()) {
    if (runtime_.terminating()) return false;
    cluster_->changed.wait_for(lock, std::chrono::milliseconds(5));
  }
  return true;
}

void Test262Host::Install(v8::Local<v8::Context> context) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  v8::HandleScope scope(isolate);
  v8::Local<v8::Object> global = context->Global();
  DefineHidden(context, global, "print", NewFunction(context, "print", Print, 1));

  v8::Local<v8::Object> host = v8::Object::New(isolate);
  host->CreateDataProperty(context, Str(isolate, "global"), global).FromMaybe(false);
  if (runtime_.options().globals == GlobalsKind::kTest262) {
    host->CreateDataProperty(context, Str(isolate, "createRealm"),
              NewFunction(context, "createRealm", CreateRealm, 0)).FromMaybe(false);
    host->CreateDataProperty(context, Str(isolate, "evalScript"),
              NewFunction(context, "evalScript", EvalScript, 1, global)).FromMaybe(false);
    host->CreateDataProperty(context, Str(isolate, "detachArrayBuffer"),
              NewFunction(context, "detachArrayBuffer", DetachArrayBuffer, 1)).FromMaybe(false);
    host->CreateDataProperty(context, Str(isolate, "gc"), NewFunction(context, "gc", Gc, 0)).FromMaybe(false);

    // document.all-like: typeof is "undefined", calling it returns null.
    v8::Local<v8::ObjectTemplate> dda = v8::ObjectTemplate::New(isolate);
    dda->MarkAsUndetectable();
    dda->SetCallAsFunctionHandler(
        [](const v8::FunctionCallbackInfo<v8::Value>& info) { info.GetReturnValue().SetNull(); });
    v8::Local<v8::Object> dda_object;
    if (dda->NewInstance(context).ToLocal(&dda_object)) {
      host->CreateDataProperty(context, Str(isolate, "IsHTMLDDA"), dda_object).FromMaybe(false);
    }
  }
  host->CreateDataProperty(context, Str(isolate, "agent"), MakeAgentObject(context)).FromMaybe(false);
  DefineHidden(context, global, "$262", host);
}

v8::Local<v8::Object> Test262Host::MakeAgentObject(v8::Local<v8::Context> context) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  v8::Local<v8::Object> agent = v8::Object::New(isolate);
  auto set = [&](const char* name, v8::FunctionCallback callback, int length) {
    agent->CreateDataProperty(context, Str(isolate, name), NewFunction(context, name, callback, length)).FromMaybe(false);
  };
  set("sleep", Sleep, 1);
  set("monotonicNow", MonotonicNow, 0);
  if (runtime_.options().globals == GlobalsKind::kTest262) {
    set("start", Start, 1);
    set("broadcast", Broadcast, 2);
    set("getReport", GetReport, 0);
  } else {
    set("receiveBroadcast", ReceiveBroadcastFn, 1);
    set("report", Report, 1);
    set("leaving", Leaving, 0);
  }
  return agent;
}

void Test262Host::Print(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::String> text;
  if (!info[0]->ToString(isolate->GetCurrentContext()).ToLocal(&text)) return;
  AgentEvent event;
  event.kind = AgentEvent::Kind::kConsole;
  event.level = ConsoleLevel::kPrint;
  event.text = ToStdString(isolate, text);
  AgentRuntime::From(isolate)->Send(std::move(event));
}

void Test262Host::CreateRealm(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> realm = v8::Context::New(isolate);
  if (realm.IsEmpty()) return;  // terminating
  // Same origin as its creator: realms of one agent reach into each other
  // freely (no cross-context access checks), as test262's realm tests expect.
  realm->SetSecurityToken(isolate->GetCurrentContext()->GetSecurityToken());
  AtomicsWaitMonitor::Install(realm);
  HostOf(info).Install(realm);
  v8::Local<v8::Value> host;
  if (realm->Global()->Get(realm, Str(isolate, "$262")).ToLocal(&host)) {
    info.GetReturnValue().Set(host);
  }
}

void Test262Host::EvalScript(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> realm = info.Data().As<v8::Object>()->GetCreationContextChecked();
  v8::Context::Scope scope(realm);
  v8::Local<v8::String> source;
  if (!info[0]->ToString(realm).ToLocal(&source)) return;
  v8::ScriptOrigin origin = compat::Origin(isolate, Str(isolate, "evalScript"));
  v8::Local<v8::Script> script;
  v8::Local<v8::Value> result;
  if (!v8::Script::Compile(realm, source, &origin).ToLocal(&script)) return;
  if (!script->Run(realm).ToLocal(&result)) return;
  info.GetReturnValue().Set(result);
}

void Test262Host::DetachArrayBuffer(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  if (!info[0]->IsArrayBuffer()) {
    ThrowTypeError(isolate, "detachArrayBuffer: not an ArrayBuffer");
    return;
  }
  v8::Local<v8::ArrayBuffer> buffer = info[0].As<v8::ArrayBuffer>();
  if (!buffer->IsDetachable()) {
    ThrowTypeError(isolate, "detachArrayBuffer: this ArrayBuffer cannot be detached");
    return;
  }
  // Honours [[ArrayBufferDetachKey]]: a mismatched key throws a TypeError.
  if (buffer->Detach(info[1]).IsNothing()) return;
  info.GetReturnValue().SetNull();
}

void Test262Host::Gc(const v8::FunctionCallbackInfo<v8::Value>& info) {
  // A full, memory-reducing collection; needs no --expose-gc.
  info.GetIsolate()->LowMemoryNotification();
}

void Test262Host::Start(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  Test262Host& self = HostOf(info);
  v8::Local<v8::String> source;
  if (!info[0]->ToString(isolate->GetCurrentContext()).ToLocal(&source)) return;

  AgentOptions options;
  const AgentOptions& parent = self.runtime_.options();
  options.name = parent.name + "/agent-" + std::to_string(self.children_.size() + 1);
  options.source = ToStdString(isolate, source);
  options.base_path = parent.base_path;
  options.globals = GlobalsKind::kTest262Child;
  options.test262_cluster = self.cluster_;
  options.track_unhandled_rejections = false;
  options.builtin_modules = parent.builtin_modules;
  // The test's resource limits bind its agents too: a child must not escape
  // the heap, young-generation or stack budget its parent was given.
  options.max_heap_bytes = parent.max_heap_bytes;
  options.max_young_gen_bytes = parent.max_young_gen_bytes;
  options.stack_size_bytes = parent.stack_size_bytes;

  auto child = std::make_shared<Child>();
  auto sink = std::make_shared<ChildSink>(self.cluster_, child, self.runtime_.sink());
  std::string error;
  child->thread = AgentThread::Start(std::move(options), sink, &error);
  if (!child->thread) {
    isolate->ThrowException(v8::Exception::Error(Str(isolate, error.c_str())));
    return;
  }
  self.children_.push_back(child);
  std::unique_lock<std::mutex> lock(self.cluster_->mutex);
  self.WaitFor(lock, [&] { return child->running || child->exited; });
  lock.unlock();
  self.runtime_.HaltIfTerminated();  // a terminated test runs no more JS
}

void Test262Host::Broadcast(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  Test262Host& self = HostOf(info);
  if (!info[0]->IsSharedArrayBuffer()) {
    ThrowTypeError(isolate, "broadcast: the first argument must be a SharedArrayBuffer");
    return;
  }
  std::shared_ptr<v8::BackingStore> store = info[0].As<v8::SharedArrayBuffer>()->GetBackingStore();
  // The id travels as a number or a BigInt; a BigInt as its sign and 64-bit
  // words, so ids past 64 bits arrive whole.
  bool is_bigint = info[1]->IsBigInt();
  int bigint_sign = 0;
  std::vector<uint64_t> bigint_words;
  if (is_bigint) {
    v8::Local<v8::BigInt> id = info[1].As<v8::BigInt>();
    int count = id->WordCount();
    bigint_words.resize(count);
    id->ToWordsArray(&bigint_sign, &count, bigint_words.data());
    bigint_words.resize(count);
  }
  double number = 0;
  if (!is_bigint && !info[1]->NumberValue(isolate->GetCurrentContext()).To(&number)) return;

  std::unique_lock<std::mutex> lock(self.cluster_->mutex);
  for (auto& child : self.children_) {
    if (child->exited) continue;
    // Counted until the child runs its callback or the job dies unrun
    // (a refused post, or a child that ends with it queued or pending).
    auto receipt = std::make_shared<BroadcastReceipt>(self.cluster_);
    WorkItem item;
    item.job = [store, is_bigint, bigint_sign, bigint_words, number, receipt](AgentRuntime& runtime) {
      v8::Isolate* child_isolate = runtime.isolate();
      v8::HandleScope scope(child_isolate);
      v8::Local<v8::Value> id;
      if (is_bigint) {
        v8::Local<v8::BigInt> value;
        if (!v8::BigInt::NewFromWords(runtime.context(), bigint_sign,
                                      static_cast<int>(bigint_words.size()), bigint_words.data())
                 .ToLocal(&value)) {
          return;  // terminating (the words came from a valid BigInt)
        }
        id = value;
      } else {
        id = v8::Number::New(child_isolate, number);
      }
      runtime.test262()->ReceiveBroadcast(store, id, receipt);
    };
    receipt.reset();  // the job holds the only reference
    child->thread->mailbox()->Post(std::move(item));
  }
  self.WaitFor(lock, [&] { return self.cluster_->pending_receipts.load() == 0; });
  lock.unlock();
  self.runtime_.HaltIfTerminated();  // a terminated test runs no more JS
}

void Test262Host::ReceiveBroadcast(std::shared_ptr<v8::BackingStore> buffer,
                                   v8::Local<v8::Value> id,
                                   std::shared_ptr<BroadcastReceipt> receipt) {
  PendingBroadcast pending{std::move(buffer), v8::Global<v8::Value>(runtime_.isolate(), id),
                           std::move(receipt)};
  pending_.push_back(std::move(pending));
  DeliverPending();
}

void Test262Host::DeliverPending() {
  if (broadcast_callback_.IsEmpty()) return;  // delivered once the agent registers
  v8::Isolate* isolate = runtime_.isolate();
  v8::HandleScope scope(isolate);
  v8::Local<v8::Context> context = runtime_.context();
  std::vector<PendingBroadcast> pending;
  pending.swap(pending_);
  for (auto& broadcast : pending) {
    broadcast.receipt->Release();
    v8::Local<v8::Value> argv[] = {v8::SharedArrayBuffer::New(isolate, broadcast.buffer),
                                   broadcast.id.Get(isolate)};
    v8::TryCatch try_catch(isolate);
    if (broadcast_callback_.Get(isolate)->Call(context, v8::Undefined(isolate), 2, argv).IsEmpty() &&
        try_catch.HasCaught() && !try_catch.HasTerminated()) {
      runtime_.ReportUncaught(try_catch.Exception());
      return;
    }
  }
}

void Test262Host::GetReport(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Test262Host& self = HostOf(info);
  std::string report;
  {
    std::lock_guard<std::mutex> lock(self.cluster_->mutex);
    if (self.cluster_->reports.empty()) {
      info.GetReturnValue().SetNull();
      return;
    }
    report = std::move(self.cluster_->reports.front());
    self.cluster_->reports.pop_front();
  }
  v8::Local<v8::String> text;
  if (NewString(info.GetIsolate(), report).ToLocal(&text)) info.GetReturnValue().Set(text);
}

void Test262Host::Sleep(const v8::FunctionCallbackInfo<v8::Value>& info) {
  double ms = 0;
  if (!info[0]->NumberValue(info.GetIsolate()->GetCurrentContext()).To(&ms)) return;
  AgentRuntime* runtime = AgentRuntime::From(info.GetIsolate());
  // NaN and negatives sleep 0; Infinity and huge values are clamped first:
  // converting them to the clock's int64 nanoseconds overflows (undefined
  // behaviour, in practice a sleep that returned at once).
  constexpr double kMaxSleepMs = 1e12;  // about 31 years, far inside int64 ns
  if (!(ms > 0)) ms = 0;
  if (ms > kMaxSleepMs) ms = kMaxSleepMs;
  auto until = std::chrono::steady_clock::now() +
               std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                   std::chrono::duration<double, std::milli>(ms));
  // Slices, so that a terminate is not kept waiting.
  while (!runtime->terminating()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= until) break;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        until - now, std::chrono::milliseconds(5)));
  }
  runtime->HaltIfTerminated();  // a terminated agent runs no more JS
}

void Test262Host::MonotonicNow(const v8::FunctionCallbackInfo<v8::Value>& info) {
  info.GetReturnValue().Set(MonotonicMilliseconds());
}

void Test262Host::ReceiveBroadcastFn(const v8::FunctionCallbackInfo<v8::Value>& info) {
  if (!info[0]->IsFunction()) {
    ThrowTypeError(info.GetIsolate(), "receiveBroadcast: the argument must be a function");
    return;
  }
  Test262Host& self = HostOf(info);
  self.broadcast_callback_.Reset(info.GetIsolate(), info[0].As<v8::Function>());
  // Broadcasts that came before registration are delivered from the loop.
  if (!self.pending_.empty()) {
    WorkItem item;
    item.job = [](AgentRuntime& runtime) { runtime.test262()->DeliverPending(); };
    self.runtime_.mailbox()->Post(std::move(item));
  }
}

void Test262Host::Report(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::String> text;
  if (!info[0]->ToString(isolate->GetCurrentContext()).ToLocal(&text)) return;
  Test262Host& self = HostOf(info);
  std::lock_guard<std::mutex> lock(self.cluster_->mutex);
  self.cluster_->reports.push_back(ToStdString(isolate, text));
  self.cluster_->changed.notify_all();
}

void Test262Host::Leaving(const v8::FunctionCallbackInfo<v8::Value>&) {}

}  // namespace agentcluster
