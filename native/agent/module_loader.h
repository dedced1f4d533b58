// ES modules inside an agent: file modules resolved relative to their
// importer, `agentcluster:` built-ins mapped to files, static and dynamic
// import, import.meta.url. Used only on the agent's thread.
#pragma once

#include <v8.h>

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/async_parent_marker.h"
#include "shared/event_schema.h"

namespace agentcluster {

class ModuleLoader {
 public:
  ModuleLoader(v8::Isolate* isolate, std::map<std::string, std::string> builtins);
  ~ModuleLoader();

  // Installs the isolate-wide import callbacks.
  static void InstallCallbacks(v8::Isolate* isolate);

  // Compiles, links and instantiates the graph rooted at a file or at source
  // text that pretends to live at `path`. Empty with an exception on failure.
  // `phase` (optional) tells where a failure happened: kParse compiling the
  // root, kResolution loading or linking its graph.
  v8::MaybeLocal<v8::Module> LoadFile(v8::Local<v8::Context> context, const std::string& path,
                                      ErrorPhase* phase = nullptr);
  v8::MaybeLocal<v8::Module> LoadSource(v8::Local<v8::Context> context, const std::string& source,
                                        const std::string& path, ErrorPhase* phase = nullptr);

  // import(specifier) from code whose resource name is `referrer_url`.
  // `type` is the import attribute (empty for JavaScript, "json", "text").
  v8::MaybeLocal<v8::Promise> Import(v8::Local<v8::Context> context, const std::string& specifier,
                                     const std::string& referrer_url, const std::string& type);

  // Evaluates an imported module and settles `resolver` with its namespace.
  // False when the agent is terminating.
  bool FinishImport(v8::Local<v8::Context> context, v8::Local<v8::Module> module,
                    v8::Local<v8::Promise::Resolver> resolver);

  // After a failed load (or a classic script that did not compile) caught by
  // `try_catch`: a SyntaxError gets the file, line and column of the error and
  // the chain of modules that imported it in its message and stack (V8's own
  // message says only "Unexpected token '*'"). Clears the recorded chain.
  void DescribeLoadFailure(v8::Local<v8::Context> context, const v8::TryCatch& try_catch);

  // The URL stacks and messages show for `path`: the source's
  // agentcluster:source/NAME pseudo-URL for a source agent's own text.
  std::string UrlOf(const std::string& path) const;

  // The CommonJS runtime's natives (native/agent/cjs_runtime.cc); each returns
  // false / empty with an exception thrown.
  v8::MaybeLocal<v8::Function> CompileCommonJs(v8::Local<v8::Context> context, const std::string& path);
  bool ResolveRequire(const std::string& specifier, const std::string& from, std::string* path,
                      std::string* format);
  v8::MaybeLocal<v8::Value> ReadJson(v8::Local<v8::Context> context, const std::string& path);

  static std::string PathToFileUrl(const std::string& path);
  static std::string FileUrlToPath(const std::string& url);

 private:
  // Importers of the module whose load just failed, innermost first (see DescribeLoadFailure).
  std::vector<std::string> import_chain_;

  // Whether a file found outside the table may load (moduleRoots, see AgentOptions).
  bool MayLoad(const std::string& path) const;
  // Returns the absolute path for `specifier`, or empty with an exception thrown.
  std::string Resolve(v8::Local<v8::Context> context, const std::string& specifier,
                      const std::string& referrer_path);
  v8::MaybeLocal<v8::Module> Compile(v8::Local<v8::Context> context, const std::string& path,
                                     const std::string* source, const std::string& type = "");
  // JSON and text modules: a synthetic module whose default export is the value.
  v8::MaybeLocal<v8::Module> CompileSynthetic(v8::Local<v8::Context> context,
                                              const std::string& path, const std::string& type);
  static v8::MaybeLocal<v8::Value> EvaluateSynthetic(v8::Local<v8::Context> context,
                                                     v8::Local<v8::Module> module);
  // The `type` import attribute among `attributes` (entries of `stride` slots).
  static std::string TypeAttribute(v8::Local<v8::Context> context,
                                   v8::Local<v8::FixedArray> attributes, int stride);
  bool LoadDependencies(v8::Local<v8::Context> context, v8::Local<v8::Module> module,
                        const std::string& path);
  v8::MaybeLocal<v8::Module> Load(v8::Local<v8::Context> context, const std::string& path,
                                  const std::string* source, ErrorPhase* phase);
  v8::MaybeLocal<v8::Module> Instantiate(v8::Local<v8::Context> context,
                                         v8::Local<v8::Module> module);
  // Drops a module record that never evaluated, so its key compiles again.
  void Forget(const std::string& key);
  const std::string* PathOf(v8::Local<v8::Module> module) const;

  static v8::MaybeLocal<v8::Module> ResolveCallback(v8::Local<v8::Context> context,
                                                    v8::Local<v8::String> specifier,
                                                    v8::Local<v8::FixedArray> assertions,
                                                    v8::Local<v8::Module> referrer);
  static v8::MaybeLocal<v8::Promise> ImportCallback(v8::Local<v8::Context> context,
                                                    v8::Local<v8::Data> host_defined_options,
                                                    v8::Local<v8::Value> resource_name,
                                                    v8::Local<v8::String> specifier,
                                                    v8::Local<v8::FixedArray> assertions);
  static void ImportMetaCallback(v8::Local<v8::Context> context, v8::Local<v8::Module> module,
                                 v8::Local<v8::Object> meta);

  // The module table's entry for `specifier` from `importer`: true with
  // `*path` set, false with an exception thrown for a recorded failure, or
  // true with `*path` empty when the table does not know it.
  bool FromTable(const std::string& importer, char kind, const std::string& specifier,
                 std::string* path);
  // The format of `path`: the host's, or by extension for files it did not see.
  std::string FormatOf(const std::string& path) const;
  v8::MaybeLocal<v8::Module> CompileCjsRuntimeModule(v8::Local<v8::Context> context);
  // A file's text: the host's transformed source if it has one, else the
  // file. False with an exception thrown (not found, or a host failure).
  bool ReadText(const std::string& path, std::string* out);

  v8::Isolate* isolate_;
  std::map<std::string, std::string> builtins_;
  v8::Global<v8::Function> cjs_load_;  // the CommonJS runtime's load(path), once built
  std::unordered_map<std::string, v8::Global<v8::Module>> by_path_;
  std::unordered_multimap<int, std::pair<v8::Global<v8::Module>, std::string>> path_by_hash_;
  std::unordered_multimap<int, std::pair<v8::Global<v8::Module>, v8::Global<v8::Value>>>
      synthetic_values_;
  // Source text modules compiled during the current Load (key, record).
  std::vector<std::pair<std::string, v8::Global<v8::Module>>> fresh_;
  AsyncParentMarker async_parents_;
};

}  // namespace agentcluster
