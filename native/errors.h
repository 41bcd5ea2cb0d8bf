// Operating-system failures become JS Errors shaped like Node's own fs errors, so callers match
// on one vocabulary: `code` is the errno name as libuv spells it ('ENOENT'; EWOULDBLOCK is
// 'EAGAIN' on Linux, the same number), `errno` is negative as Node reports it (-2 for ENOENT),
// `syscall` names the call, `path` the file when there is one. Message: "open /x/y: No such file
// or directory".
#pragma once

#include <napi.h>

#include <string>

namespace sluice {

// `syscall` may be null (e.g. a cancelled transfer), `path` empty.
Napi::Error ErrnoError(Napi::Env env, int errnoValue, const char* syscall, const std::string& path = {});

// Throws ErrnoError as a pending JS exception; returns undefined for the caller to return.
Napi::Value ThrowErrno(Napi::Env env, int errnoValue, const char* syscall, const std::string& path = {});

}  // namespace sluice
