#include "message.h"

#include "port.h"
#include "v8_util.h"

#include <cstdlib>
#include <cstring>

namespace agentcluster {

namespace {

class SerializerDelegate final : public v8::ValueSerializer::Delegate {
 public:
  SerializerDelegate(v8::Local<v8::Context> context, Message* out,
                     const std::vector<v8::Local<v8::Object>>* ports)
      : context_(context), out_(out), ports_(ports) {}

  void ThrowDataCloneError(v8::Local<v8::String> message) override {
    v8::Isolate* isolate = context_->GetIsolate();
    isolate->ThrowException(MakeDataCloneError(context_, message));
  }

  // Only AgentPorts of the transfer list are host objects we can write.
  v8::Maybe<bool> WriteHostObject(v8::Isolate* isolate, v8::Local<v8::Object> object) override {
    for (uint32_t i = 0; i < ports_->size(); i++) {
      if ((*ports_)[i] == object) {
        serializer->WriteUint32(i);
        return v8::Just(true);
      }
    }
    ThrowDataCloneError(Str(isolate, PortBinder::EndpointOf(object)
                                         ? "An AgentPort must be in the transfer list to be sent"
                                         : "A host object could not be cloned"));
    return v8::Nothing<bool>();
  }

  v8::ValueSerializer* serializer = nullptr;

  v8::Maybe<uint32_t> GetSharedArrayBufferId(v8::Isolate* isolate,
                                             v8::Local<v8::SharedArrayBuffer> sab) override {
    for (size_t i = 0; i < shared_.size(); i++) {
      if (shared_[i] == sab) return v8::Just(static_cast<uint32_t>(i));
    }
    shared_.emplace_back(isolate, sab);
    out_->shared.push_back(sab->GetBackingStore());
    return v8::Just(static_cast<uint32_t>(out_->shared.size() - 1));
  }

  v8::Maybe<uint32_t> GetWasmModuleTransferId(v8::Isolate* isolate,
                                              v8::Local<v8::WasmModuleObject> module) override {
    out_->wasm_modules.push_back(module->GetCompiledModule());
    return v8::Just(static_cast<uint32_t>(out_->wasm_modules.size() - 1));
  }

 private:
  v8::Local<v8::Context> context_;
  Message* out_;
  const std::vector<v8::Local<v8::Object>>* ports_;
  std::vector<v8::Global<v8::SharedArrayBuffer>> shared_;
};

class DeserializerDelegate final : public v8::ValueDeserializer::Delegate {
 public:
  DeserializerDelegate(v8::Local<v8::Context> context, Message* message, PortBinder* binder)
      : context_(context), message_(message), binder_(binder) {}

  v8::MaybeLocal<v8::Object> ReadHostObject(v8::Isolate* isolate) override {
    uint32_t index = 0;
    if (!deserializer->ReadUint32(&index) || index >= message_->ports.size() ||
        binder_ == nullptr || !message_->ports[index]) {
      isolate->ThrowException(MakeDataCloneError(
          context_, Str(isolate, "An AgentPort cannot be received here")));
      return {};
    }
    return binder_->Bind(context_, std::move(message_->ports[index]));
  }

  v8::ValueDeserializer* deserializer = nullptr;

  v8::MaybeLocal<v8::SharedArrayBuffer> GetSharedArrayBufferFromId(v8::Isolate* isolate,
                                                                   uint32_t id) override {
    if (id >= message_->shared.size()) return {};
    return v8::SharedArrayBuffer::New(isolate, message_->shared[id]);
  }

  v8::MaybeLocal<v8::WasmModuleObject> GetWasmModuleFromId(v8::Isolate* isolate,
                                                           uint32_t id) override {
    if (id >= message_->wasm_modules.size()) return {};
    return v8::WasmModuleObject::FromCompiledModule(isolate, message_->wasm_modules[id]);
  }

 private:
  v8::Local<v8::Context> context_;
  Message* message_;
  PortBinder* binder_;
};

void ThrowCloneError(v8::Local<v8::Context> context, const char* text) {
  v8::Isolate* isolate = context->GetIsolate();
  isolate->ThrowException(MakeDataCloneError(context, Str(isolate, text)));
}

// Validates the transfer list as HTML's StructuredSerializeWithTransfer does,
// before anything is written or detached.
bool CollectTransfers(v8::Local<v8::Context> context, v8::Local<v8::Value> transfer_list,
                      std::vector<v8::Local<v8::ArrayBuffer>>* buffers,
                      std::vector<v8::Local<v8::Object>>* ports) {
  v8::Isolate* isolate = context->GetIsolate();
  if (transfer_list.IsEmpty() || transfer_list->IsNullOrUndefined()) return true;
  if (!transfer_list->IsArray()) {
    isolate->ThrowException(v8::Exception::TypeError(
        Str(isolate, "The transfer list must be an array of transferable objects")));
    return false;
  }
  v8::Local<v8::Array> list = transfer_list.As<v8::Array>();
  for (uint32_t i = 0; i < list->Length(); i++) {
    v8::Local<v8::Value> item;
    if (!list->Get(context, i).ToLocal(&item)) return false;
    if (item->IsSharedArrayBuffer()) {
      ThrowCloneError(context, "A SharedArrayBuffer cannot be transferred (it is shared, not moved)");
      return false;
    }
    if (item->IsObject() && PortBinder::EndpointOf(item)) {
      for (auto& seen : *ports) {
        if (seen == item) {
          ThrowCloneError(context, "AgentPort appears more than once in the transfer list");
          return false;
        }
      }
      if (PortBinder::EndpointOf(item)->closed()) {
        ThrowCloneError(context, "An AgentPort is closed and could not be transferred");
        return false;
      }
      ports->push_back(item.As<v8::Object>());
      continue;
    }
    if (!item->IsArrayBuffer()) {
      ThrowCloneError(context, "Value in the transfer list is not a transferable object");
      return false;
    }
    v8::Local<v8::ArrayBuffer> buffer = item.As<v8::ArrayBuffer>();
    for (auto& seen : *buffers) {
      if (seen == buffer) {
        ThrowCloneError(context, "ArrayBuffer appears more than once in the transfer list");
        return false;
      }
    }
    if (buffer->WasDetached()) {
      ThrowCloneError(context, "An ArrayBuffer is detached and could not be transferred");
      return false;
    }
    if (!buffer->IsDetachable()) {
      ThrowCloneError(context, "An ArrayBuffer is not detachable and could not be transferred");
      return false;
    }
    buffers->push_back(buffer);
  }
  return true;
}

}  // namespace

SerializedBytes SerializedBytes::Copy() const {
  SerializedBytes copy;
  if (size == 0) return copy;
  copy.data.reset(static_cast<uint8_t*>(std::malloc(size)));
  std::memcpy(copy.data.get(), data.get(), size);
  copy.size = size;
  return copy;
}

Message Message::CopyForReplay() const {
  Message copy;
  copy.bytes = bytes.Copy();
  copy.transferred = transferred;
  copy.shared = shared;
  for (const auto& module : wasm_modules) copy.wasm_modules.push_back(module);
  copy.ports = ports;
  return copy;
}

v8::Local<v8::Value> MakeDataCloneError(v8::Local<v8::Context> context,
                                        v8::Local<v8::String> message) {
  v8::Isolate* isolate = context->GetIsolate();
  v8::EscapableHandleScope scope(isolate);
  v8::TryCatch try_catch(isolate);
  v8::Local<v8::Value> ctor;
  if (context->Global()->Get(context, Str(isolate, "DOMException")).ToLocal(&ctor) &&
      ctor->IsFunction()) {
    v8::Local<v8::Value> argv[] = {message, Str(isolate, "DataCloneError")};
    v8::Local<v8::Object> error;
    if (ctor.As<v8::Function>()->NewInstance(context, 2, argv).ToLocal(&error)) {
      return scope.Escape(error);
    }
  }
  v8::Local<v8::Object> error = v8::Exception::Error(message).As<v8::Object>();
  error->CreateDataProperty(context, Str(isolate, "name"), Str(isolate, "DataCloneError")).FromMaybe(false);
  error->CreateDataProperty(context, Str(isolate, "code"), v8::Integer::New(isolate, 25)).FromMaybe(false);
  return scope.Escape(error);
}

bool SerializeMessage(v8::Local<v8::Context> context, v8::Local<v8::Value> value,
                      v8::Local<v8::Value> transfer_list, Message* out) {
  v8::Isolate* isolate = context->GetIsolate();
  v8::HandleScope scope(isolate);
  std::vector<v8::Local<v8::ArrayBuffer>> buffers;
  std::vector<v8::Local<v8::Object>> ports;
  if (!CollectTransfers(context, transfer_list, &buffers, &ports)) return false;

  Message message;
  SerializerDelegate delegate(context, &message, &ports);
  v8::ValueSerializer serializer(isolate, &delegate);
  delegate.serializer = &serializer;
  for (uint32_t i = 0; i < buffers.size(); i++) serializer.TransferArrayBuffer(i, buffers[i]);
  serializer.WriteHeader();
  bool ok = false;
  if (!serializer.WriteValue(context, value).To(&ok) || !ok) return false;

  std::pair<uint8_t*, size_t> data = serializer.Release();
  message.bytes.data.reset(data.first);
  message.bytes.size = data.second;

  // Only now, with the whole value written, do the buffers move.
  for (auto& buffer : buffers) {
    message.transferred.push_back(buffer->GetBackingStore());
    buffer->Detach(v8::Local<v8::Value>()).FromMaybe(false);
  }
  for (auto& port : ports) {
    message.ports.push_back(PortBinder::EndpointOf(port));
    PortBinder::Neuter(port);
  }
  *out = std::move(message);
  return true;
}

v8::MaybeLocal<v8::Value> DeserializeMessage(v8::Local<v8::Context> context, Message* message,
                                             PortBinder* binder) {
  v8::Isolate* isolate = context->GetIsolate();
  v8::EscapableHandleScope scope(isolate);
  DeserializerDelegate delegate(context, message, binder);
  v8::ValueDeserializer deserializer(isolate, message->bytes.data.get(), message->bytes.size,
                                     &delegate);
  delegate.deserializer = &deserializer;
  for (uint32_t i = 0; i < message->transferred.size(); i++) {
    deserializer.TransferArrayBuffer(
        i, v8::ArrayBuffer::New(isolate, std::move(message->transferred[i])));
  }
  message->transferred.clear();
  bool ok = false;
  if (!deserializer.ReadHeader(context).To(&ok) || !ok) return {};
  v8::Local<v8::Value> value;
  if (!deserializer.ReadValue(context).ToLocal(&value)) return {};
  return scope.Escape(value);
}

Message SerializeErrorForReport(v8::Local<v8::Context> context, v8::Local<v8::Value> error) {
  v8::Isolate* isolate = context->GetIsolate();
  v8::HandleScope scope(isolate);
  Message message;
  {
    v8::TryCatch try_catch(isolate);
    if (SerializeMessage(context, error, v8::Local<v8::Value>(), &message)) return message;
  }
  // Not clonable (a symbol, a function, an object with a throwing getter...):
  // send an Error carrying its text instead.
  v8::TryCatch try_catch(isolate);
  v8::Local<v8::String> text;
  if (error->IsSymbol()) {
    v8::Local<v8::Value> description = error.As<v8::Symbol>()->Description(isolate);
    v8::Local<v8::String> inner = description->IsString() ? description.As<v8::String>()
                                                           : Str(isolate, "");
    text = v8::String::Concat(isolate, Str(isolate, "Symbol("),
                              v8::String::Concat(isolate, inner, Str(isolate, ")")));
  } else if (!error->ToString(context).ToLocal(&text)) {
    text = Str(isolate, "<unprintable error>");
  }
  v8::Local<v8::Value> fallback = v8::Exception::Error(text);
  SerializeMessage(context, fallback, v8::Local<v8::Value>(), &message);
  return message;
}

}  // namespace agentcluster
