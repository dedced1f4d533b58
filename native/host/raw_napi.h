// Raw N-API calls for paths where the environment may be stopping (a
// worker_thread being terminated): they report failure instead of letting
// node-addon-api build an error it cannot, which would be fatal. Used by
// AgentHandle (event drain) and HostPortOwner (port dispatch).
#pragma once

#include <napi.h>

namespace agentcluster {

// Drops an exception a failed raw N-API call left pending: nobody can take it.
void ClearPendingException(napi_env env);

// False once the environment can no longer call into JS (a worker_thread
// being terminated). Then every N-API call that may run JS fails, and
// node-addon-api turns the failure into an error it cannot build, which is
// fatal for the process: so ask first, with raw calls that only report.
bool CanCallIntoJs(napi_env env);

// Calls `fn` with raw N-API (see CanCallIntoJs for why not node-addon-api's
// Call); false, with nothing left pending, when the call did not complete.
bool CallRaw(napi_env env, napi_value receiver, napi_value fn, size_t argc, const napi_value* argv);

}  // namespace agentcluster
