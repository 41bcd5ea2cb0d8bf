#include "process_limits.h"

#include <sys/resource.h>

#include <cerrno>

#include "errors.h"

namespace sluice {
namespace {

// RLIM_INFINITY does not fit a double exactly; report it as the largest safe integer instead.
double LimitValue(rlim_t value) {
  constexpr double kSafeIntegerMax = 9007199254740991.0;
  return value == RLIM_INFINITY ? kSafeIntegerMax : static_cast<double>(value);
}

// descriptorLimit() -> { soft, hard }
Napi::Value DescriptorLimit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return ThrowErrno(env, errno, "getrlimit");
  Napi::Object result = Napi::Object::New(env);
  result.Set("soft", LimitValue(limit.rlim_cur));
  result.Set("hard", LimitValue(limit.rlim_max));
  return result;
}

}  // namespace

void RegisterProcessLimits(Napi::Env env, Napi::Object exports) {
  exports.Set("descriptorLimit", Napi::Function::New(env, DescriptorLimit, "descriptorLimit"));
}

}  // namespace sluice
