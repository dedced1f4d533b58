#include "agent/near_limit_snapshot.h"

#include <v8-profiler.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>

namespace agentcluster {
namespace {

constexpr int kChunkBytes = 64 * 1024;

// The file to write, or empty when nothing may be written there: a symlink
// is resolved (rename(2) would replace the link itself), anything that
// exists and is not a regular file is refused (as root a rename would turn
// /dev/null into a snapshot).
std::string WritableTarget(const std::string& path) {
  struct stat info;
  if (lstat(path.c_str(), &info) != 0) return path;  // does not exist yet
  if (S_ISLNK(info.st_mode)) {
    char resolved[PATH_MAX];
    if (realpath(path.c_str(), resolved) == nullptr) return std::string();  // dangling
    if (stat(resolved, &info) != 0 || !S_ISREG(info.st_mode)) return std::string();
    return resolved;
  }
  return S_ISREG(info.st_mode) ? path : std::string();
}

// Paths being written now, and the one-at-a-time gate (each snapshot can
// take several times the agent's heap in memory).
std::mutex g_busy_mutex;
std::set<std::string> g_busy;
std::mutex g_gate;

class BusyPath {
 public:
  explicit BusyPath(const std::string& path) : path_(path) {
    std::lock_guard<std::mutex> lock(g_busy_mutex);
    claimed_ = g_busy.insert(path_).second;
  }
  ~BusyPath() {
    if (!claimed_) return;
    std::lock_guard<std::mutex> lock(g_busy_mutex);
    g_busy.erase(path_);
  }
  BusyPath(const BusyPath&) = delete;
  BusyPath& operator=(const BusyPath&) = delete;
  bool claimed() const { return claimed_; }

 private:
  std::string path_;
  bool claimed_ = false;
};

class CancelControl final : public v8::ActivityControl {
 public:
  explicit CancelControl(const std::function<bool()>& cancelled) : cancelled_(cancelled) {}
  ControlOption ReportProgressValue(uint32_t, uint32_t) override {
    return cancelled_() ? kAbort : kContinue;
  }

 private:
  const std::function<bool()>& cancelled_;
};

class FileStream final : public v8::OutputStream {
 public:
  FileStream(FILE* file, const std::function<bool()>& cancelled) : file_(file), cancelled_(cancelled) {}
  int GetChunkSize() override { return kChunkBytes; }
  WriteResult WriteAsciiChunk(char* data, int size) override {
    ok_ = !cancelled_() && std::fwrite(data, 1, static_cast<size_t>(size), file_) == static_cast<size_t>(size);
    return ok_ ? kContinue : kAbort;
  }
  void EndOfStream() override {}
  bool ok() const { return ok_; }

 private:
  FILE* file_;
  const std::function<bool()>& cancelled_;
  bool ok_ = true;
};

}  // namespace

bool WriteNearLimitSnapshotFile(v8::Isolate* isolate, const std::string& target,
                                const std::function<bool()>& cancelled) {
  const std::string path = WritableTarget(target);
  if (path.empty()) return false;
  BusyPath busy(path);
  if (!busy.claimed()) return false;
  std::unique_lock<std::mutex> gate(g_gate, std::defer_lock);
  while (!gate.try_lock()) {
    if (cancelled()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (cancelled()) return false;
  static std::atomic<uint64_t> next_temp{0};
  const std::string temp =
      path + "." + std::to_string(getpid()) + "." + std::to_string(next_temp.fetch_add(1)) + ".tmp";
  FILE* file = std::fopen(temp.c_str(), "wbx");  // exclusive: never through a planted link
  if (file == nullptr) return false;
  v8::HandleScope scope(isolate);
  CancelControl control(cancelled);
  bool written = false;
  const v8::HeapSnapshot* snapshot = isolate->GetHeapProfiler()->TakeHeapSnapshot(&control);
  if (snapshot != nullptr) {
    FileStream stream(file, cancelled);
    snapshot->Serialize(&stream, v8::HeapSnapshot::kJSON);
    const_cast<v8::HeapSnapshot*>(snapshot)->Delete();
    written = stream.ok();
  }
  if (std::fclose(file) != 0) written = false;
  if (written && std::rename(temp.c_str(), path.c_str()) == 0) return true;
  std::remove(temp.c_str());
  return false;
}

}  // namespace agentcluster
