// Per-agent observability: heap statistics, heap snapshots, CPU profiles and
// the CPU time of the agent's thread, asked for from the owner's thread and
// answered on the agent's thread, whether it is idle (a mailbox job) or busy
// in JS (an isolate interrupt; whichever comes first answers, the other finds
// nothing left to do). Answers travel as kDiagnostic events: JSON text, or a
// heap snapshot in chunks with a bounded window of unacknowledged bytes.
#pragma once

#include <napi.h>
#include <v8-profiler.h>
#include <v8.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "shared/agent_types.h"
#include "agent/mailbox.h"

namespace agentcluster {

class AgentDiagnostics {
 public:
  enum class Request { kHeapStatistics = 0, kHeapSnapshot = 1, kStartCpuProfile = 2, kStopCpuProfile = 3 };

  // Where the answers go and where an idle agent gets its job.
  AgentDiagnostics(std::shared_ptr<AgentEventSink> sink, std::shared_ptr<Mailbox> mailbox,
                   std::string heap_snapshot_near_limit_file);
  ~AgentDiagnostics();

  // --- agent thread (hooks in AgentThread::Main and the runtime) ---
  void OnThreadStart();  // starts the wall clock, reads the thread's CPU clock id
  void OnThreadEnd();    // freezes CPU and wall time (the clock dies with the thread)
  // The isolate is published / about to be disposed (on the agent thread).
  void Attach(v8::Isolate* isolate, const std::atomic<bool>* terminate_requested);
  void Detach();
  // From the runtime's near-heap-limit callback: records the heap statistics
  // (sent to the owner before the exit event) and, if asked, writes a snapshot.
  static void OnNearHeapLimit(v8::Isolate* isolate);
  // After an out-of-memory stop, once the raised limit is in force: writes the
  // heapSnapshotNearLimitFile snapshot the near-limit call asked for.
  // `cancelled` (terminate(), process exit) stops it at once.
  static void WriteNearLimitSnapshot(v8::Isolate* isolate, const std::function<bool()>& cancelled);

  // --- owner thread ---
  // Queues a request; false once the agent is gone (nothing will answer).
  bool Post(Request request, uint32_t id);
  // The owner has consumed `bytes` of snapshot chunks: the agent may send more.
  void Acknowledge(size_t bytes);
  // The owner no longer wants the snapshot `id` (its stream was destroyed).
  void Cancel(uint32_t id);
  struct CpuUsage {
    double cpu_ms = 0;   // CPU time of the agent's thread (user + system)
    double wall_ms = 0;  // since the thread started
  };
  CpuUsage cpu_usage();
  // Used heap bytes as of the agent's last GC (or heap statistics request):
  // readable from any thread without disturbing the agent.
  double heap_used() const { return heap_used_.load(); }

  // The JS entry point: handle.diagnostics(op, ...) (see src/agent/diagnostics.ts).
  static Napi::Value HostCall(const Napi::CallbackInfo& info,
                              const std::shared_ptr<AgentDiagnostics>& diagnostics);

  // Snapshot chunks the agent may have sent and the owner not yet consumed.
  static constexpr size_t kSnapshotWindowBytes = 4 * 1024 * 1024;

 private:
  class SnapshotStream;
  static void OnInterrupt(v8::Isolate* isolate, void* data);
  static void OnGarbageCollected(v8::Isolate* isolate, v8::GCType type, v8::GCCallbackFlags flags,
                                 void* data);
  void RecordHeapUsed(v8::Isolate* isolate);
  void RunPending(v8::Isolate* isolate);
  void Run(v8::Isolate* isolate, Request request, uint32_t id);
  void Answer(uint32_t id, bool ok, std::string text, bool partial = false);
  void WriteHeapSnapshot(v8::Isolate* isolate, uint32_t id);
  // Blocks the agent thread until the window has room; false to abort.
  bool WaitForWindow(uint32_t id, size_t bytes);

  std::shared_ptr<AgentEventSink> sink_;
  std::weak_ptr<Mailbox> mailbox_;
  const std::string near_limit_file_;

  std::mutex mutex_;  // guards everything below
  std::condition_variable window_changed_;
  v8::Isolate* isolate_ = nullptr;  // set between Attach and Detach
  bool ended_ = false;              // Detach ran: no request will be answered
  const std::atomic<bool>* terminate_requested_ = nullptr;
  std::deque<std::pair<Request, uint32_t>> pending_;
  std::set<uint32_t> cancelled_;
  size_t in_flight_ = 0;
  bool thread_running_ = false;
  clockid_t cpu_clock_{};
  std::chrono::steady_clock::time_point started_;
  CpuUsage final_usage_;
  std::atomic<double> heap_used_{0};

  // Agent thread only.
  v8::CpuProfiler* profiler_ = nullptr;
  bool profiling_ = false;
  bool near_limit_reported_ = false;
};

}  // namespace agentcluster
