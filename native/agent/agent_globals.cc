#include "agent/agent_globals.h"

#include <string>

#include "shared/v8_compat.h"
#include "agent/agent_runtime.h"
#include "shared/message.h"
#include "shared/v8_util.h"

namespace agentcluster {

namespace {

std::string FormatValue(v8::Local<v8::Context> context, v8::Local<v8::Value> value) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  v8::TryCatch try_catch(isolate);
  if (value->IsString()) return ToStdString(isolate, value);
  if (value->IsSymbol()) {
    return "Symbol(" + ToStdString(isolate, value.As<v8::Symbol>()->Description(isolate)) + ")";
  }
  if (value->IsNativeError()) {
    v8::Local<v8::Value> stack;
    if (value.As<v8::Object>()->Get(context, Str(isolate, "stack")).ToLocal(&stack) &&
        stack->IsString()) {
      return ToStdString(isolate, stack);
    }
  }
  if (value->IsFunction()) {
    std::string name = ToStdString(isolate, value.As<v8::Function>()->GetName());
    return name.empty() ? "[Function (anonymous)]" : "[Function: " + name + "]";
  }
  if (value->IsObject() && !value->IsDate() && !value->IsRegExp() && !value->IsStringObject() &&
      !value->IsNumberObject() && !value->IsBooleanObject()) {
    v8::Local<v8::String> json;
    if (v8::JSON::Stringify(context, value).ToLocal(&json)) return ToStdString(isolate, json);
    try_catch.Reset();
  }
  if (value->IsBigInt()) {
    v8::Local<v8::String> text;
    if (value->ToString(context).ToLocal(&text)) return ToStdString(isolate, text) + "n";
  }
  v8::Local<v8::String> text;
  if (value->ToString(context).ToLocal(&text)) return ToStdString(isolate, text);
  return "[object]";
}

AgentRuntime& Runtime(const v8::FunctionCallbackInfo<v8::Value>& info) {
  return *AgentRuntime::From(info.GetIsolate());
}

void PostMessage(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::Value> transfer = info[1];
  // postMessage(value, { transfer }) as well as postMessage(value, transfer)
  if (transfer->IsObject() && !transfer->IsArray()) {
    if (!transfer.As<v8::Object>()->Get(context, Str(isolate, "transfer")).ToLocal(&transfer)) {
      return;
    }
  }
  // Flow control: while the host's queue is full this thread waits (before
  // anything is serialized or detached); a terminate ends the wait, and the
  // agent then runs no more JS.
  AgentRuntime& runtime = Runtime(info);
  if (!runtime.WaitForRoom()) return;
  AgentEvent event;
  event.kind = AgentEvent::Kind::kMessage;
  if (!SerializeMessage(context, info[0], transfer, &event.message)) return;
  runtime.Send(std::move(event));
}

void Close(const v8::FunctionCallbackInfo<v8::Value>& info) { Runtime(info).RequestClose(); }

bool IsMessageType(const v8::FunctionCallbackInfo<v8::Value>& info) {
  return ToStdString(info.GetIsolate(), info[0]) == "message";
}

void AddEventListener(const v8::FunctionCallbackInfo<v8::Value>& info) {
  if (!info[1]->IsFunction() || !IsMessageType(info)) return;
  Runtime(info).AddMessageListener(info[1].As<v8::Function>());
}

void RemoveEventListener(const v8::FunctionCallbackInfo<v8::Value>& info) {
  if (!info[1]->IsFunction() || !IsMessageType(info)) return;
  Runtime(info).RemoveMessageListener(info[1].As<v8::Function>());
}

void ConsoleMethod(const v8::FunctionCallbackInfo<v8::Value>& info) {
  // A console flood is bounded like a message flood.
  if (!Runtime(info).WaitForRoom()) return;
  AgentEvent event;
  event.kind = AgentEvent::Kind::kConsole;
  event.level = static_cast<ConsoleLevel>(info.Data().As<v8::Uint32>()->Value());
  event.text = FormatArguments(info);
  Runtime(info).Send(std::move(event));
}

void StartTimer(const v8::FunctionCallbackInfo<v8::Value>& info, bool repeat) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  if (!info[0]->IsFunction()) {
    ThrowTypeError(isolate, "The \"callback\" argument must be a function");
    return;
  }
  double delay = 0;
  if (info.Length() > 1 && !info[1]->NumberValue(context).To(&delay)) return;
  if (!(delay >= 1)) delay = repeat ? 1 : 0;  // NaN and negatives too
  std::vector<v8::Local<v8::Value>> args;
  for (int i = 2; i < info.Length(); i++) args.push_back(info[i]);
  uint32_t id = Runtime(info).AddTimer(info[0].As<v8::Function>(), std::move(args), delay, repeat);
  info.GetReturnValue().Set(id);
}

void SetTimeout(const v8::FunctionCallbackInfo<v8::Value>& info) { StartTimer(info, false); }
void SetInterval(const v8::FunctionCallbackInfo<v8::Value>& info) { StartTimer(info, true); }

void ClearTimer(const v8::FunctionCallbackInfo<v8::Value>& info) {
  if (!info[0]->IsNumber()) return;
  double id = info[0].As<v8::Number>()->Value();
  if (id >= 1 && id <= 4294967295.0) Runtime(info).ClearTimer(static_cast<uint32_t>(id));
}

void QueueMicrotask(const v8::FunctionCallbackInfo<v8::Value>& info) {
  if (!info[0]->IsFunction()) {
    ThrowTypeError(info.GetIsolate(), "The \"callback\" argument must be a function");
    return;
  }
  info.GetIsolate()->EnqueueMicrotask(info[0].As<v8::Function>());
}

void PerformanceNow(const v8::FunctionCallbackInfo<v8::Value>& info) {
  info.GetReturnValue().Set(Runtime(info).MillisecondsSinceStart());
}

}  // namespace

std::string FormatArguments(const v8::FunctionCallbackInfo<v8::Value>& info, int from) {
  v8::Local<v8::Context> context = info.GetIsolate()->GetCurrentContext();
  std::string text;
  for (int i = from; i < info.Length(); i++) {
    if (i > from) text += ' ';
    text += FormatValue(context, info[i]);
  }
  return text;
}

void DefineHidden(v8::Local<v8::Context> context, v8::Local<v8::Object> target, const char* name,
                  v8::Local<v8::Value> value) {
  if (value.IsEmpty()) return;  // creating it failed (the agent is terminating)
  target->DefineOwnProperty(context, Str(compat::IsolateOf(context), name), value, v8::DontEnum)
      .FromMaybe(false);
}

v8::Local<v8::Function> NewFunction(v8::Local<v8::Context> context, const char* name,
                                    v8::FunctionCallback callback, int length,
                                    v8::Local<v8::Value> data) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  v8::Local<v8::Function> fn;
  if (!v8::Function::New(context, callback, data, length, v8::ConstructorBehavior::kThrow)
           .ToLocal(&fn)) {
    return fn;  // empty: the agent is terminating
  }
  fn->SetName(Str(isolate, name));
  return fn;
}

void InstallMessaging(AgentRuntime& runtime, v8::Local<v8::Context> context) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  v8::Local<v8::Object> global = context->Global();
  const AgentOptions& options = runtime.options();
  DefineHidden(context, global, "self", global);
  DefineHidden(context, global, "name", Str(isolate, options.name.c_str()));
  DefineHidden(context, global, "postMessage", NewFunction(context, "postMessage", PostMessage, 1));
  DefineHidden(context, global, "close", NewFunction(context, "close", Close, 0));
  DefineHidden(context, global, "addEventListener",
               NewFunction(context, "addEventListener", AddEventListener, 2));
  DefineHidden(context, global, "removeEventListener",
               NewFunction(context, "removeEventListener", RemoveEventListener, 2));
  global->CreateDataProperty(context, Str(isolate, "onmessage"), v8::Null(isolate)).FromMaybe(false);
  DefineHidden(context, global, "AgentChannel", runtime.ports()->ChannelFunction(context));

  v8::Local<v8::Value> data = v8::Undefined(isolate);
  if (options.has_data) {
    // The entry data is read once and then released: its transferred buffers
    // are adopted here and the serialized copy is freed at the end of scope.
    Message entry = std::move(options.data);
    v8::TryCatch try_catch(isolate);
    if (!DeserializeMessage(context, &entry, runtime.ports()).ToLocal(&data)) {
      data = v8::Undefined(isolate);
    }
  }
  DefineHidden(context, global, "agentData", data);
}

// The `env` option: `process` is a frozen object whose only property is a
// frozen `env` with exactly the given strings (for packages that read
// process.env.NODE_ENV at load time); nothing else of Node's process.
void InstallProcessEnv(v8::Local<v8::Context> context, const AgentOptions& options) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  v8::Local<v8::Object> env = v8::Object::New(isolate);
  for (const auto& [key, value] : options.env) {
    if (env->CreateDataProperty(context, Str(isolate, key), Str(isolate, value)).IsNothing()) return;
  }
  v8::Local<v8::Object> process = v8::Object::New(isolate);
  if (env->SetIntegrityLevel(context, v8::IntegrityLevel::kFrozen).IsNothing() ||
      process->CreateDataProperty(context, Str(isolate, "env"), env).IsNothing() ||
      process->SetIntegrityLevel(context, v8::IntegrityLevel::kFrozen).IsNothing()) {
    return;
  }
  DefineHidden(context, context->Global(), "process", process);
}

void InstallGlobals(AgentRuntime& runtime, v8::Local<v8::Context> context) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  v8::HandleScope scope(isolate);
  v8::Local<v8::Object> global = context->Global();
  const AgentOptions& options = runtime.options();

  v8::Local<v8::Object> console = v8::Object::New(isolate);
  const std::pair<const char*, ConsoleLevel> methods[] = {
      {"log", ConsoleLevel::kLog},     {"info", ConsoleLevel::kInfo},   {"warn", ConsoleLevel::kWarn},
      {"error", ConsoleLevel::kError}, {"debug", ConsoleLevel::kDebug}, {"trace", ConsoleLevel::kDebug},
  };
  for (const auto& [name, level] : methods) {
    DefineHidden(context, console, name,
                 NewFunction(context, name, ConsoleMethod, 0,
                             v8::Integer::NewFromUnsigned(isolate, Wire(level))));
  }
  DefineHidden(context, global, "console", console);

  DefineHidden(context, global, "setTimeout", NewFunction(context, "setTimeout", SetTimeout, 1));
  DefineHidden(context, global, "setInterval", NewFunction(context, "setInterval", SetInterval, 1));
  DefineHidden(context, global, "clearTimeout", NewFunction(context, "clearTimeout", ClearTimer, 1));
  DefineHidden(context, global, "clearInterval",
               NewFunction(context, "clearInterval", ClearTimer, 1));
  DefineHidden(context, global, "queueMicrotask",
               NewFunction(context, "queueMicrotask", QueueMicrotask, 1));

  v8::Local<v8::Object> performance = v8::Object::New(isolate);
  DefineHidden(context, performance, "now", NewFunction(context, "now", PerformanceNow, 0));
  DefineHidden(context, global, "performance", performance);

  if (options.globals == GlobalsKind::kAgent) InstallMessaging(runtime, context);
  if (options.has_env) InstallProcessEnv(context, options);
}

}  // namespace agentcluster
