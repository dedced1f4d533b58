// The few V8 API differences between the Node lines we build on (20: V8 11.3,
// 22: V8 12.4, 24: V8 13.6, 26), each as one small named shim. Code elsewhere
// calls these and never tests V8_MAJOR_VERSION itself.
#pragma once

#include <node.h>
#include <node_version.h>
#include <v8.h>
#include <v8-version.h>

#include <v8-platform.h>

#include <memory>
#include <vector>

namespace agentcluster::compat {

// Module::CreateSyntheticModule takes its export names as a MemorySpan since
// V8 12 (a std::vector before).
#if V8_MAJOR_VERSION >= 12
inline v8::MemorySpan<const v8::Local<v8::String>> ExportNames(
    const std::vector<v8::Local<v8::String>>& names) {
  return {names.data(), names.size()};
}
#else
inline const std::vector<v8::Local<v8::String>>& ExportNames(
    const std::vector<v8::Local<v8::String>>& names) {
  return names;
}
#endif

// A script's origin: V8 12 dropped the Isolate* argument (deprecated in 12,
// gone in 13). `is_module` is the only other field we set.
inline v8::ScriptOrigin Origin(v8::Isolate* isolate, v8::Local<v8::Value> name,
                               bool is_module = false) {
#if V8_MAJOR_VERSION >= 12
  (void)isolate;
  return v8::ScriptOrigin(name, 0, 0, false, -1, v8::Local<v8::Value>(), false, false, is_module);
#else
  return v8::ScriptOrigin(isolate, name, 0, 0, false, -1, v8::Local<v8::Value>(), false, false,
                          is_module);
#endif
}

// The isolate a context (or a promise, a message) belongs to. V8 14 removed
// Context::GetIsolate() and friends; every caller here runs inside that
// isolate (agent thread or Node's own), so it is the current one.
template <typename T>
inline v8::Isolate* IsolateOf(v8::Local<T> handle) {
#if V8_MAJOR_VERSION >= 14
  (void)handle;
  return v8::Isolate::GetCurrent();
#else
  return handle->GetIsolate();
#endif
}

// One element of a FixedArray (module requests, import attributes): V8 14
// dropped the Context argument.
inline v8::Local<v8::Data> FixedArrayGet(v8::Local<v8::Context> context,
                                         v8::Local<v8::FixedArray> array, int index) {
#if V8_MAJOR_VERSION >= 14
  (void)context;
  return array->Get(index);
#else
  return array->Get(context, index);
#endif
}

// A module request's `with { type: ... }` list: renamed from import
// assertions to import attributes in V8 12 (the old name is gone in 14).
inline v8::Local<v8::FixedArray> ImportAttributes(v8::Local<v8::ModuleRequest> request) {
#if V8_MAJOR_VERSION >= 12
  return request->GetImportAttributes();
#else
  return request->GetImportAssertions();
#endif
}

// A foreground task runner. V8 12 moved the methods an embedder overrides to
// Post*Impl(..., SourceLocation) (the Post* ones stop being virtual in 13);
// subclasses implement the two hooks below on every line.
class TaskRunner : public v8::TaskRunner {
 protected:
  virtual void EnqueueTask(std::unique_ptr<v8::Task> task) = 0;
  virtual void EnqueueDelayedTask(std::unique_ptr<v8::Task> task, double delay_in_seconds) = 0;

#if V8_MAJOR_VERSION >= 12
  void PostTaskImpl(std::unique_ptr<v8::Task> task, const v8::SourceLocation&) override {
    EnqueueTask(std::move(task));
  }
  void PostNonNestableTaskImpl(std::unique_ptr<v8::Task> task, const v8::SourceLocation&) override {
    EnqueueTask(std::move(task));
  }
  void PostDelayedTaskImpl(std::unique_ptr<v8::Task> task, double delay_in_seconds,
                           const v8::SourceLocation&) override {
    EnqueueDelayedTask(std::move(task), delay_in_seconds);
  }
  void PostNonNestableDelayedTaskImpl(std::unique_ptr<v8::Task> task, double delay_in_seconds,
                                      const v8::SourceLocation&) override {
    EnqueueDelayedTask(std::move(task), delay_in_seconds);
  }
  void PostIdleTaskImpl(std::unique_ptr<v8::IdleTask>, const v8::SourceLocation&) override {}
#else
 public:
  void PostTask(std::unique_ptr<v8::Task> task) override { EnqueueTask(std::move(task)); }
  void PostNonNestableTask(std::unique_ptr<v8::Task> task) override { EnqueueTask(std::move(task)); }
  void PostDelayedTask(std::unique_ptr<v8::Task> task, double delay_in_seconds) override {
    EnqueueDelayedTask(std::move(task), delay_in_seconds);
  }
  void PostNonNestableDelayedTask(std::unique_ptr<v8::Task> task,
                                  double delay_in_seconds) override {
    EnqueueDelayedTask(std::move(task), delay_in_seconds);
  }
  void PostIdleTask(std::unique_ptr<v8::IdleTask>) override {}
#endif
};

// Ends an isolate registered with RegisterIsolate. Node 24 (V8 13) asks the
// platform for the isolate's task runner during Isolate::Dispose, so it must
// still be registered then: MultiIsolatePlatform::DisposeIsolate does
// deinitialize, unregister and free in that order. Before 24 the documented
// order is unregister, then dispose.
inline void DisposeIsolate(node::MultiIsolatePlatform* platform, v8::Isolate* isolate) {
#if NODE_MAJOR_VERSION >= 24
  platform->DisposeIsolate(isolate);
#else
  platform->UnregisterIsolate(isolate);
  isolate->Dispose();
#endif
}

}  // namespace agentcluster::compat
