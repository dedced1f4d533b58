// The event protocol from an agent's handle to the TypeScript side, declared
// once: the kinds of the `[kind, ...]` tuples native/host/agent_handle.cc
// builds, the index of every field in them, console levels and error phases.
// src/native-event-schema.ts mirrors it; test/native-event-schema.test.ts
// parses this file and fails if the two differ (keep one `enum class NAME :
// TYPE { kKey = N, ... };` per block, which is what it reads).
#pragma once

#include <cstdint>

namespace agentcluster {

// Element 0 of every tuple.
enum class HostEventKind : uint32_t {
  kReady = 0,
  kMessage = 1,
  kConsole = 2,
  kError = 3,
  kEvalResult = 4,
  kExit = 5,
  kMessageError = 6,
  kDiagnostic = 7,
  kDrain = 8,
  kHostCall = 9,
};

// kMessage / kMessageError: the value (or the deserialization error).
enum class MessageField : uint32_t { kValue = 1 };

enum class ConsoleField : uint32_t { kLevel = 1, kText = 2 };

// An uncaught error: the cloned value (undefined if it had none), "Name:
// message", the ErrorPhase, whether the heap limit was hit, its `code`.
enum class ErrorField : uint32_t { kValue = 1, kSummary = 2, kPhase = 3, kOutOfMemory = 4, kCode = 5 };

// evaluate(): the request id, fulfilled or not, the value or error, and for
// an error its "Name: message" and `code`.
enum class EvalResultField : uint32_t { kId = 1, kOk = 2, kValue = 3, kSummary = 4, kCode = 5 };

// An answer of native/agent/agent_diagnostics.cc: a chunk (Buffer) while partial, else text.
enum class DiagnosticField : uint32_t { kId = 1, kOk = 2, kPartial = 3, kPayload = 4 };

// host.NAME() / host.sync.NAME() in the agent: the arguments, or the error cloning them.
enum class HostCallField : uint32_t { kId = 1, kMethod = 2, kSync = 3, kOk = 4, kValue = 5 };

enum class ExitField : uint32_t { kCode = 1, kReason = 2 };

// kConsole levels (kPrint: the `print` global of test262 agents).
enum class ConsoleLevel : uint32_t { kLog = 0, kInfo = 1, kWarn = 2, kError = 3, kDebug = 4, kPrint = 5 };

// Where the entry code of an agent failed.
enum class ErrorPhase : uint32_t { kRuntime = 0, kParse = 1, kResolution = 2 };

// The index or value as it goes into the tuple.
template <typename E>
constexpr uint32_t Wire(E value) {
  return static_cast<uint32_t>(value);
}

}  // namespace agentcluster
