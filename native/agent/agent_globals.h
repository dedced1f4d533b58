// The agent's global scope: self, name, agentData, postMessage, onmessage and
// message listeners, close, console, timers, queueMicrotask, performance.
// Nothing of Node's: agent code reaches the host only through messages.
#pragma once

#include <v8.h>

#include <string>

namespace agentcluster {

class AgentRuntime;

// console, timers, queueMicrotask and performance for every agent; the
// messaging globals (self, name, agentData, postMessage, onmessage, close)
// only for Agent-API agents (test262 agents get $262 instead).
void InstallGlobals(AgentRuntime& runtime, v8::Local<v8::Context> context);

// Sets a non-enumerable, writable, configurable property (like Web IDL
// operations on the global object).
void DefineHidden(v8::Local<v8::Context> context, v8::Local<v8::Object> target, const char* name,
                  v8::Local<v8::Value> value);

// A native function with the given name and length, not a constructor.
v8::Local<v8::Function> NewFunction(v8::Local<v8::Context> context, const char* name,
                                    v8::FunctionCallback callback, int length,
                                    v8::Local<v8::Value> data = v8::Local<v8::Value>());

// console-style formatting of call arguments, done natively.
std::string FormatArguments(const v8::FunctionCallbackInfo<v8::Value>& info, int from = 0);

}  // namespace agentcluster
