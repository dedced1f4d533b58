#include "agent/cjs_runtime.h"

#include <string>

#include "agent/agent_runtime.h"
#include "agent/module_loader.h"
#include "shared/v8_compat.h"
#include "shared/v8_util.h"

namespace agentcluster {

namespace {

// Called with the natives below; returns load(path). Plain JavaScript so that
// the module records are ordinary objects user code can inspect, as in Node.
constexpr const char* kRuntimeSource = R"JS(
'use strict';
const cache = { __proto__: null };
const apply = Reflect.apply;
const push = (list, item) => { list[list.length] = item; };
function dirname(path) {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}
function requireEsmError(path, from) {
  const error = new Error('require() of ES module ' + path + ' from ' + from + ' is not supported in agents (as in Node 20): use import() or make the importer an ES module');
  error.code = 'ERR_REQUIRE_ESM';
  return error;
}
let main;
function makeRequire(module) {
  function require(id) {
    if (typeof id !== 'string' || id === '') {
      const error = new TypeError('The "id" argument must be a non-empty string');
      error.code = 'ERR_INVALID_ARG_VALUE';
      throw error;
    }
    const found = resolve(id, module.filename);
    if (found[1] === 'esm') throw requireEsmError(found[0], module.filename);
    const child = load(found[0], found[1], module);
    return child.exports;
  }
  require.resolve = function resolveId(id) {
    if (typeof id !== 'string') throw new TypeError('The "id" argument must be a string');
    return resolve(id, module.filename)[0];
  };
  require.cache = cache;
  require.main = main;
  return require;
}
function load(path, format, parent) {
  const cached = cache[path];
  if (cached !== undefined) return cached;
  const module = {
    id: main === undefined ? '.' : path, filename: path, path: dirname(path), exports: {},
    loaded: false, children: [], paths: [], parent,
  };
  module.require = makeRequire(module);
  if (main === undefined) main = module;
  if (parent !== undefined) push(parent.children, module);
  cache[path] = module;
  try {
    if (format === 'json') {
      module.exports = json(path);
    } else {
      const wrapper = compile(path);
      apply(wrapper, module.exports, [module.exports, module.require, module, path, module.path]);
    }
  } catch (error) {
    if (cache[path] === module) delete cache[path];
    throw error;
  }
  module.loaded = true;
  return module;
}
return function loadCommonJs(path) {
  return load(path, 'cjs', undefined).exports;
};
)JS";

ModuleLoader& Loader(const v8::FunctionCallbackInfo<v8::Value>& info) {
  return AgentRuntime::From(info.GetIsolate())->modules();
}

// compile(path): the module wrapper function of a CommonJS file.
void Compile(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  if (!info[0]->IsString()) return ThrowTypeError(isolate, "compile(path)");
  v8::Local<v8::Function> wrapper;
  if (Loader(info).CompileCommonJs(isolate->GetCurrentContext(), ToStdString(isolate, info[0]))
          .ToLocal(&wrapper)) {
    info.GetReturnValue().Set(wrapper);
  }
}

// resolve(specifier, fromPath): [path, format] through the module table.
void Resolve(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  if (!info[0]->IsString() || !info[1]->IsString()) return ThrowTypeError(isolate, "resolve(id, from)");
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  std::string path;
  std::string format;
  if (!Loader(info).ResolveRequire(ToStdString(isolate, info[0]), ToStdString(isolate, info[1]),
                                   &path, &format)) {
    return;  // thrown
  }
  v8::Local<v8::Array> pair = v8::Array::New(isolate, 2);
  if (pair->Set(context, 0, Str(isolate, path)).IsNothing() ||
      pair->Set(context, 1, Str(isolate, format)).IsNothing()) {
    return;
  }
  info.GetReturnValue().Set(pair);
}

// json(path): the parsed JSON file.
void Json(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  if (!info[0]->IsString()) return ThrowTypeError(isolate, "json(path)");
  v8::Local<v8::Value> value;
  if (Loader(info).ReadJson(isolate->GetCurrentContext(), ToStdString(isolate, info[0])).ToLocal(&value)) {
    info.GetReturnValue().Set(value);
  }
}

}  // namespace

v8::MaybeLocal<v8::Function> NewCjsLoader(v8::Local<v8::Context> context) {
  v8::Isolate* isolate = compat::IsolateOf(context);
  v8::EscapableHandleScope scope(isolate);
  v8::Local<v8::String> names[] = {Str(isolate, "compile"), Str(isolate, "resolve"),
                                   Str(isolate, "json")};
  v8::ScriptOrigin origin = compat::Origin(isolate, Str(isolate, "agentcluster:internal/cjs"));
  v8::ScriptCompiler::Source source(Str(isolate, kRuntimeSource), origin);
  v8::Local<v8::Function> factory;
  if (!v8::ScriptCompiler::CompileFunction(context, &source, 3, names, 0, nullptr)
           .ToLocal(&factory)) {
    return {};
  }
  v8::Local<v8::Function> natives[3];
  v8::FunctionCallback callbacks[] = {Compile, Resolve, Json};
  for (int i = 0; i < 3; i++) {
    if (!v8::Function::New(context, callbacks[i], v8::Local<v8::Value>(), 1,
                           v8::ConstructorBehavior::kThrow)
             .ToLocal(&natives[i])) {
      return {};
    }
  }
  v8::Local<v8::Value> args[] = {natives[0], natives[1], natives[2]};
  v8::Local<v8::Value> load;
  if (!factory->Call(context, v8::Undefined(isolate), 3, args).ToLocal(&load) || !load->IsFunction()) {
    return {};
  }
  return scope.Escape(load.As<v8::Function>());
}

}  // namespace agentcluster
