#include "agent/snapshot/number_string_cache.h"

#include <memory>

#include "agent/mailbox.h"
#include "agent/platform_delegate.h"
#include "shared/v8_compat.h"

namespace agentcluster {

ScopedSmallSemiSpace::ScopedSmallSemiSpace() { v8::V8::SetFlagsFromString("--max-semi-space-size=1"); }

// 0 is the flag's default: "not set", each isolate sizes its own.
ScopedSmallSemiSpace::~ScopedSmallSemiSpace() { v8::V8::SetFlagsFromString("--max-semi-space-size=0"); }

namespace {

constexpr size_t kMB = 1024 * 1024;

// The heap size limit V8 reports for an isolate from `params` whose young
// generation is capped at `young_bytes`; 0 if it could not be read.
size_t HeapLimitWithYoungGeneration(node::MultiIsolatePlatform* platform,
                                    v8::Isolate::CreateParams params, size_t young_bytes) {
  std::unique_ptr<v8::ArrayBuffer::Allocator> allocator(v8::ArrayBuffer::Allocator::NewDefaultAllocator());
  params.array_buffer_allocator = allocator.get();
  params.array_buffer_allocator_shared.reset();
  params.constraints.set_max_old_generation_size_in_bytes(64 * kMB);
  params.constraints.set_max_young_generation_size_in_bytes(young_bytes);
  auto mailbox = std::make_shared<Mailbox>();
  AgentPlatformDelegate delegate(mailbox);
  v8::Isolate* isolate = v8::Isolate::Allocate();
  platform->RegisterIsolate(isolate, &delegate);
  v8::Isolate::Initialize(isolate, params);
  size_t limit = 0;
  {
    v8::Locker locker(isolate);
    v8::Isolate::Scope isolate_scope(isolate);
    v8::HeapStatistics statistics;
    isolate->GetHeapStatistics(&statistics);
    limit = statistics.heap_size_limit();
  }
  mailbox->Close();
  compat::DisposeIsolate(platform, isolate);
  return limit;
}

}  // namespace

bool SemiSpaceFlagAtDefault(node::MultiIsolatePlatform* platform,
                            const v8::Isolate::CreateParams& params) {
  const size_t small = HeapLimitWithYoungGeneration(platform, params, 3 * kMB);
  const size_t large = HeapLimitWithYoungGeneration(platform, params, 12 * kMB);
  return small != 0 && large > small;
}

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
