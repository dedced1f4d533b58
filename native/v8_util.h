// Small V8 conveniences shared by the native files.
#pragma once

#include <v8.h>

#include <string>

namespace agentcluster {

inline v8::Local<v8::String> Str(v8::Isolate* isolate, const std::string& text) {
  return v8::String::NewFromUtf8(isolate, text.data(), v8::NewStringType::kNormal,
                                 static_cast<int>(text.size()))
      .ToLocalChecked();
}

inline std::string ToStdString(v8::Isolate* isolate, v8::Local<v8::Value> value) {
  v8::String::Utf8Value utf8(isolate, value);
  return *utf8 ? std::string(*utf8, utf8.length()) : std::string();
}

inline void ThrowTypeError(v8::Isolate* isolate, const std::string& text) {
  isolate->ThrowException(v8::Exception::TypeError(Str(isolate, text)));
}

}  // namespace agentcluster
