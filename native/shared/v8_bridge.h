// N-API values are V8 handles underneath; these two conversions let the
// napi-based host classes use V8's ValueSerializer on the host isolate.
// (This mirrors node's own js_native_api_v8.h, which does the same memcpy.)
#pragma once

#include <node.h>
#include <v8.h>
#include <napi.h>

#include <cstring>

namespace agentcluster {

inline v8::Local<v8::Value> ToV8(napi_value value) {
  v8::Local<v8::Value> local;
  static_assert(sizeof(local) == sizeof(value), "napi_value is a V8 handle");
  std::memcpy(static_cast<void*>(&local), &value, sizeof(value));
  return local;
}

inline napi_value FromV8(v8::Local<v8::Value> local) {
  napi_value value;
  std::memcpy(&value, static_cast<void*>(&local), sizeof(value));
  return value;
}

// Re-throws what a v8::TryCatch caught as a napi exception.
inline void RethrowToNapi(Napi::Env env, v8::TryCatch& try_catch) {
  if (!try_catch.HasCaught()) return;
  v8::Local<v8::Value> exception = try_catch.Exception();
  try_catch.Reset();
  napi_throw(env, FromV8(exception));
}

}  // namespace agentcluster
