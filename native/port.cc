#include "port.h"

#include "agent_globals.h"
#include "message.h"
#include "v8_util.h"

namespace agentcluster {

namespace {

int kPortTag;  // its address marks our port objects (internal field 0)

}  // namespace

// ---- PortEndpoint ---------------------------------------------------------

std::pair<std::shared_ptr<PortEndpoint>, std::shared_ptr<PortEndpoint>> PortEndpoint::CreatePair() {
  auto a = std::make_shared<PortEndpoint>();
  auto b = std::make_shared<PortEndpoint>();
  a->peer_ = b;
  b->peer_ = a;
  return {a, b};
}

bool PortEndpoint::Send(std::shared_ptr<Message> message) {
  std::shared_ptr<PortEndpoint> peer;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return false;
    peer = peer_.lock();
  }
  if (!peer || peer->closed()) return false;
  peer->Receive(std::move(message));
  return true;
}

void PortEndpoint::Receive(std::shared_ptr<Message> message) {
  std::shared_ptr<PortOwner> owner;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (message && closed_) return;
    if (!owner_) {
      if (message) queue_.push_back(std::move(message));
      else close_queued_ = true;
      return;
    }
    owner = owner_;
  }
  owner->DeliverToPort(shared_from_this(), std::move(message));
}

void PortEndpoint::Attach(std::shared_ptr<PortOwner> owner) {
  std::deque<std::shared_ptr<Message>> queued;
  bool close_queued;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    owner_ = owner;
    queued.swap(queue_);
    close_queued = close_queued_;
    close_queued_ = false;
  }
  for (auto& message : queued) owner->DeliverToPort(shared_from_this(), std::move(message));
  if (close_queued) owner->DeliverToPort(shared_from_this(), nullptr);
}

void PortEndpoint::Detach() {
  std::lock_guard<std::mutex> lock(mutex_);
  owner_.reset();
}

void PortEndpoint::PeerClosed() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return;
    closed_ = true;
  }
  Receive(nullptr);
}

void PortEndpoint::Close() {
  std::shared_ptr<PortEndpoint> peer;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return;
    closed_ = true;
    peer = peer_.lock();
    owner_.reset();
    queue_.clear();
  }
  if (peer) peer->PeerClosed();
}

bool PortEndpoint::closed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return closed_;
}

// ---- PortBinder -----------------------------------------------------------

struct PortBinder::Wrap {
  PortBinder* binder;
  std::shared_ptr<PortEndpoint> endpoint;  // null once transferred away
  v8::Global<v8::Object> object;
  std::vector<v8::Global<v8::Function>> message_listeners;
  std::vector<v8::Global<v8::Function>> close_listeners;
};

PortBinder::PortBinder(v8::Isolate* isolate, std::shared_ptr<PortOwner> owner)
    : isolate_(isolate), owner_(std::move(owner)) {}

PortBinder::~PortBinder() {
  for (auto& entry : wraps_) {
    if (entry.second->endpoint) entry.second->endpoint->Close();
  }
}

void PortBinder::Retire(Wrap* wrap) {
  if (wrap->endpoint) wrap->endpoint->Detach();
  wrap->message_listeners.clear();
  wrap->close_listeners.clear();
  wrap->object.Reset();
  for (auto it = wraps_.begin(); it != wraps_.end(); ++it) {
    if (it->second.get() == wrap) {
      retired_.push_back(std::move(it->second));
      wraps_.erase(it);
      break;
    }
  }
  wrap->endpoint.reset();
}

v8::Local<v8::FunctionTemplate> PortBinder::Template() {
  if (!template_.IsEmpty()) return template_.Get(isolate_);
  v8::Local<v8::FunctionTemplate> tmpl = v8::FunctionTemplate::New(isolate_);
  tmpl->SetClassName(Str(isolate_, "AgentPort"));
  tmpl->InstanceTemplate()->SetInternalFieldCount(2);
  v8::Local<v8::ObjectTemplate> proto = tmpl->PrototypeTemplate();
  auto method = [&](const char* name, v8::FunctionCallback callback, int length) {
    proto->Set(Str(isolate_, name),
               v8::FunctionTemplate::New(isolate_, callback, v8::Local<v8::Value>(),
                                         v8::Local<v8::Signature>(), length,
                                         v8::ConstructorBehavior::kThrow),
               v8::DontEnum);
  };
  method("postMessage", PostMessageMethod, 1);
  method("close", CloseMethod, 0);
  method("addEventListener", AddListenerMethod, 2);
  method("removeEventListener", RemoveListenerMethod, 2);
  template_.Reset(isolate_, tmpl);
  return tmpl;
}

v8::Local<v8::Object> PortBinder::Bind(v8::Local<v8::Context> context,
                                       std::shared_ptr<PortEndpoint> endpoint) {
  v8::EscapableHandleScope scope(isolate_);
  v8::Local<v8::Object> object;
  if (!Template()->InstanceTemplate()->NewInstance(context).ToLocal(&object)) {
    // Terminating: the endpoint closes (its peer is told) rather than leak.
    endpoint->Close();
    return object;
  }
  object->CreateDataProperty(context, Str(isolate_, "onmessage"), v8::Null(isolate_)).FromMaybe(false);
  object->CreateDataProperty(context, Str(isolate_, "onclose"), v8::Null(isolate_)).FromMaybe(false);
  auto wrap = std::make_unique<Wrap>();
  wrap->binder = this;
  wrap->endpoint = endpoint;
  wrap->object.Reset(isolate_, object);  // strong while open
  object->SetAlignedPointerInInternalField(0, &kPortTag);
  object->SetAlignedPointerInInternalField(1, wrap.get());
  wraps_[endpoint.get()] = std::move(wrap);
  endpoint->Attach(owner_);
  return scope.Escape(object);
}

PortBinder::Wrap* PortBinder::WrapOf(v8::Local<v8::Value> value) {
  if (!value->IsObject()) return nullptr;
  v8::Local<v8::Object> object = value.As<v8::Object>();
  if (object->InternalFieldCount() != 2) return nullptr;
  if (object->GetAlignedPointerFromInternalField(0) != &kPortTag) return nullptr;
  return static_cast<Wrap*>(object->GetAlignedPointerFromInternalField(1));
}

std::shared_ptr<PortEndpoint> PortBinder::EndpointOf(v8::Local<v8::Value> value) {
  Wrap* wrap = WrapOf(value);
  return wrap ? wrap->endpoint : nullptr;
}

void PortBinder::Neuter(v8::Local<v8::Object> port) {
  Wrap* wrap = WrapOf(port);
  if (wrap == nullptr || !wrap->endpoint) return;
  wrap->binder->Retire(wrap);
}

bool PortBinder::Dispatch(v8::Local<v8::Context> context,
                          const std::shared_ptr<PortEndpoint>& endpoint,
                          std::shared_ptr<Message> message, PortBinder* binder_for_ports) {
  auto found = wraps_.find(endpoint.get());
  if (found == wraps_.end() || found->second->endpoint != endpoint) return true;
  Wrap* wrap = found->second.get();
  v8::Local<v8::Object> object = wrap->object.Get(isolate_);
  const bool is_close = message == nullptr;

  v8::Local<v8::Object> event = v8::Object::New(isolate_);
  event->CreateDataProperty(context, Str(isolate_, "type"), Str(isolate_, is_close ? "close" : "message")).FromMaybe(false);
  if (!is_close) {
    v8::Local<v8::Value> data;
    if (!DeserializeMessage(context, message.get(), binder_for_ports).ToLocal(&data)) return false;
    event->CreateDataProperty(context, Str(isolate_, "data"), data).FromMaybe(false);
  }
  event->CreateDataProperty(context, Str(isolate_, "target"), object).FromMaybe(false);

  std::vector<v8::Local<v8::Function>> handlers;
  v8::Local<v8::Value> property;
  if (object->Get(context, Str(isolate_, is_close ? "onclose" : "onmessage")).ToLocal(&property) &&
      property->IsFunction()) {
    handlers.push_back(property.As<v8::Function>());
  }
  for (auto& listener : is_close ? wrap->close_listeners : wrap->message_listeners) {
    handlers.push_back(listener.Get(isolate_));
  }
  if (is_close) Retire(wrap);  // closed for good: the object may now be collected
  v8::Local<v8::Value> argv[] = {event};
  for (auto& handler : handlers) {
    if (handler->Call(context, object, 1, argv).IsEmpty()) return false;
  }
  return true;
}

void PortBinder::PostMessageMethod(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  Wrap* wrap = WrapOf(info.This());
  if (wrap == nullptr || !wrap->endpoint) {
    isolate->ThrowException(v8::Exception::TypeError(
        Str(isolate, "This AgentPort was transferred or closed and cannot send")));
    return;
  }
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::Value> transfer = info[1];
  if (transfer->IsObject() && !transfer->IsArray()) {
    if (!transfer.As<v8::Object>()->Get(context, Str(isolate, "transfer")).ToLocal(&transfer)) {
      return;
    }
  }
  auto message = std::make_shared<Message>();
  if (!SerializeMessage(context, info[0], transfer, message.get())) return;
  info.GetReturnValue().Set(wrap->endpoint->Send(std::move(message)));
}

void PortBinder::CloseMethod(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Wrap* wrap = WrapOf(info.This());
  if (wrap == nullptr || !wrap->endpoint) return;
  wrap->endpoint->Close();
}

// The listener list of a port for an event type, or null for other types.
std::vector<v8::Global<v8::Function>>* PortBinder::ListenersFor(
    const v8::FunctionCallbackInfo<v8::Value>& info) {
  Wrap* wrap = WrapOf(info.This());
  if (wrap == nullptr || !info[1]->IsFunction()) return nullptr;
  std::string type = ToStdString(info.GetIsolate(), info[0]);
  if (type == "message") return &wrap->message_listeners;
  if (type == "close") return &wrap->close_listeners;
  return nullptr;
}

void PortBinder::AddListenerMethod(const v8::FunctionCallbackInfo<v8::Value>& info) {
  auto* list = ListenersFor(info);
  if (list == nullptr) return;
  v8::Local<v8::Function> listener = info[1].As<v8::Function>();
  for (auto& existing : *list) {
    if (existing == listener) return;
  }
  list->emplace_back(info.GetIsolate(), listener);
}

void PortBinder::RemoveListenerMethod(const v8::FunctionCallbackInfo<v8::Value>& info) {
  auto* list = ListenersFor(info);
  if (list == nullptr) return;
  for (auto it = list->begin(); it != list->end(); ++it) {
    if (*it == info[1].As<v8::Function>()) {
      list->erase(it);
      return;
    }
  }
}

v8::Local<v8::Object> PortBinder::NewChannel(v8::Local<v8::Context> context) {
  v8::EscapableHandleScope scope(isolate_);
  auto pair = PortEndpoint::CreatePair();
  v8::Local<v8::Object> channel = v8::Object::New(isolate_);
  channel->CreateDataProperty(context, Str(isolate_, "port1"), Bind(context, pair.first)).FromMaybe(false);
  channel->CreateDataProperty(context, Str(isolate_, "port2"), Bind(context, pair.second)).FromMaybe(false);
  return scope.Escape(channel);
}

void PortBinder::NewChannelCallback(const v8::FunctionCallbackInfo<v8::Value>& info) {
  PortBinder* binder =
      static_cast<PortBinder*>(info.Data().As<v8::External>()->Value());
  info.GetReturnValue().Set(binder->NewChannel(info.GetIsolate()->GetCurrentContext()));
}

v8::Local<v8::Function> PortBinder::ChannelFunction(v8::Local<v8::Context> context) {
  // `new AgentChannel()` and `AgentChannel()` both return { port1, port2 }.
  v8::Local<v8::Function> fn;
  if (!v8::Function::New(context, NewChannelCallback, v8::External::New(isolate_, this), 0)
           .ToLocal(&fn)) {
    return fn;
  }
  fn->SetName(Str(isolate_, "AgentChannel"));
  return fn;
}

}  // namespace agentcluster
