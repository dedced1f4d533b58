// AgentChannel ports: two entangled endpoints that carry messages directly
// between whichever threads own them (host or agents), without passing
// through anyone else. An endpoint is plain C++ and thread-safe; the JS
// objects that represent it are made per isolate by a PortBinder.
//
// Each endpoint has ONE inbound queue (its "port message queue"): messages
// stay there while the port is in transit or not started, and its owner
// takes them one at a time on its own thread, so a port's messages are
// delivered in order whatever happens to it (see docs/architecture.md,
// "Ports").
#pragma once

#include <v8.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "shared/flow_control.h"  // HighWaterMark: each port's inbound queue has one

namespace agentcluster {

struct Message;
class PortEndpoint;

// Runs a port's events on the owning thread's terms. Schedule() may be
// called from any thread; the owner then calls PortBinder::DispatchNext
// (port, ticket) on its thread until it returns false.
class PortOwner {
 public:
  virtual ~PortOwner() = default;
  virtual void Schedule(std::shared_ptr<PortEndpoint> port, uint64_t ticket) = 0;
};

// One event taken from a port's queue.
struct PortEvent {
  enum class Kind { kMessage, kClose, kDrain };
  Kind kind = Kind::kMessage;
  std::shared_ptr<Message> message;  // kMessage
};

class PortEndpoint : public std::enable_shared_from_this<PortEndpoint> {
 public:
  static std::pair<std::shared_ptr<PortEndpoint>, std::shared_ptr<PortEndpoint>> CreatePair(
      HighWaterMark limits = HighWaterMark());
  // An endpoint dropped without being closed (in a message nobody received,
  // in a queue of an agent that ended) closes the channel: its peer is told.
  ~PortEndpoint();

  enum class SendResult { kQueued, kQueuedFull, kClosed, kCancelled };
  // Queues `message` at the peer. With `cancel` (an agent sender), blocks
  // while the peer's queue is full and its owner is another thread, until it
  // drains, the peer goes away, or *cancel is set (terminate). Without it
  // (the host) never blocks: kQueuedFull says the queue is now full.
  SendResult Send(std::shared_ptr<Message> message, const std::atomic<bool>* cancel);

  // A new home: events go to `owner`; messages wait for Start().
  void Attach(std::shared_ptr<PortOwner> owner);
  // In transit between threads: the queue keeps everything until Attach().
  void Detach();
  // The JS side listens: queued messages flow.
  void Start();
  // Closes both ends; the peer gets a close event after its queued messages
  // (and this end too with `notify_self`, else it is simply done).
  void Close(bool notify_self = false);
  bool closed() const;
  bool IsPeerOf(const PortEndpoint* other) const;

  // What this end has queued at its peer and not yet delivered.
  size_t buffered_messages() const;
  size_t buffered_bytes() const;

  // Owner thread: the next event, if `owner` still owns this port under
  // `ticket`. False (and the port unscheduled) when there is nothing to do.
  bool Next(const PortOwner* owner, uint64_t ticket, PortEvent* out);

 private:
  struct Channel {
    std::mutex mutex;
    std::condition_variable space;  // a queue drained or a side went away
    HighWaterMark limits;
  };
  struct Wakeup {
    std::shared_ptr<PortOwner> owner;
    std::shared_ptr<PortEndpoint> port;
    uint64_t ticket = 0;
    void Run();
  };

  explicit PortEndpoint(std::shared_ptr<Channel> channel) : channel_(std::move(channel)) {}
  bool Full() const;      // this end's inbound queue (channel mutex held)
  bool Drained() const;
  bool HasWork() const;
  Wakeup ScheduleLocked();  // empty unless the owner must be woken

  std::shared_ptr<Channel> channel_;
  // Everything below is guarded by channel_->mutex.
  PortEndpoint* peer_ = nullptr;  // cleared by the peer's destructor
  std::shared_ptr<PortOwner> owner_;
  uint64_t ticket_ = 0;    // changes with every owner change: stale wake-ups do nothing
  bool scheduled_ = false;
  bool started_ = false;
  std::deque<std::shared_ptr<Message>> queue_;
  size_t queued_bytes_ = 0;
  bool closed_ = false;         // no more sending or receiving
  bool close_pending_ = false;  // the close event is still to be delivered
  bool drain_wanted_ = false;   // this end saw its peer's queue full (host sender)
  bool drain_pending_ = false;
};

// The JS side of ports in one isolate (the host's or an agent's): creates
// the port objects, finds the endpoint behind one, and dispatches events.
class PortBinder {
 public:
  // `cancel`: for an agent, its terminate flag (its port senders may block);
  // null for the host (never blocks). `warn` prints a warning in this realm.
  PortBinder(v8::Isolate* isolate, std::shared_ptr<PortOwner> owner,
             const std::atomic<bool>* cancel, std::function<void(const std::string&)> warn);
  ~PortBinder();  // closes every port still open in this isolate

  v8::Local<v8::Object> Bind(v8::Local<v8::Context> context, std::shared_ptr<PortEndpoint> endpoint);
  // The endpoint behind a live port object of ANY binder, or null.
  static std::shared_ptr<PortEndpoint> EndpointOf(v8::Local<v8::Value> value);
  // Whether `value` is a port object at all (live, transferred or closed).
  static bool IsPort(v8::Local<v8::Value> value);
  // The port object gives its endpoint away (it was transferred).
  static void Neuter(v8::Local<v8::Object> port);

  // Takes the next event of `endpoint` and runs onmessage/onclose/ondrain
  // and the listeners. Returns false when there was none; sets *threw when
  // a handler threw (the exception is left pending for the caller).
  bool DispatchNext(v8::Local<v8::Context> context, const std::shared_ptr<PortEndpoint>& endpoint,
                    uint64_t ticket, bool* threw);

  // { port1, port2 } of a new channel.
  v8::Local<v8::Object> NewChannel(v8::Local<v8::Context> context, HighWaterMark limits);

  // A native `AgentChannel` constructor-like function for a global scope.
  v8::Local<v8::Function> ChannelFunction(v8::Local<v8::Context> context);

 private:
  struct Wrap;
  v8::Local<v8::FunctionTemplate> Template();
  static void PostMessageMethod(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void CloseMethod(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void StartMethod(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void AddListenerMethod(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void RemoveListenerMethod(const v8::FunctionCallbackInfo<v8::Value>& info);
  static void GetHandler(v8::Local<v8::Name> name, const v8::PropertyCallbackInfo<v8::Value>& info);
  static void SetHandler(v8::Local<v8::Name> name, v8::Local<v8::Value> value,
                         const v8::PropertyCallbackInfo<void>& info);
  static void GetBuffered(v8::Local<v8::Name> name, const v8::PropertyCallbackInfo<v8::Value>& info);
  static void NewChannelCallback(const v8::FunctionCallbackInfo<v8::Value>& info);
  static Wrap* WrapOf(v8::Local<v8::Value> value);

  // The handlers for an event, in call order (onX first).
  std::vector<v8::Local<v8::Function>> HandlersFor(Wrap* wrap, PortEvent::Kind kind);
  bool CallHandlers(v8::Local<v8::Context> context, v8::Local<v8::Object> target,
                    const std::vector<v8::Local<v8::Function>>& handlers, v8::Local<v8::Object> event);
  // Weak unless a handler or listener is set (see Wrap::object).
  static bool Listened(const Wrap* wrap);
  void UpdateStrength(Wrap* wrap);
  static void OnCollected(const v8::WeakCallbackInfo<Wrap>& info);
  // A port that was transferred or closed leaves this binder: its object
  // forgets the Wrap (later calls see a dead port) and the Wrap is freed.
  void Retire(Wrap* wrap);

  v8::Isolate* isolate_;
  std::shared_ptr<PortOwner> owner_;
  const std::atomic<bool>* cancel_;
  std::function<void(const std::string&)> warn_;
  v8::Global<v8::FunctionTemplate> template_;
  std::unordered_map<PortEndpoint*, std::unique_ptr<Wrap>> wraps_;
};

}  // namespace agentcluster
