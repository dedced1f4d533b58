#include "agent/snapshot/agent_snapshot.h"

#include <v8-version.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cctype>
#include <cstring>
#include <string>
#include <memory>
#include <mutex>
#include <optional>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "agent/mailbox.h"
#include "agent/node_snapshot.h"
#include "agent/platform_delegate.h"
#include "agent/snapshot/number_string_cache.h"
#include "agent/snapshot/serializer_flags.h"
#include "agent/snapshot/snapshot_verifier.h"

namespace agentcluster {

namespace {

enum class Setting { kOn, kOff, kSkipReadOnlyFix };

// Three rebuilds shrink Node's blob from ~1.42 MB to ~0.27 MB; more change nothing.
constexpr int kGenerations = 3;

struct State {
  std::mutex mutex;  // guards everything below (readers: GetAgentSnapshotInfo)
  Setting setting = Setting::kOn;
  std::string unknown_setting;  // an unrecognised switch value, reported in info.reason
  bool debug = false;  // AGENTCLUSTER_DEBUG: say once on stderr why the fallback happened
  // The process was given --max-semi-space-size: ScopedSmallSemiSpace would
  // reset it, so Node's full-size number cache is kept.
  bool semi_space_flag_given = false;
  bool built = false;
  bool verified = false;
  v8::StartupData blob{nullptr, 0};  // owned, lives until process exit
  const intptr_t* external_references = nullptr;
  AgentSnapshotInfo info{"unbuilt", "", 0, 0, 0};
};

State& GetState() {
  static State* state = new State();  // never destroyed: agents may outlive statics
  return *state;
}

// One generation: a SnapshotCreator whose isolate starts from `base`, with
// only a fresh default context; `small_number_cache` also shrinks the
// number-to-string cache inherited from Node's blob (number_string_cache.h). Node 20 (V8 11.3) SnapshotCreator owns its
// isolate and disposes it in its destructor, so the isolate is unregistered
// from Node's platform just before (the order Node 20 documents).
v8::StartupData BuildGeneration(node::MultiIsolatePlatform* platform, const v8::StartupData* base,
                                const intptr_t* external_references, bool read_only_fix,
                                bool small_number_cache, std::string* error) {
  auto mailbox = std::make_shared<Mailbox>();
  AgentPlatformDelegate delegate(mailbox);
  v8::Isolate* isolate = v8::Isolate::Allocate();
  platform->RegisterIsolate(isolate, &delegate);
  v8::StartupData blob{nullptr, 0};
  {
    std::optional<ScopedSmallSemiSpace> small_semi_space;
    if (small_number_cache) small_semi_space.emplace();
    v8::SnapshotCreator creator(isolate, external_references, base);
    small_semi_space.reset();  // the creator's heap is configured: restore at once
    if (small_number_cache) ReplaceNumberStringCache(isolate);
    {
      v8::HandleScope handle_scope(isolate);
      creator.SetDefaultContext(v8::Context::New(isolate));
    }
    if (read_only_fix) {
      ScopedSerializerFlags flags(kReconstructReadOnlyCachesFlag);
      if (flags.ok()) {
        blob = creator.CreateBlob(v8::SnapshotCreator::FunctionCodeHandling::kClear);
      } else {
        *error = "V8's serializer flags constant was not found or not writable";
      }
    } else {
      blob = creator.CreateBlob(v8::SnapshotCreator::FunctionCodeHandling::kClear);
    }
    mailbox->Close();
    platform->UnregisterIsolate(isolate);
  }
  if (blob.data == nullptr && error->empty()) *error = "CreateBlob returned no data";
  return blob;
}

void Build(State& state, node::MultiIsolatePlatform* platform) {
  state.built = true;
  auto start = std::chrono::steady_clock::now();
  v8::Isolate::CreateParams node_params;
  if (!UseNodeSnapshot(&node_params)) {
    state.info = {"off", "Node's snapshot is not in use (--no-node-snapshot)", 0, 0, 0};
    return;
  }
  state.info.node_bytes = static_cast<size_t>(node_params.snapshot_blob->raw_size);
  state.external_references = node_params.external_references;
  std::string error;
  v8::StartupData current{nullptr, 0};
  const v8::StartupData* base = node_params.snapshot_blob;
  // The cache step resets --max-semi-space-size to V8's default afterwards:
  // only take it when that is the flag's value now (number_string_cache.h).
  const bool shrink_number_cache =
      !state.semi_space_flag_given && SemiSpaceFlagAtDefault(platform, node_params);
  for (int generation = 0; generation < kGenerations && error.empty(); ++generation) {
    // The cache only needs shrinking once: later generations inherit it small.
    const bool small_number_cache = generation == 0 && shrink_number_cache;
    v8::StartupData next = BuildGeneration(platform, base, state.external_references,
                                           state.setting != Setting::kSkipReadOnlyFix,
                                           small_number_cache, &error);
    delete[] current.data;
    current = next;
    base = &current;
  }
  if (error.empty()) {
    v8::Isolate::CreateParams built_params = node_params;
    built_params.snapshot_blob = &current;
    std::unique_ptr<v8::ArrayBuffer::Allocator> allocator(
        v8::ArrayBuffer::Allocator::NewDefaultAllocator());
    node_params.array_buffer_allocator = allocator.get();
    built_params.array_buffer_allocator = allocator.get();
    std::string expected = SnapshotFingerprint(platform, node_params);
    std::string actual = SnapshotFingerprint(platform, built_params);
    if (expected.empty() || expected.find(kProbesPassedLine) == std::string::npos) {
      error = "the reference isolate from Node's blob failed its own probes";
    } else if (actual != expected) {
      error = "the built blob's global object graph differs from Node's blob";
    }
  }
#if defined(__GLIBC__)
  // The build's seven isolates (three creators, two flag probes, two verifiers) and blobs
  // freed some MB of malloc memory that glibc would otherwise keep resident
  // for the life of the process: hand it back once.
  malloc_trim(0);
#endif
  state.info.build_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!error.empty()) {
    delete[] current.data;
    state.info.state = "fallback";
    state.info.reason = error;
    if (state.debug) {
      std::fprintf(stderr, "agentcluster: agent snapshot not used, agents start from Node's blob: %s\n",
                   error.c_str());
    }
    return;
  }
  state.blob = current;
  state.verified = true;
  state.info.state = "in-use";
  state.info.bytes = static_cast<size_t>(current.raw_size);
}

// Case-insensitive equality for the switch's words.
bool SameWord(const char* a, const char* b) {
  for (; *a != '\0' && *b != '\0'; ++a, ++b) {
    if (std::tolower(static_cast<unsigned char>(*a)) != std::tolower(static_cast<unsigned char>(*b))) return false;
  }
  return *a == *b;
}

}  // namespace

void ReadAgentSnapshotSetting() {
  // Once per process: every worker_thread that loads the addon runs Init
  // again, and neither a later environment nor a getenv racing the main
  // thread's setenv may flip the blob that running agents came from.
  static std::once_flag once;
  std::call_once(once, [] {
    State& state = GetState();
    std::lock_guard<std::mutex> lock(state.mutex);
    state.debug = std::getenv("AGENTCLUSTER_DEBUG") != nullptr;
    const char* value = std::getenv("AGENTCLUSTER_AGENT_SNAPSHOT");
    if (value == nullptr || *value == '\0' || SameWord(value, "on") || SameWord(value, "1") || SameWord(value, "true")) {
      state.setting = Setting::kOn;
    } else if (SameWord(value, "off") || SameWord(value, "0") || SameWord(value, "false") || SameWord(value, "no")) {
      state.setting = Setting::kOff;
    } else if (SameWord(value, "skip-readonly-fix")) {
      state.setting = Setting::kSkipReadOnlyFix;
    } else {
      // Unknown: keep the default, and say so where the user looks.
      state.setting = Setting::kOn;
      state.unknown_setting = std::string("ignored unknown AGENTCLUSTER_AGENT_SNAPSHOT=") + value +
                              " (off | 0 | false | no turn it off)";
      if (state.debug) std::fprintf(stderr, "agentcluster: %s\n", state.unknown_setting.c_str());
    }
  });
}

bool UseAgentSnapshot(node::MultiIsolatePlatform* platform, v8::Isolate::CreateParams* params) {
  State& state = GetState();
  std::lock_guard<std::mutex> lock(state.mutex);
#if V8_MAJOR_VERSION != 11
  // The mechanism (serializer flag patch, creator isolate ownership) is
  // verified on Node 20 / V8 11.3 only.
  state.info = {"off", "not supported on this V8 version", 0, 0, 0};
  return false;
#else
  if (state.setting == Setting::kOff) {
    state.info = {"off", "AGENTCLUSTER_AGENT_SNAPSHOT turns it off", 0, 0, 0};
    return false;
  }
  if (!state.built) Build(state, platform);
  if (!state.verified) return false;
  params->snapshot_blob = &state.blob;
  params->external_references = state.external_references;
  return true;
#endif
}

void SetSemiSpaceFlagGiven(bool given) {
  State& state = GetState();
  std::lock_guard<std::mutex> lock(state.mutex);
  state.semi_space_flag_given = given;
}

AgentSnapshotInfo GetAgentSnapshotInfo() {
  State& state = GetState();
  std::lock_guard<std::mutex> lock(state.mutex);
  AgentSnapshotInfo info = state.info;
  if (info.reason.empty() && !state.unknown_setting.empty()) info.reason = state.unknown_setting;
  return info;
}

}  // namespace agentcluster
