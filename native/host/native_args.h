// Argument checks at the boundary of every addon entry point (the exports
// of addon.cc and the AgentHandle methods), in the manner of Node's
// node_messaging.cc: each entry point declares its arguments once, by named
// index, and a call with too few of them or one of the wrong type throws a
// TypeError with a stable `code` instead of reaching an unchecked cast:
//   ERR_MISSING_ARGS      a required argument is absent
//   ERR_INVALID_ARG_TYPE  an argument is not of its declared type
//   ERR_INVALID_ARG_VALUE an argument has the type but not an accepted value
//                         (a number that becomes an integer: see ReadIntegerArg)
//   ERR_INVALID_THIS      a method or accessor called on what is not its class
// (the codes Node's own TypeErrors use). Called by addon.cc and agent_handle.cc.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace agentcluster {

enum class ArgType { kAny, kBoolean, kNumber, kString, kObject, kFunction };

struct ArgSpec {
  const char* name;
  ArgType type;
  bool optional = false;  // may be absent or undefined; otherwise of `type`
};

// One entry point's declaration: its JS name and its arguments, in order.
struct Signature {
  const char* callee;  // as shown in messages, e.g. "AgentHandle.evaluate"
  const ArgSpec* args;
  size_t count;
};

template <size_t N>
constexpr Signature DeclareArgs(const char* callee, const ArgSpec (&args)[N]) {
  return Signature{callee, args, N};
}

constexpr Signature DeclareNoArgs(const char* callee) { return Signature{callee, nullptr, 0}; }

// True when `info` matches `signature`. Otherwise a TypeError (codes above)
// is pending in JS and the caller returns at once. Never throws in C++.
bool CheckArgs(const Napi::CallbackInfo& info, const Signature& signature);

// True when `value` is finite, integral and within [min, max]. NaN fails
// every comparison and Infinity (or a fraction) has no exact integer, so
// a plain range check would let them reach a cast (undefined behaviour).
bool IsIntegerInRange(double value, double min, double max);

// Reads info[index], a number (CheckArgs checked the type), that becomes an
// integer within [min, max] (both at most 2^53, exact as doubles) into *out.
// Otherwise ERR_INVALID_ARG_VALUE is pending in JS, naming `callee` and the
// argument `name`, and it returns false. Every native number argument that
// becomes an integer goes through here.
bool ReadIntegerArg(const Napi::CallbackInfo& info, const char* callee, const char* name, size_t index,
                    uint64_t min, uint64_t max, uint64_t* out);

// Throws a TypeError with `code` and `message` in JS (never in C++).
void ThrowArgError(Napi::Env env, const char* code, const std::string& message);

}  // namespace agentcluster
