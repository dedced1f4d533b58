#include "shared/message.h"

#include "agent/agent_runtime.h"
#include "shared/v8_compat.h"
#include "shared/port.h"
#include "shared/v8_util.h"
#include "agent/web/web_realm.h"

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
    v8::Isolate* isolate = compat::IsolateOf(context_);
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
    ThrowDataCloneError(Str(isolate, PortBinder::IsPort(object)
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
    v8::Local<v8::Object> port = binder_->Bind(context_, std::move(message_->ports[index]));
    if (!port.IsEmpty()) bound.emplace_back(index, port);
    return port;
  }

  std::vector<std::pair<uint32_t, v8::Local<v8::Object>>> bound;  // ports of the value

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
  v8::Isolate* isolate = compat::IsolateOf(context);
  isolate->ThrowException(MakeDataCloneError(context, Str(isolate, text)));
}

thread_local v8::Global<v8::Function>* g_host_structured_clone = nullptr;
thread_local bool g_host_realm = false;  // this thread runs a Node environment
thread_local v8::Global<v8::Function>* g_host_dom_exception = nullptr;

bool IsHostRealm() { return g_host_realm; }

// An agent's ArrayBuffer simply moves.
std::shared_ptr<v8::BackingStore> DetachOf(v8::Local<v8::ArrayBuffer> buffer) {
  std::shared_ptr<v8::BackingStore> store = buffer->GetBackingStore();
  buffer->Detach(v8::Local<v8::Value>()).FromMaybe(false);
  return store;
}

// Step 1 of HTML's StructuredSerializeWithTransfer: every entry must be
// transferable and listed once. (Whether one is detached is step 4: after the
// value is serialized, so that a throwing getter wins.)
bool CollectTransfers(v8::Local<v8::Context> context, v8::Local<v8::Value> transfer_list,
                      v8::Local<v8::Value> source_port,
                      std::vector<v8::Local<v8::ArrayBuffer>>* buffers,
                      std::vector<v8::Local<v8::Object>>* ports) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  if (transfer_list.IsEmpty() || transfer_list->IsNullOrUndefined()) return true;
  if (!transfer_list->IsArray()) {
    ThrowCodedTypeError(isolate, "ERR_INVALID_ARG_TYPE", "The transfer list must be an array of transferable objects");
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
    if (PortBinder::IsPort(item)) {
      if (!source_port.IsEmpty() && item == source_port) {
        ThrowCloneError(context, "Transfer list contains source port");
        return false;
      }
      for (auto& seen : *ports) {
        if (seen == item) {
          ThrowCloneError(context, "AgentPort appears more than once in the transfer list");
          return false;
        }
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
    if (!buffer->WasDetached() && !buffer->IsDetachable()) {
      ThrowCloneError(context, "An ArrayBuffer is not detachable and could not be transferred");
      return false;
    }
    buffers->push_back(buffer);
  }
  return true;
}

// Step 4: an entry detached before or during serialization (a getter may
// have transferred it) fails the whole message.
bool CheckStillTransferable(v8::Local<v8::Context> context,
                            const std::vector<v8::Local<v8::ArrayBuffer>>& buffers,
                            const std::vector<v8::Local<v8::Object>>& ports) {
  for (auto& buffer : buffers) {
    if (buffer->WasDetached()) {
      ThrowCloneError(context, "An ArrayBuffer is detached and could not be transferred");
      return false;
    }
  }
  for (auto& port : ports) {
    std::shared_ptr<PortEndpoint> endpoint = PortBinder::EndpointOf(port);
    if (!endpoint || endpoint->closed()) {
      ThrowCloneError(context, "An AgentPort is detached (transferred or closed) and could not be transferred");
      return false;
    }
  }
  return true;
}

// A copy of `store`'s bytes in new memory (what Node does for memory it
// marked untransferable).
std::shared_ptr<v8::BackingStore> CopyOf(v8::Isolate* isolate, const std::shared_ptr<v8::BackingStore>& store) {
  size_t length = store->ByteLength();
  void* data = length > 0 ? std::malloc(length) : nullptr;
  if (length > 0 && data == nullptr) {
    std::unique_ptr<v8::BackingStore> fallback = v8::ArrayBuffer::NewBackingStore(isolate, length);
    std::memcpy(fallback->Data(), store->Data(), length);
    return fallback;
  }
  if (length > 0) std::memcpy(data, store->Data(), length);
  return v8::ArrayBuffer::NewBackingStore(
      data, length, [](void* bytes, size_t, void*) { std::free(bytes); }, nullptr);
}

// Moves one ArrayBuffer's memory out of the host realm the way Node's
// structuredClone decides: transferable memory moves (the buffer detaches),
// memory Node marked untransferable (the Buffer pool) is copied. Only the
// effect on `buffer` is trusted, never the call's result: the function
// captured at load may be a user's (structuredClone replaced or deleted
// before agentcluster was imported), and then whatever it did not detach is
// copied, so the pool is never handed over. The memory moves only when the
// call detached `buffer` and handed that memory back to us, here detached in
// turn: a replacement that keeps what it cloned (and returns anything else)
// makes this a copy, so no live host buffer aliases the agent's memory.
std::shared_ptr<v8::BackingStore> MoveThroughNode(v8::Local<v8::Context> context,
                                                  v8::Local<v8::ArrayBuffer> buffer,
                                                  const std::shared_ptr<v8::BackingStore>& original) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  bool reclaimed = false;  // the clone's copy of the memory came back and is detached
  if (g_host_structured_clone != nullptr && !g_host_structured_clone->IsEmpty()) {
    v8::TryCatch try_catch(isolate);
    v8::Local<v8::Function> clone = g_host_structured_clone->Get(isolate);
    v8::Local<v8::Object> options = v8::Object::New(isolate);
    v8::Local<v8::Value> list[] = {buffer};
    v8::Local<v8::Value> argv[] = {buffer, options};
    v8::Local<v8::Value> result;
    if (options->CreateDataProperty(context, Str(isolate, "transfer"), v8::Array::New(isolate, list, 1))
            .FromMaybe(false) &&
        clone->Call(context, v8::Undefined(isolate), 2, argv).ToLocal(&result) &&
        result->IsArrayBuffer() && result.As<v8::ArrayBuffer>()->Data() == original->Data() &&
        original->Data() != nullptr) {
      // Node's clone now owns the memory: it is dropped here, not kept by anyone.
      reclaimed = result.As<v8::ArrayBuffer>()->Detach(v8::Local<v8::Value>()).FromMaybe(false) &&
                  result.As<v8::ArrayBuffer>()->WasDetached();
    }
  }
  if (buffer->WasDetached() && reclaimed) return original;  // moved
  return CopyOf(isolate, original);            // untransferable, or no usable structuredClone
}

}  // namespace

v8::Local<v8::Value> MakeDataCloneError(v8::Local<v8::Context> context,
                                        v8::Local<v8::String> message) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  v8::EscapableHandleScope scope(isolate);
  v8::TryCatch try_catch(isolate);
  // The realm's ORIGINAL DOMException, never its global (user code may have
  // replaced or deleted that): Node's captured at load on the host, the web
  // realm's own class in an agent.
  v8::Local<v8::Object> error;
  if (IsHostRealm()) {
    if (g_host_dom_exception != nullptr && !g_host_dom_exception->IsEmpty()) {
      v8::Local<v8::Value> argv[] = {message, Str(isolate, "DataCloneError")};
      if (g_host_dom_exception->Get(isolate)->NewInstance(context, 2, argv).ToLocal(&error)) {
        return scope.Escape(error);
      }
    }
  } else if (WebRealm* web = WebRealm::From(isolate)) {
    if (web->NewDOMException(context, message, "DataCloneError").ToLocal(&error)) {
      return scope.Escape(error);
    }
  }
  try_catch.Reset();
  // test262 agents have no DOMException: an Error named DataCloneError.
  error = v8::Exception::Error(message).As<v8::Object>();
  error->CreateDataProperty(context, Str(isolate, "name"), Str(isolate, "DataCloneError")).FromMaybe(false);
  error->CreateDataProperty(context, Str(isolate, "code"), v8::Integer::New(isolate, 25)).FromMaybe(false);
  return scope.Escape(error);
}

void SetHostDOMException(v8::Global<v8::Function>* ctor) { g_host_dom_exception = ctor; }

void SetHostStructuredClone(v8::Global<v8::Function>* clone) {
  g_host_structured_clone = clone;
  g_host_realm = clone != nullptr;
}

void PendingTransfer::Commit(const PortEndpoint* keep) {
  if (committed_) return;
  committed_ = true;
  // Ports first and every buffer's memory taken before any call: on the
  // host the structuredClone called per buffer may be a user's function,
  // which must find nothing of this message left to take.
  for (auto& port : ports_) {
    if (PortBinder::EndpointOf(port).get() != keep) PortBinder::Neuter(port);
  }
  std::vector<std::shared_ptr<v8::BackingStore>> originals;
  for (auto& buffer : buffers_) originals.push_back(buffer->GetBackingStore());
  for (size_t i = 0; i < buffers_.size(); i++) {
    message_->transferred.push_back(IsHostRealm() ? MoveThroughNode(context_, buffers_[i], originals[i])
                                                  : DetachOf(buffers_[i]));
  }
}

namespace {

bool SerializeInScope(v8::Local<v8::Context> context, v8::Local<v8::Value> value,
                      v8::Local<v8::Value> transfer_list, Message* out,
                      const SerializeOptions& options, PendingTransfer* pending) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  std::vector<v8::Local<v8::ArrayBuffer>> buffers;
  std::vector<v8::Local<v8::Object>> ports;
  if (!CollectTransfers(context, transfer_list, options.source_port, &buffers, &ports)) return false;

  Message message;
  SerializerDelegate delegate(context, &message, &ports);
  v8::ValueSerializer serializer(isolate, &delegate);
  delegate.serializer = &serializer;
  for (uint32_t i = 0; i < buffers.size(); i++) serializer.TransferArrayBuffer(i, buffers[i]);
  serializer.WriteHeader();
  bool ok = false;
  if (!serializer.WriteValue(context, value).To(&ok) || !ok) return false;
  if (!CheckStillTransferable(context, buffers, ports)) return false;

  std::pair<uint8_t*, size_t> data = serializer.Release();
  message.bytes.data.reset(data.first);
  message.bytes.size = data.second;
  for (auto& port : ports) message.ports.push_back(PortBinder::EndpointOf(port));
  *out = std::move(message);
  // Only now, with the whole value written, may anything move.
  pending->context_ = context;
  pending->message_ = out;
  pending->buffers_ = std::move(buffers);
  pending->ports_ = std::move(ports);
  pending->committed_ = false;
  return true;
}

}  // namespace

bool SerializeMessage(v8::Local<v8::Context> context, v8::Local<v8::Value> value,
                      v8::Local<v8::Value> transfer_list, Message* out,
                      const SerializeOptions& options) {
  if (options.defer != nullptr) {
    return SerializeInScope(context, value, transfer_list, out, options, options.defer);
  }
  v8::HandleScope scope(compat::IsolateOf(context));
  PendingTransfer pending;
  if (!SerializeInScope(context, value, transfer_list, out, options, &pending)) return false;
  pending.Commit();
  return true;
}

namespace {

// In the caller's HandleScope (the value and the ports are all returned).
v8::MaybeLocal<v8::Value> DeserializeInScope(v8::Local<v8::Context> context, Message* message,
                                             PortBinder* binder,
                                             std::vector<v8::Local<v8::Object>>* ports) {
  v8::Isolate* isolate = compat::IsolateOf(context);
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
  if (ports != nullptr && binder != nullptr) {
    // MessageEvent.ports: every transferred port, in transfer-list order.
    std::vector<v8::Local<v8::Object>> all(message->ports.size());
    for (auto& entry : delegate.bound) all[entry.first] = entry.second;
    for (size_t i = 0; i < all.size(); i++) {
      if (all[i].IsEmpty() && message->ports[i]) {
        all[i] = binder->Bind(context, std::move(message->ports[i]));
        if (all[i].IsEmpty()) return {};  // terminating
      }
    }
    for (auto& port : all) {
      if (!port.IsEmpty()) ports->push_back(port);
    }
  }
  message->ports.clear();  // the rest are dropped: their peers get 'close'
  return value;
}

}  // namespace

v8::MaybeLocal<v8::Value> DeserializeMessage(v8::Local<v8::Context> context, Message* message,
                                             PortBinder* binder,
                                             std::vector<v8::Local<v8::Object>>* ports) {
  if (ports != nullptr) return DeserializeInScope(context, message, binder, ports);
  v8::EscapableHandleScope scope(compat::IsolateOf(context));
  v8::Local<v8::Value> value;
  if (!DeserializeInScope(context, message, binder, nullptr).ToLocal(&value)) return {};
  return scope.Escape(value);
}

Message SerializeErrorForReport(v8::Local<v8::Context> context, v8::Local<v8::Value> error) {
  v8::Isolate* isolate = compat::IsolateOf(context);
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
