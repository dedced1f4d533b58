#include "agent/snapshot/snapshot_verifier.h"

#include <memory>

#include "agent/mailbox.h"
#include "agent/platform_delegate.h"
#include "shared/v8_compat.h"

namespace agentcluster {

const char kProbesPassedLine[] = "probes:ok";

namespace {

// Sorted lines, so that only content (not walk order) is compared.
constexpr const char kFingerprintScript[] = R"JS(
(() => {
  const lines = [];
  const seen = new Set();
  const describe = (v) => {
    const t = typeof v;
    if (v === null) return 'null';
    if (t === 'function') return 'f:' + v.name + '/' + v.length;
    if (t === 'object') return 'o';
    return t + ':' + String(v);
  };
  const walk = (obj, path, depth) => {
    if (obj === null || (typeof obj !== 'object' && typeof obj !== 'function')) return;
    if (seen.has(obj) || depth > 4) return;
    seen.add(obj);
    for (const key of Reflect.ownKeys(obj)) {
      const d = Reflect.getOwnPropertyDescriptor(obj, key);
      const name = path + '.' + String(key);
      if ('value' in d) {
        lines.push(name + ' ' + (d.writable ? 'w' : '-') + (d.enumerable ? 'e' : '-') +
                   (d.configurable ? 'c' : '-') + ' ' + describe(d.value));
        walk(d.value, name, depth + 1);
      } else {
        lines.push(name + ' accessor ' + (d.enumerable ? 'e' : '-') + (d.configurable ? 'c' : '-') +
                   ' ' + describe(d.get) + ' ' + describe(d.set));
      }
    }
    walk(Object.getPrototypeOf(obj), path + '.[[Prototype]]', depth + 1);
  };
  walk(globalThis, 'globalThis', 0);
  lines.sort();
  const probes = [
    Math.E === 2.718281828459045,
    Math.PI === 3.141592653589793,
    Number.MAX_SAFE_INTEGER === 9007199254740991,
    JSON.stringify({ a: [1, 'x', null] }) === '{"a":[1,"x",null]}',
    /a(b+)c/.exec('xabbc')[1] === 'bb',
    (2n ** 64n).toString() === '18446744073709551616',
    new Proxy({}, { get: () => 7 }).anything === 7,
    [3, 1, 2].sort().join() === '1,2,3',
    'abc'.toUpperCase() === 'ABC',
    String(Symbol.iterator) === 'Symbol(Symbol.iterator)',
    typeof Atomics.wait === 'function' && typeof SharedArrayBuffer === 'function',
    new Map([[1, 2]]).get(1) === 2,
    Object.keys(Math).length === 0 && Object.getOwnPropertyNames(Math).includes('E'),
  ];
  lines.push(probes.every(Boolean) ? 'probes:ok' : 'probes:failed ' + probes.map(Number).join(''));
  return lines.join('\n');
})()
)JS";

std::string RunFingerprint(v8::Isolate* isolate) {
  v8::Locker locker(isolate);
  v8::Isolate::Scope isolate_scope(isolate);
  v8::HandleScope handle_scope(isolate);
  v8::Local<v8::Context> context = v8::Context::New(isolate);
  if (context.IsEmpty()) return "";
  v8::Context::Scope context_scope(context);
  v8::TryCatch try_catch(isolate);
  v8::Local<v8::String> source;
  v8::Local<v8::Script> script;
  v8::Local<v8::Value> result;
  if (!v8::String::NewFromUtf8(isolate, kFingerprintScript).ToLocal(&source) ||
      !v8::Script::Compile(context, source).ToLocal(&script) ||
      !script->Run(context).ToLocal(&result) || !result->IsString()) {
    return "";
  }
  v8::String::Utf8Value text(isolate, result);
  return *text == nullptr ? "" : std::string(*text, text.length());
}

}  // namespace

std::string SnapshotFingerprint(node::MultiIsolatePlatform* platform,
                                const v8::Isolate::CreateParams& params) {
  auto mailbox = std::make_shared<Mailbox>();
  AgentPlatformDelegate delegate(mailbox);
  v8::Isolate* isolate = v8::Isolate::Allocate();
  platform->RegisterIsolate(isolate, &delegate);
  v8::Isolate::Initialize(isolate, params);
  std::string fingerprint = RunFingerprint(isolate);
  mailbox->Close();
  compat::DisposeIsolate(platform, isolate);
  return fingerprint;
}

}  // namespace agentcluster
