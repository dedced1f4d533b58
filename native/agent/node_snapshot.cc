#include "agent/node_snapshot.h"

#include <dlfcn.h>

#include <atomic>

namespace agentcluster {

namespace {

std::atomic<bool> g_snapshot_in_use{true};

struct SnapshotEntryPoints {
  using GetData = const void* (*)();
  using InitParams = void (*)(const void*, v8::Isolate::CreateParams*);
  GetData get_data = nullptr;
  InitParams init_params = nullptr;
};

const SnapshotEntryPoints& EntryPoints() {
  // node::SnapshotBuilder::GetEmbeddedSnapshotData() and
  // node::SnapshotBuilder::InitializeIsolateParams(const SnapshotData*, CreateParams*)
  static const SnapshotEntryPoints points = [] {
    SnapshotEntryPoints found;
    found.get_data = reinterpret_cast<SnapshotEntryPoints::GetData>(
        dlsym(RTLD_DEFAULT, "_ZN4node15SnapshotBuilder23GetEmbeddedSnapshotDataEv"));
    found.init_params = reinterpret_cast<SnapshotEntryPoints::InitParams>(dlsym(
        RTLD_DEFAULT,
        "_ZN4node15SnapshotBuilder23InitializeIsolateParamsEPKNS_12SnapshotDataEPN2v87Isolate12CreateParamsE"));
    return found;
  }();
  return points;
}

}  // namespace

void SetNodeSnapshotInUse(bool in_use) { g_snapshot_in_use.store(in_use); }

bool UseNodeSnapshot(v8::Isolate::CreateParams* params) {
  if (!g_snapshot_in_use.load()) return false;
  const SnapshotEntryPoints& points = EntryPoints();
  if (points.get_data == nullptr || points.init_params == nullptr) return false;
  const void* data = points.get_data();
  if (data == nullptr) return false;
  points.init_params(data, params);
  return true;
}

}  // namespace agentcluster
