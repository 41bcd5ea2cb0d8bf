#include "file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <string>

#include "args.h"
#include "errors.h"

namespace sluice {
namespace {

// lockFile(path): the descriptor holding the lock. A held lock throws code 'EAGAIN' (EWOULDBLOCK
// has the same number on Linux and libuv names it EAGAIN), syscall 'flock', and the path.
Napi::Value LockFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  if (!ToString(env, info[0], "path", &path)) return env.Undefined();
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return ThrowErrno(env, errno, "open", path);
  while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    int error = errno;
    close(fd);
    return ThrowErrno(env, error, "flock", path);
  }
  return Napi::Number::New(env, fd);
}

Napi::Value UnlockFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t fd;
  if (!ToInteger(env, info[0], "fd", 0, INT_MAX, &fd)) return env.Undefined();
  // close(2) alone would release the lock too; unlocking first keeps the release independent of
  // any other descriptor that may share the open file (a fork's, say).
  if (flock(static_cast<int>(fd), LOCK_UN) != 0) return ThrowErrno(env, errno, "flock");
  if (close(static_cast<int>(fd)) != 0 && errno != EINTR) return ThrowErrno(env, errno, "close");
  return env.Undefined();
}

}  // namespace

void RegisterFileLock(Napi::Env env, Napi::Object exports) {
  exports.Set("lockFile", Napi::Function::New(env, LockFile, "lockFile"));
  exports.Set("unlockFile", Napi::Function::New(env, UnlockFile, "unlockFile"));
}

}  // namespace sluice
