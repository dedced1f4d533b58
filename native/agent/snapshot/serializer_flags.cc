#include "serializer_flags.h"

#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <mutex>

namespace agentcluster {
namespace {

constexpr const char* kFlagsSymbol =
    "_ZN2v88internal8Snapshot23kDefaultSerializerFlagsE";

// One patch at a time process-wide: the constant is global state.
std::mutex& PatchMutex() {
  static std::mutex mutex;
  return mutex;
}

bool SetPageWritable(void* address, bool writable) {
  const long page = sysconf(_SC_PAGESIZE);
  if (page <= 0) return false;
  auto start = reinterpret_cast<uintptr_t>(address) & ~(static_cast<uintptr_t>(page) - 1);
  int prot = PROT_READ | (writable ? PROT_WRITE : 0);
  return mprotect(reinterpret_cast<void*>(start), static_cast<size_t>(page), prot) == 0;
}

}  // namespace

ScopedSerializerFlags::ScopedSerializerFlags(int flags) {
  PatchMutex().lock();
  auto* symbol = static_cast<int*>(dlsym(RTLD_DEFAULT, kFlagsSymbol));
  if (symbol == nullptr || !SetPageWritable(symbol, true)) return;
  target_ = symbol;
  saved_ = *target_;
  *target_ = flags;
}

ScopedSerializerFlags::~ScopedSerializerFlags() {
  if (target_ != nullptr) {
    *target_ = saved_;
    SetPageWritable(target_, false);
  }
  PatchMutex().unlock();
}

}  // namespace agentcluster
