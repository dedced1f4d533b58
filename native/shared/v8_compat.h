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

// A termination that lands in the body of a synchronous module V8 runs
// because its top-level-await dependency settled aborts the process from V8
// 12 on: AsyncModuleExecutionFulfilled dereferences the empty exception that
// ExecuteModule leaves for a termination (V8 11.3 read the pending
// termination sentinel instead). See agent/async_parent_marker.h.
constexpr bool kTerminationInSyncImporterOfAsyncModuleAborts = V8_MAJOR_VERSION >= 12;

// V8 14 also calls the near-heap-limit callback when a huge ArrayBuffer's
// backing store cannot be allocated (the heap nearly empty), then throws a
// RangeError the script may catch; V8 11-13 only call it for the JS heap.
constexpr bool kNearHeapLimitOnFailedBackingStore = V8_MAJOR_VERSION >= 14;

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

// String contents. V8 14 replaced Write / WriteOneByte / WriteUtf8 /
// Utf8Length by the *V2 forms (size_t lengths, no null terminator unless
// asked). Our callers never want the terminator, and always want lone
// surrogates replaced by U+FFFD in UTF-8.
inline size_t Utf8Length(v8::Isolate* isolate, v8::Local<v8::String> text) {
#if V8_MAJOR_VERSION >= 14
  return text->Utf8LengthV2(isolate);
#else
  return static_cast<size_t>(text->Utf8Length(isolate));
#endif
}

inline void WriteUtf16(v8::Isolate* isolate, v8::Local<v8::String> text, uint16_t* out,
                       uint32_t offset, uint32_t length) {
#if V8_MAJOR_VERSION >= 14
  text->WriteV2(isolate, offset, length, out);
#else
  text->Write(isolate, out, static_cast<int>(offset), static_cast<int>(length),
              v8::String::NO_NULL_TERMINATION);
#endif
}

inline void WriteLatin1(v8::Isolate* isolate, v8::Local<v8::String> text, uint8_t* out,
                        uint32_t offset, uint32_t length) {
#if V8_MAJOR_VERSION >= 14
  text->WriteOneByteV2(isolate, offset, length, out);
#else
  text->WriteOneByte(isolate, out, static_cast<int>(offset), static_cast<int>(length),
                     v8::String::NO_NULL_TERMINATION);
#endif
}

// Returns the bytes written (whole characters only).
inline size_t WriteUtf8(v8::Isolate* isolate, v8::Local<v8::String> text, char* out,
                        size_t capacity) {
#if V8_MAJOR_VERSION >= 14
  return text->WriteUtf8V2(isolate, out, capacity, v8::String::WriteFlags::kReplaceInvalidUtf8);
#else
  return static_cast<size_t>(text->WriteUtf8(
      isolate, out, static_cast<int>(capacity), nullptr,
      v8::String::REPLACE_INVALID_UTF8 | v8::String::NO_NULL_TERMINATION));
#endif
}

// The object an accessor (native data property) sits on. V8 14 renamed
// Holder() to HolderV2() (on the global object: the global proxy, which is
// what scripts see as globalThis).
template <typename T>
inline v8::Local<v8::Object> HolderOf(const v8::PropertyCallbackInfo<T>& info) {
#if V8_MAJOR_VERSION >= 14
  return info.HolderV2();
#else
  return info.Holder();
#endif
}

// The receiver of an accessor's setter. V8 14 dropped This() from
// PropertyCallbackInfo: a native data property setter is only reached with
// the holder itself as receiver there, so the holder is the receiver.
inline v8::Local<v8::Object> ReceiverOf(const v8::PropertyCallbackInfo<void>& info) {
#if V8_MAJOR_VERSION >= 14
  return info.HolderV2();
#else
  return info.This();
#endif
}

// Aligned pointers in an object's internal fields. V8 14 requires a type tag
// on both ends; we use one tag for all (the fields are checked by our own
// marker in field 0).
inline void SetInternalPointer(v8::Local<v8::Object> object, int index, void* value) {
#if V8_MAJOR_VERSION >= 14
  object->SetAlignedPointerInInternalField(index, value, v8::kEmbedderDataTypeTagDefault);
#else
  object->SetAlignedPointerInInternalField(index, value);
#endif
}

inline void* GetInternalPointer(v8::Local<v8::Object> object, int index) {
#if V8_MAJOR_VERSION >= 14
  return object->GetAlignedPointerFromInternalField(index, v8::kEmbedderDataTypeTagDefault);
#else
  return object->GetAlignedPointerFromInternalField(index);
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

// HeapStatistics::total_allocated_bytes() exists since V8 14 (Node 26, where
// v8.getHeapStatistics() reports it); false before, and the field is left out.
inline bool TotalAllocatedBytes(v8::HeapStatistics& stats, double* out) {
#if V8_MAJOR_VERSION >= 14
  *out = static_cast<double>(stats.total_allocated_bytes());
  return true;
#else
  (void)stats;
  (void)out;
  return false;
#endif
}

}  // namespace agentcluster::compat
