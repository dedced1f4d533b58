// Plain data that crosses threads between an agent and its owner (the Node
// host or, for test262's $262.agent, another agent): the options an agent
// starts with and the events it sends back. No V8 handles live here.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "message.h"

namespace agentcluster {

struct Test262Cluster;

// Which global scope an agent gets.
enum class HostKind {
  kAgent,         // the Agent API: postMessage, onmessage, console, timers, ...
  kTest262,       // a test262 test: print, $262 (with $262.agent.start/broadcast/getReport)
  kTest262Child,  // an agent a test started: print, $262.agent.receiveBroadcast/report/...
};

struct AgentOptions {
  std::string name;
  std::string source;     // classic script or module text, when no file
  std::string file_path;  // absolute path of the entry file, or empty
  std::string base_path;  // absolute path that relative imports of `source` resolve against
  bool is_module = false;
  size_t max_heap_bytes = 0;       // 0: V8's default
  size_t max_young_gen_bytes = 0;  // 0: V8's default
  size_t stack_size_bytes = 4 * 1024 * 1024;
  bool terminated_before_start = false;  // an AbortSignal that was already aborted
  bool can_block = true;        // [[CanBlock]]: may Atomics.wait block?
  bool has_data = false;
  // Deserialized into the agent as `agentData`, then emptied (moved out) so
  // that its buffers live only as long as the agent's own references.
  mutable Message data;
  std::map<std::string, std::string> builtin_modules;  // specifier -> absolute path
  bool track_unhandled_rejections = true;
  HostKind host = HostKind::kAgent;
  std::shared_ptr<Test262Cluster> test262_cluster;  // kTest262Child: the test's shared state
};

enum class ExitReason { kClosed, kTerminated, kOutOfMemory, kError };

inline const char* ExitReasonName(ExitReason reason) {
  switch (reason) {
    case ExitReason::kClosed: return "closed";
    case ExitReason::kTerminated: return "terminated";
    case ExitReason::kOutOfMemory: return "out-of-memory";
    case ExitReason::kError: return "error";
  }
  return "error";
}

struct AgentEvent {
  enum class Kind { kReady, kMessage, kConsole, kError, kEvalResult, kExit };
  Kind kind;
  Message message;     // kMessage payload, kError error, kEvalResult value or error
  std::string text;    // kConsole text
  int level = 0;       // kConsole: 0 log, 1 info, 2 warn, 3 error, 4 debug, 5 print (test262)
  uint32_t id = 0;     // kEvalResult request id
  bool ok = true;      // kEvalResult: fulfilled or rejected
  int exit_code = 0;   // kExit
  std::string summary;  // kError: "Name: message", computed in the agent
  int phase = 0;        // kError: 0 runtime, 1 parse, 2 resolution (module linking)
  bool out_of_memory = false;  // kError
  ExitReason reason = ExitReason::kClosed;  // kExit
};

// Where an agent's events go. Deliver() is called on the agent's thread and
// must not block for long; the kExit event is always the last one.
class AgentEventSink {
 public:
  virtual ~AgentEventSink() = default;
  virtual void Deliver(AgentEvent event) = 0;
};

}  // namespace agentcluster
