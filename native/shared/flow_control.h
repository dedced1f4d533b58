// The flow-control model shared by every message queue between an agent and
// its host (docs/architecture.md, "Flow control"): a high-water mark in
// messages and bytes, a low-water mark at half of it, and a bounded amount
// of work per host callback so that the host's event loop keeps turning.
#pragma once

#include <cstddef>

namespace agentcluster {

// Defaults of the `highWaterMark` option (src/flow-control.ts states the same).
constexpr size_t kDefaultHighWaterMessages = 4096;
constexpr size_t kDefaultHighWaterBytes = 16 * 1024 * 1024;

// Work one host callback does before yielding to the event loop.
constexpr size_t kMaxEventsPerDrain = 256;
constexpr size_t kMaxBytesPerDrain = 4 * 1024 * 1024;

struct HighWaterMark {
  size_t messages = kDefaultHighWaterMessages;
  size_t bytes = kDefaultHighWaterBytes;

  // At or over the mark: senders wait (agent side) or are told false (host side).
  bool Reached(size_t queued_messages, size_t queued_bytes) const {
    return queued_messages >= messages || queued_bytes >= bytes;
  }
  // Back to the low-water mark (half): blocked senders resume, 'drain' fires.
  bool Drained(size_t queued_messages, size_t queued_bytes) const {
    return queued_messages <= messages / 2 && queued_bytes <= bytes / 2;
  }
};

// Runs a callback that the event loop invoked (ThreadSafeFunction call,
// cleanup hook, finalizer): no C++ exception may leave it. While an
// environment is terminating (worker.terminate()), every N-API call may
// fail and node-addon-api turns that into a thrown Napi::Error.
template <typename Callback>
void GuardNativeCallback(Callback&& callback) noexcept {
  try {
    callback();
  } catch (...) {
    // Nothing to report to: the environment is going away, or JS already
    // holds the pending exception.
  }
}

}  // namespace agentcluster
