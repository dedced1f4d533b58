#include "host/native_args.h"

#include <cmath>

namespace agentcluster {

namespace {

const char* TypeName(ArgType type) {
  switch (type) {
    case ArgType::kAny: return "any";
    case ArgType::kBoolean: return "boolean";
    case ArgType::kNumber: return "number";
    case ArgType::kString: return "string";
    case ArgType::kObject: return "object";
    case ArgType::kFunction: return "function";
  }
  return "any";
}

// typeof, with null and arrays told apart (as Node's messages do).
const char* Describe(const Napi::Value& value) {
  switch (value.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "boolean";
    case napi_number: return "number";
    case napi_string: return "string";
    case napi_symbol: return "symbol";
    case napi_bigint: return "bigint";
    case napi_function: return "function";
    case napi_external: return "external";
    case napi_object: return value.IsArray() ? "array" : "object";
  }
  return "unknown";
}

bool HasType(const Napi::Value& value, ArgType type) {
  switch (type) {
    case ArgType::kAny: return true;
    case ArgType::kBoolean: return value.IsBoolean();
    case ArgType::kNumber: return value.IsNumber();
    case ArgType::kString: return value.IsString();
    case ArgType::kObject: return value.IsObject();  // functions and arrays too, never null
    case ArgType::kFunction: return value.IsFunction();
  }
  return false;
}

std::string ParameterList(const Signature& signature) {
  std::string list;
  for (size_t i = 0; i < signature.count; i++) {
    if (i > 0) list += ", ";
    list += signature.args[i].name;
    if (signature.args[i].optional) list += "?";
  }
  return std::string(signature.callee) + "(" + list + ")";
}

}  // namespace

void ThrowArgError(Napi::Env env, const char* code, const std::string& message) {
  // Raw calls: a failure (the environment is stopping) leaves whatever is
  // pending, and nothing is thrown in C++.
  napi_value code_value = nullptr;
  napi_value message_value = nullptr;
  napi_value error = nullptr;
  if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value) != napi_ok ||
      napi_create_string_utf8(env, message.data(), message.size(), &message_value) != napi_ok ||
      napi_create_type_error(env, code_value, message_value, &error) != napi_ok) {
    return;
  }
  napi_throw(env, error);
}

bool IsIntegerInRange(double value, double min, double max) {
  return std::isfinite(value) && std::trunc(value) == value && value >= min && value <= max;
}

bool ReadIntegerArg(const Napi::CallbackInfo& info, const char* callee, const char* name, size_t index,
                    uint64_t min, uint64_t max, uint64_t* out) {
  Napi::Value value = info[index];
  double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : std::nan("");
  if (IsIntegerInRange(number, static_cast<double>(min), static_cast<double>(max))) {
    *out = static_cast<uint64_t>(number);
    return true;
  }
  // ToString of the number itself: NaN, Infinity, 1.5 and -0 read as JS shows them.
  std::string received = value.IsNumber() ? value.ToString().Utf8Value() : Describe(value);
  ThrowArgError(info.Env(), "ERR_INVALID_ARG_VALUE",
                std::string(callee) + ": the \"" + name + "\" argument must be an integer from " +
                    std::to_string(min) + " to " + std::to_string(max) + "; received " + received);
  return false;
}

bool CheckArgs(const Napi::CallbackInfo& info, const Signature& signature) {
  size_t required = 0;
  for (size_t i = 0; i < signature.count; i++) {
    if (!signature.args[i].optional) required = i + 1;
  }
  if (info.Length() < required) {
    ThrowArgError(info.Env(), "ERR_MISSING_ARGS",
                  ParameterList(signature) + ": the \"" + signature.args[info.Length()].name +
                      "\" argument must be specified (" + std::to_string(required) + " required, " +
                      std::to_string(info.Length()) + " given)");
    return false;
  }
  for (size_t i = 0; i < signature.count; i++) {
    const ArgSpec& spec = signature.args[i];
    Napi::Value value = info[i];
    if (spec.optional && value.IsUndefined()) continue;
    if (HasType(value, spec.type)) continue;
    ThrowArgError(info.Env(), "ERR_INVALID_ARG_TYPE",
                  ParameterList(signature) + ": the \"" + spec.name + "\" argument must be of type " +
                      TypeName(spec.type) + "; received " + Describe(value));
    return false;
  }
  return true;
}

}  // namespace agentcluster
