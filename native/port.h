// AgentChannel ports: two entangled endpoints that carry messages directly
// between whichever threads own them (host or agents), without passing
// through anyone else. An endpoint is plain C++ and thread-safe; the JS
// objects that represent it are made per isolate by a PortBinder.
#pragma once

#include <v8.h>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace agentcluster {

struct Message;
class PortEndpoint;

// Receives a port's events on the owning thread's terms (it posts them to
// that thread); `message` is null when the port got closed.
class PortOwner {
 public:
  virtual ~PortOwner() = default;
  virtual void DeliverToPort(std::shared_ptr<PortEndpoint> port,
                             std::shared_ptr<Message> message) = 0;
};

class PortEndpoint : public std::enable_shared_from_this<PortEndpoint> {
 public:
  static std::pair<std::shared_ptr<PortEndpoint>, std::shared_ptr<PortEndpoint>> CreatePair();

  // Sends to the peer. False when this end or the peer is closed.
  bool Send(std::shared_ptr<Message> message);
  // Starts delivering (queued messages first) to `owner`.
  void Attach(std::shared_ptr<PortOwner> owner);
  // In transit between threads: deliveries queue until the next Attach().
  void Detach();
  // Closes both ends; the peer's owner gets a close notification.
  void Close();
  bool closed() const;

 private:
  void Receive(std::shared_ptr<Message> message);  // null: the peer closed
  void PeerClosed();

  mutable std::mutex mutex_;
  std::weak_ptr<PortEndpoint> peer_;
  std::shared_ptr<PortOwner> owner_;
  std::deque<std::shared_ptr<Message>> queue_;
  bool closed_ = false;
  bool close_queued_ = false;
};

// The JS side of ports in one isolate (the host's or an agent's): creates
// the port objects, finds the endpoint behind one, and dispatches events.
class PortBinder {
 public:
  PortBinder(v8::Isolate* isolate, std::shared_ptr<PortOwner> owner);
  ~PortBinder();  // closes every port still open in this isolate

  v8::Local<v8::Object> Bind(v8::Local<v8::Context> context, std::shared_ptr<PortEndpoint> endpoint);
  // The endpoint behind a port object of ANY binder, or null.
  static std::shared_ptr<PortEndpoint> EndpointOf(v8::Local<v8::Value> value);
  // The port object gives its endpoint away (it was transferred).
  static void Neuter(v8::Local<v8::Object> port);

  // Runs onmessage/onclose and the listeners of the port. Returns false if a
  // handler threw (the exception is left pending for the caller).
  bool Dispatch(v8::Local<v8::Context> context, const std::shared_ptr<PortEndpoint>& endpoint,
                std::shared_ptr<Message> message, class PortBinder* binder_for_ports);

  // { port1, port2 } of a new channel.
  v8::Local<v8::Object> NewChannel(v8::Local<v8::Context> context);

  // A native `AgentChannel` constructor-like function for a global scope.
  v8::Local<v8::Function> ChannelFunction(v8::Local<v8::Context> context);

  std::shared_ptr<PortOwner> owner() const { return owner_; }

 private:
  struct Wrap;
  v8::Local<v8::FunctionTemplate> Template();
  static void PostMessageMethod(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void CloseMethod(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void AddListenerMethod(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void RemoveListenerMethod(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void NewChannelCallback(const v8::FunctionCallbackInfo<v8::Value>& info);
  static Wrap* WrapOf(v8::Local<v8::Value> value);
  static std::vector<v8::Global<v8::Function>>* ListenersFor(
      const v8::FunctionCallbackInfo<v8::Value>& info);

  // Moves a port that was transferred or closed out of the live map (its
  // object may still point at the Wrap, so the Wrap lives on until we die).
  void Retire(Wrap* wrap);

  v8::Isolate* isolate_;
  std::shared_ptr<PortOwner> owner_;
  v8::Global<v8::FunctionTemplate> template_;
  std::unordered_map<PortEndpoint*, std::unique_ptr<Wrap>> wraps_;
  std::vector<std::unique_ptr<Wrap>> retired_;
};

}  // namespace agentcluster
