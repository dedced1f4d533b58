// V8's SnapshotCreator::CreateBlob serializes with the exported constant
// v8::internal::Snapshot::kDefaultSerializerFlags. A blob built inside a Node
// process (shared read-only heap) is only correct when the read-only object
// cache is reconstructed from the live heap (flag value 4), which has no
// public API. This RAII guard patches the constant for one CreateBlob call.
#pragma once

namespace agentcluster {

class ScopedSerializerFlags {
 public:
  // Looks the constant up by dlsym, makes its page writable and stores
  // `flags`. ok() is false (and nothing is changed) if any step fails.
  explicit ScopedSerializerFlags(int flags);
  ~ScopedSerializerFlags();  // restores the old value and page protection
  ScopedSerializerFlags(const ScopedSerializerFlags&) = delete;
  ScopedSerializerFlags& operator=(const ScopedSerializerFlags&) = delete;
  bool ok() const { return target_ != nullptr; }

 private:
  int* target_ = nullptr;
  int saved_ = 0;
};

// The flag value CreateBlob needs in-process (kReconstructReadOnlyAndSharedObjectCachesForTesting).
constexpr int kReconstructReadOnlyCachesFlag = 4;

}  // namespace agentcluster
