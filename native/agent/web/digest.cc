// crypto.subtle.digest's hashing: SHA-1/256/384/512 through the OpenSSL that
// Node links in and exports (no second copy in the addon).
#include <openssl/evp.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "agent/agent_globals.h"
#include "shared/v8_util.h"
#include "agent/web/natives.h"

namespace agentcluster {

namespace {

// digest(algorithm 0..3 = SHA-1, SHA-256, SHA-384, SHA-512, view or buffer)
// -> ArrayBuffer. The JS half checks and normalizes the arguments.
void Digest(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  if (!info[0]->IsUint32()) return ThrowTypeError(isolate, "digest: bad algorithm");
  const EVP_MD* md = nullptr;
  switch (info[0].As<v8::Uint32>()->Value()) {
    case 0: md = EVP_sha1(); break;
    case 1: md = EVP_sha256(); break;
    case 2: md = EVP_sha384(); break;
    case 3: md = EVP_sha512(); break;
    default: return ThrowTypeError(isolate, "digest: bad algorithm");
  }
  const uint8_t* data = nullptr;
  size_t length = 0;
  std::shared_ptr<v8::BackingStore> store;
  if (info[1]->IsArrayBufferView()) {
    v8::Local<v8::ArrayBufferView> view = info[1].As<v8::ArrayBufferView>();
    length = view->ByteLength();
    if (length > 0) {
      store = view->Buffer()->GetBackingStore();
      data = static_cast<const uint8_t*>(store->Data()) + view->ByteOffset();
    }
  } else if (info[1]->IsArrayBuffer()) {
    store = info[1].As<v8::ArrayBuffer>()->GetBackingStore();
    length = store->ByteLength();
    data = static_cast<const uint8_t*>(store->Data());
  } else {
    return ThrowTypeError(isolate, "digest: data must be a BufferSource");
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  static const uint8_t kEmpty = 0;
  if (EVP_Digest(data != nullptr ? data : &kEmpty, length, out, &size, md, nullptr) != 1) {
    isolate->ThrowException(v8::Exception::Error(Str(isolate, "digest failed")));
    return;
  }
  v8::Local<v8::ArrayBuffer> result = v8::ArrayBuffer::New(isolate, size);
  std::memcpy(result->Data(), out, size);
  info.GetReturnValue().Set(result);
}

}  // namespace

void AddDigestNatives(v8::Local<v8::Context> context, v8::Local<v8::Object> natives) {
  DefineHidden(context, natives, "digest", NewFunction(context, "digest", Digest, 2));
}

}  // namespace agentcluster
