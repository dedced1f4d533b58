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
};

struct Message {
  SerializedBytes bytes;
  std::vector<std::shared_ptr<v8::BackingStore>> transferred;  // ArrayBuffers moved in
  std::vector<std::shared_ptr<v8::BackingStore>> shared;       // SharedArrayBuffers
  std::vector<v8::CompiledWasmModule> wasm_modules;
  std::vector<std::shared_ptr<PortEndpoint>> ports;            // AgentPorts moved in

  bool empty() const { return bytes.size == 0; }
};

// The transfers of a serialized message that are still to happen: the
// ArrayBuffers to detach and the ports to neuter. Valid only within the
// HandleScope of the SerializeMessage call that filled it.
class PendingTransfer {
 public:
  // Detaches/neuters everything except the port `keep` and fills the
  // message's transferred BackingStores. On the host, each ArrayBuffer moves
  // through Node's own structuredClone, so what Node marks untransferable
  // (the pooled memory of small Buffers) is copied, exactly as Node does.
  void Commit(const PortEndpoint* keep = nullptr);

  // Filled by SerializeMessage.
  v8::Local<v8::Context> context_;
  Message* message_ = nullptr;
  std::vector<v8::Local<v8::ArrayBuffer>> buffers_;
  std::vector<v8::Local<v8::Object>> ports_;
  bool committed_ = true;
};

struct SerializeOptions {
  // postMessage on this port: the port may not be in its own transfer list.
  v8::Local<v8::Value> source_port;
  // Set: nothing is detached until defer->Commit() (the caller may still
  // refuse the message). The caller's HandleScope must cover both calls.
  PendingTransfer* defer = nullptr;
};

// Serializes `value` with the transfer list (an array or undefined) in the
// step order of HTML's StructuredSerializeWithTransfer: the list is checked
// (types, duplicates), the value serialized, then detached entries are
// reported, and only then is anything detached. On failure returns false with
// an exception pending (DataCloneError, or whatever a getter threw) and
// nothing detached.
bool SerializeMessage(v8::Local<v8::Context> context, v8::Local<v8::Value> value,
                      v8::Local<v8::Value> transfer_list, Message* out,
                      const SerializeOptions& options = SerializeOptions());

// The host realm's structuredClone, used to move ArrayBuffers the way Node
// does (set per Node environment thread, possibly to an empty handle when
// there was none; agents have none). What it does not detach is copied.
void SetHostStructuredClone(v8::Global<v8::Function>* clone);

// Rebuilds the value in `context`. Consumes the message's buffers. Ports in
// the message become port objects of `binder` (without one they fail). With
// `ports`, every transferred port (also those not in the value) is bound
// and listed in transfer-list order, as MessageEvent.ports; without it, the
// ports that are not in the value are dropped (their peers get 'close').
v8::MaybeLocal<v8::Value> DeserializeMessage(v8::Local<v8::Context> context, Message* message,
                                             PortBinder* binder = nullptr,
                                             std::vector<v8::Local<v8::Object>>* ports = nullptr);

// Node's DOMException as captured at load (per Node environment thread).
void SetHostDOMException(v8::Global<v8::Function>* ctor);

// A DataCloneError as the realm expects it: a DOMException of the realm's
// original class (Node's captured one on the host, the web globals' in an
// agent), else an Error whose name is "DataCloneError" (test262 agents).
v8::Local<v8::Value> MakeDataCloneError(v8::Local<v8::Context> context,
                                        v8::Local<v8::String> message);

// Convenience for errors that are not clone-able themselves (e.g. a thrown
// symbol): serializes the value if possible, else an Error with its String().
Message SerializeErrorForReport(v8::Local<v8::Context> context, v8::Local<v8::Value> error);

}  // namespace agentcluster
