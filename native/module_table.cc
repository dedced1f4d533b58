#include "module_table.h"

#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>

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

struct CachedSource {
  off_t size;
  int64_t mtime_ns;
  std::shared_ptr<const std::string> text;
};
std::mutex sources_mutex;
std::unordered_map<std::string, CachedSource> sources;
size_t cached_bytes = 0;
// Bounded: past this many bytes the cache starts over (sources are re-read).
constexpr size_t kMaxCachedBytes = 256u << 20;

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
  if (code_bytes + bytes->size() > kMaxCodeBytes) {
    code_cache.clear();
    code_bytes = 0;
  }
  // Replaces an entry V8 rejected (or one another agent made at the same time).
  auto it = code_cache.find(key);
  if (it != code_cache.end()) code_bytes -= it->second->size();
  code_cache[key] = bytes;
  code_bytes += bytes->size();
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
  struct stat info;
  if (stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return false;
  int64_t mtime_ns = static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec;
  {
    std::lock_guard<std::mutex> lock(sources_mutex);
    auto it = sources.find(path);
    if (it != sources.end() && it->second.size == info.st_size && it->second.mtime_ns == mtime_ns) {
      *out = it->second.text;
      return true;
    }
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  auto text = std::make_shared<const std::string>(buffer.str());
  *out = text;
  std::lock_guard<std::mutex> lock(sources_mutex);
  if (cached_bytes + text->size() > kMaxCachedBytes) {
    sources.clear();
    cached_bytes = 0;
  }
  auto it = sources.find(path);
  if (it != sources.end()) cached_bytes -= it->second.text->size();
  sources[path] = CachedSource{info.st_size, mtime_ns, text};
  cached_bytes += text->size();
  return true;
}

}  // namespace agentcluster
