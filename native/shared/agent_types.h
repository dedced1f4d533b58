// Plain data that crosses threads between an agent and its owner (the Node
// host or, for test262's $262.agent, another agent): the options an agent
// starts with and the events it sends back. No V8 handles live here.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "shared/event_schema.h"
#include "shared/message.h"

namespace agentcluster {

struct Test262Cluster;
class HostBridge;

// Which global scope an agent gets.
enum class GlobalsKind {
  kAgent,         // the Agent API: postMessage, onmessage, console, timers, ...
  kTest262,       // a test262 test: print, $262 (with $262.agent.start/broadcast/getReport)
  kTest262Child,  // an agent a test started: print, $262.agent.receiveBroadcast/report/...
};

// The entry data, handed over by the owner once the thread is running and
// the data's transfers are committed (a failed start detaches nothing).
class EntryData {
 public:
  void Open(Message data, bool has_data) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      data_ = std::move(data);
      has_data_ = has_data;
      open_ = true;
    }
    opened_.notify_all();
  }
  // Agent thread, before anything reads options.data.
  void Wait(Message* data, bool* has_data) {
    std::unique_lock<std::mutex> lock(mutex_);
    opened_.wait(lock, [this] { return open_; });
    *data = std::move(data_);
    *has_data = has_data_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable opened_;
  bool open_ = false;
  bool has_data_ = false;
  Message data_;
};

struct ModuleTable;  // module_table.h

struct AgentOptions {
  std::string name;
  std::string source;     // classic script or module text, when no file
  std::string file_path;  // absolute path of the entry file, or empty
  std::string base_path;  // absolute path that relative imports of `source` resolve against
  std::string source_url;  // what stacks call `source` without a file (agentcluster:source/NAME)
  bool is_module = false;
  size_t max_heap_bytes = 0;       // 0: V8's default
  size_t max_young_gen_bytes = 0;  // 0: V8's default
  size_t stack_size_bytes = 4 * 1024 * 1024;
  std::string heap_snapshot_near_limit_file;  // written once, near the heap limit
  bool terminated_before_start = false;  // an AbortSignal that was already aborted
  bool can_block = true;        // [[CanBlock]]: may Atomics.wait block?
  bool has_data = false;
  // Deserialized into the agent as `agentData`, then emptied (moved out) so
  // that its buffers live only as long as the agent's own references.
  mutable Message data;
  std::shared_ptr<EntryData> entry_data;  // set: data/has_data arrive through it
  std::map<std::string, std::string> builtin_modules;  // specifier -> absolute path
  std::shared_ptr<const ModuleTable> module_table;  // the host's module graph, or null
  // Set (`moduleRoots` given, or a pool agent): a file reached outside the
  // table must lie under one of these real directories (or a built-in's).
  bool restrict_modules = false;
  std::vector<std::string> module_roots;
  bool has_env = false;  // `env` given: a frozen process.env of exactly these
  std::vector<std::pair<std::string, std::string>> env;
  bool track_unhandled_rejections = true;
  GlobalsKind globals = GlobalsKind::kAgent;
  std::shared_ptr<Test262Cluster> test262_cluster;
  // The host bridge (native/agent/host_bridge.h): set when the owner passed `host`.
  std::shared_ptr<HostBridge> host_bridge;  // kTest262Child: the test's shared state
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
  // kStarted: a $262.agent child is about to run its entry script (only to its ChildSink).
  enum class Kind { kReady, kMessage, kConsole, kError, kEvalResult, kExit, kDiagnostic, kDrain, kHostCall, kStarted };
  Kind kind;
  Message message;     // kMessage payload, kError error, kEvalResult value or error, kHostCall arguments
  std::string text;    // kConsole text, kDiagnostic answer
  ConsoleLevel level = ConsoleLevel::kLog;  // kConsole
  uint32_t id = 0;     // kEvalResult request id, kHostCall call id, kDiagnostic request id
  bool ok = true;      // kEvalResult: fulfilled or rejected; kDiagnostic: answered
  int exit_code = 0;   // kExit
  std::string summary;  // kError, failed kEvalResult: "Name: message", computed in the agent
  std::string code;     // kError, failed kEvalResult: the error's string `code`, or empty
  ErrorPhase phase = ErrorPhase::kRuntime;  // kError: where the entry failed
  bool out_of_memory = false;  // kError
  ExitReason reason = ExitReason::kClosed;  // kExit
  bool partial = false;  // kDiagnostic: a heap snapshot chunk, more follow (native/agent/agent_diagnostics.h)
  uint32_t method = 0;   // kHostCall: index of the host function
  bool sync = false;     // kHostCall: host.sync.NAME() (the agent blocks for the answer)

  // What this event weighs in its receiver's queue (flow control): the
  // serialized payload plus any text; transferred buffers are not copied.
  size_t weight() const { return message.bytes.size + text.size() + summary.size() + code.size(); }
};

// Where an agent's events go. Deliver() is called on the agent's thread and
// must not block for long; the kExit event is always the last one.
class AgentEventSink {
 public:
  virtual ~AgentEventSink() = default;
  virtual void Deliver(AgentEvent event) = 0;

  // Flow control, called on the agent's thread before it sends a message or
  // console text: blocks while the receiver's queue is at/over its
  // high-water mark. Returns false, without waiting further, once
  // WakeBlocked() was called (the agent is being terminated) or the receiver
  // is gone. Sinks without a bounded queue return true at once.
  virtual bool WaitForRoom() { return true; }
  // Ends every WaitForRoom(), now and later (terminate; any thread).
  virtual void WakeBlocked() {}
};

}  // namespace agentcluster
