// UTF-8 for TextEncoder/TextDecoder, done natively: ASCII input is copied
// as is (a one-byte V8 string either way), everything else goes through the
// Encoding Standard's UTF-8 decoder (maximal-subpart U+FFFD replacement).
#include <cstdlib>
#include <cstring>
#include <vector>

#include "agent/agent_globals.h"
#include "shared/v8_compat.h"
#include "shared/v8_util.h"
#include "agent/web/natives.h"

namespace agentcluster {

namespace {

// Decoder state kept by the JS TextDecoder in a Uint32Array between calls
// (streaming): the Encoding Standard's UTF-8 decoder variables.
enum StateSlot { kCodePoint, kBytesNeeded, kBytesSeen, kBounds, kBomSeen, kStateSlots };
constexpr uint32_t kFatal = 1, kIgnoreBom = 2, kStream = 4;

struct Bytes {
  const uint8_t* data = nullptr;
  size_t length = 0;
};

// An ArrayBuffer, SharedArrayBuffer or view; false for anything else.
bool BytesOf(v8::Local<v8::Value> value, Bytes* out) {
  if (value->IsArrayBufferView()) {
    v8::Local<v8::ArrayBufferView> view = value.As<v8::ArrayBufferView>();
    out->length = view->ByteLength();
    if (out->length == 0) return true;
    std::shared_ptr<v8::BackingStore> store = view->Buffer()->GetBackingStore();
    out->data = static_cast<const uint8_t*>(store->Data()) + view->ByteOffset();
    return true;
  }
  if (value->IsArrayBuffer()) {
    out->length = value.As<v8::ArrayBuffer>()->ByteLength();
    out->data = static_cast<const uint8_t*>(value.As<v8::ArrayBuffer>()->Data());
    return true;
  }
  if (value->IsSharedArrayBuffer()) {
    std::shared_ptr<v8::BackingStore> store = value.As<v8::SharedArrayBuffer>()->GetBackingStore();
    out->length = store->ByteLength();
    out->data = static_cast<const uint8_t*>(store->Data());
    return true;
  }
  return false;
}

size_t AsciiPrefix(const uint8_t* data, size_t length) {
  size_t i = 0;
  for (; i + 8 <= length; i += 8) {
    uint64_t word;
    std::memcpy(&word, data + i, 8);
    if (word & 0x8080808080808080ULL) break;
  }
  while (i < length && data[i] < 0x80) i++;
  return i;
}

void ThrowInvalid(v8::Isolate* isolate) {
  ThrowTypeError(isolate, "The encoded data was not valid for encoding utf-8");
}

// A Uint8Array over `length` bytes of fresh memory (never aborts: a failed
// allocation is a RangeError).
bool NewBytes(v8::Isolate* isolate, size_t length, v8::Local<v8::Uint8Array>* out, uint8_t** data) {
  void* memory = std::malloc(length > 0 ? length : 1);
  if (memory == nullptr) {
    isolate->ThrowException(v8::Exception::RangeError(Str(isolate, "Array buffer allocation failed")));
    return false;
  }
  std::shared_ptr<v8::BackingStore> store = v8::ArrayBuffer::NewBackingStore(
      memory, length, [](void* bytes, size_t, void*) { std::free(bytes); }, nullptr);
  *out = v8::Uint8Array::New(v8::ArrayBuffer::New(isolate, std::move(store)), 0, length);
  *data = static_cast<uint8_t*>(memory);
  return true;
}

// utf8Encode(string) -> Uint8Array. Lone surrogates become U+FFFD.
void Utf8Encode(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  if (!info[0]->IsString()) return ThrowTypeError(isolate, "utf8Encode: a string is required");
  v8::Local<v8::String> text = info[0].As<v8::String>();
  size_t length = compat::Utf8Length(isolate, text);
  v8::Local<v8::Uint8Array> array;
  uint8_t* data = nullptr;
  if (!NewBytes(isolate, length, &array, &data)) return;
  if (length == static_cast<size_t>(text->Length())) {
    // All ASCII: the UTF-8 is the one-byte form itself.
    compat::WriteLatin1(isolate, text, data, 0, static_cast<uint32_t>(length));
  } else {
    compat::WriteUtf8(isolate, text, reinterpret_cast<char*>(data), length);
  }
  info.GetReturnValue().Set(array);
}

// utf8EncodeInto(string, Uint8Array, Uint32Array result): result[0] code
// units read, result[1] bytes written; stops before a character that does
// not fit whole.
void Utf8EncodeInto(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  if (!info[0]->IsString() || !info[1]->IsUint8Array() || !info[2]->IsUint32Array() ||
      info[2].As<v8::Uint32Array>()->Length() < 2) {
    return ThrowTypeError(isolate, "utf8EncodeInto: bad arguments");
  }
  v8::Local<v8::String> text = info[0].As<v8::String>();
  v8::Local<v8::Uint8Array> target = info[1].As<v8::Uint8Array>();
  size_t capacity = target->ByteLength();
  uint8_t* out = nullptr;
  std::shared_ptr<v8::BackingStore> store;
  if (capacity > 0) {
    store = target->Buffer()->GetBackingStore();
    out = static_cast<uint8_t*>(store->Data()) + target->ByteOffset();
  }
  // Every code unit yields at least one byte, so at most capacity units
  // are read (+1 to see the second half of a pair).
  size_t units = std::min(static_cast<size_t>(text->Length()), capacity + 1);
  std::vector<uint16_t> chars(units);
  if (units > 0) compat::WriteUtf16(isolate, text, chars.data(), 0, static_cast<uint32_t>(units));
  size_t read = 0, written = 0;
  while (read < units) {
    uint32_t c = chars[read];
    size_t used = 1;
    if (c >= 0xD800 && c <= 0xDBFF && read + 1 < units && chars[read + 1] >= 0xDC00 &&
        chars[read + 1] <= 0xDFFF) {
      c = 0x10000 + ((c - 0xD800) << 10) + (chars[read + 1] - 0xDC00);
      used = 2;
    } else if (c >= 0xD800 && c <= 0xDFFF) {
      if (c <= 0xDBFF && read + 1 == units && units < static_cast<size_t>(text->Length())) break;
      c = 0xFFFD;
    }
    size_t size = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (written + size > capacity) break;
    if (size == 1) {
      out[written] = static_cast<uint8_t>(c);
    } else if (size == 2) {
      out[written] = static_cast<uint8_t>(0xC0 | (c >> 6));
      out[written + 1] = static_cast<uint8_t>(0x80 | (c & 0x3F));
    } else if (size == 3) {
      out[written] = static_cast<uint8_t>(0xE0 | (c >> 12));
      out[written + 1] = static_cast<uint8_t>(0x80 | ((c >> 6) & 0x3F));
      out[written + 2] = static_cast<uint8_t>(0x80 | (c & 0x3F));
    } else {
      out[written] = static_cast<uint8_t>(0xF0 | (c >> 18));
      out[written + 1] = static_cast<uint8_t>(0x80 | ((c >> 12) & 0x3F));
      out[written + 2] = static_cast<uint8_t>(0x80 | ((c >> 6) & 0x3F));
      out[written + 3] = static_cast<uint8_t>(0x80 | (c & 0x3F));
    }
    written += size;
    read += used;
  }
  v8::Local<v8::Uint32Array> result = info[2].As<v8::Uint32Array>();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  result->Set(context, 0, v8::Number::New(isolate, static_cast<double>(read))).FromMaybe(false);
  result->Set(context, 1, v8::Number::New(isolate, static_cast<double>(written))).FromMaybe(false);
}

void Append(std::vector<uint16_t>& out, uint32_t c) {
  if (c < 0x10000) {
    out.push_back(static_cast<uint16_t>(c));
  } else {
    c -= 0x10000;
    out.push_back(static_cast<uint16_t>(0xD800 + (c >> 10)));
    out.push_back(static_cast<uint16_t>(0xDC00 + (c & 0x3FF)));
  }
}

// The Encoding Standard's UTF-8 decoder over one chunk. False on the first
// error when fatal.
struct Utf8Decoder {
  uint32_t code_point = 0, bytes_needed = 0, bytes_seen = 0, lower = 0x80, upper = 0xBF;
  bool fatal = false;

  bool Byte(uint8_t byte, std::vector<uint16_t>& out) {
    for (;;) {  // at most twice: an unexpected byte is reprocessed
      if (bytes_needed == 0) {
        if (byte < 0x80) {
          out.push_back(byte);
        } else if (byte >= 0xC2 && byte <= 0xDF) {
          bytes_needed = 1;
          code_point = byte & 0x1F;
        } else if (byte >= 0xE0 && byte <= 0xEF) {
          if (byte == 0xE0) lower = 0xA0;
          if (byte == 0xED) upper = 0x9F;
          bytes_needed = 2;
          code_point = byte & 0xF;
        } else if (byte >= 0xF0 && byte <= 0xF4) {
          if (byte == 0xF0) lower = 0x90;
          if (byte == 0xF4) upper = 0x8F;
          bytes_needed = 3;
          code_point = byte & 0x7;
        } else {
          return Error(out);
        }
        return true;
      }
      if (byte < lower || byte > upper) {
        code_point = bytes_needed = bytes_seen = 0;
        lower = 0x80;
        upper = 0xBF;
        if (!Error(out)) return false;
        continue;  // prepend the byte to the stream: process it again
      }
      lower = 0x80;
      upper = 0xBF;
      code_point = (code_point << 6) | (byte & 0x3F);
      if (++bytes_seen != bytes_needed) return true;
      Append(out, code_point);
      code_point = bytes_needed = bytes_seen = 0;
      return true;
    }
  }

  // End of stream with a sequence still open.
  bool Flush(std::vector<uint16_t>& out) {
    if (bytes_needed == 0) return true;
    code_point = bytes_needed = bytes_seen = 0;
    lower = 0x80;
    upper = 0xBF;
    return Error(out);
  }

  bool Error(std::vector<uint16_t>& out) {
    if (fatal) return false;
    out.push_back(0xFFFD);
    return true;
  }
};

// utf8Decode(bytes, flags, state Uint32Array(5)) -> string.
void Utf8Decode(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  Bytes input;
  uint32_t flags = 0;
  if (!BytesOf(info[0], &input) || !info[1]->IsUint32() || !info[2]->IsUint32Array() ||
      info[2].As<v8::Uint32Array>()->Length() < kStateSlots) {
    return ThrowTypeError(isolate, "utf8Decode: bad arguments");
  }
  flags = info[1].As<v8::Uint32>()->Value();
  v8::Local<v8::Uint32Array> state_array = info[2].As<v8::Uint32Array>();
  std::shared_ptr<v8::BackingStore> state_store = state_array->Buffer()->GetBackingStore();
  uint32_t* state = reinterpret_cast<uint32_t*>(static_cast<uint8_t*>(state_store->Data()) +
                                                state_array->ByteOffset());
  Utf8Decoder decoder;
  decoder.fatal = (flags & kFatal) != 0;
  decoder.code_point = state[kCodePoint];
  decoder.bytes_needed = state[kBytesNeeded];
  decoder.bytes_seen = state[kBytesSeen];
  decoder.lower = state[kBounds] & 0xFF ? state[kBounds] & 0xFF : 0x80;
  decoder.upper = state[kBounds] >> 8 ? state[kBounds] >> 8 : 0xBF;
  bool bom_pending = (flags & kIgnoreBom) == 0 && state[kBomSeen] == 0;
  bool stream = (flags & kStream) != 0;
  auto save = [&](bool reset) {
    if (reset) decoder = Utf8Decoder();
    state[kCodePoint] = decoder.code_point;
    state[kBytesNeeded] = decoder.bytes_needed;
    state[kBytesSeen] = decoder.bytes_seen;
    state[kBounds] = decoder.lower | (decoder.upper << 8);
  };

  if (input.length == 0 && (stream || decoder.bytes_needed == 0)) {
    if (!stream) state[kBomSeen] = 0;
    info.GetReturnValue().Set(v8::String::Empty(isolate));
    return;
  }
  // Fast path: a clean decoder and all-ASCII input is its own one-byte string.
  if (decoder.bytes_needed == 0 && AsciiPrefix(input.data, input.length) == input.length) {
    if (input.length > static_cast<size_t>(v8::String::kMaxLength)) {
      isolate->ThrowException(v8::Exception::RangeError(Str(isolate, "Invalid string length")));
      return;
    }
    if (input.length > 0 && bom_pending) state[kBomSeen] = 1;
    if (!stream) state[kBomSeen] = 0;
    v8::Local<v8::String> text;
    if (v8::String::NewFromOneByte(isolate, input.data, v8::NewStringType::kNormal,
                                   static_cast<int>(input.length))
            .ToLocal(&text)) {
      info.GetReturnValue().Set(text);
    }
    return;
  }

  std::vector<uint16_t> out;
  out.reserve(input.length + 1);
  size_t prefix = decoder.bytes_needed == 0 ? AsciiPrefix(input.data, input.length) : 0;
  out.insert(out.end(), input.data, input.data + prefix);
  bool ok = true;
  for (size_t i = prefix; ok && i < input.length; i++) ok = decoder.Byte(input.data[i], out);
  if (ok && !stream) ok = decoder.Flush(out);
  if (!ok) {
    save(true);
    state[kBomSeen] = 0;
    return ThrowInvalid(isolate);
  }
  size_t skip = 0;
  if (bom_pending && !out.empty()) {
    if (out[0] == 0xFEFF) skip = 1;
    state[kBomSeen] = 1;
  }
  save(!stream);
  if (!stream) state[kBomSeen] = 0;
  size_t length = out.size() - skip;
  if (length > static_cast<size_t>(v8::String::kMaxLength)) {
    isolate->ThrowException(v8::Exception::RangeError(Str(isolate, "Invalid string length")));
    return;
  }
  v8::Local<v8::String> text;
  if (v8::String::NewFromTwoByte(isolate, out.data() + skip, v8::NewStringType::kNormal,
                                 static_cast<int>(length))
          .ToLocal(&text)) {
    info.GetReturnValue().Set(text);
  }
}

}  // namespace

void AddEncodingNatives(v8::Local<v8::Context> context, v8::Local<v8::Object> natives) {
  DefineHidden(context, natives, "utf8Encode", NewFunction(context, "utf8Encode", AllocationSafe<Utf8Encode>, 1));
  DefineHidden(context, natives, "utf8EncodeInto",
               NewFunction(context, "utf8EncodeInto", AllocationSafe<Utf8EncodeInto>, 3));
  DefineHidden(context, natives, "utf8Decode", NewFunction(context, "utf8Decode", AllocationSafe<Utf8Decode>, 3));
}

}  // namespace agentcluster
