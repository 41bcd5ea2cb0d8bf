// lockFile / unlockFile: an exclusive flock(2) on a file, the data directory's guard against a
// second process (or Engine) opening it. The kernel drops the lock when the process dies, even
// by SIGKILL, so a crashed broker never leaves a stale lock behind.
#pragma once

#include <napi.h>

namespace sluice {

void RegisterFileLock(Napi::Env env, Napi::Object exports);

}  // namespace sluice
