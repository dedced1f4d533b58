// Host-side JS strings made from agent text (console output, error
// summaries and stacks). Such text can be longer than a V8 string may be
// (console.log(s, s) of two 270M-character strings): instead of a C++
// exception out of the event drain, the host gets the text's head and a
// marker saying how much was cut.
#pragma once

#include <napi.h>

#include <string>

namespace agentcluster {

// The UTF-8 text as a JS string; if V8 refuses it, its first kHeadBytes
// (cut at a character boundary) plus "… [agentcluster: N bytes truncated]".
// Never throws; undefined only if even the marker cannot be made.
inline Napi::Value HostString(Napi::Env env, const std::string& text) {
  constexpr size_t kHeadBytes = 1024 * 1024;
  napi_value result = nullptr;
  if (napi_create_string_utf8(env, text.data(), text.size(), &result) == napi_ok) {
    return Napi::Value(env, result);
  }
  napi_value ignored;
  napi_get_and_clear_last_exception(env, &ignored);
  size_t head = text.size() < kHeadBytes ? text.size() : kHeadBytes;
  while (head > 0 && (static_cast<unsigned char>(text[head]) & 0xC0) == 0x80) head--;  // no split character
  std::string cut = text.substr(0, head) + "\xE2\x80\xA6 [agentcluster: " +
                    std::to_string(text.size() - head) + " bytes truncated]";
  if (napi_create_string_utf8(env, cut.data(), cut.size(), &result) == napi_ok) {
    return Napi::Value(env, result);
  }
  napi_get_and_clear_last_exception(env, &ignored);
  napi_get_undefined(env, &result);
  return Napi::Value(env, result);
}

}  // namespace agentcluster
