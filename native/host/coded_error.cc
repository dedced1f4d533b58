#include "host/coded_error.h"

#include "host/addon_state.h"

namespace agentcluster {

Napi::Error CodedError(Napi::Env env, const char* code, const std::string& message) {
  AddonState* state = env.GetInstanceData<AddonState>();
  if (state != nullptr && !state->error_class.IsEmpty()) {
    napi_value args[2];
    napi_value made = nullptr;
    if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &args[0]) == napi_ok &&
        napi_create_string_utf8(env, message.data(), message.size(), &args[1]) == napi_ok &&
        napi_new_instance(env, state->error_class.Value(), 2, args, &made) == napi_ok) {
      return Napi::Error(env, made);
    }
    napi_value ignored;
    napi_get_and_clear_last_exception(env, &ignored);  // fall back to a plain Error
  }
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

}  // namespace agentcluster
