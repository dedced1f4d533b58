#include "shared/port.h"

#include <chrono>

#include "shared/v8_compat.h"
#include "shared/message.h"
#include "shared/v8_util.h"

namespace agentcluster {

namespace {

int kPortTag;  // its address marks our port objects (internal field 0)

enum HandlerSlot { kOnMessage = 0, kOnClose = 1, kOnDrain = 2 };
enum BufferedFigure { kBufferedMessages = 0, kBufferedBytes = 1 };

// How often a blocked agent sender re-checks its terminate flag.
constexpr std::chrono::milliseconds kBlockedPoll(5);

}  // namespace

// ---- PortEndpoint ---------------------------------------------------------

void PortEndpoint::Wakeup::Run() {
  if (owner && port) owner->Schedule(std::move(port), ticket);
}

std::pair<std::shared_ptr<PortEndpoint>, std::shared_ptr<PortEndpoint>> PortEndpoint::CreatePair(
    HighWaterMark limits) {
  auto channel = std::make_shared<Channel>();
  channel->limits = limits;
  std::shared_ptr<PortEndpoint> a(new PortEndpoint(channel));
  std::shared_ptr<PortEndpoint> b(new PortEndpoint(channel));
  a->peer_ = b.get();
  b->peer_ = a.get();
  return {a, b};
}

PortEndpoint::~PortEndpoint() {
  Wakeup wakeup;
  {
    std::lock_guard<std::mutex> lock(channel_->mutex);
    if (peer_ != nullptr) {
      peer_->peer_ = nullptr;
      if (!closed_ && !peer_->closed_) {
        peer_->closed_ = true;
        peer_->close_pending_ = true;
        wakeup = peer_->ScheduleLocked();
      }
    }
  }
  channel_->space.notify_all();
  wakeup.Run();
  // queue_ (messages that may hold other ports) dies after the lock is gone.
}

bool PortEndpoint::Full() const { return channel_->limits.Reached(queue_.size(), queued_bytes_); }

bool PortEndpoint::Drained() const { return channel_->limits.Drained(queue_.size(), queued_bytes_); }

bool PortEndpoint::HasWork() const {
  return (started_ && !queue_.empty()) || drain_pending_ ||
         (close_pending_ && (started_ || queue_.empty()));
}

PortEndpoint::Wakeup PortEndpoint::ScheduleLocked() {
  Wakeup wakeup;
  if (!owner_ || scheduled_ || !HasWork()) return wakeup;
  wakeup.port = weak_from_this().lock();  // empty while this end is being destroyed
  if (!wakeup.port) return wakeup;
  scheduled_ = true;
  wakeup.owner = owner_;
  wakeup.ticket = ticket_;
  return wakeup;
}

PortEndpoint::SendResult PortEndpoint::Send(std::shared_ptr<Message> message,
                                            const std::atomic<bool>* cancel) {
  Wakeup wakeup;
  bool full;
  {
    std::unique_lock<std::mutex> lock(channel_->mutex);
    if (closed_ || peer_ == nullptr || peer_->closed_) return SendResult::kClosed;
    // An agent waits for room, unless the peer is in transit or lives on this
    // very thread (nobody else would ever drain it).
    if (cancel != nullptr && peer_->Full() && peer_->owner_ && peer_->owner_ != owner_) {
      for (;;) {
        if (cancel->load()) return SendResult::kCancelled;
        if (closed_ || peer_ == nullptr || peer_->closed_) return SendResult::kClosed;
        if (peer_->Drained() || !peer_->owner_) break;
        channel_->space.wait_for(lock, kBlockedPoll);
      }
    }
    peer_->queued_bytes_ += message->bytes.size;
    peer_->queue_.push_back(std::move(message));
    wakeup = peer_->ScheduleLocked();
    // A sender whose next post would wait is not told "full" (it would
    // never get a 'drain'); the others (the host, an agent whose peer is in
    // transit or in the same agent) are, and get a 'drain' later.
    bool waits = cancel != nullptr && peer_->owner_ && peer_->owner_ != owner_;
    full = peer_->Full() && !waits;
    if (full) drain_wanted_ = true;
  }
  wakeup.Run();
  return full ? SendResult::kQueuedFull : SendResult::kQueued;
}

void PortEndpoint::Attach(std::shared_ptr<PortOwner> owner) {
  Wakeup wakeup;
  {
    std::lock_guard<std::mutex> lock(channel_->mutex);
    owner_ = std::move(owner);
    ticket_++;
    scheduled_ = false;
    started_ = false;
    wakeup = ScheduleLocked();
  }
  wakeup.Run();
}

void PortEndpoint::Detach() {
  std::lock_guard<std::mutex> lock(channel_->mutex);
  owner_.reset();
  ticket_++;
  scheduled_ = false;
  started_ = false;
}

void PortEndpoint::Start() {
  Wakeup wakeup;
  {
    std::lock_guard<std::mutex> lock(channel_->mutex);
    if (started_) return;
    started_ = true;
    wakeup = ScheduleLocked();
  }
  wakeup.Run();
}

void PortEndpoint::Close(bool notify_self) {
  Wakeup wakeup;
  Wakeup self_wakeup;
  std::deque<std::shared_ptr<Message>> dropped;
  {
    std::lock_guard<std::mutex> lock(channel_->mutex);
    if (closed_) return;
    closed_ = true;
    close_pending_ = false;
    drain_pending_ = false;
    dropped.swap(queue_);
    queued_bytes_ = 0;
    if (notify_self) {
      close_pending_ = true;
      self_wakeup = ScheduleLocked();
    }
    if (peer_ != nullptr && !peer_->closed_) {
      peer_->closed_ = true;
      peer_->close_pending_ = true;
      wakeup = peer_->ScheduleLocked();
    }
  }
  channel_->space.notify_all();
  wakeup.Run();
  self_wakeup.Run();
}

bool PortEndpoint::closed() const {
  std::lock_guard<std::mutex> lock(channel_->mutex);
  return closed_;
}

bool PortEndpoint::IsPeerOf(const PortEndpoint* other) const {
  std::lock_guard<std::mutex> lock(channel_->mutex);
  return peer_ == other && other != nullptr;
}

size_t PortEndpoint::buffered_messages() const {
  std::lock_guard<std::mutex> lock(channel_->mutex);
  return peer_ ? peer_->queue_.size() : 0;
}

size_t PortEndpoint::buffered_bytes() const {
  std::lock_guard<std::mutex> lock(channel_->mutex);
  return peer_ ? peer_->queued_bytes_ : 0;
}

bool PortEndpoint::Next(const PortOwner* owner, uint64_t ticket, PortEvent* out) {
  Wakeup wakeup;
  bool drained = false;
  {
    std::lock_guard<std::mutex> lock(channel_->mutex);
    if (owner_.get() != owner || ticket != ticket_) return false;  // moved on since
    if (started_ && !queue_.empty()) {
      out->kind = PortEvent::Kind::kMessage;
      out->message = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= out->message->bytes.size;
      drained = Drained();
      if (drained && peer_ != nullptr && peer_->drain_wanted_) {
        peer_->drain_wanted_ = false;
        peer_->drain_pending_ = true;
        wakeup = peer_->ScheduleLocked();
      }
    } else if (drain_pending_) {
      drain_pending_ = false;
      out->kind = PortEvent::Kind::kDrain;
    } else if (close_pending_ && (started_ || queue_.empty())) {
      close_pending_ = false;
      out->kind = PortEvent::Kind::kClose;
    } else {
      scheduled_ = false;
      return false;
    }
  }
  if (drained) channel_->space.notify_all();
  wakeup.Run();
  return true;
}

// ---- PortBinder -----------------------------------------------------------

struct PortBinder::Wrap {
  PortBinder* binder;
  std::shared_ptr<PortEndpoint> endpoint;
  // Strong while a handler or listener could see an event; weak otherwise:
  // a port nobody references or listens to is collected and closed (its
  // peer gets 'close'), as a MessagePort is.
  v8::Global<v8::Object> object;
  v8::Global<v8::Value> on[3];    // onmessage, onclose, ondrain
  std::vector<v8::Global<v8::Function>> listeners[3];
};

PortBinder::PortBinder(v8::Isolate* isolate, std::shared_ptr<PortOwner> owner,
                       const std::atomic<bool>* cancel,
                       std::function<void(const std::string&)> warn)
    : isolate_(isolate), owner_(std::move(owner)), cancel_(cancel), warn_(std::move(warn)) {}

PortBinder::~PortBinder() {
  for (auto& entry : wraps_) {
    if (entry.second->endpoint) entry.second->endpoint->Close();
  }
}

bool PortBinder::Listened(const Wrap* wrap) {
  for (int slot = 0; slot < 3; slot++) {
    if (!wrap->on[slot].IsEmpty() || !wrap->listeners[slot].empty()) return true;
  }
  return false;
}

void PortBinder::UpdateStrength(Wrap* wrap) {
  if (wrap->object.IsEmpty()) return;
  if (Listened(wrap)) {
    wrap->object.ClearWeak();
  } else {
    wrap->object.SetWeak(wrap, OnCollected, v8::WeakCallbackType::kParameter);
  }
}

// Only C++ runs here (no V8 call but Reset): the port leaves the binder and
// closes, which wakes its peer's owner (a mailbox post or a libuv signal).
void PortBinder::OnCollected(const v8::WeakCallbackInfo<Wrap>& info) {
  Wrap* wrap = info.GetParameter();
  wrap->object.Reset();
  std::shared_ptr<PortEndpoint> endpoint = wrap->endpoint;
  auto& wraps = wrap->binder->wraps_;
  auto found = wraps.find(endpoint.get());
  if (found != wraps.end() && found->second.get() == wrap) wraps.erase(found);  // frees wrap
  endpoint->Close();
}

void PortBinder::Retire(Wrap* wrap) {
  v8::HandleScope scope(isolate_);
  if (!wrap->object.IsEmpty()) {
    compat::SetInternalPointer(wrap->object.Get(isolate_), 1, nullptr);
  }
  PortEndpoint* key = wrap->endpoint.get();
  auto found = wraps_.find(key);
  if (found != wraps_.end() && found->second.get() == wrap) wraps_.erase(found);  // frees wrap
}

v8::Local<v8::FunctionTemplate> PortBinder::Template() {
  if (!template_.IsEmpty()) return template_.Get(isolate_);
  v8::Local<v8::FunctionTemplate> tmpl = v8::FunctionTemplate::New(isolate_);
  tmpl->SetClassName(Str(isolate_, "AgentPort"));
  v8::Local<v8::ObjectTemplate> instance = tmpl->InstanceTemplate();
  instance->SetInternalFieldCount(2);
  const char* handlers[] = {"onmessage", "onclose", "ondrain"};
  // Own accessor-backed data properties of each port. SetNativeDataProperty
  // on every line: ObjectTemplate::SetAccessor is gone in V8 13.
  for (int slot = 0; slot < 3; slot++) {
    instance->SetNativeDataProperty(Str(isolate_, handlers[slot]).As<v8::Name>(), GetHandler,
                                    SetHandler, v8::Integer::New(isolate_, slot));
  }
  instance->SetNativeDataProperty(Str(isolate_, "bufferedMessages").As<v8::Name>(), GetBuffered,
                                  nullptr, v8::Integer::New(isolate_, kBufferedMessages),
                                  v8::ReadOnly);
  instance->SetNativeDataProperty(Str(isolate_, "bufferedBytes").As<v8::Name>(), GetBuffered,
                                  nullptr, v8::Integer::New(isolate_, kBufferedBytes),
                                  v8::ReadOnly);
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
  method("start", StartMethod, 0);
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
  auto wrap = std::make_unique<Wrap>();
  wrap->binder = this;
  wrap->endpoint = endpoint;
  wrap->object.Reset(isolate_, object);
  compat::SetInternalPointer(object, 0, &kPortTag);
  compat::SetInternalPointer(object, 1, wrap.get());
  Wrap* bound = wrap.get();
  wraps_[endpoint.get()] = std::move(wrap);
  UpdateStrength(bound);
  endpoint->Attach(owner_);
  return scope.Escape(object);
}

PortBinder::Wrap* PortBinder::WrapOf(v8::Local<v8::Value> value) {
  if (!IsPort(value)) return nullptr;
  return static_cast<Wrap*>(compat::GetInternalPointer(value.As<v8::Object>(), 1));
}

bool PortBinder::IsPort(v8::Local<v8::Value> value) {
  if (value.IsEmpty() || !value->IsObject()) return false;
  v8::Local<v8::Object> object = value.As<v8::Object>();
  return object->InternalFieldCount() == 2 &&
         compat::GetInternalPointer(object, 0) == &kPortTag;
}

std::shared_ptr<PortEndpoint> PortBinder::EndpointOf(v8::Local<v8::Value> value) {
  Wrap* wrap = WrapOf(value);
  return wrap ? wrap->endpoint : nullptr;
}

void PortBinder::Neuter(v8::Local<v8::Object> port) {
  Wrap* wrap = WrapOf(port);
  if (wrap == nullptr) return;
  wrap->endpoint->Detach();
  wrap->binder->Retire(wrap);
}

std::vector<v8::Local<v8::Function>> PortBinder::HandlersFor(Wrap* wrap, PortEvent::Kind kind) {
  int slot = kind == PortEvent::Kind::kMessage ? kOnMessage
             : kind == PortEvent::Kind::kClose ? kOnClose
                                               : kOnDrain;
  std::vector<v8::Local<v8::Function>> handlers;
  if (!wrap->on[slot].IsEmpty()) {
    v8::Local<v8::Value> on = wrap->on[slot].Get(isolate_);
    if (on->IsFunction()) handlers.push_back(on.As<v8::Function>());
  }
  for (auto& listener : wrap->listeners[slot]) handlers.push_back(listener.Get(isolate_));
  return handlers;
}

bool PortBinder::CallHandlers(v8::Local<v8::Context> context, v8::Local<v8::Object> target,
                              const std::vector<v8::Local<v8::Function>>& handlers,
                              v8::Local<v8::Object> event) {
  v8::Local<v8::Value> argv[] = {event};
  for (auto& handler : handlers) {
    if (handler->Call(context, target, 1, argv).IsEmpty()) return false;
  }
  return true;
}

bool PortBinder::DispatchNext(v8::Local<v8::Context> context,
                              const std::shared_ptr<PortEndpoint>& endpoint, uint64_t ticket,
                              bool* threw) {
  *threw = false;
  PortEvent next;
  if (!endpoint->Next(owner_.get(), ticket, &next)) return false;
  auto found = wraps_.find(endpoint.get());
  if (found == wraps_.end()) return true;  // its object could not be made: dropped
  v8::HandleScope scope(isolate_);
  Wrap* wrap = found->second.get();
  if (wrap->object.IsEmpty()) return true;
  v8::Local<v8::Object> object = wrap->object.Get(isolate_);
  const char* type = next.kind == PortEvent::Kind::kMessage ? "message"
                     : next.kind == PortEvent::Kind::kClose ? "close"
                                                            : "drain";
  v8::Local<v8::Object> event = v8::Object::New(isolate_);
  event->CreateDataProperty(context, Str(isolate_, "type"), Str(isolate_, type)).FromMaybe(false);
  if (next.kind == PortEvent::Kind::kMessage) {
    v8::Local<v8::Value> data;
    std::vector<v8::Local<v8::Object>> ports;
    if (!DeserializeMessage(context, next.message.get(), this, &ports).ToLocal(&data)) {
      *threw = true;
      return true;
    }
    v8::Local<v8::Array> port_list = v8::Array::New(isolate_, static_cast<int>(ports.size()));
    for (uint32_t i = 0; i < ports.size(); i++) {
      port_list->Set(context, i, ports[i]).FromMaybe(false);
    }
    event->CreateDataProperty(context, Str(isolate_, "data"), data).FromMaybe(false);
    event->CreateDataProperty(context, Str(isolate_, "ports"), port_list).FromMaybe(false);
  }
  event->CreateDataProperty(context, Str(isolate_, "target"), object).FromMaybe(false);
  // The wrap may be freed by a handler (close(), a transfer): take the list first.
  std::vector<v8::Local<v8::Function>> handlers = HandlersFor(wrap, next.kind);
  if (next.kind == PortEvent::Kind::kClose) Retire(wrap);  // closed for good
  if (!CallHandlers(context, object, handlers, event)) *threw = true;
  return true;
}

void PortBinder::PostMessageMethod(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  Wrap* wrap = WrapOf(info.This());
  if (wrap == nullptr) {
    ThrowTypeError(isolate, "This AgentPort was transferred or closed and cannot send");
    return;
  }
  PortBinder* binder = wrap->binder;
  std::shared_ptr<PortEndpoint> source = wrap->endpoint;
  // (A post to a closed peer still moves its transfer list and returns
  // false, as before: the buffers are gone either way.)
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::Value> transfer = info[1];
  if (transfer->IsObject() && !transfer->IsArray()) {
    if (!transfer.As<v8::Object>()->Get(context, Str(isolate, "transfer")).ToLocal(&transfer)) {
      return;
    }
  }
  auto message = std::make_shared<Message>();
  PendingTransfer pending;
  SerializeOptions options;
  options.source_port = info.This();
  options.defer = &pending;
  if (!SerializeMessage(context, info[0], transfer, message.get(), options)) return;
  // A getter may have transferred or closed this very port meanwhile: then
  // nothing moves and the post fails as a transfer of a detached port would.
  if (WrapOf(info.This()) != wrap) {
    isolate->ThrowException(MakeDataCloneError(
        context, Str(isolate, "The source AgentPort was transferred or closed while the message "
                              "was serialized")));
    return;
  }
  // HTML's "doomed" rule: the target port in its own message's transfer list.
  std::shared_ptr<PortEndpoint> target;
  for (auto& port : message->ports) {
    if (port->IsPeerOf(source.get())) target = port;
  }
  if (target) {
    pending.Commit(target.get());  // everything else moves as usual
    binder->warn_("The target port was posted to itself, and the communication channel was lost");
    message.reset();
    source->Close(true);  // both ends get 'close', as in Node
    info.GetReturnValue().Set(false);  // nothing was sent: the other end is closed
    return;
  }
  pending.Commit();
  switch (source->Send(std::move(message), binder->cancel_)) {
    case PortEndpoint::SendResult::kQueued: info.GetReturnValue().Set(true); break;
    case PortEndpoint::SendResult::kQueuedFull:
    case PortEndpoint::SendResult::kClosed: info.GetReturnValue().Set(false); break;
    case PortEndpoint::SendResult::kCancelled: break;  // terminating: no more JS runs
  }
}

void PortBinder::CloseMethod(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Wrap* wrap = WrapOf(info.This());
  if (wrap == nullptr) return;
  wrap->endpoint->Close();
  wrap->binder->Retire(wrap);  // nothing more can come: release it now
}

void PortBinder::StartMethod(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Wrap* wrap = WrapOf(info.This());
  if (wrap != nullptr) wrap->endpoint->Start();
}

void PortBinder::GetHandler(v8::Local<v8::Name>, const v8::PropertyCallbackInfo<v8::Value>& info) {
  Wrap* wrap = WrapOf(compat::HolderOf(info));
  int slot = info.Data().As<v8::Int32>()->Value();
  if (wrap == nullptr || wrap->on[slot].IsEmpty()) {
    info.GetReturnValue().SetNull();
    return;
  }
  info.GetReturnValue().Set(wrap->on[slot].Get(info.GetIsolate()));
}

void PortBinder::SetHandler(v8::Local<v8::Name>, v8::Local<v8::Value> value,
                            const v8::PropertyCallbackInfo<void>& info) {
  Wrap* wrap = WrapOf(compat::HolderOf(info));
  if (wrap == nullptr) return;
  int slot = info.Data().As<v8::Int32>()->Value();
  if (value->IsFunction()) {
    wrap->on[slot].Reset(info.GetIsolate(), value);
    // As MessagePort: setting onmessage starts the port.
    if (slot == kOnMessage) wrap->endpoint->Start();
  } else {
    wrap->on[slot].Reset();
  }
  wrap->binder->UpdateStrength(wrap);
}

void PortBinder::GetBuffered(v8::Local<v8::Name>, const v8::PropertyCallbackInfo<v8::Value>& info) {
  Wrap* wrap = WrapOf(compat::HolderOf(info));
  if (wrap == nullptr) {
    info.GetReturnValue().Set(0);
    return;
  }
  size_t figure = info.Data().As<v8::Int32>()->Value() == kBufferedMessages
                      ? wrap->endpoint->buffered_messages()
                      : wrap->endpoint->buffered_bytes();
  info.GetReturnValue().Set(static_cast<double>(figure));
}

// The listener list of a port for an event type, or null for other types.
static std::vector<v8::Global<v8::Function>>* ListenerList(
    std::vector<v8::Global<v8::Function>> (&lists)[3], const std::string& type, int* slot) {
  if (type == "message") *slot = kOnMessage;
  else if (type == "close") *slot = kOnClose;
  else if (type == "drain") *slot = kOnDrain;
  else return nullptr;
  return &lists[*slot];
}

void PortBinder::AddListenerMethod(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Wrap* wrap = WrapOf(info.This());
  if (wrap == nullptr || !info[1]->IsFunction()) return;
  int slot = 0;
  auto* list = ListenerList(wrap->listeners, ToStdString(info.GetIsolate(), info[0]), &slot);
  if (list == nullptr) return;
  v8::Local<v8::Function> listener = info[1].As<v8::Function>();
  for (auto& existing : *list) {
    if (existing == listener) return;
  }
  list->emplace_back(info.GetIsolate(), listener);
  wrap->binder->UpdateStrength(wrap);
  if (slot == kOnMessage) wrap->endpoint->Start();  // as Node's MessagePort
}

void PortBinder::RemoveListenerMethod(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Wrap* wrap = WrapOf(info.This());
  if (wrap == nullptr || !info[1]->IsFunction()) return;
  int slot = 0;
  auto* list = ListenerList(wrap->listeners, ToStdString(info.GetIsolate(), info[0]), &slot);
  if (list == nullptr) return;
  for (auto it = list->begin(); it != list->end(); ++it) {
    if (*it == info[1].As<v8::Function>()) {
      list->erase(it);
      wrap->binder->UpdateStrength(wrap);
      return;
    }
  }
}

v8::Local<v8::Object> PortBinder::NewChannel(v8::Local<v8::Context> context, HighWaterMark limits) {
  v8::EscapableHandleScope scope(isolate_);
  auto pair = PortEndpoint::CreatePair(limits);
  v8::Local<v8::Object> channel = v8::Object::New(isolate_);
  v8::Local<v8::Object> port1 = Bind(context, pair.first);
  v8::Local<v8::Object> port2 = Bind(context, pair.second);
  if (port1.IsEmpty() || port2.IsEmpty()) return v8::Local<v8::Object>();
  channel->CreateDataProperty(context, Str(isolate_, "port1"), port1).FromMaybe(false);
  channel->CreateDataProperty(context, Str(isolate_, "port2"), port2).FromMaybe(false);
  return scope.Escape(channel);
}

// `{ highWaterMark: { messages, bytes } }` of `new AgentChannel(options)` in
// an agent. False with a TypeError/RangeError pending when it is malformed.
static bool ReadLimits(v8::Local<v8::Context> context, v8::Local<v8::Value> options,
                       HighWaterMark* limits) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  if (options->IsUndefined()) return true;
  v8::Local<v8::Value> mark;
  if (!options->IsObject() ||
      !options.As<v8::Object>()->Get(context, Str(isolate, "highWaterMark")).ToLocal(&mark)) {
    if (!options->IsObject()) ThrowTypeError(isolate, "AgentChannel options must be an object");
    return false;
  }
  if (mark->IsUndefined()) return true;
  if (!mark->IsObject()) {
    ThrowTypeError(isolate, "highWaterMark must be an object { messages?, bytes? }");
    return false;
  }
  const char* keys[] = {"messages", "bytes"};
  size_t* fields[] = {&limits->messages, &limits->bytes};
  for (int i = 0; i < 2; i++) {
    v8::Local<v8::Value> value;
    if (!mark.As<v8::Object>()->Get(context, Str(isolate, keys[i])).ToLocal(&value)) return false;
    if (value->IsUndefined()) continue;
    double number = value->IsNumber() ? value.As<v8::Number>()->Value() : -1;
    if (!(number >= 1 && number <= 9007199254740991.0) || number != static_cast<double>(static_cast<int64_t>(number))) {
      isolate->ThrowException(v8::Exception::RangeError(
          Str(isolate, std::string("highWaterMark.") + keys[i] + " must be a positive integer")));
      return false;
    }
    *fields[i] = static_cast<size_t>(number);
  }
  return true;
}

void PortBinder::NewChannelCallback(const v8::FunctionCallbackInfo<v8::Value>& info) {
  PortBinder* binder = static_cast<PortBinder*>(info.Data().As<v8::External>()->Value());
  v8::Local<v8::Context> context = info.GetIsolate()->GetCurrentContext();
  HighWaterMark limits;
  if (!ReadLimits(context, info[0], &limits)) return;
  v8::Local<v8::Object> channel = binder->NewChannel(context, limits);
  if (!channel.IsEmpty()) info.GetReturnValue().Set(channel);
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
