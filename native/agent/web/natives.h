// The native halves of the web globals. Each Add* puts its functions on the
// `natives` object that the JS halves (native/agent/web/js/*.js) receive; none of
// them is reachable from agent code except through those JS wrappers.
#pragma once

#include <v8.h>

#include <new>

namespace agentcluster {

// Wraps a native whose buffers grow with user input: a failed allocation
// becomes a RangeError in the agent, never a C++ exception through V8 (which
// would abort the process).
template <void (*Callback)(const v8::FunctionCallbackInfo<v8::Value>&)>
void AllocationSafe(const v8::FunctionCallbackInfo<v8::Value>& info) {
  try {
    Callback(info);
  } catch (const std::bad_alloc&) {
    v8::Isolate* isolate = info.GetIsolate();
    isolate->ThrowException(v8::Exception::RangeError(
        v8::String::NewFromUtf8Literal(isolate, "Out of memory for this text")));
  }
}

// utf8Encode, utf8EncodeInto, utf8Decode (TextEncoder/TextDecoder).
void AddEncodingNatives(v8::Local<v8::Context> context, v8::Local<v8::Object> natives);
// fillRandom, randomUUID (crypto), from the OS CSPRNG.
void AddRandomNatives(v8::Local<v8::Context> context, v8::Local<v8::Object> natives);
// digest (crypto.subtle.digest), SHA-1/256/384/512 via Node's OpenSSL.
void AddDigestNatives(v8::Local<v8::Context> context, v8::Local<v8::Object> natives);
// base64Decode, base64Encode (atob/btoa).
void AddBase64Natives(v8::Local<v8::Context> context, v8::Local<v8::Object> natives);

}  // namespace agentcluster
