#include "host/addon_state.h"

#include "host/agent_handle.h"
#include "host/host_port_owner.h"
#include "shared/flow_control.h"
#include "shared/message.h"
#include "shared/v8_util.h"

namespace agentcluster {

AddonState::AddonState(Napi::Env env) : hub_(std::make_shared<HostPortOwner>(env)) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  ports = std::make_unique<PortBinder>(isolate, hub_, nullptr, [isolate](const std::string& text) {
    // process.emitWarning(text), as Node's MessagePort does (never throws out).
    v8::HandleScope scope(isolate);
    v8::TryCatch try_catch(isolate);
    v8::Local<v8::Context> context = isolate->GetCurrentContext();
    v8::Local<v8::Value> process;
    v8::Local<v8::Value> emit;
    if (!context->Global()->Get(context, v8::String::NewFromUtf8Literal(isolate, "process")).ToLocal(&process) ||
        !process->IsObject() ||
        !process.As<v8::Object>()->Get(context, v8::String::NewFromUtf8Literal(isolate, "emitWarning")).ToLocal(&emit) ||
        !emit->IsFunction()) {
      return;
    }
    v8::Local<v8::Value> argv[] = {Str(isolate, text)};
    emit.As<v8::Function>()->Call(context, process, 1, argv).IsEmpty();
  });
  hub_->binder = ports.get();
  // Node's own structuredClone moves host ArrayBuffers (see PendingTransfer).
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::Value> clone;
  if (context->Global()->Get(context, v8::String::NewFromUtf8Literal(isolate, "structuredClone"))
          .ToLocal(&clone) &&
      clone->IsFunction()) {
    structured_clone_.Reset(isolate, clone.As<v8::Function>());
  }
  SetHostStructuredClone(&structured_clone_);
  v8::Local<v8::Value> dom_exception;
  if (context->Global()->Get(context, v8::String::NewFromUtf8Literal(isolate, "DOMException"))
          .ToLocal(&dom_exception) &&
      dom_exception->IsFunction()) {
    dom_exception_.Reset(isolate, dom_exception.As<v8::Function>());
  }
  SetHostDOMException(&dom_exception_);
}

AddonState::~AddonState() {
  GuardNativeCallback([&] { Teardown(); });  // the environment's instance-data finalizer
}

void AddonState::StopAll() {
  std::vector<AgentHandle*> agents = live;
  for (AgentHandle* agent : agents) agent->StopAndJoin();
}

void AddonState::Teardown() {
  StopAll();
  if (hub_) hub_->Release();
  ports.reset();
  SetHostStructuredClone(nullptr);
  structured_clone_.Reset();
  SetHostDOMException(nullptr);
  dom_exception_.Reset();
}

}  // namespace agentcluster
