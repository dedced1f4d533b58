// atob/btoa: HTML's forgiving-base64 decode and base64 encode of a binary
// string. undefined back means "InvalidCharacterError" (thrown by the JS half
// as a DOMException).
#include <string>
#include <vector>

#include "agent/agent_globals.h"
#include "shared/v8_compat.h"
#include "shared/v8_util.h"
#include "agent/web/natives.h"

namespace agentcluster {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Sextet(uint16_t c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool IsAsciiWhitespace(uint16_t c) { return c == 0x09 || c == 0x0A || c == 0x0C || c == 0x0D || c == 0x20; }

std::vector<uint16_t> UnitsOf(v8::Isolate* isolate, v8::Local<v8::String> text) {
  std::vector<uint16_t> units(static_cast<size_t>(text->Length()));
  if (!units.empty()) {
    compat::WriteUtf16(isolate, text, units.data(), 0, static_cast<uint32_t>(units.size()));
  }
  return units;
}

// base64Decode(string) -> binary string, or undefined if not forgiving-base64.
void Base64Decode(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  if (!info[0]->IsString()) return;
  std::vector<uint16_t> units = UnitsOf(isolate, info[0].As<v8::String>());
  std::vector<uint16_t> data;
  data.reserve(units.size());
  for (uint16_t c : units) {
    if (!IsAsciiWhitespace(c)) data.push_back(c);
  }
  if (data.size() % 4 == 0 && !data.empty() && data.back() == '=') {
    data.pop_back();
    if (!data.empty() && data.back() == '=') data.pop_back();
  }
  if (data.size() % 4 == 1) return;
  std::string out;
  out.reserve(data.size() / 4 * 3 + 2);
  uint32_t buffer = 0;
  int bits = 0;
  for (uint16_t c : data) {
    int sextet = Sextet(c);
    if (sextet < 0) return;
    buffer = (buffer << 6) | static_cast<uint32_t>(sextet);
    bits += 6;
    if (bits == 24) {
      out.push_back(static_cast<char>((buffer >> 16) & 0xFF));
      out.push_back(static_cast<char>((buffer >> 8) & 0xFF));
      out.push_back(static_cast<char>(buffer & 0xFF));
      buffer = 0;
      bits = 0;
    }
  }
  if (bits == 12) {
    out.push_back(static_cast<char>((buffer >> 4) & 0xFF));
  } else if (bits == 18) {
    out.push_back(static_cast<char>((buffer >> 10) & 0xFF));
    out.push_back(static_cast<char>((buffer >> 2) & 0xFF));
  }
  v8::Local<v8::String> result;
  if (v8::String::NewFromOneByte(isolate, reinterpret_cast<const uint8_t*>(out.data()),
                                 v8::NewStringType::kNormal, static_cast<int>(out.size()))
          .ToLocal(&result)) {
    info.GetReturnValue().Set(result);
  }
}

// base64Encode(string) -> base64, or undefined if a code unit is above U+00FF.
void Base64Encode(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  if (!info[0]->IsString()) return;
  std::vector<uint16_t> units = UnitsOf(isolate, info[0].As<v8::String>());
  if (units.size() / 3 * 4 + 4 > static_cast<size_t>(v8::String::kMaxLength)) {
    isolate->ThrowException(v8::Exception::RangeError(Str(isolate, "Invalid string length")));
    return;
  }
  std::string out;
  out.reserve((units.size() + 2) / 3 * 4);
  size_t i = 0;
  for (uint16_t c : units) {
    if (c > 0xFF) return;
  }
  for (; i + 3 <= units.size(); i += 3) {
    uint32_t n = (uint32_t{units[i]} << 16) | (uint32_t{units[i + 1]} << 8) | units[i + 2];
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
    out.push_back(kAlphabet[n & 63]);
  }
  if (units.size() - i == 1) {
    uint32_t n = uint32_t{units[i]} << 16;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out += "==";
  } else if (units.size() - i == 2) {
    uint32_t n = (uint32_t{units[i]} << 16) | (uint32_t{units[i + 1]} << 8);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
    out.push_back('=');
  }
  info.GetReturnValue().Set(Str(isolate, out));
}

}  // namespace

void AddBase64Natives(v8::Local<v8::Context> context, v8::Local<v8::Object> natives) {
  DefineHidden(context, natives, "base64Decode", NewFunction(context, "base64Decode", AllocationSafe<Base64Decode>, 1));
  DefineHidden(context, natives, "base64Encode", NewFunction(context, "base64Encode", AllocationSafe<Base64Encode>, 1));
}

}  // namespace agentcluster
