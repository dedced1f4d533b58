#include "agent/agent_thread.h"

#include <pthread.h>

#include <algorithm>

#include "agent/agent_runtime.h"
#include "agent/node_snapshot.h"
#include "agent/platform_delegate.h"
#include "agent/snapshot/agent_snapshot.h"
#include "shared/v8_compat.h"

namespace agentcluster {

namespace {

node::MultiIsolatePlatform* g_platform = nullptr;

// Creating and disposing isolates is serialized process-wide: the platform
// keys per-isolate data by address, and a new isolate may reuse the address
// of one being disposed (nodejs/node#30846).
std::mutex& IsolateLifecycleMutex() {
  static std::mutex mutex;
  return mutex;
}

// One allocator for every agent: BackingStores that move between agents keep
// it alive through the shared_ptr, whichever isolate frees them.
std::shared_ptr<v8::ArrayBuffer::Allocator> SharedAllocator() {
  static std::shared_ptr<v8::ArrayBuffer::Allocator> allocator(
      v8::ArrayBuffer::Allocator::NewDefaultAllocator());
  return allocator;
}

std::atomic<uint64_t> g_next_id{1};

}  // namespace

void AgentThread::SetPlatform(node::MultiIsolatePlatform* platform) {
  if (g_platform == nullptr) g_platform = platform;
}

AgentThread::AgentThread(AgentOptions options, std::shared_ptr<AgentEventSink> sink)
    : id_(g_next_id++),
      options_(std::move(options)),
      sink_(std::move(sink)),
      mailbox_(std::make_shared<Mailbox>()),
      diagnostics_(std::make_shared<AgentDiagnostics>(sink_, mailbox_,
                                                      options_.heap_snapshot_near_limit_file)) {}

AgentThread::~AgentThread() { Join(); }

std::shared_ptr<AgentThread> AgentThread::Start(AgentOptions options,
                                                std::shared_ptr<AgentEventSink> sink,
                                                std::string* error) {
  if (g_platform == nullptr) {
    *error = "agentcluster: no V8 platform (the addon was not initialised by Node)";
    return nullptr;
  }
  std::shared_ptr<AgentThread> agent(new AgentThread(std::move(options), std::move(sink)));
  agent->self_while_running_ = agent;

  // Below this V8's own frames past the JS stack limit overflow the thread's
  // real stack (0.05 MB crashed with SIGSEGV); src/options/limits.ts
  // refuses smaller values, this only guards direct native callers.
  constexpr size_t kMinStackBytes = 256 * 1024;
  agent->options_.stack_size_bytes = std::max(agent->options_.stack_size_bytes, kMinStackBytes);
  uv_thread_options_t thread_options;
  thread_options.flags = UV_THREAD_HAS_STACK_SIZE;
  thread_options.stack_size = agent->options_.stack_size_bytes;
  // Never runs a line of the agent's code: the isolate is not even published.
  if (agent->options_.terminated_before_start) agent->terminate_requested_.store(true);
  std::lock_guard<std::mutex> lock(agent->join_mutex_);
  int rc = uv_thread_create_ex(&agent->thread_, &thread_options, ThreadMain, agent.get());
  if (rc != 0) {
    agent->self_while_running_.reset();
    *error = std::string("agentcluster: could not start the agent thread: ") + uv_strerror(rc);
    return nullptr;
  }
  agent->joinable_ = true;
  return agent;
}

void AgentThread::ThreadMain(void* arg) {
  AgentThread* self = static_cast<AgentThread*>(arg);
  std::shared_ptr<AgentThread> keep_alive = std::move(self->self_while_running_);
  self->Main();
}

void AgentThread::Terminate() {
  terminate_requested_.store(true);
  {
    std::lock_guard<std::mutex> lock(isolate_mutex_);
    // Not TerminateExecution() directly: V8 11.3 aborts the process if the
    // termination surfaces in the PromiseThen call that starts an async
    // (top-level await) module. Requested from an interrupt, it surfaces at
    // the next stack check instead, which V8 handles. The interrupt also
    // wakes an agent blocked in Atomics.wait.
    if (isolate_ != nullptr) {
      isolate_->RequestInterrupt(
          [](v8::Isolate* isolate, void*) { isolate->TerminateExecution(); }, nullptr);
    }
  }
  mailbox_->Wake();
  sink_->WakeBlocked();  // a postMessage waiting for the host's queue to drain
  if (options_.host_bridge) options_.host_bridge->Terminate();  // a pending host.sync call
}

bool AgentThread::Interrupt() {
  // A pending host.sync call is the other wait interrupt() ends.
  if (options_.host_bridge && options_.host_bridge->Interrupt()) return true;
  // isolate_mutex_ keeps the isolate alive while the interrupt is requested.
  std::lock_guard<std::mutex> lock(isolate_mutex_);
  return isolate_ != nullptr && atomics_wait_.Interrupt(isolate_);
}

AgentThread::AtomicsStats AgentThread::atomics_stats() { return atomics_wait_.stats(); }

void AgentThread::Join() {
  std::lock_guard<std::mutex> lock(join_mutex_);
  if (!joinable_) return;
  joinable_ = false;
  uv_thread_t current = uv_thread_self();
  if (uv_thread_equal(&current, &thread_)) {
    // The last reference was dropped on the agent's own thread: nobody is
    // left to join it, so let it finish on its own.
    pthread_detach(thread_);
    return;
  }
  uv_thread_join(&thread_);
}

void AgentThread::Main() {
  if (options_.entry_data) options_.entry_data->Wait(&options_.data, &options_.has_data);
  AgentEvent exit_event;
  exit_event.kind = AgentEvent::Kind::kExit;
  diagnostics_->OnThreadStart();

  AgentPlatformDelegate delegate(mailbox_);
  v8::Isolate* isolate;
  v8::Isolate::CreateParams params;
  bool agent_snapshot = false;
  {
    // Only allocation + registration (and, below, unregistration + disposal)
    // need the process-wide lock; initialisation runs in parallel.
    std::lock_guard<std::mutex> lock(IsolateLifecycleMutex());
    // Built (and verified) by the first agent; its isolates need this lock.
    agent_snapshot = UseAgentSnapshot(g_platform, &params);
    isolate = v8::Isolate::Allocate();
    g_platform->RegisterIsolate(isolate, &delegate);
  }
  {
    params.array_buffer_allocator_shared = SharedAllocator();
    // Heap defaults sized from the machine, as Node does for its own isolates
    // (without it, large external buffers force synchronous full GCs).
    params.constraints.ConfigureDefaults(uv_get_total_memory(), 0);
    // Else the same snapshot as Node's own isolates.
    if (!agent_snapshot) UseNodeSnapshot(&params);
    if (options_.max_heap_bytes > 0) {
      // The heap must at least hold the deserialized snapshot: below that V8
      // aborts the process during Isolate::Initialize, before any callback.
      constexpr size_t kMinHeapBytes = 4 * 1024 * 1024;
      params.constraints.set_max_old_generation_size_in_bytes(
          std::max(options_.max_heap_bytes, kMinHeapBytes));
    }
    if (options_.max_young_gen_bytes > 0) {
      params.constraints.set_max_young_generation_size_in_bytes(options_.max_young_gen_bytes);
    }
    v8::Isolate::Initialize(isolate, params);
  }

  isolate->SetMicrotasksPolicy(v8::MicrotasksPolicy::kExplicit);
  isolate->SetAllowAtomicsWait(options_.can_block);
  atomics_wait_.Attach(isolate);

  bool start = false;
  {
    // A terminate that came before the isolate was published is honoured here.
    std::lock_guard<std::mutex> lock(isolate_mutex_);
    start = !terminate_requested_.load();
    if (start) isolate_ = isolate;
  }

  if (start) {
    v8::Locker locker(isolate);
    v8::Isolate::Scope isolate_scope(isolate);
    // V8 must stop JS well before the thread's real stack end. Set after the
    // Locker: its first lock re-initialises the stack guard to V8's default.
    char stack_marker;
    const uintptr_t stack_size = options_.stack_size_bytes;
    const uintptr_t slack = std::min<uintptr_t>(stack_size / 4, 256 * 1024);
    isolate->SetStackLimit(reinterpret_cast<uintptr_t>(&stack_marker) - (stack_size - slack));
    diagnostics_->Attach(isolate, &terminate_requested_);
    {
      AgentRuntime runtime(isolate, options_, sink_, mailbox_, terminate_requested_);
      runtime.Run();
      exit_event.reason = runtime.exit_reason();
      exit_event.exit_code = runtime.exit_code();
    }
    diagnostics_->Detach();
    std::lock_guard<std::mutex> lock(isolate_mutex_);
    isolate_ = nullptr;
  } else {
    exit_event.reason = ExitReason::kTerminated;
    exit_event.exit_code = 1;
  }

  ending_reason_.store(ExitReasonName(exit_event.reason));
  mailbox_->Close();  // queued V8 tasks die while their isolate still exists
  {
    std::lock_guard<std::mutex> lock(IsolateLifecycleMutex());
    compat::DisposeIsolate(g_platform, isolate);
  }
  diagnostics_->OnThreadEnd();
  sink_->Deliver(std::move(exit_event));
}

}  // namespace agentcluster
