#include "host/event_batch.h"

#include "host/host_string.h"
#include "host/raw_napi.h"
#include "shared/event_schema.h"
#include "shared/message.h"
#include "shared/v8_bridge.h"

namespace agentcluster {

Napi::Array BuildEventBatch(Napi::Env env, std::vector<AgentEvent>& events, PortBinder* ports,
                            const std::function<void()>& join, bool* exited) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  Napi::Array batch = Napi::Array::New(env, events.size());

  auto deserialize = [&](Message* message, Napi::Value* out) {
    v8::TryCatch try_catch(isolate);
    v8::Local<v8::Value> value;
    if (DeserializeMessage(context, message, ports).ToLocal(&value)) {
      *out = Napi::Value(env, FromV8(value));
      return true;
    }
    *out = try_catch.HasCaught() ? Napi::Value(env, FromV8(try_catch.Exception()))
                                 : env.Undefined();
    return false;
  };

  for (size_t i = 0; i < events.size(); i++) {
    AgentEvent& event = events[i];
    if (!CanCallIntoJs(env)) throw Napi::Error();  // stopping mid-batch (see CanCallIntoJs)
    // Tuples as declared in shared/event_schema.h.
    Napi::Array entry = Napi::Array::New(env);
    auto kind = [&](HostEventKind k) { entry.Set(0u, Napi::Number::New(env, Wire(k))); };
    Napi::Value value;
    switch (event.kind) {
      case AgentEvent::Kind::kStarted:
        continue;  // sent by $262.agent children to their parent only, never to a host handle
      case AgentEvent::Kind::kReady:
        kind(HostEventKind::kReady);
        break;
      case AgentEvent::Kind::kMessage:
        kind(deserialize(&event.message, &value) ? HostEventKind::kMessage : HostEventKind::kMessageError);
        entry.Set(Wire(MessageField::kValue), value);
        break;
      case AgentEvent::Kind::kConsole:
        kind(HostEventKind::kConsole);
        entry.Set(Wire(ConsoleField::kLevel), Wire(event.level));
        entry.Set(Wire(ConsoleField::kText), HostString(env, event.text));
        break;
      case AgentEvent::Kind::kError:
        kind(HostEventKind::kError);
        if (event.message.empty()) {
          entry.Set(Wire(ErrorField::kValue), env.Undefined());
        } else {
          deserialize(&event.message, &value);
          entry.Set(Wire(ErrorField::kValue), value);
        }
        entry.Set(Wire(ErrorField::kSummary), HostString(env, event.summary));
        entry.Set(Wire(ErrorField::kPhase), Wire(event.phase));
        entry.Set(Wire(ErrorField::kOutOfMemory), Napi::Boolean::New(env, event.out_of_memory));
        entry.Set(Wire(ErrorField::kCode), HostString(env, event.code));
        break;
      case AgentEvent::Kind::kEvalResult: {
        bool ok = deserialize(&event.message, &value) && event.ok;
        kind(HostEventKind::kEvalResult);
        entry.Set(Wire(EvalResultField::kId), event.id);
        entry.Set(Wire(EvalResultField::kOk), ok);
        entry.Set(Wire(EvalResultField::kValue), value);
        entry.Set(Wire(EvalResultField::kSummary), HostString(env, event.summary));
        entry.Set(Wire(EvalResultField::kCode), HostString(env, event.code));
        break;
      }
      case AgentEvent::Kind::kDiagnostic:  // see native/agent/agent_diagnostics.h
        kind(HostEventKind::kDiagnostic);
        entry.Set(Wire(DiagnosticField::kId), event.id);
        entry.Set(Wire(DiagnosticField::kOk), event.ok);
        entry.Set(Wire(DiagnosticField::kPartial), event.partial);
        if (event.partial) {
          entry.Set(Wire(DiagnosticField::kPayload), Napi::Buffer<char>::Copy(env, event.text.data(), event.text.size()));
        } else {
          entry.Set(Wire(DiagnosticField::kPayload), Napi::String::New(env, event.text));
        }
        break;
      case AgentEvent::Kind::kDrain:
        kind(HostEventKind::kDrain);
        break;
      case AgentEvent::Kind::kHostCall: {
        bool ok = deserialize(&event.message, &value);
        kind(HostEventKind::kHostCall);
        entry.Set(Wire(HostCallField::kId), event.id);
        entry.Set(Wire(HostCallField::kMethod), event.method);
        entry.Set(Wire(HostCallField::kSync), event.sync);
        entry.Set(Wire(HostCallField::kOk), ok);
        entry.Set(Wire(HostCallField::kValue), value);
        break;
      }
      case AgentEvent::Kind::kExit:
        join();
        *exited = true;
        kind(HostEventKind::kExit);
        entry.Set(Wire(ExitField::kCode), event.exit_code);
        entry.Set(Wire(ExitField::kReason), Napi::String::New(env, ExitReasonName(event.reason)));
        break;
    }
    batch.Set(static_cast<uint32_t>(i), entry);
  }
  return batch;
}

}  // namespace agentcluster
