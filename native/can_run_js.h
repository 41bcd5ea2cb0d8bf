// Whether JS can still run in this environment. While Node tears a worker down it still runs the
// event loop to close handles (Environment::CleanupHandles), so a thread-pool completion or a
// thread-safe function call may reach us when every napi call that enters JS fails with
// napi_pending_exception; settling a promise then must be skipped, not attempted (a failed throw
// is fatal). The probe is node-addon-api's own test: that status with no exception pending.
#pragma once

#include <node_api.h>

namespace sluice {

inline bool CanRunJs(napi_env env) {
  napi_value object;
  napi_value undefined;
  if (napi_create_object(env, &object) != napi_ok || napi_get_undefined(env, &undefined) != napi_ok) return false;
  return napi_set_named_property(env, object, "probe", undefined) == napi_ok;
}

}  // namespace sluice
