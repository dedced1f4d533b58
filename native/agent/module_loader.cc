#include "agent/module_loader.h"

#include <filesystem>
#include <fstream>
#include <cstring>
#include <sstream>

#include "agent/agent_runtime.h"
#include "agent/cjs_runtime.h"
#include "shared/module_table.h"
#include "shared/v8_util.h"
#include "shared/v8_compat.h"

namespace agentcluster {

namespace {

void ThrowModuleNotFound(v8::Isolate* isolate, const std::string& text) {
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::Object> error = v8::Exception::Error(Str(isolate, text)).As<v8::Object>();
  error->CreateDataProperty(context, Str(isolate, "code"), Str(isolate, "ERR_MODULE_NOT_FOUND")).FromMaybe(false);
  isolate->ThrowException(error);
}

bool ReadFile(const std::string& path, std::string* out) {
  std::shared_ptr<const std::string> text;
  if (!ReadSourceShared(path, &text)) return false;
  *out = *text;
  return true;
}

void ThrowCoded(v8::Isolate* isolate, const std::string& code, const std::string& text) {
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::Object> error = (code == "ERR_INVALID_MODULE_SPECIFIER"
                                     ? v8::Exception::TypeError(Str(isolate, text))
                                     : v8::Exception::Error(Str(isolate, text)))
                                    .As<v8::Object>();
  error->CreateDataProperty(context, Str(isolate, "code"), Str(isolate, code)).FromMaybe(false);
  isolate->ThrowException(error);
}

// What facades import the CommonJS runtime as; also its "path" (files have absolute paths).
const char kCjsRuntimeSpecifier[] = "agentcluster:internal/cjs";
const char* const kCjsRuntimePath = kCjsRuntimeSpecifier;

bool EndsWith(const std::string& text, const char* suffix) {
  size_t n = strlen(suffix);
  return text.size() >= n && text.compare(text.size() - n, n, suffix) == 0;
}

// "#!" starts a line comment only at the start of a script or module; a
// CommonJS wrapper body is neither, so blank it (positions stay).
// A view of shared cache bytes for V8 (the Source owns the view, not the bytes).
v8::ScriptCompiler::CachedData* CachedDataOf(const std::shared_ptr<const std::string>& bytes) {
  if (!bytes) return nullptr;
  return new v8::ScriptCompiler::CachedData(reinterpret_cast<const uint8_t*>(bytes->data()),
                                            static_cast<int>(bytes->size()),
                                            v8::ScriptCompiler::CachedData::BufferNotOwned);
}

void BlankHashbang(std::string* text) {
  if (text->rfind("#!", 0) == 0) (*text)[0] = (*text)[1] = '/';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

ModuleLoader::ModuleLoader(v8::Isolate* isolate, std::map<std::string, std::string> builtins)
    : isolate_(isolate), builtins_(std::move(builtins)) {}

ModuleLoader::~ModuleLoader() = default;

void ModuleLoader::InstallCallbacks(v8::Isolate* isolate) {
  isolate->SetHostImportModuleDynamicallyCallback(ImportCallback);
  isolate->SetHostInitializeImportMetaObjectCallback(ImportMetaCallback);
}

std::string ModuleLoader::PathToFileUrl(const std::string& path) {
  static const char* hex = "0123456789ABCDEF";
  if (path.empty() || path[0] != '/') return path;  // a loader hook's virtual module: its URL as given
  std::string url = "file://";
  for (unsigned char c : path) {
    if (isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~' || c == '@' ||
        c == '+' || c == ',' || c == '=' || c == ':') {
      url += static_cast<char>(c);
    } else {
      url += '%';
      url += hex[c >> 4];
      url += hex[c & 15];
    }
  }
  return url;
}

std::string ModuleLoader::UrlOf(const std::string& path) const {
  const AgentOptions& options = AgentRuntime::From(isolate_)->options();
  if (options.file_path.empty() && !options.source_url.empty() && path == options.base_path) {
    return options.source_url;
  }
  return PathToFileUrl(path);
}

void ModuleLoader::DescribeLoadFailure(v8::Local<v8::Context> context,
                                       const v8::TryCatch& try_catch) {
  std::vector<std::string> chain;
  chain.swap(import_chain_);
  if (!try_catch.HasCaught() || try_catch.HasTerminated()) return;
  v8::Local<v8::Value> exception = try_catch.Exception();
  v8::Local<v8::Message> message = try_catch.Message();
  if (!exception->IsNativeError() || message.IsEmpty()) return;
  // Reading and writing the error's properties may run user getters: contain them.
  v8::TryCatch inner(isolate_);
  v8::Local<v8::Object> error = exception.As<v8::Object>();
  v8::Local<v8::Value> name;
  v8::Local<v8::Value> text;
  if (!error->Get(context, Str(isolate_, "name")).ToLocal(&name) || !name->IsString() ||
      ToStdString(isolate_, name) != "SyntaxError" ||
      !error->Get(context, Str(isolate_, "message")).ToLocal(&text) || !text->IsString()) {
    return;
  }
  v8::Local<v8::Value> resource = message->GetScriptResourceName();
  int line = message->GetLineNumber(context).FromMaybe(0);
  int column = message->GetStartColumn(context).FromMaybe(-1) + 1;
  if (!resource->IsString() || line <= 0) return;
  std::string where = ToStdString(isolate_, resource) + ":" + std::to_string(line) + ":" +
                      std::to_string(column);
  std::string original = ToStdString(isolate_, text);
  if (original.find(where) != std::string::npos) return;  // already described
  std::string described = original + " (" + where;
  for (size_t i = 0; i < chain.size(); i++) described += (i == 0 ? ", imported by " : " <- ") + chain[i];
  described += ")";
  v8::Local<v8::String> described_string = Str(isolate_, described);
  error->Set(context, Str(isolate_, "message"), described_string).FromMaybe(false);
  error->Set(context, Str(isolate_, "stack"),
             Str(isolate_, "SyntaxError: " + described + "\n    at " + where))
      .FromMaybe(false);
}

std::string ModuleLoader::FileUrlToPath(const std::string& url) {
  std::string rest = url.rfind("file://", 0) == 0 ? url.substr(7) : url;
  std::string path;
  for (size_t i = 0; i < rest.size(); i++) {
    if (rest[i] == '%' && i + 2 < rest.size() + 0 && HexValue(rest[i + 1]) >= 0 &&
        HexValue(rest[i + 2]) >= 0) {
      path += static_cast<char>(HexValue(rest[i + 1]) * 16 + HexValue(rest[i + 2]));
      i += 2;
    } else if (rest[i] == '?' || rest[i] == '#') {
      break;
    } else {
      path += rest[i];
    }
  }
  return path;
}

std::string ModuleLoader::Resolve(v8::Local<v8::Context> context, const std::string& specifier,
                                  const std::string& referrer_path) {
  namespace fs = std::filesystem;
  auto builtin = builtins_.find(specifier);
  if (builtin != builtins_.end()) return builtin->second;
  if (specifier == kCjsRuntimeSpecifier && FormatOf(referrer_path) == "cjs") return kCjsRuntimePath;
  std::string found;
  if (!FromTable(referrer_path, 'i', specifier, &found)) return std::string();
  if (!found.empty()) return found;

  std::string candidate;
  if (specifier.rfind("file://", 0) == 0) {
    candidate = FileUrlToPath(specifier);
  } else if (specifier.rfind("/", 0) == 0) {
    candidate = specifier;
  } else if (specifier.rfind("./", 0) == 0 || specifier.rfind("../", 0) == 0) {
    candidate = (fs::path(referrer_path).parent_path() / specifier).string();
  } else {
    ThrowModuleNotFound(isolate_, "Cannot find module '" + specifier + "' imported from " +
                                      UrlOf(referrer_path) +
                                      ": bare specifiers resolve through the module graph the "
                                      "host discovers from the entry (static imports, import() "
                                      "and require() with a literal); this one was not in it");
    return std::string();
  }
  std::string normal = fs::path(candidate).lexically_normal().string();
  std::error_code ec;
  if (!fs::is_regular_file(normal, ec)) {
    ThrowModuleNotFound(isolate_, "Cannot find module '" + specifier + "' imported from " +
                                      UrlOf(referrer_path));
    return std::string();
  }
  if (!MayLoad(normal)) {
    ThrowCoded(isolate_, "ERR_AGENT_MODULE_DENIED",
               "import of '" + specifier + "' from " + UrlOf(referrer_path) + " was denied: " +
                   normal + " is neither in the agent's module graph (what the host found from " +
                   "the entry) nor under one of its moduleRoots");
    return std::string();
  }
  return normal;
}

namespace {

bool IsUnder(const std::string& path, const std::string& dir) {
  if (dir.empty() || path.size() <= dir.size() || path.compare(0, dir.size(), dir) != 0) return false;
  return dir.back() == '/' || path[dir.size()] == '/';
}

}  // namespace

bool ModuleLoader::MayLoad(const std::string& path) const {
  namespace fs = std::filesystem;
  const AgentOptions& options = AgentRuntime::From(isolate_)->options();
  if (!options.restrict_modules) return true;
  const std::shared_ptr<const ModuleTable>& table = options.module_table;
  if (table && !table->FormatOf(path).empty()) return true;
  // By real path: a symlink under a root may point out of it.
  std::error_code ec;
  std::string real = fs::canonical(path, ec).string();
  if (ec) return false;
  if (table && !table->FormatOf(real).empty()) return true;
  for (const std::string& root : options.module_roots) {
    if (IsUnder(real, root)) return true;
  }
  // The files next to a built-in (agentcluster:atomics imports its siblings).
  for (const auto& builtin : options.builtin_modules) {
    if (builtin.second.empty() || builtin.second[0] != '/') continue;
    std::string dir = fs::canonical(fs::path(builtin.second).parent_path(), ec).string();
    if (!ec && IsUnder(real, dir)) return true;
  }
  return false;
}

std::string ModuleLoader::TypeAttribute(v8::Local<v8::Context> context,
                                        v8::Local<v8::FixedArray> attributes, int stride) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  if (attributes.IsEmpty()) return std::string();
  for (int i = 0; i + 1 < attributes->Length(); i += stride) {
    v8::Local<v8::Data> key = compat::FixedArrayGet(context, attributes, i);
    v8::Local<v8::Data> value = compat::FixedArrayGet(context, attributes, i + 1);
    if (!key->IsValue() || !value->IsValue()) continue;
    if (ToStdString(isolate, key.As<v8::Value>()) == "type") {
      return ToStdString(isolate, value.As<v8::Value>());
    }
  }
  return std::string();
}

v8::MaybeLocal<v8::Module> ModuleLoader::CompileSynthetic(v8::Local<v8::Context> context,
                                                          const std::string& path,
                                                          const std::string& type) {
  std::string text;
  if (!ReadText(path, &text)) return {};
  v8::Local<v8::Value> value;
  v8::Local<v8::String> string;
  if (!NewString(isolate_, text).ToLocal(&string)) return {};
  if (type == "json") {
    if (!v8::JSON::Parse(context, string).ToLocal(&value)) return {};
  } else {
    value = string;
  }
  std::vector<v8::Local<v8::String>> exports = {Str(isolate_, "default")};
  v8::Local<v8::Module> module = v8::Module::CreateSyntheticModule(
      isolate_, Str(isolate_, PathToFileUrl(path)), compat::ExportNames(exports), EvaluateSynthetic);
  synthetic_values_.emplace(module->GetIdentityHash(),
                            std::make_pair(v8::Global<v8::Module>(isolate_, module),
                                           v8::Global<v8::Value>(isolate_, value)));
  return module;
}

v8::MaybeLocal<v8::Value> ModuleLoader::EvaluateSynthetic(v8::Local<v8::Context> context,
                                                          v8::Local<v8::Module> module) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  ModuleLoader& self = AgentRuntime::From(isolate)->modules();
  auto range = self.synthetic_values_.equal_range(module->GetIdentityHash());
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second.first == module) {
      if (module->SetSyntheticModuleExport(isolate, Str(isolate, "default"),
                                           it->second.second.Get(isolate))
              .IsNothing()) {
        return {};
      }
    }
  }
  return v8::Undefined(isolate);
}

v8::MaybeLocal<v8::Module> ModuleLoader::Compile(v8::Local<v8::Context> context,
                                                 const std::string& path,
                                                 const std::string* source,
                                                 const std::string& type) {
  // One module record per (file, type): the same file may be JS and JSON.
  const std::string key = type.empty() ? path : path + "\n" + type;
  auto cached = by_path_.find(key);
  if (cached != by_path_.end()) return cached->second.Get(isolate_);
  if (!type.empty()) {
    if (type != "json" && type != "text") {
      isolate_->ThrowException(v8::Exception::TypeError(
          Str(isolate_, "Unsupported module type \"" + type + "\" for " + PathToFileUrl(path))));
      return {};
    }
    v8::Local<v8::Module> synthetic;
    if (!CompileSynthetic(context, path, type).ToLocal(&synthetic)) return {};
    by_path_.emplace(key, v8::Global<v8::Module>(isolate_, synthetic));
    path_by_hash_.emplace(synthetic->GetIdentityHash(),
                          std::make_pair(v8::Global<v8::Module>(isolate_, synthetic), path));
    return synthetic;
  }

  if (path == kCjsRuntimePath) return CompileCjsRuntimeModule(context);
  std::string text;
  std::string format = source != nullptr ? std::string("esm") : FormatOf(path);
  if (format == "json") {
    ThrowCoded(isolate_, "ERR_IMPORT_ATTRIBUTE_MISSING",
               "Module " + PathToFileUrl(path) + " needs an import attribute of type \"json\" "
               "(import data from './file.json' with { type: 'json' })");
    return {};
  }
  const std::shared_ptr<const ModuleTable>& table = AgentRuntime::From(isolate_)->options().module_table;
  if (source != nullptr) {
    text = *source;
  } else if (format == "cjs") {
    // A CommonJS file in the ES graph: the host's facade (named exports), or
    // only a default export for a file the host did not see.
    auto facade = table ? table->facades.find(path) : decltype(table->facades.end()){};
    if (table && facade != table->facades.end()) {
      text = facade->second;
    } else {
      std::string quoted;
      v8::Local<v8::String> path_string = Str(isolate_, path);
      v8::Local<v8::String> json;
      if (!v8::JSON::Stringify(context, path_string).ToLocal(&json)) return {};
      quoted = ToStdString(isolate_, json);
      text = std::string("import load from \"") + kCjsRuntimeSpecifier +
             "\";\nexport default load(" + quoted + ");";
    }
  } else if (!ReadText(path, &text)) {
    return {};
  }
  text = async_parents_.Apply(key, std::move(text));
  v8::ScriptOrigin origin = compat::Origin(isolate_, Str(isolate_, UrlOf(path)), /*is_module=*/true);
  v8::Local<v8::String> source_string;
  if (!NewString(isolate_, text).ToLocal(&source_string)) return {};
  // Code another agent compiled from the same text, when there is some.
  const std::string cache_key = source == nullptr ? CodeCacheKey(path, text) : std::string();
  std::shared_ptr<const std::string> cached_code = FindCodeCache(cache_key);
  v8::ScriptCompiler::Source compiler_source(source_string, origin, CachedDataOf(cached_code));
  v8::Local<v8::Module> module;
  if (!v8::ScriptCompiler::CompileModule(isolate_, &compiler_source,
                                         cached_code ? v8::ScriptCompiler::kConsumeCodeCache
                                                     : v8::ScriptCompiler::kNoCompileOptions)
           .ToLocal(&module)) {
    return {};
  }
  if (!cache_key.empty() && (!cached_code || compiler_source.GetCachedData()->rejected)) {
    std::unique_ptr<v8::ScriptCompiler::CachedData> made(
        v8::ScriptCompiler::CreateCodeCache(module->GetUnboundModuleScript()));
    if (made) StoreCodeCache(cache_key, made->data, made->length);
  }
  by_path_.emplace(path, v8::Global<v8::Module>(isolate_, module));
  path_by_hash_.emplace(module->GetIdentityHash(),
                        std::make_pair(v8::Global<v8::Module>(isolate_, module), path));
  fresh_.emplace_back(path, v8::Global<v8::Module>(isolate_, module));
  return module;
}

void ModuleLoader::Forget(const std::string& key) {
  auto entry = by_path_.find(key);
  if (entry == by_path_.end()) return;
  v8::Local<v8::Module> module = entry->second.Get(isolate_);
  auto range = path_by_hash_.equal_range(module->GetIdentityHash());
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second.first == module) {
      path_by_hash_.erase(it);
      break;
    }
  }
  by_path_.erase(entry);
}

const std::string* ModuleLoader::PathOf(v8::Local<v8::Module> module) const {
  auto range = path_by_hash_.equal_range(module->GetIdentityHash());
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second.first == module) return &it->second.second;
  }
  return nullptr;
}

// Compiles the whole static graph before instantiation, so the resolve
// callback only looks modules up.
bool ModuleLoader::LoadDependencies(v8::Local<v8::Context> context, v8::Local<v8::Module> module,
                                    const std::string& path) {
  v8::Local<v8::FixedArray> requests = module->GetModuleRequests();
  for (int i = 0; i < requests->Length(); i++) {
    v8::Local<v8::ModuleRequest> request = compat::FixedArrayGet(context, requests, i).As<v8::ModuleRequest>();
    std::string specifier = ToStdString(isolate_, request->GetSpecifier());
    std::string type = TypeAttribute(context, compat::ImportAttributes(request), 3);
    std::string resolved = Resolve(context, specifier, path);
    if (resolved.empty()) return false;
    if (by_path_.count(type.empty() ? resolved : resolved + "\n" + type)) continue;
    v8::Local<v8::Module> dependency;
    // Synthetic modules (JSON, text, the CommonJS runtime) have no requests.
    if (!Compile(context, resolved, nullptr, type).ToLocal(&dependency) ||
        (type.empty() && dependency->IsSourceTextModule() &&
         !LoadDependencies(context, dependency, resolved))) {
      // Internal wrappers (a pool's job namespace module) are not the user's importers.
      if (path.rfind("agentcluster:internal/", 0) != 0) import_chain_.push_back(UrlOf(path));
      return false;
    }
  }
  return true;
}

v8::MaybeLocal<v8::Module> ModuleLoader::Instantiate(v8::Local<v8::Context> context,
                                                     v8::Local<v8::Module> module) {
  if (module->GetStatus() == v8::Module::kUninstantiated) {
    bool ok = false;
    if (!module->InstantiateModule(context, ResolveCallback).To(&ok) || !ok) return {};
  }
  return module;
}

v8::MaybeLocal<v8::Module> ModuleLoader::Load(v8::Local<v8::Context> context,
                                              const std::string& path, const std::string* source,
                                              ErrorPhase* phase) {
  ErrorPhase ignored = ErrorPhase::kRuntime;
  if (phase == nullptr) phase = &ignored;
  *phase = ErrorPhase::kParse;
  import_chain_.clear();
  fresh_.clear();
  v8::Local<v8::Module> module;
  if (!Compile(context, path, source).ToLocal(&module)) return {};
  *phase = ErrorPhase::kResolution;
  if (module->IsSourceTextModule() && !LoadDependencies(context, module, path)) return {};
  v8::MaybeLocal<v8::Module> instantiated = Instantiate(context, module);
  if (instantiated.IsEmpty()) return {};
  // Only an instantiated graph tells which modules are async (V8 12+, see
  // async_parent_marker.h): those compile once more, marked, and the graph is
  // linked again. The second pass marks nothing new.
  std::vector<std::pair<std::string, v8::Local<v8::Module>>> fresh;
  for (const auto& [key, record] : fresh_) fresh.emplace_back(key, record.Get(isolate_));
  fresh_.clear();
  std::vector<std::string> marked;
  if (async_parents_.MarkAsyncGraphs(fresh, &marked)) {
    for (const std::string& key : marked) Forget(key);
    return Load(context, path, source, phase);
  }
  *phase = ErrorPhase::kRuntime;
  return instantiated;
}

v8::MaybeLocal<v8::Module> ModuleLoader::LoadFile(v8::Local<v8::Context> context,
                                                  const std::string& path, ErrorPhase* phase) {
  return Load(context, path, nullptr, phase);
}

v8::MaybeLocal<v8::Module> ModuleLoader::LoadSource(v8::Local<v8::Context> context,
                                                    const std::string& source,
                                                    const std::string& path, ErrorPhase* phase) {
  return Load(context, path, &source, phase);
}

v8::MaybeLocal<v8::Module> ModuleLoader::ResolveCallback(v8::Local<v8::Context> context,
                                                         v8::Local<v8::String> specifier,
                                                         v8::Local<v8::FixedArray> assertions,
                                                         v8::Local<v8::Module> referrer) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  ModuleLoader& self = AgentRuntime::From(isolate)->modules();
  const std::string* referrer_path = self.PathOf(referrer);
  std::string resolved =
      self.Resolve(context, ToStdString(isolate, specifier), referrer_path ? *referrer_path : "/");
  if (resolved.empty()) return {};
  return self.Compile(context, resolved, nullptr, TypeAttribute(context, assertions, 3));
}

v8::MaybeLocal<v8::Promise> ModuleLoader::Import(v8::Local<v8::Context> context,
                                                 const std::string& specifier,
                                                 const std::string& referrer_url,
                                                 const std::string& type) {
  v8::EscapableHandleScope scope(isolate_);
  v8::Local<v8::Promise::Resolver> resolver;
  if (!v8::Promise::Resolver::New(context).ToLocal(&resolver)) return {};

  // Every step may fail when the agent is being terminated: then return
  // empty (the termination is pending) instead of asserting.
  v8::TryCatch try_catch(isolate_);
  import_chain_.clear();
  auto reject = [&]() -> v8::MaybeLocal<v8::Promise> {
    if (try_catch.HasTerminated() || !try_catch.HasCaught()) return {};
    DescribeLoadFailure(context, try_catch);
    if (resolver->Reject(context, try_catch.Exception()).IsNothing()) return {};
    return scope.Escape(resolver->GetPromise());
  };
  std::string referrer_path = FileUrlToPath(referrer_url);
  std::string path = Resolve(context, specifier, referrer_path);
  v8::Local<v8::Module> module;
  bool loaded = false;
  if (!path.empty()) {
    if (type.empty()) {
      loaded = LoadFile(context, path).ToLocal(&module);
    } else {
      loaded = Compile(context, path, nullptr, type).ToLocal(&module) &&
               Instantiate(context, module).ToLocal(&module);
    }
  }
  if (!loaded) return reject();
  if (module->GetStatus() == v8::Module::kEvaluating) {
    // import() of a module whose evaluation is on the stack (e.g. itself):
    // V8 must not re-enter it, so finish the import from a later task.
    struct Pending {
      v8::Global<v8::Module> module;
      v8::Global<v8::Promise::Resolver> resolver;
    };
    auto pending = std::make_shared<Pending>();
    pending->module.Reset(isolate_, module);
    pending->resolver.Reset(isolate_, resolver);
    WorkItem item;
    item.job = [pending](AgentRuntime& runtime) {
      v8::Isolate* isolate = runtime.isolate();
      v8::HandleScope handle_scope(isolate);
      v8::Local<v8::Context> ctx = runtime.context();
      runtime.modules().FinishImport(ctx, pending->module.Get(isolate),
                                     pending->resolver.Get(isolate));
    };
    AgentRuntime::From(isolate_)->mailbox()->Post(std::move(item));
    return scope.Escape(resolver->GetPromise());
  }
  if (!FinishImport(context, module, resolver)) return reject();
  return scope.Escape(resolver->GetPromise());
}

bool ModuleLoader::FinishImport(v8::Local<v8::Context> context, v8::Local<v8::Module> module,
                                v8::Local<v8::Promise::Resolver> resolver) {
  v8::HandleScope scope(isolate_);
  v8::TryCatch try_catch(isolate_);
  v8::Local<v8::Value> evaluation;
  if (!module->Evaluate(context).ToLocal(&evaluation)) {
    if (try_catch.HasTerminated() || !try_catch.HasCaught()) return false;
    return resolver->Reject(context, try_catch.Exception()).IsJust();
  }
  if (!evaluation->IsPromise()) {
    return resolver->Resolve(context, module->GetModuleNamespace()).IsJust();
  }
  // Settle with the namespace once evaluation (maybe top-level await) ends.
  v8::Local<v8::Array> data = v8::Array::New(isolate_, 2);
  if (data->CreateDataProperty(context, 0, resolver).IsNothing() ||
      data->CreateDataProperty(context, 1, module->GetModuleNamespace()).IsNothing()) {
    return false;
  }
  static constexpr auto settle = [](const v8::FunctionCallbackInfo<v8::Value>& info,
                                    bool fulfilled) {
    v8::Local<v8::Context> ctx = info.GetIsolate()->GetCurrentContext();
    v8::Local<v8::Array> pair = info.Data().As<v8::Array>();
    v8::Local<v8::Value> resolver_value;
    v8::Local<v8::Value> namespace_value;
    if (!pair->Get(ctx, 0).ToLocal(&resolver_value) || !pair->Get(ctx, 1).ToLocal(&namespace_value)) {
      return;
    }
    v8::Local<v8::Promise::Resolver> target = resolver_value.As<v8::Promise::Resolver>();
    if (fulfilled) target->Resolve(ctx, namespace_value).FromMaybe(false);
    else target->Reject(ctx, info[0]).FromMaybe(false);
  };
  v8::Local<v8::Function> on_fulfilled;
  v8::Local<v8::Function> on_rejected;
  v8::Local<v8::Promise> chained;
  if (!v8::Function::New(context, [](const v8::FunctionCallbackInfo<v8::Value>& info) {
         settle(info, true);
       }, data).ToLocal(&on_fulfilled) ||
      !v8::Function::New(context, [](const v8::FunctionCallbackInfo<v8::Value>& info) {
         settle(info, false);
       }, data).ToLocal(&on_rejected) ||
      !evaluation.As<v8::Promise>()->Then(context, on_fulfilled, on_rejected).ToLocal(&chained)) {
    return false;
  }
  return true;
}

v8::MaybeLocal<v8::Promise> ModuleLoader::ImportCallback(v8::Local<v8::Context> context,
                                                         v8::Local<v8::Data> host_defined_options,
                                                         v8::Local<v8::Value> resource_name,
                                                         v8::Local<v8::String> specifier,
                                                         v8::Local<v8::FixedArray> assertions) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  AgentRuntime* runtime = AgentRuntime::From(isolate);
  std::string referrer = resource_name->IsString() ? ToStdString(isolate, resource_name)
                                                   : std::string();
  if (referrer.rfind("file://", 0) != 0) {
    referrer = PathToFileUrl(runtime->options().base_path);
  }
  return runtime->modules().Import(context, ToStdString(isolate, specifier), referrer,
                                   TypeAttribute(context, assertions, 2));
}

void ModuleLoader::ImportMetaCallback(v8::Local<v8::Context> context, v8::Local<v8::Module> module,
                                      v8::Local<v8::Object> meta) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  const std::string* path = AgentRuntime::From(isolate)->modules().PathOf(module);
  if (path == nullptr) return;
  meta->CreateDataProperty(context, Str(isolate, "url"), Str(isolate, PathToFileUrl(*path)))
      .FromMaybe(false);
}

bool ModuleLoader::ReadText(const std::string& path, std::string* out) {
  const std::shared_ptr<const ModuleTable>& table = AgentRuntime::From(isolate_)->options().module_table;
  if (table) {
    auto failure = table->failures.find(path);
    if (failure != table->failures.end()) {
      isolate_->ThrowException(v8::Exception::SyntaxError(Str(isolate_, failure->second)));
      return false;
    }
    auto source = table->sources.find(path);
    if (source != table->sources.end()) {
      *out = source->second;
      return true;
    }
  }
  if (ReadFile(path, out)) return true;
  ThrowModuleNotFound(isolate_, "Cannot read module " + PathToFileUrl(path));
  return false;
}

std::string ModuleLoader::FormatOf(const std::string& path) const {
  const std::shared_ptr<const ModuleTable>& table = AgentRuntime::From(isolate_)->options().module_table;
  if (table) {
    std::string format = table->FormatOf(path);
    if (!format.empty()) return format;
  }
  if (EndsWith(path, ".cjs") || EndsWith(path, ".cts")) return "cjs";
  if (EndsWith(path, ".json")) return "json";
  return "esm";
}

bool ModuleLoader::FromTable(const std::string& importer, char kind, const std::string& specifier,
                             std::string* path) {
  path->clear();
  const std::shared_ptr<const ModuleTable>& table = AgentRuntime::From(isolate_)->options().module_table;
  const std::string* entry = table ? table->Find(importer, kind, specifier) : nullptr;
  if (entry == nullptr) return true;
  if (!entry->empty() && (*entry)[0] == '\x01') {
    size_t split = entry->find('\x01', 1);
    std::string code = split == std::string::npos ? "ERR_MODULE_NOT_FOUND" : entry->substr(1, split - 1);
    std::string text = split == std::string::npos ? entry->substr(1) : entry->substr(split + 1);
    ThrowCoded(isolate_, code, text);
    return false;
  }
  *path = *entry;
  return true;
}

bool ModuleLoader::ResolveRequire(const std::string& specifier, const std::string& from,
                                  std::string* path, std::string* format) {
  if (!FromTable(from, 'r', specifier, path)) return false;
  if (path->empty()) {
    ThrowModuleNotFound(isolate_, "Cannot find module '" + specifier + "' required from " + from +
                                      ": agents resolve require() ahead of time, on the host, "
                                      "for calls with a literal string; this one was not found "
                                      "(a computed name?)");
    return false;
  }
  *format = FormatOf(*path);
  return true;
}

v8::MaybeLocal<v8::Function> ModuleLoader::CompileCommonJs(v8::Local<v8::Context> context,
                                                           const std::string& path) {
  v8::EscapableHandleScope scope(isolate_);
  std::string text;
  if (!ReadText(path, &text)) return {};
  BlankHashbang(&text);
  v8::Local<v8::String> source_string;
  if (!NewString(isolate_, text).ToLocal(&source_string)) return {};
  v8::ScriptOrigin origin = compat::Origin(isolate_, Str(isolate_, PathToFileUrl(path)));
  const std::string cache_key = CodeCacheKey(path, text);
  std::shared_ptr<const std::string> cached_code = FindCodeCache(cache_key);
  v8::ScriptCompiler::Source source(source_string, origin, CachedDataOf(cached_code));
  v8::Local<v8::String> params[] = {Str(isolate_, "exports"), Str(isolate_, "require"),
                                    Str(isolate_, "module"), Str(isolate_, "__filename"),
                                    Str(isolate_, "__dirname")};
  v8::TryCatch try_catch(isolate_);
  v8::Local<v8::Function> wrapper;
  if (!v8::ScriptCompiler::CompileFunction(context, &source, 5, params, 0, nullptr,
                                           cached_code ? v8::ScriptCompiler::kConsumeCodeCache
                                                       : v8::ScriptCompiler::kNoCompileOptions)
           .ToLocal(&wrapper)) {
    if (try_catch.HasCaught() && !try_catch.HasTerminated()) {
      DescribeLoadFailure(context, try_catch);  // file:line:col of a SyntaxError
      try_catch.ReThrow();
    }
    return {};
  }
  if (!cache_key.empty() && (!cached_code || source.GetCachedData()->rejected)) {
    std::unique_ptr<v8::ScriptCompiler::CachedData> made(
        v8::ScriptCompiler::CreateCodeCacheForFunction(wrapper));
    if (made) StoreCodeCache(cache_key, made->data, made->length);
  }
  return scope.Escape(wrapper);
}

v8::MaybeLocal<v8::Value> ModuleLoader::ReadJson(v8::Local<v8::Context> context, const std::string& path) {
  v8::EscapableHandleScope scope(isolate_);
  std::string text;
  if (!ReadText(path, &text)) return {};
  v8::Local<v8::String> string;
  if (!NewString(isolate_, text).ToLocal(&string)) return {};
  v8::TryCatch try_catch(isolate_);
  v8::Local<v8::Value> value;
  if (!v8::JSON::Parse(context, string).ToLocal(&value)) {
    if (!try_catch.HasCaught() || try_catch.HasTerminated()) return {};
    v8::Local<v8::Value> message;
    std::string text_message = "invalid JSON";
    if (try_catch.Exception()->IsObject() &&
        try_catch.Exception().As<v8::Object>()->Get(context, Str(isolate_, "message")).ToLocal(&message)) {
      text_message = ToStdString(isolate_, message);
    }
    try_catch.Reset();
    isolate_->ThrowException(v8::Exception::SyntaxError(Str(isolate_, path + ": " + text_message)));
    return {};
  }
  return scope.Escape(value);
}

v8::MaybeLocal<v8::Module> ModuleLoader::CompileCjsRuntimeModule(v8::Local<v8::Context> context) {
  auto cached = by_path_.find(kCjsRuntimePath);
  if (cached != by_path_.end()) return cached->second.Get(isolate_);
  v8::Local<v8::Function> load;
  if (!NewCjsLoader(context).ToLocal(&load)) return {};
  cjs_load_.Reset(isolate_, load);
  std::vector<v8::Local<v8::String>> exports = {Str(isolate_, "default")};
  v8::Local<v8::Module> module = v8::Module::CreateSyntheticModule(
      isolate_, Str(isolate_, kCjsRuntimeSpecifier), compat::ExportNames(exports), EvaluateSynthetic);
  synthetic_values_.emplace(module->GetIdentityHash(),
                            std::make_pair(v8::Global<v8::Module>(isolate_, module),
                                           v8::Global<v8::Value>(isolate_, load)));
  by_path_.emplace(kCjsRuntimePath, v8::Global<v8::Module>(isolate_, module));
  path_by_hash_.emplace(module->GetIdentityHash(),
                        std::make_pair(v8::Global<v8::Module>(isolate_, module), std::string(kCjsRuntimePath)));
  return module;
}

}  // namespace agentcluster
