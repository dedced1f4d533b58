// The native halves of the web globals. Each Add* puts its functions on the
// `natives` object that the JS halves (native/web/js/*.js) receive; none of
// them is reachable from agent code except through those JS wrappers.
#pragma once

#include <v8.h>

namespace agentcluster {

// utf8Encode, utf8EncodeInto, utf8Decode (TextEncoder/TextDecoder).
void AddEncodingNatives(v8::Local<v8::Context> context, v8::Local<v8::Object> natives);
// fillRandom, randomUUID (crypto), from the OS CSPRNG.
void AddRandomNatives(v8::Local<v8::Context> context, v8::Local<v8::Object> natives);
// base64Decode, base64Encode (atob/btoa).
void AddBase64Natives(v8::Local<v8::Context> context, v8::Local<v8::Object> natives);

}  // namespace agentcluster
