// The web-standard globals of an agent (TextEncoder, URL, AbortController,
// DOMException, crypto...). Installed as native data properties: a
// fresh agent only has one accessor per name; the JS behind a name is
// compiled the first time the name is read, then the getter turns the
// property into a plain data property (if user code left it in place). Only the normal agent global set gets them (test262
// agents keep the bare $262 set).
#pragma once

#include <v8.h>

#include <map>
#include <string>

namespace agentcluster {

class AgentRuntime;

class WebRealm {
 public:
  explicit WebRealm(AgentRuntime& runtime) : runtime_(runtime) {}
  WebRealm(const WebRealm&) = delete;
  WebRealm& operator=(const WebRealm&) = delete;

  // Defines the lazy globals (and performance.mark & co) on `context`'s
  // global. Captures the original timer and microtask functions first, so
  // the JS halves keep working when user code replaces the globals.
  void Install(v8::Local<v8::Context> context);

  // The exports of one JS half (native/agent/web/js/NAME.js), loading it (and
  // what it requires) on first use. Empty with an exception pending if it
  // threw (or the agent is terminating).
  v8::MaybeLocal<v8::Object> Require(v8::Local<v8::Context> context, const std::string& name);

  // A new DOMException from the realm's original class (never the global,
  // which user code may have replaced). Empty if it could not be made.
  v8::MaybeLocal<v8::Object> NewDOMException(v8::Local<v8::Context> context,
                                             v8::Local<v8::String> message, const char* name);

  static WebRealm* From(v8::Isolate* isolate);

 private:
  v8::Local<v8::Object> Natives(v8::Local<v8::Context> context);
  static void LazyGetter(v8::Local<v8::Name> property,
                         const v8::PropertyCallbackInfo<v8::Value>& info);
  static void LazySetter(v8::Local<v8::Name> property, v8::Local<v8::Value> value,
                         const v8::PropertyCallbackInfo<void>& info);
  static void ReplaceWithData(v8::Local<v8::Context> context, v8::Local<v8::Object> target,
                              v8::Local<v8::Name> property, v8::Local<v8::Value> value,
                              v8::PropertyAttribute attributes);
  static void RequireCallback(const v8::FunctionCallbackInfo<v8::Value>& info);

  AgentRuntime& runtime_;
  v8::Global<v8::Object> natives_;
  v8::Global<v8::Object> captured_;  // the original globals the JS halves use
  std::map<std::string, v8::Global<v8::Object>> modules_;
  std::map<std::string, bool> loading_;  // cycle guard
};

}  // namespace agentcluster
