#include "shared/module_table.h"

#include "shared/regular_file.h"

#include <atomic>
#include <cstdlib>
#include <functional>
#include <list>
#include <map>
#include <mutex>

namespace agentcluster {

namespace {

bool ReadStringMap(const Napi::Value& value, std::unordered_map<std::string, std::string>* out) {
  if (!value.IsObject()) return false;
  Napi::Object map = value.As<Napi::Object>();
  Napi::Array keys = map.GetPropertyNames();
  out->reserve(keys.Length());
  for (uint32_t i = 0; i < keys.Length(); i++) {
    Napi::Value key = keys.Get(i);
    if (!key.IsString()) return false;
    Napi::Value entry = map.Get(key);
    if (!entry.IsString()) return false;
    out->emplace(key.As<Napi::String>().Utf8Value(), entry.As<Napi::String>().Utf8Value());
  }
  return true;
}

std::mutex tables_mutex;
std::map<double, std::weak_ptr<const ModuleTable>> tables;

// The process-wide source texts, shared by agents (a pool's agents read the
// same files). Keyed by path but never trusted by (size, mtime): npm gives
// every file one fixed mtime, so the file is always read and its bytes
// compared (F11); the cache only shares one copy of equal texts. Bounded by
// bytes, counting keys and entry overhead, and by entry count, evicting the
// least recently used (one file has unboundedly many path names, F5).
struct CachedSource {
  std::shared_ptr<const std::string> text;
  std::list<std::string>::iterator order;  // position in `lru`
};
std::mutex sources_mutex;
std::unordered_map<std::string, CachedSource> sources;
std::list<std::string> lru;  // most recently used first
size_t cached_bytes = 0;
constexpr size_t kMaxCachedBytes = 256u << 20;
constexpr size_t kMaxCachedEntries = 16384;
constexpr size_t kEntryOverhead = 128;  // map node, list node, shared_ptr control block

size_t EntryBytes(const std::string& path, const std::string& text) {
  return 2 * path.size() + text.size() + kEntryOverhead;  // the key is stored in the map and the list
}

void EraseSource(std::unordered_map<std::string, CachedSource>::iterator it) {
  cached_bytes -= EntryBytes(it->first, *it->second.text);
  lru.erase(it->second.order);
  sources.erase(it);
}

std::mutex code_mutex;
std::unordered_map<std::string, std::shared_ptr<const std::string>> code_cache;
size_t code_bytes = 0;
constexpr size_t kMaxCodeBytes = 128u << 20;

}  // namespace

// Read once, at addon load on the loading thread: getenv on agent threads
// races the host's setenv/unsetenv (process.env writes) and can crash.
std::once_flag code_cache_setting_once;
std::atomic<bool> code_cache_off{false};

void ReadCodeCacheSetting() {
  std::call_once(code_cache_setting_once, [] {
    const char* setting = getenv("AGENTCLUSTER_CODE_CACHE");
    code_cache_off.store(setting != nullptr && std::string(setting) == "0");
  });
}

std::string CodeCacheKey(const std::string& path, const std::string& text) {
  if (code_cache_off.load(std::memory_order_relaxed)) return std::string();
  return path + '\0' + std::to_string(text.size()) + ':' +
         std::to_string(std::hash<std::string>{}(text));
}

std::shared_ptr<const std::string> FindCodeCache(const std::string& key) {
  if (key.empty()) return nullptr;
  std::lock_guard<std::mutex> lock(code_mutex);
  auto it = code_cache.find(key);
  return it == code_cache.end() ? nullptr : it->second;
}

void StoreCodeCache(const std::string& key, const uint8_t* data, int length) {
  if (key.empty() || data == nullptr || length <= 0) return;
  auto bytes = std::make_shared<const std::string>(reinterpret_cast<const char*>(data),
                                                   static_cast<size_t>(length));
  std::lock_guard<std::mutex> lock(code_mutex);
  // Keys (path + hash) count too: distinct paths must not grow it unseen.
  if (code_bytes + bytes->size() + key.size() > kMaxCodeBytes) {
    code_cache.clear();
    code_bytes = 0;
  }
  // Replaces an entry V8 rejected (or one another agent made at the same time).
  auto it = code_cache.find(key);
  if (it != code_cache.end()) code_bytes -= it->second->size() + key.size();
  code_cache[key] = bytes;
  code_bytes += bytes->size() + key.size();
}

const std::string* ModuleTable::Find(const std::string& importer, char kind,
                                     const std::string& specifier) const {
  std::string key;
  key.reserve(importer.size() + specifier.size() + 4);
  key.append(importer).push_back('\0');
  key.push_back(kind);
  key.push_back('\0');
  key.append(specifier);
  auto it = resolutions.find(key);
  return it == resolutions.end() ? nullptr : &it->second;
}

std::string ModuleTable::FormatOf(const std::string& path) const {
  auto it = formats.find(path);
  return it == formats.end() ? std::string() : it->second;
}

std::shared_ptr<const ModuleTable> SharedModuleTable(const Napi::Value& graph) {
  if (!graph.IsObject()) return nullptr;
  Napi::Object object = graph.As<Napi::Object>();
  Napi::Value id_value = object.Get("id");
  double id = id_value.IsNumber() ? id_value.As<Napi::Number>().DoubleValue() : 0;
  if (id > 0) {
    std::lock_guard<std::mutex> lock(tables_mutex);
    auto it = tables.find(id);
    if (it != tables.end()) {
      if (auto table = it->second.lock()) return table;
    }
  }
  auto table = std::make_shared<ModuleTable>();
  if (!ReadStringMap(object.Get("resolutions"), &table->resolutions) ||
      !ReadStringMap(object.Get("formats"), &table->formats) ||
      !ReadStringMap(object.Get("facades"), &table->facades) ||
      !ReadStringMap(object.Get("sources"), &table->sources) ||
      !ReadStringMap(object.Get("failures"), &table->failures)) {
    return nullptr;
  }
  if (id > 0) {
    std::lock_guard<std::mutex> lock(tables_mutex);
    for (auto it = tables.begin(); it != tables.end();) {
      it = it->second.expired() ? tables.erase(it) : std::next(it);
    }
    tables[id] = table;
  }
  return table;
}

bool ReadSourceShared(const std::string& path, std::shared_ptr<const std::string>* out) {
  std::string bytes;
  if (!ReadRegularFile(path, &bytes)) return false;
  std::lock_guard<std::mutex> lock(sources_mutex);
  auto it = sources.find(path);
  if (it != sources.end()) {
    if (*it->second.text == bytes) {  // same content: share the one copy
      lru.splice(lru.begin(), lru, it->second.order);
      *out = it->second.text;
      return true;
    }
    EraseSource(it);  // the file changed (even with the same size and mtime)
  }
  auto text = std::make_shared<const std::string>(std::move(bytes));
  *out = text;
  const size_t entry = EntryBytes(path, *text);
  if (entry > kMaxCachedBytes) return true;  // too big to keep: used, not cached
  while (!lru.empty() && (cached_bytes + entry > kMaxCachedBytes || sources.size() >= kMaxCachedEntries)) {
    EraseSource(sources.find(lru.back()));
  }
  lru.push_front(path);
  sources.emplace(path, CachedSource{text, lru.begin()});
  cached_bytes += entry;
  return true;
}

size_t SharedSourceCount() {
  std::lock_guard<std::mutex> lock(sources_mutex);
  return sources.size();
}

}  // namespace agentcluster
