// Keeps terminate() from aborting the process while V8 12+ completes a module
// graph with top-level await.
//
// When a top-level-await module settles, V8 runs the bodies of its
// synchronous importers itself (SourceTextModule::AsyncModuleExecutionFulfilled).
// From V8 12 on, a termination that lands in such a body leaves that code an
// empty exception handle it then dereferences: a CHECK failure, the process
// aborts. Importers that are async modules themselves go through V8's
// ExecuteAsyncModule instead, which handles a termination. So every module
// whose graph is async is compiled as an async module: its source gets a
// top-level `await` in dead code appended (no line or column moves). Its body
// still runs at the same point; only its completion reaches its importers one
// promise job later. Modules whose graph is synchronous are never touched.
#pragma once

#include <v8.h>

#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace agentcluster {

class AsyncParentMarker {
 public:
  // Whether this V8 needs the marker at all (see v8_compat.h).
  static bool Needed();

  // The text to compile for the module at `key`: `text` itself, or with the
  // marker appended once `key` was marked.
  std::string Apply(const std::string& key, std::string text) const;

  // After a graph was instantiated: marks each of its newly compiled modules
  // (`fresh`: key and module) whose graph is async. True when one was marked
  // that was not before: those modules must be compiled again.
  bool MarkAsyncGraphs(const std::vector<std::pair<std::string, v8::Local<v8::Module>>>& fresh,
                       std::vector<std::string>* newly_marked);

 private:
  std::unordered_set<std::string> marked_;
};

}  // namespace agentcluster
