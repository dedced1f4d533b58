#include "agent/node_snapshot.h"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <thread>
#include <vector>

#include "shared/v8_compat.h"

namespace agentcluster {

namespace {

std::atomic<bool> g_snapshot_in_use{true};
// Set by VerifyAgentSnapshot when Node's blob failed the check but V8's
// default passed: agents then use the default.
std::atomic<bool> g_node_blob_rejected{false};

struct SnapshotEntryPoints {
  using GetData = const void* (*)();
  using InitParams = void (*)(const void*, v8::Isolate::CreateParams*);
  GetData get_data = nullptr;
  InitParams init_params = nullptr;
};

const SnapshotEntryPoints& EntryPoints() {
  // node::SnapshotBuilder::GetEmbeddedSnapshotData() and
  // node::SnapshotBuilder::InitializeIsolateParams(const SnapshotData*, CreateParams*)
  static const SnapshotEntryPoints points = [] {
    SnapshotEntryPoints found;
    found.get_data = reinterpret_cast<SnapshotEntryPoints::GetData>(
        dlsym(RTLD_DEFAULT, "_ZN4node15SnapshotBuilder23GetEmbeddedSnapshotDataEv"));
    found.init_params = reinterpret_cast<SnapshotEntryPoints::InitParams>(dlsym(
        RTLD_DEFAULT,
        "_ZN4node15SnapshotBuilder23InitializeIsolateParamsEPKNS_12SnapshotDataEPN2v87Isolate12CreateParamsE"));
    return found;
  }();
  return points;
}

// The probe isolate never runs a task: V8's posts are dropped.
class DroppingTaskRunner final : public compat::TaskRunner {
 public:
  bool IdleTasksEnabled() override { return false; }
  bool NonNestableTasksEnabled() const override { return true; }
  bool NonNestableDelayedTasksEnabled() const override { return true; }

 protected:
  void EnqueueTask(std::unique_ptr<v8::Task>) override {}
  void EnqueueDelayedTask(std::unique_ptr<v8::Task>, double) override {}
};

class ProbeDelegate final : public node::IsolatePlatformDelegate {
 public:
  std::shared_ptr<v8::TaskRunner> GetForegroundTaskRunner() override { return runner_; }
  bool IdleTasksEnabled() override { return false; }

 private:
  std::shared_ptr<DroppingTaskRunner> runner_ = std::make_shared<DroppingTaskRunner>();
};

// The sorted own property names of a fresh context's global object, joined.
std::string GlobalFingerprint(v8::Isolate* isolate) {
  v8::HandleScope scope(isolate);
  v8::Local<v8::Context> context = v8::Context::New(isolate);
  v8::Context::Scope context_scope(context);
  v8::Local<v8::Array> names;
  if (!context->Global()
           ->GetOwnPropertyNames(context, v8::PropertyFilter::SKIP_SYMBOLS)
           .ToLocal(&names)) {
    return {};
  }
  std::vector<std::string> list;
  for (uint32_t i = 0; i < names->Length(); i++) {
    v8::Local<v8::Value> name;
    if (!names->Get(context, i).ToLocal(&name)) return {};
    list.emplace_back(*v8::String::Utf8Value(isolate, name));
  }
  std::sort(list.begin(), list.end());
  std::string joined;
  for (const std::string& name : list) joined += name + ",";
  return joined;
}

// In an isolate deserialized from a snapshot that does not match the shared
// read-only heap, roots resolve to the wrong objects: Math.E reads as
// undefined (a property named "'"), names go missing.
bool MathEIsE(v8::Isolate* isolate) {
  v8::HandleScope scope(isolate);
  v8::Local<v8::Context> context = v8::Context::New(isolate);
  v8::Context::Scope context_scope(context);
  v8::Local<v8::Value> math, e;
  if (!context->Global()->Get(context, v8::String::NewFromUtf8Literal(isolate, "Math")).ToLocal(&math) ||
      !math->IsObject() ||
      !math.As<v8::Object>()->Get(context, v8::String::NewFromUtf8Literal(isolate, "E")).ToLocal(&e) ||
      !e->IsNumber()) {
    return false;
  }
  return e.As<v8::Number>()->Value() == std::exp(1.0);
}

// Starts an isolate from the chosen snapshot on a thread of ours and checks it.
bool ProbePasses(node::MultiIsolatePlatform* platform, std::mutex& lifecycle, bool node_blob,
                 const std::string& expected_globals) {
  bool passes = false;
  std::thread probe([&] {
    std::unique_ptr<v8::ArrayBuffer::Allocator> allocator(
        v8::ArrayBuffer::Allocator::NewDefaultAllocator());
    ProbeDelegate delegate;
    v8::Isolate* isolate;
    {
      std::lock_guard<std::mutex> lock(lifecycle);
      isolate = v8::Isolate::Allocate();
      platform->RegisterIsolate(isolate, &delegate);
    }
    v8::Isolate::CreateParams params;
    params.array_buffer_allocator = allocator.get();
    bool blob_found = !node_blob || UseNodeSnapshot(&params);
    v8::Isolate::Initialize(isolate, params);
    {
      v8::Locker locker(isolate);
      v8::Isolate::Scope isolate_scope(isolate);
      passes = blob_found && MathEIsE(isolate) && GlobalFingerprint(isolate) == expected_globals;
    }
    std::lock_guard<std::mutex> lock(lifecycle);
    compat::DisposeIsolate(platform, isolate);
  });
  probe.join();
  return passes;
}

}  // namespace

bool VerifyAgentSnapshot(node::MultiIsolatePlatform* platform, std::mutex& lifecycle,
                         std::string* error) {
  static std::once_flag once;
  static std::string failure;
  std::call_once(once, [&] {
    v8::Isolate* host = v8::Isolate::GetCurrent();
    if (host == nullptr) return;  // no reference to compare with: trust the choice
    const std::string expected = GlobalFingerprint(host);
    const bool node_blob = g_snapshot_in_use.load() && EntryPoints().get_data != nullptr &&
                           EntryPoints().init_params != nullptr;
    if (ProbePasses(platform, lifecycle, node_blob, expected)) return;
    if (node_blob) {
      g_node_blob_rejected.store(true);
      if (ProbePasses(platform, lifecycle, false, expected)) return;
    }
    failure =
        "agentcluster: no V8 snapshot gives agents a realm matching this Node process "
        "(Math.E / global object check failed for Node's embedded snapshot and V8's default)";
  });
  if (failure.empty()) return true;
  *error = failure;
  return false;
}

void SetNodeSnapshotInUse(bool in_use) { g_snapshot_in_use.store(in_use); }

bool UseNodeSnapshot(v8::Isolate::CreateParams* params) {
  if (!g_snapshot_in_use.load() || g_node_blob_rejected.load()) return false;
  const SnapshotEntryPoints& points = EntryPoints();
  if (points.get_data == nullptr || points.init_params == nullptr) return false;
  const void* data = points.get_data();
  if (data == nullptr) return false;
  points.init_params(data, params);
  return true;
}

}  // namespace agentcluster
