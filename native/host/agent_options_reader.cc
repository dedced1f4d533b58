#include "host/agent_options_reader.h"

#include "agent/host_bridge.h"
#include "host/native_args.h"
#include "shared/module_table.h"

namespace agentcluster {

namespace {

std::string GetString(const Napi::Object& options, const char* key) {
  Napi::Value value = options.Get(key);
  return value.IsString() ? value.As<Napi::String>().Utf8Value() : std::string();
}

// A size given in (possibly fractional) megabytes, in bytes.
size_t GetMegabytes(const Napi::Object& options, const char* key, size_t fallback) {
  Napi::Value value = options.Get(key);
  if (!value.IsNumber()) return fallback;
  double number = value.As<Napi::Number>().DoubleValue();
  // NaN, <= 0 and sizes past 1 TiB (whose byte count would not fit) are
  // never cast; src/options/limits.ts refuses them before they get here.
  return number > 0 && number <= 1024.0 * 1024 ? static_cast<size_t>(number * 1024 * 1024) : fallback;
}

bool GetBool(const Napi::Object& options, const char* key, bool fallback) {
  Napi::Value value = options.Get(key);
  return value.IsBoolean() ? value.As<Napi::Boolean>().Value() : fallback;
}

}  // namespace

HighWaterMark ReadHighWaterMark(const Napi::Object& options) {
  // Positive safe integers from src/flow-control.ts; anything else (NaN,
  // Infinity, a fraction, from a raw caller) keeps the default, never a cast.
  constexpr double kMaxSafeInteger = 9007199254740991.0;
  HighWaterMark mark;
  Napi::Value messages = options.Get("highWaterMessages");
  if (messages.IsNumber() && IsIntegerInRange(messages.As<Napi::Number>().DoubleValue(), 1, kMaxSafeInteger)) {
    mark.messages = static_cast<size_t>(messages.As<Napi::Number>().DoubleValue());
  }
  Napi::Value bytes = options.Get("highWaterBytes");
  if (bytes.IsNumber() && IsIntegerInRange(bytes.As<Napi::Number>().DoubleValue(), 1, kMaxSafeInteger)) {
    mark.bytes = static_cast<size_t>(bytes.As<Napi::Number>().DoubleValue());
  }
  return mark;
}

bool ReadAgentOptions(Napi::Env env, const Napi::Object& options, AgentOptions* out) {
  out->name = GetString(options, "name");
  out->source = GetString(options, "source");
  out->file_path = GetString(options, "filePath");
  out->base_path = GetString(options, "basePath");
  out->source_url = GetString(options, "sourceUrl");
  out->is_module = GetBool(options, "isModule", false);
  out->max_heap_bytes = GetMegabytes(options, "maxHeapMB", 0);
  out->max_young_gen_bytes = GetMegabytes(options, "maxYoungGenMB", 0);
  out->stack_size_bytes = GetMegabytes(options, "stackSizeMB", 4 * 1024 * 1024);
  out->terminated_before_start = GetBool(options, "terminatedBeforeStart", false);
  out->can_block = GetBool(options, "canBlock", true);
  out->heap_snapshot_near_limit_file = GetString(options, "heapSnapshotNearLimitFile");
  out->track_unhandled_rejections =
      GetBool(options, "trackUnhandledRejections", true);
  std::string globals = GetString(options, "globals");
  if (globals == "test262") out->globals = GlobalsKind::kTest262;

  // The host bridge: the names of the functions the agent may call (src/agent/host-bridge.ts
  // took them from the `host` option, own enumerable function-valued properties only).
  Napi::Value host_methods = options.Get("hostMethods");
  if (host_methods.IsArray()) {
    Napi::Array names = host_methods.As<Napi::Array>();
    std::vector<std::string> list;
    for (uint32_t i = 0; i < names.Length(); i++) {
      Napi::Value name = names.Get(i);
      if (name.IsString()) list.push_back(name.As<Napi::String>().Utf8Value());
    }
    HighWaterMark mark = ReadHighWaterMark(options);
    out->host_bridge = std::make_shared<HostBridge>(std::move(list), mark.messages, mark.bytes);
    // Tests only (test/agent-host-bridge.test.ts): make the call ids wrap early.
    Napi::Value id_limit = options.Get("hostCallIdLimit");
    if (id_limit.IsNumber() && IsIntegerInRange(id_limit.As<Napi::Number>().DoubleValue(), 2, 4294967296.0)) {
      out->host_bridge->call_id_limit = static_cast<uint64_t>(id_limit.As<Napi::Number>().DoubleValue());
    }
  }

  Napi::Value builtins = options.Get("builtinModules");
  if (builtins.IsObject()) {
    Napi::Object map = builtins.As<Napi::Object>();
    Napi::Array keys = map.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length(); i++) {
      std::string key = keys.Get(i).ToString().Utf8Value();
      Napi::Value path = map.Get(key);
      if (!path.IsString()) {  // src/native.ts builtinModules() gives only strings
        ThrowArgError(env, "ERR_INVALID_ARG_TYPE",
                      "AgentHandle(options, onEvents): options.builtinModules values must be strings");
        return false;
      }
      out->builtin_modules[key] = path.As<Napi::String>().Utf8Value();
    }
  }

  out->module_table = SharedModuleTable(options.Get("moduleGraph"));
  Napi::Value roots = options.Get("moduleRoots");
  if (roots.IsArray()) {  // validated on the host (src/modules/options.ts): real directories
    Napi::Array list = roots.As<Napi::Array>();
    out->restrict_modules = true;
    for (uint32_t i = 0; i < list.Length(); i++) {
      Napi::Value root = list.Get(i);
      if (root.IsString()) out->module_roots.push_back(root.As<Napi::String>().Utf8Value());
    }
  }
  Napi::Value env_value = options.Get("env");
  if (env_value.IsObject()) {
    Napi::Object env_map = env_value.As<Napi::Object>();
    Napi::Array keys = env_map.GetPropertyNames();
    out->has_env = true;
    for (uint32_t i = 0; i < keys.Length(); i++) {
      Napi::Value key = keys.Get(i);
      Napi::Value entry = env_map.Get(key);
      if (!key.IsString() || !entry.IsString()) continue;  // validated on the JS side
      out->env.emplace_back(key.As<Napi::String>().Utf8Value(),
                                     entry.As<Napi::String>().Utf8Value());
    }
  }
  return true;
}

}  // namespace agentcluster
