#include "agent/snapshot/number_string_cache.h"

namespace agentcluster {

ScopedSmallSemiSpace::ScopedSmallSemiSpace() { v8::V8::SetFlagsFromString("--max-semi-space-size=1"); }

// 0 is the flag's default: "not set", each isolate sizes its own.
ScopedSmallSemiSpace::~ScopedSmallSemiSpace() { v8::V8::SetFlagsFromString("--max-semi-space-size=0"); }

void ReplaceNumberStringCache(v8::Isolate* isolate) {
  // The largest cache V8 makes has 0x4000 entries indexed by the Smi's low
  // bits, so the integers 0 .. 0x4000 collide at the latest on the last one.
  constexpr int kConversions = 0x4000 + 1;
  v8::HandleScope handle_scope(isolate);
  v8::Local<v8::Context> scratch = v8::Context::New(isolate);
  v8::Context::Scope context_scope(scratch);
  for (int i = 0; i < kConversions; ++i) {
    v8::HandleScope per_number(isolate);
    v8::Local<v8::String> text;
    if (!v8::Integer::New(isolate, i)->ToString(scratch).ToLocal(&text)) return;
  }
}

}  // namespace agentcluster
