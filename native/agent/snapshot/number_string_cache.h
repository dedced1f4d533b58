// Node's embedded blob carries V8's number-to-string cache at full size
// (256 KB: Node's bootstrap converted enough numbers to grow it), which every
// agent built from that blob would deserialize and keep, a quarter of an idle
// agent's heap. V8 ships its own snapshot with the small initial cache and
// grows it at the first collision, to a size computed from the isolate's
// maximum semi-space. These two helpers give the first snapshot generation a
// small cache again, through public API only.
#pragma once

#include <node.h>
#include <v8.h>

namespace agentcluster {

// Sets V8's --max-semi-space-size to its smallest value (1 MB) while the
// creator isolate configures its heap, then restores the default. The flag
// is process-wide but read only when an isolate configures its heap, so keep
// the scope to the SnapshotCreator's construction. Not used when the process
// itself was given --max-semi-space-size (the default would not restore it).
class ScopedSmallSemiSpace {
 public:
  ScopedSmallSemiSpace();
  ~ScopedSmallSemiSpace();
  ScopedSmallSemiSpace(const ScopedSmallSemiSpace&) = delete;
  ScopedSmallSemiSpace& operator=(const ScopedSmallSemiSpace&) = delete;
};

// Whether V8's --max-semi-space-size is at its default (unset) right now,
// however it was set (command line, NODE_OPTIONS, v8.setFlagsFromString):
// V8 11 has no API to read a flag, but a set flag overrides an isolate's
// young-generation constraint, so two probe isolates (from `params`) with
// different constraints report the same heap size limit only when it is set.
// Any doubt (a probe failing, an unexpected limit) answers false.
bool SemiSpaceFlagAtDefault(node::MultiIsolatePlatform* platform,
                            const v8::Isolate::CreateParams& params);

// Converts numbers until the cache collides once: V8 then replaces the
// full-size cache by one sized for this isolate's (small) semi-space. Runs
// in a throwaway context; the next GC empties the cache again.
void ReplaceNumberStringCache(v8::Isolate* isolate);

}  // namespace agentcluster
