// Small V8 conveniences shared by the native files.
#pragma once

#include <v8.h>

#include <algorithm>
#include <limits>
#include <string>

namespace agentcluster {

// The UTF-8 `text` as a V8 string, if V8 can hold it (nothing thrown).
inline bool TryNewString(v8::Isolate* isolate, const std::string& text, v8::Local<v8::String>* out) {
  // Never cast a size past INT_MAX: V8 takes a negative length as "use strlen".
  return text.size() <= static_cast<size_t>(v8::String::kMaxLength) &&
         v8::String::NewFromUtf8(isolate, text.data(), v8::NewStringType::kNormal,
                                 static_cast<int>(text.size()))
             .ToLocal(out);
}

// A V8 string of the UTF-8 `text`, or empty when V8 cannot hold it (more
// than String::kMaxLength bytes; its UTF-8 form can be up to 3x a JS
// string's length). Then a RangeError is pending in the isolate (unless it
// is terminating). Use it for every text that user input can make long:
// sources, file contents, reports.
inline v8::MaybeLocal<v8::String> NewString(v8::Isolate* isolate, const std::string& text) {
  v8::Local<v8::String> string;
  if (TryNewString(isolate, text, &string)) return string;
  if (!isolate->IsExecutionTerminating()) {
    isolate->ThrowException(v8::Exception::RangeError(
        v8::String::NewFromUtf8Literal(isolate,
                                       "Invalid string length: the text is too long for a "
                                       "JavaScript string (at most 2^29-24 UTF-8 bytes here)")));
  }
  return {};
}

// For text that is short by construction (literals, names, messages, paths).
// Never aborts: a text V8 cannot hold is cut to its first 64 KiB.
inline v8::Local<v8::String> Str(v8::Isolate* isolate, const std::string& text) {
  v8::Local<v8::String> string;
  if (TryNewString(isolate, text, &string)) return string;
  constexpr size_t kCut = 64 * 1024;
  return v8::String::NewFromUtf8(isolate, text.data(), v8::NewStringType::kNormal,
                                 static_cast<int>(std::min(text.size(), kCut)))
      .FromMaybe(v8::String::Empty(isolate));
}

inline std::string ToStdString(v8::Isolate* isolate, v8::Local<v8::Value> value) {
  v8::String::Utf8Value utf8(isolate, value);
  return *utf8 ? std::string(*utf8, utf8.length()) : std::string();
}

inline void ThrowTypeError(v8::Isolate* isolate, const std::string& text) {
  isolate->ThrowException(v8::Exception::TypeError(Str(isolate, text)));
}

// A TypeError with a stable `code` (Node's codes: ERR_INVALID_ARG_TYPE...).
// If setting the code fails, the plain TypeError is thrown.
inline void ThrowCodedTypeError(v8::Isolate* isolate, const char* code, const std::string& text) {
  v8::Local<v8::Value> error = v8::Exception::TypeError(Str(isolate, text));
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  error.As<v8::Object>()->Set(context, Str(isolate, "code"), Str(isolate, code)).IsJust();
  isolate->ThrowException(error);
}

}  // namespace agentcluster
