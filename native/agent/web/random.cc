// crypto.getRandomValues / crypto.randomUUID from the OS CSPRNG
// (getrandom(2); arc4random_buf on the BSDs and macOS). The JS half turns
// the status codes into the spec's exceptions.
#include <cerrno>
#include <cstdint>
#include <cstdio>

#if defined(__linux__)
#include <sys/random.h>
#else
#include <stdlib.h>
#endif

#include "agent/agent_globals.h"
#include "shared/v8_util.h"
#include "agent/web/natives.h"

namespace agentcluster {

namespace {

constexpr size_t kQuota = 65536;  // WebCrypto's per-call limit in bytes

bool FillFromOs(uint8_t* data, size_t length) {
#if defined(__linux__)
  while (length > 0) {
    ssize_t got = getrandom(data, length, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += got;
    length -= static_cast<size_t>(got);
  }
  return true;
#else
  arc4random_buf(data, length);
  return true;
#endif
}

// fillRandom(view) -> 0 filled, 1 not an integer-typed array (TypeMismatchError),
// 2 more than 65536 bytes (QuotaExceededError), 3 the OS refused.
void FillRandom(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Local<v8::Value> value = info[0];
  bool integer = value->IsInt8Array() || value->IsUint8Array() || value->IsUint8ClampedArray() ||
                 value->IsInt16Array() || value->IsUint16Array() || value->IsInt32Array() ||
                 value->IsUint32Array() || value->IsBigInt64Array() || value->IsBigUint64Array();
  if (!integer) return info.GetReturnValue().Set(1);
  v8::Local<v8::ArrayBufferView> view = value.As<v8::ArrayBufferView>();
  size_t length = view->ByteLength();
  if (length > kQuota) return info.GetReturnValue().Set(2);
  if (length == 0) return info.GetReturnValue().Set(0);
  std::shared_ptr<v8::BackingStore> store = view->Buffer()->GetBackingStore();
  uint8_t* data = static_cast<uint8_t*>(store->Data()) + view->ByteOffset();
  info.GetReturnValue().Set(FillFromOs(data, length) ? 0 : 3);
}

// randomUUID() -> a version 4 UUID string.
void RandomUuid(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  uint8_t bytes[16];
  if (!FillFromOs(bytes, sizeof bytes)) {
    isolate->ThrowException(v8::Exception::Error(Str(isolate, "The OS random source failed")));
    return;
  }
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0F) | 0x40);
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3F) | 0x80);
  char text[37];
  std::snprintf(text, sizeof text,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", bytes[0],
                bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8],
                bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
  info.GetReturnValue().Set(Str(isolate, text));
}

}  // namespace

void AddRandomNatives(v8::Local<v8::Context> context, v8::Local<v8::Object> natives) {
  DefineHidden(context, natives, "fillRandom", NewFunction(context, "fillRandom", FillRandom, 1));
  DefineHidden(context, natives, "randomUUID", NewFunction(context, "randomUUID", RandomUuid, 0));
}

}  // namespace agentcluster
