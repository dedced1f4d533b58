#include "agent/agent_diagnostics.h"

#include <v8-profiler.h>
#include <pthread.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include "agent/agent_runtime.h"
#include "agent/isolate_slots.h"
#include "agent/near_limit_snapshot.h"
#include "host/native_args.h"
#include "shared/v8_compat.h"

namespace agentcluster {

namespace {

constexpr size_t kChunkBytes = 64 * 1024;

// Error codes sent as the text of a failed answer (the TS side makes AgentErrors).
constexpr const char* kProfileActive = "ERR_AGENT_PROFILE_ACTIVE";
constexpr const char* kNoProfile = "ERR_AGENT_NO_PROFILE";
constexpr const char* kSnapshotFailed = "ERR_AGENT_SNAPSHOT_FAILED";

void AppendJsonString(std::string* out, const char* text, size_t length) {
  out->push_back('"');
  for (size_t i = 0; i < length; i++) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20) {
          char escape[8];
          std::snprintf(escape, sizeof escape, "\\u%04x", c);
          out->append(escape);
        } else {
          out->push_back(static_cast<char>(c));  // UTF-8 passes through
        }
    }
  }
  out->push_back('"');
}

void AppendJsonString(std::string* out, v8::Isolate* isolate, v8::Local<v8::String> text) {
  v8::String::Utf8Value utf8(isolate, text);
  if (*utf8 == nullptr) {
    out->append("\"\"");
  } else {
    AppendJsonString(out, *utf8, utf8.length());
  }
}

// The fields of v8.getHeapStatistics(), with its names, plus externalMemory.
std::string HeapStatisticsJson(v8::Isolate* isolate) {
  v8::HeapStatistics stats;
  isolate->GetHeapStatistics(&stats);
  std::string json = "{";
  auto field = [&](const char* name, double value) {
    if (json.size() > 1) json.push_back(',');
    json += '"';
    json += name;
    json += "\":";
    char number[32];
    std::snprintf(number, sizeof number, "%.0f", value);
    json += number;
  };
  field("total_heap_size", stats.total_heap_size());
  field("total_heap_size_executable", stats.total_heap_size_executable());
  field("total_physical_size", stats.total_physical_size());
  field("total_available_size", stats.total_available_size());
  field("used_heap_size", stats.used_heap_size());
  field("heap_size_limit", stats.heap_size_limit());
  field("malloced_memory", stats.malloced_memory());
  field("peak_malloced_memory", stats.peak_malloced_memory());
  field("does_zap_garbage", stats.does_zap_garbage());
  field("number_of_native_contexts", stats.number_of_native_contexts());
  field("number_of_detached_contexts", stats.number_of_detached_contexts());
  field("total_global_handles_size", stats.total_global_handles_size());
  field("used_global_handles_size", stats.used_global_handles_size());
  field("external_memory", stats.external_memory());
  double total_allocated = 0;
  if (compat::TotalAllocatedBytes(stats, &total_allocated)) field("total_allocated_bytes", total_allocated);
  // The same counter, camel-cased like the rest of the Agent API: what V8
  // counts as held outside its heap (ArrayBuffer backing stores included).
  field("externalMemory", stats.external_memory());
  json += "}";
  return json;
}

// A .cpuprofile (the DevTools Profiler.Profile shape), as Node writes for --cpu-prof.
std::string CpuProfileJson(v8::Isolate* isolate, const v8::CpuProfile* profile) {
  std::string json = "{\"nodes\":[";
  std::vector<const v8::CpuProfileNode*> stack{profile->GetTopDownRoot()};
  bool first = true;
  while (!stack.empty()) {
    const v8::CpuProfileNode* node = stack.back();
    stack.pop_back();
    if (!first) json.push_back(',');
    first = false;
    char number[160];
    std::snprintf(number, sizeof number, "{\"id\":%u,\"hitCount\":%u,\"callFrame\":{\"functionName\":",
                  node->GetNodeId(), node->GetHitCount());
    json += number;
    AppendJsonString(&json, isolate, node->GetFunctionName());
    std::snprintf(number, sizeof number, ",\"scriptId\":\"%d\",\"url\":", node->GetScriptId());
    json += number;
    AppendJsonString(&json, isolate, node->GetScriptResourceName());
    // V8 counts lines and columns from 1, the protocol from 0.
    std::snprintf(number, sizeof number, ",\"lineNumber\":%d,\"columnNumber\":%d},\"children\":[",
                  node->GetLineNumber() - 1, node->GetColumnNumber() - 1);
    json += number;
    int children = node->GetChildrenCount();
    for (int i = 0; i < children; i++) {
      const v8::CpuProfileNode* child = node->GetChild(i);
      std::snprintf(number, sizeof number, "%s%u", i == 0 ? "" : ",", child->GetNodeId());
      json += number;
      stack.push_back(child);
    }
    json += "]}";
  }
  char number[64];
  std::snprintf(number, sizeof number, "],\"startTime\":%lld,\"endTime\":%lld,\"samples\":[",
                static_cast<long long>(profile->GetStartTime()),
                static_cast<long long>(profile->GetEndTime()));
  json += number;
  int samples = profile->GetSamplesCount();
  for (int i = 0; i < samples; i++) {
    std::snprintf(number, sizeof number, "%s%u", i == 0 ? "" : ",", profile->GetSample(i)->GetNodeId());
    json += number;
  }
  json += "],\"timeDeltas\":[";
  int64_t previous = profile->GetStartTime();
  for (int i = 0; i < samples; i++) {
    int64_t timestamp = profile->GetSampleTimestamp(i);
    std::snprintf(number, sizeof number, "%s%lld", i == 0 ? "" : ",",
                  static_cast<long long>(timestamp - previous));
    json += number;
    previous = timestamp;
  }
  json += "]}";
  return json;
}

double ThreadClockMs(clockid_t clock) {
  timespec now{};
  if (clock_gettime(clock, &now) != 0) return 0;
  return now.tv_sec * 1e3 + now.tv_nsec / 1e6;
}

}  // namespace

// Serializes a snapshot in 64 KiB chunks, each sent as soon as the window
// of unacknowledged bytes has room (the agent waits otherwise).
class AgentDiagnostics::SnapshotStream final : public v8::OutputStream {
 public:
  SnapshotStream(AgentDiagnostics* owner, uint32_t id) : owner_(owner), id_(id) {
    buffer_.reserve(kChunkBytes);
  }
  int GetChunkSize() override { return static_cast<int>(kChunkBytes); }
  WriteResult WriteAsciiChunk(char* data, int size) override {
    buffer_.append(data, static_cast<size_t>(size));
    if (buffer_.size() >= kChunkBytes && !Flush()) return kAbort;
    return kContinue;
  }
  void EndOfStream() override { ended_ = Flush(); }
  bool ended() const { return ended_; }

 private:
  bool Flush() {
    if (buffer_.empty()) return true;
    if (!owner_->WaitForWindow(id_, buffer_.size())) return false;
    std::string chunk;
    chunk.reserve(kChunkBytes);
    chunk.swap(buffer_);
    owner_->Answer(id_, true, std::move(chunk), true);
    return true;
  }

  AgentDiagnostics* owner_;
  uint32_t id_;
  std::string buffer_;
  bool ended_ = false;
};

AgentDiagnostics::AgentDiagnostics(std::shared_ptr<AgentEventSink> sink,
                                   std::shared_ptr<Mailbox> mailbox,
                                   std::string heap_snapshot_near_limit_file)
    : sink_(std::move(sink)),
      mailbox_(mailbox),
      near_limit_file_(std::move(heap_snapshot_near_limit_file)) {}

AgentDiagnostics::~AgentDiagnostics() = default;

void AgentDiagnostics::OnThreadStart() {
  std::lock_guard<std::mutex> lock(mutex_);
  started_ = std::chrono::steady_clock::now();
  thread_running_ = pthread_getcpuclockid(pthread_self(), &cpu_clock_) == 0;
}

void AgentDiagnostics::OnThreadEnd() {
  std::lock_guard<std::mutex> lock(mutex_);
  final_usage_.cpu_ms = ThreadClockMs(CLOCK_THREAD_CPUTIME_ID);
  final_usage_.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
  thread_running_ = false;
  ended_ = true;
}

AgentDiagnostics::CpuUsage AgentDiagnostics::cpu_usage() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!thread_running_) return final_usage_;  // zeros before the thread starts
  CpuUsage usage;
  usage.cpu_ms = ThreadClockMs(cpu_clock_);
  usage.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
  return usage;
}

void AgentDiagnostics::Attach(v8::Isolate* isolate, const std::atomic<bool>* terminate_requested) {
  isolate->SetData(kDiagnosticsSlot, this);
  isolate->AddGCEpilogueCallback(OnGarbageCollected, this);
  RecordHeapUsed(isolate);
  std::lock_guard<std::mutex> lock(mutex_);
  isolate_ = isolate;
  terminate_requested_ = terminate_requested;
  // Requests that came before the isolate existed: reach a busy entry script too.
  if (!pending_.empty()) isolate_->RequestInterrupt(OnInterrupt, this);
}

void AgentDiagnostics::Detach() {
  v8::Isolate* isolate;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    isolate = isolate_;
    isolate_ = nullptr;
    ended_ = true;
    pending_.clear();  // the exit event rejects them on the owner's side
  }
  if (isolate == nullptr) return;
  isolate->RemoveGCEpilogueCallback(OnGarbageCollected, this);
  if (profiler_ != nullptr) {
    if (profiling_) {
      // A profile still running is stopped and dropped before the profiler goes.
      v8::HandleScope scope(isolate);
      v8::CpuProfile* profile =
          profiler_->StopProfiling(v8::String::NewFromUtf8Literal(isolate, "agent"));
      if (profile != nullptr) profile->Delete();
      profiling_ = false;
    }
    profiler_->Dispose();
    profiler_ = nullptr;
  }
  isolate->SetData(kDiagnosticsSlot, nullptr);
}

bool AgentDiagnostics::Post(Request request, uint32_t id) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (ended_) return false;
    pending_.emplace_back(request, id);
    // Busy in JS: the interrupt answers at the next stack check (also
    // inside Atomics.wait). Idle: the mailbox job below does.
    if (isolate_ != nullptr) isolate_->RequestInterrupt(OnInterrupt, this);
  }
  std::shared_ptr<Mailbox> mailbox = mailbox_.lock();
  if (mailbox) {
    WorkItem item;
    item.job = [this](AgentRuntime& runtime) { RunPending(runtime.isolate()); };
    mailbox->Post(std::move(item));
  }
  return true;
}

void AgentDiagnostics::Acknowledge(size_t bytes) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    in_flight_ = bytes > in_flight_ ? 0 : in_flight_ - bytes;
  }
  window_changed_.notify_all();
}

void AgentDiagnostics::Cancel(uint32_t id) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled_.insert(id);
  }
  window_changed_.notify_all();
}

void AgentDiagnostics::OnGarbageCollected(v8::Isolate* isolate, v8::GCType, v8::GCCallbackFlags,
                                          void* data) {
  static_cast<AgentDiagnostics*>(data)->RecordHeapUsed(isolate);
}

void AgentDiagnostics::RecordHeapUsed(v8::Isolate* isolate) {
  v8::HeapStatistics stats;
  isolate->GetHeapStatistics(&stats);
  heap_used_.store(static_cast<double>(stats.used_heap_size()));
}

void AgentDiagnostics::OnInterrupt(v8::Isolate* isolate, void* data) {
  static_cast<AgentDiagnostics*>(data)->RunPending(isolate);
}

void AgentDiagnostics::RunPending(v8::Isolate* isolate) {
  for (;;) {
    std::pair<Request, uint32_t> next;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (pending_.empty() || isolate_ == nullptr) return;
      next = pending_.front();
      pending_.pop_front();
    }
    v8::HandleScope scope(isolate);
    Run(isolate, next.first, next.second);
  }
}

void AgentDiagnostics::Answer(uint32_t id, bool ok, std::string text, bool partial) {
  AgentEvent event;
  event.kind = AgentEvent::Kind::kDiagnostic;
  event.id = id;
  event.ok = ok;
  event.text = std::move(text);
  event.partial = partial;
  sink_->Deliver(std::move(event));
}

void AgentDiagnostics::Run(v8::Isolate* isolate, Request request, uint32_t id) {
  switch (request) {
    case Request::kHeapStatistics:
      RecordHeapUsed(isolate);
      Answer(id, true, HeapStatisticsJson(isolate));
      return;
    case Request::kHeapSnapshot:
      WriteHeapSnapshot(isolate, id);
      return;
    case Request::kStartCpuProfile: {
      if (profiling_) {
        Answer(id, false, kProfileActive);
        return;
      }
      if (profiler_ == nullptr) profiler_ = v8::CpuProfiler::New(isolate);
      v8::CpuProfilingStatus status =
          profiler_->StartProfiling(v8::String::NewFromUtf8Literal(isolate, "agent"), true);
      profiling_ = status != v8::CpuProfilingStatus::kErrorTooManyProfilers;
      Answer(id, profiling_, profiling_ ? "true" : kProfileActive);
      return;
    }
    case Request::kStopCpuProfile: {
      if (!profiling_ || profiler_ == nullptr) {
        Answer(id, false, kNoProfile);
        return;
      }
      profiling_ = false;
      v8::CpuProfile* profile =
          profiler_->StopProfiling(v8::String::NewFromUtf8Literal(isolate, "agent"));
      if (profile == nullptr) {
        Answer(id, false, kNoProfile);
        return;
      }
      std::string json = CpuProfileJson(isolate, profile);
      profile->Delete();
      Answer(id, true, std::move(json));
      return;
    }
  }
}

bool AgentDiagnostics::WaitForWindow(uint32_t id, size_t bytes) {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    if (cancelled_.count(id) > 0) return false;
    if (terminate_requested_ != nullptr && terminate_requested_->load()) return false;
    if (in_flight_ == 0 || in_flight_ + bytes <= kSnapshotWindowBytes) break;
    // Terminate() does not know this condition variable: look again soon.
    window_changed_.wait_for(lock, std::chrono::milliseconds(20));
  }
  in_flight_ += bytes;
  return true;
}

void AgentDiagnostics::WriteHeapSnapshot(v8::Isolate* isolate, uint32_t id) {
  bool cancelled;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    in_flight_ = 0;  // one snapshot at a time: the window restarts with it
    cancelled = cancelled_.erase(id) > 0;
  }
  if (cancelled) {
    Answer(id, false, kSnapshotFailed);
    return;
  }
  v8::HeapProfiler* heap_profiler = isolate->GetHeapProfiler();
  const v8::HeapSnapshot* snapshot = heap_profiler->TakeHeapSnapshot();
  if (snapshot == nullptr) {
    Answer(id, false, kSnapshotFailed);
    return;
  }
  SnapshotStream stream(this, id);
  snapshot->Serialize(&stream, v8::HeapSnapshot::kJSON);
  const_cast<v8::HeapSnapshot*>(snapshot)->Delete();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled_.erase(id);
  }
  // The last answer ends the stream (or fails it: cancelled, or the agent is stopping).
  if (stream.ended()) {
    Answer(id, true, std::string());
  } else {
    Answer(id, false, kSnapshotFailed);
  }
}

void AgentDiagnostics::OnNearHeapLimit(v8::Isolate* isolate) {
  auto* self = static_cast<AgentDiagnostics*>(isolate->GetData(kDiagnosticsSlot));
  if (self == nullptr || self->near_limit_reported_) return;
  self->near_limit_reported_ = true;
  // Id 0 is never a request: the owner keeps it for the exit info.
  self->Answer(0, true, HeapStatisticsJson(isolate));
  // Not here: the snapshot's own GCs would run under the old limit (V8 14
  // then aborts: "Ineffective mark-compacts near heap limit"). The runtime
  // writes it once the agent has stopped, with the raised limit; the script's
  // data is still reachable then (only what the unwound stack held is gone).
}

void AgentDiagnostics::WriteNearLimitSnapshot(v8::Isolate* isolate, const std::function<bool()>& cancelled) {
  auto* self = static_cast<AgentDiagnostics*>(isolate->GetData(kDiagnosticsSlot));
  if (self == nullptr || !self->near_limit_reported_ || self->near_limit_file_.empty()) return;
  WriteNearLimitSnapshotFile(isolate, self->near_limit_file_, cancelled);
}

Napi::Value AgentDiagnostics::HostCall(const Napi::CallbackInfo& info,
                                       const std::shared_ptr<AgentDiagnostics>& diagnostics) {
  // AgentHandle::Diagnostics checked the op and the arguments' types; the
  // numbers are checked here, before anything else, so that a bad one is
  // refused whatever state the agent is in (never cast, never posted).
  Napi::Env env = info.Env();
  constexpr const char* kCallee = "AgentHandle.diagnostics";
  constexpr uint64_t kMaxId = 4294967295u;  // request ids travel as uint32; 0 is the exit info's
  constexpr uint64_t kMaxBytes = (uint64_t{1} << 53) - 1;
  std::string op = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : std::string();
  if (op == "cpuUsage") {
    CpuUsage usage = diagnostics ? diagnostics->cpu_usage() : CpuUsage{};
    Napi::Object result = Napi::Object::New(env);
    result.Set("cpuMs", usage.cpu_ms);
    result.Set("wallMs", usage.wall_ms);
    return result;
  }
  if (op == "heapUsed") return Napi::Number::New(env, diagnostics ? diagnostics->heap_used() : 0);
  if (op == "post") {
    uint64_t kind = 0;
    uint64_t id = 0;
    if (!ReadIntegerArg(info, kCallee, "kind", 1, 0, 3, &kind) || !ReadIntegerArg(info, kCallee, "id", 2, 1, kMaxId, &id)) {
      return env.Undefined();
    }
    if (!diagnostics) return Napi::Boolean::New(env, false);
    return Napi::Boolean::New(env, diagnostics->Post(static_cast<Request>(kind), static_cast<uint32_t>(id)));
  }
  if (op == "ack") {
    uint64_t bytes = 0;
    if (!ReadIntegerArg(info, kCallee, "bytes", 1, 0, kMaxBytes, &bytes)) return env.Undefined();
    if (diagnostics && bytes > 0) diagnostics->Acknowledge(static_cast<size_t>(bytes));
    return env.Undefined();
  }
  if (op == "cancel") {
    uint64_t id = 0;
    if (!ReadIntegerArg(info, kCallee, "id", 1, 1, kMaxId, &id)) return env.Undefined();
    if (diagnostics) diagnostics->Cancel(static_cast<uint32_t>(id));
    return env.Undefined();
  }
  return env.Undefined();
}

}  // namespace agentcluster
