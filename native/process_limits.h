// descriptorLimit(): the process's RLIMIT_NOFILE, from which the broker derives its partition and
// connection budgets (src/limits.ts). Node raises the soft limit to the hard one at startup, so
// the soft limit is what this process can really open; `ulimit -n` in a parent lowers both.
#pragma once

#include <napi.h>

namespace sluice {

void RegisterProcessLimits(Napi::Env env, Napi::Object exports);

}  // namespace sluice
