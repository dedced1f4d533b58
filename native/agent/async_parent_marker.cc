#include "agent/async_parent_marker.h"

#include "shared/v8_compat.h"

namespace agentcluster {

namespace {

// Starts on a new line (a trailing `//` comment ends) and after a `;` (the
// last statement ends even without one). `await` is reserved in modules, so
// this always parses as a top-level await, which makes V8 treat the module
// as async; the branch never runs.
constexpr char kMarker[] = "\n;if (false) await 0;\n";

}  // namespace

bool AsyncParentMarker::Needed() { return compat::kTerminationInSyncImporterOfAsyncModuleAborts; }

std::string AsyncParentMarker::Apply(const std::string& key, std::string text) const {
  if (marked_.count(key) != 0) text += kMarker;
  return text;
}

bool AsyncParentMarker::MarkAsyncGraphs(
    const std::vector<std::pair<std::string, v8::Local<v8::Module>>>& fresh,
    std::vector<std::string>* newly_marked) {
  if (!Needed()) return false;
  for (const auto& [key, module] : fresh) {
    // Only modules that have not started evaluating can still be replaced.
    if (!module->IsSourceTextModule() || module->GetStatus() != v8::Module::kInstantiated) continue;
    if (!module->IsGraphAsync() || marked_.count(key) != 0) continue;
    marked_.insert(key);
    newly_marked->push_back(key);
  }
  return !newly_marked->empty();
}

}  // namespace agentcluster
