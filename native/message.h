// One structured-clone message, independent of any isolate: the bytes V8's
// ValueSerializer wrote plus the BackingStores it refers to. Transferred
// ArrayBuffers and SharedArrayBuffers travel as BackingStores (moved or
// shared, never copied), so a message can cross threads freely.
#pragma once

#include <v8.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

namespace agentcluster {

class PortEndpoint;
class PortBinder;

// The serializer's output buffer, kept as V8 released it (no copy).
struct SerializedBytes {
  struct Free {
    void operator()(uint8_t* data) const { std::free(data); }
  };
  std::unique_ptr<uint8_t, Free> data;
  size_t size = 0;

  SerializedBytes() = default;
  SerializedBytes(SerializedBytes&&) = default;
  SerializedBytes& operator=(SerializedBytes&&) = default;
  SerializedBytes Copy() const;  // explicit: messages are moved, not copied
};

struct Message {
  SerializedBytes bytes;
  std::vector<std::shared_ptr<v8::BackingStore>> transferred;  // ArrayBuffers moved in
  std::vector<std::shared_ptr<v8::BackingStore>> shared;       // SharedArrayBuffers
  std::vector<v8::CompiledWasmModule> wasm_modules;
  std::vector<std::shared_ptr<PortEndpoint>> ports;            // AgentPorts moved in

  bool empty() const { return bytes.size == 0; }
  // A second message with the same content (buffers shared, ports not kept).
  Message CopyForReplay() const;
};

// Serializes `value`, moving the ArrayBuffers of `transfer_list` (an array or
// undefined). On failure returns false with an exception pending in the
// isolate (DataCloneError, or whatever a getter threw) and nothing detached.
bool SerializeMessage(v8::Local<v8::Context> context, v8::Local<v8::Value> value,
                      v8::Local<v8::Value> transfer_list, Message* out);

// Rebuilds the value in `context`. Consumes the message's buffers. Ports in
// the message become port objects of `binder` (without one they fail).
v8::MaybeLocal<v8::Value> DeserializeMessage(v8::Local<v8::Context> context, Message* message,
                                             PortBinder* binder = nullptr);

// A DataCloneError as the realm expects it: a DOMException where the realm
// has one (Node), else an Error whose name is "DataCloneError" (agents).
v8::Local<v8::Value> MakeDataCloneError(v8::Local<v8::Context> context,
                                        v8::Local<v8::String> message);

// Convenience for errors that are not clone-able themselves (e.g. a thrown
// symbol): serializes the value if possible, else an Error with its String().
Message SerializeErrorForReport(v8::Local<v8::Context> context, v8::Local<v8::Value> error);

}  // namespace agentcluster
