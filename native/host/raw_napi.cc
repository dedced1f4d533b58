#include "host/raw_napi.h"

namespace agentcluster {

void ClearPendingException(napi_env env) {
  bool pending = false;
  napi_value ignored;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &ignored);
}

bool CanCallIntoJs(napi_env env) {
  napi_value array;
  if (napi_create_array(env, &array) != napi_ok) return false;
  if (napi_set_element(env, array, 0, array) == napi_ok) return true;
  ClearPendingException(env);
  return false;
}

bool CallRaw(napi_env env, napi_value receiver, napi_value fn, size_t argc, const napi_value* argv) {
  napi_value ignored;
  if (napi_call_function(env, receiver, fn, argc, argv, &ignored) == napi_ok) return true;
  ClearPendingException(env);
  return false;
}

}  // namespace agentcluster
