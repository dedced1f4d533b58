// The module graph the host discovered for a job (src/modules/graph.ts):
// how each importer's specifiers resolve, each file's format, the ES facades
// of CommonJS files. Immutable once built and shared by every agent given
// the same graph (a pool's agents), across threads.
#pragma once

#include <napi.h>

#include <memory>
#include <string>
#include <unordered_map>

namespace agentcluster {

struct ModuleTable {
  // importer + '\0' + ('i' import | 'r' require) + '\0' + specifier -> path,
  // or "\x01CODE\x01message" for a failure kept until the code asks for it.
  std::unordered_map<std::string, std::string> resolutions;
  std::unordered_map<std::string, std::string> formats;  // path -> "esm" | "cjs" | "json"
  std::unordered_map<std::string, std::string> facades;  // CommonJS path -> ES facade source
  std::unordered_map<std::string, std::string> sources;  // path -> text transformed on the host (TypeScript)
  std::unordered_map<std::string, std::string> failures;  // path -> SyntaxError message (cannot load)

  // Null when the graph does not know the specifier.
  const std::string* Find(const std::string& importer, char kind, const std::string& specifier) const;
  // Empty when the graph does not know the file.
  std::string FormatOf(const std::string& path) const;
};

// The table of a `moduleGraph` option ({id, resolutions, formats, facades}),
// shared process-wide by id while any agent holds it. Null when absent or malformed.
std::shared_ptr<const ModuleTable> SharedModuleTable(const Napi::Value& graph);

// A regular file's text, read every time and shared process-wide by path
// while its bytes stay the same (every agent of a pool reads the same graph).
// LRU-bounded by bytes (keys included) and entries. False if unreadable or
// not a regular file.
bool ReadSourceShared(const std::string& path, std::shared_ptr<const std::string>* out);
size_t SharedSourceCount();  // entries in that cache (tests, diagnostics)

// The process-wide V8 code cache: compiled code of a file, keyed by path and
// a hash of its text, made by the first agent that compiled it and used by
// the next ones. Bounded (past a total size it starts over). Empty key: off
// (AGENTCLUSTER_CODE_CACHE=0 in the environment when the addon loads, for
// comparisons; read once by ReadCodeCacheSetting, never from agent threads).
void ReadCodeCacheSetting();
std::string CodeCacheKey(const std::string& path, const std::string& text);
std::shared_ptr<const std::string> FindCodeCache(const std::string& key);
void StoreCodeCache(const std::string& key, const uint8_t* data, int length);

}  // namespace agentcluster
