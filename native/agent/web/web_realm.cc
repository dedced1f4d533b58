#include "agent/web/web_realm.h"

#include <chrono>
#include <thread>

#include "agent/agent_globals.h"
#include "agent/agent_runtime.h"
#include "shared/message.h"
#include "shared/v8_compat.h"
#include "shared/v8_util.h"
#include "agent/web/natives.h"
#include "agent/web/web_sources.h"

namespace agentcluster {

namespace {

// One lazy property: `name` on the global (or on `performance`) is export
// `exported` of the JS half `module`.
struct LazyName {
  bool on_performance;
  const char* name;
  const char* module;
  const char* exported;
};

constexpr LazyName kLazyNames[] = {
    {false, "DOMException", "domexception", "DOMException"},
    {false, "Event", "event", "Event"},
    {false, "EventTarget", "event", "EventTarget"},
    {false, "CustomEvent", "event", "CustomEvent"},
    {false, "AbortController", "abort", "AbortController"},
    {false, "AbortSignal", "abort", "AbortSignal"},
    {false, "TextEncoder", "encoding", "TextEncoder"},
    {false, "TextDecoder", "encoding", "TextDecoder"},
    {false, "URL", "url", "URL"},
    {false, "URLSearchParams", "url", "URLSearchParams"},
    {false, "atob", "base64", "atob"},
    {false, "btoa", "base64", "btoa"},
    {false, "structuredClone", "clone", "structuredClone"},
    {false, "crypto", "crypto", "crypto"},
    {false, "Crypto", "crypto", "Crypto"},
    {false, "SubtleCrypto", "crypto", "SubtleCrypto"},
    {false, "navigator", "navigator", "navigator"},
    {false, "Navigator", "navigator", "Navigator"},
    {false, "PerformanceEntry", "performance", "PerformanceEntry"},
    {false, "PerformanceMark", "performance", "PerformanceMark"},
    {false, "PerformanceMeasure", "performance", "PerformanceMeasure"},
    {true, "timeOrigin", "performance", "timeOrigin"},
    {true, "mark", "performance", "mark"},
    {true, "measure", "performance", "measure"},
    {true, "getEntries", "performance", "getEntries"},
    {true, "getEntriesByName", "performance", "getEntriesByName"},
    {true, "getEntriesByType", "performance", "getEntriesByType"},
    {true, "clearMarks", "performance", "clearMarks"},
    {true, "clearMeasures", "performance", "clearMeasures"},
    {true, "toJSON", "performance", "toJSON"},
};

// The embedded sources live in the binary for the process's lifetime: V8
// reads them in place (no copy per agent).
class StaticSource final : public v8::String::ExternalOneByteStringResource {
 public:
  StaticSource(const char* data, size_t length) : data_(data), length_(length) {}
  const char* data() const override { return data_; }
  size_t length() const override { return length_; }

 private:
  const char* data_;
  size_t length_;
};

const WebSource* FindSource(const std::string& name) {
  for (const WebSource& source : kWebSources) {
    if (name == source.name) return &source;
  }
  return nullptr;
}

// structuredClone's core: our own serializer, ports re-bound in this agent.
void Clone(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  AgentRuntime* runtime = AgentRuntime::From(isolate);
  if (runtime == nullptr) return;
  Message message;
  if (!SerializeMessage(context, info[0], info[1], &message)) return;
  v8::Local<v8::Value> value;
  if (DeserializeMessage(context, &message, runtime->ports()).ToLocal(&value)) {
    info.GetReturnValue().Set(value);
  }
}

void Set(v8::Local<v8::Context> context, v8::Local<v8::Object> target, const char* name,
         v8::Local<v8::Value> value) {
  if (value.IsEmpty()) return;
  target->CreateDataProperty(context, Str(compat::IsolateOf(context), name), value).FromMaybe(false);
}

}  // namespace

WebRealm* WebRealm::From(v8::Isolate* isolate) {
  AgentRuntime* runtime = AgentRuntime::From(isolate);
  return runtime == nullptr ? nullptr : runtime->web();
}

void WebRealm::Install(v8::Local<v8::Context> context) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  v8::HandleScope scope(isolate);
  v8::Local<v8::Object> global = context->Global();
  // The originals, before any user code runs (a plain object: cheap).
  v8::Local<v8::Object> captured = v8::Object::New(isolate);
  for (const char* name : {"setTimeout", "clearTimeout", "queueMicrotask", "performance"}) {
    v8::Local<v8::Value> value;
    if (global->Get(context, Str(isolate, name)).ToLocal(&value)) Set(context, captured, name, value);
  }
  captured_.Reset(isolate, captured);
  v8::Local<v8::Value> performance;
  if (!global->Get(context, Str(isolate, "performance")).ToLocal(&performance) ||
      !performance->IsObject()) {
    return;
  }
  // Native data properties, NOT SetLazyDataProperty: V8's replace-on-access
  // CHECKs (release build: process abort) that the property is unchanged
  // when the getter returns, and the getter runs module code that user code
  // can reach (replaced builtins, Object.prototype setters). Our getter
  // replaces the property itself, only if it is still ours.
  for (size_t i = 0; i < sizeof(kLazyNames) / sizeof(kLazyNames[0]); i++) {
    v8::Local<v8::Object> target =
        kLazyNames[i].on_performance ? performance.As<v8::Object>() : global;
    target
        ->SetNativeDataProperty(context, Str(isolate, kLazyNames[i].name), LazyGetter, LazySetter,
                                v8::Integer::New(isolate, static_cast<int>(i)), v8::DontEnum)
        .FromMaybe(false);
  }
}

void WebRealm::LazyGetter(v8::Local<v8::Name> property,
                          const v8::PropertyCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  WebRealm* self = From(isolate);
  if (self == nullptr) return;
  int32_t index = info.Data().As<v8::Int32>()->Value();
  if (index < 0 || static_cast<size_t>(index) >= sizeof(kLazyNames) / sizeof(kLazyNames[0])) return;
  const LazyName& entry = kLazyNames[index];
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::Object> exports;
  if (!self->Require(context, entry.module).ToLocal(&exports)) return;
  v8::Local<v8::Value> value;
  if (!exports->Get(context, Str(isolate, entry.exported)).ToLocal(&value)) return;
  // Module code may have deleted or redefined the name meanwhile: then the
  // user's version stays and this read still gets the value. Otherwise the
  // accessor becomes a plain data property (later reads cost nothing).
  ReplaceWithData(context, compat::HolderOf(info), property, value, v8::DontEnum);
  info.GetReturnValue().Set(value);
}

// Delete first: DefineOwnProperty over the accessor would read its current
// value, i.e. call the getter again. Deleting a configurable own property of
// a plain object (or the global, which has no interceptor) runs no JS.
void WebRealm::ReplaceWithData(v8::Local<v8::Context> context, v8::Local<v8::Object> target,
                               v8::Local<v8::Name> property, v8::Local<v8::Value> value,
                               v8::PropertyAttribute attributes) {
  if (!target->HasRealNamedCallbackProperty(context, property).FromMaybe(false)) return;
  if (!target->Delete(context, property).FromMaybe(false)) return;
  target->DefineOwnProperty(context, property, value, attributes).FromMaybe(false);
}

// An assignment before the first read behaves as on a data property: the
// receiver gets a writable own property (the module is never loaded).
void WebRealm::LazySetter(v8::Local<v8::Name> property, v8::Local<v8::Value> value,
                          const v8::PropertyCallbackInfo<void>& info) {
  v8::Local<v8::Context> context = info.GetIsolate()->GetCurrentContext();
  v8::Local<v8::Object> receiver = compat::ReceiverOf(info);
  v8::PropertyAttribute attributes =
      receiver == compat::HolderOf(info) || receiver->StrictEquals(context->Global()) ? v8::DontEnum : v8::None;
  if (receiver->HasRealNamedCallbackProperty(context, property).FromMaybe(false)) {
    ReplaceWithData(context, receiver, property, value, attributes);
  } else {
    receiver->CreateDataProperty(context, property, value).FromMaybe(false);
  }
}

void WebRealm::RequireCallback(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  WebRealm* self = From(isolate);
  if (self == nullptr) return;
  v8::Local<v8::Object> exports;
  if (self->Require(isolate->GetCurrentContext(), ToStdString(isolate, info[0])).ToLocal(&exports)) {
    info.GetReturnValue().Set(exports);
  }
}

v8::Local<v8::Object> WebRealm::Natives(v8::Local<v8::Context> context) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  if (!natives_.IsEmpty()) return natives_.Get(isolate);
  v8::Local<v8::Object> natives = v8::Object::New(isolate);
  AddEncodingNatives(context, natives);
  AddRandomNatives(context, natives);
  AddBase64Natives(context, natives);
  AddDigestNatives(context, natives);
  Set(context, natives, "clone", NewFunction(context, "clone", Clone, 2));
  Set(context, natives, "require", NewFunction(context, "require", RequireCallback, 1));
  Set(context, natives, "captured", captured_.Get(isolate));
  // Epoch milliseconds when the agent's clock started (performance.now() 0).
  double now_epoch = std::chrono::duration<double, std::milli>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  Set(context, natives, "timeOrigin",
      v8::Number::New(isolate, now_epoch - runtime_.MillisecondsSinceStart()));
  unsigned cores = std::thread::hardware_concurrency();
  Set(context, natives, "hardwareConcurrency", v8::Integer::NewFromUnsigned(isolate, cores ? cores : 1));
  natives_.Reset(isolate, natives);
  return natives;
}

v8::MaybeLocal<v8::Object> WebRealm::Require(v8::Local<v8::Context> context,
                                             const std::string& name) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  v8::EscapableHandleScope scope(isolate);
  auto found = modules_.find(name);
  if (found != modules_.end()) return scope.Escape(found->second.Get(isolate));
  const WebSource* source = FindSource(name);
  if (source == nullptr || loading_[name]) {
    ThrowTypeError(isolate, "internal: no web module " + name);
    return {};
  }
  loading_[name] = true;
  v8::Local<v8::String> text;
  v8::Local<v8::Script> script;
  v8::Local<v8::Value> factory;
  v8::Local<v8::Value> exports;
  v8::ScriptOrigin origin =
      compat::Origin(isolate, Str(isolate, std::string("agentcluster:web/") + name + ".js"));
  v8::Local<v8::Value> argv[] = {Natives(context)};
  bool ok = v8::String::NewExternalOneByte(isolate, new StaticSource(source->source, source->length))
                .ToLocal(&text) &&
            v8::Script::Compile(context, text, &origin).ToLocal(&script) &&
            script->Run(context).ToLocal(&factory) && factory->IsFunction() &&
            factory.As<v8::Function>()->Call(context, v8::Undefined(isolate), 1, argv).ToLocal(&exports) &&
            exports->IsObject();
  loading_.erase(name);
  if (!ok) return {};
  modules_[name].Reset(isolate, exports.As<v8::Object>());
  return scope.Escape(exports.As<v8::Object>());
}

v8::MaybeLocal<v8::Object> WebRealm::NewDOMException(v8::Local<v8::Context> context,
                                                     v8::Local<v8::String> message,
                                                     const char* name) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  v8::EscapableHandleScope scope(isolate);
  v8::Local<v8::Object> exports;
  v8::Local<v8::Value> ctor;
  v8::Local<v8::Object> error;
  v8::Local<v8::Value> argv[] = {message, Str(isolate, name)};
  if (!Require(context, "domexception").ToLocal(&exports) ||
      !exports->Get(context, Str(isolate, "DOMException")).ToLocal(&ctor) || !ctor->IsFunction() ||
      !ctor.As<v8::Function>()->NewInstance(context, 2, argv).ToLocal(&error)) {
    return {};
  }
  return scope.Escape(error);
}

}  // namespace agentcluster
