// Every isolate data slot the addon uses, in one place so that two files
// never claim the same slot (V8 offers only a few: Isolate::GetNumberOfDataSlots()).
#pragma once

#include <cstdint>

namespace agentcluster {

enum IsolateSlot : uint32_t {
  kRuntimeSlot = 0,      // AgentRuntime*
  kDiagnosticsSlot = 1,  // AgentDiagnostics*
  kAtomicsWaitSlot = 2,  // AtomicsWaitMonitor*
};

}  // namespace agentcluster
