#include "socket_buffers.h"

#include <sys/socket.h>

#include <cerrno>
#include <climits>
#include <cstdint>

#include "args.h"
#include "errors.h"

namespace sluice {
namespace {

// setSocketBuffers(fd, sendBytes, receiveBytes): each -1 leaves that buffer as it is. Linux doubles
// the value for its bookkeeping, as it does for Java's setSendBufferSize.
Napi::Value SetSocketBuffers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t fd;
  int64_t sendBytes;
  int64_t receiveBytes;
  if (!ToInteger(env, info[0], "fd", 0, INT_MAX, &fd) || !ToInteger(env, info[1], "sendBytes", -1, INT_MAX, &sendBytes) ||
      !ToInteger(env, info[2], "receiveBytes", -1, INT_MAX, &receiveBytes)) {
    return env.Undefined();
  }
  const struct {
    int option;
    int64_t bytes;
  } buffers[] = {{SO_SNDBUF, sendBytes}, {SO_RCVBUF, receiveBytes}};
  for (const auto& buffer : buffers) {
    if (buffer.bytes < 0) continue;
    const int value = static_cast<int>(buffer.bytes);
    if (setsockopt(static_cast<int>(fd), SOL_SOCKET, buffer.option, &value, sizeof value) != 0) return ThrowErrno(env, errno, "setsockopt");
  }
  return env.Undefined();
}

}  // namespace

void RegisterSocketBuffers(Napi::Env env, Napi::Object exports) {
  exports.Set("setSocketBuffers", Napi::Function::New(env, SetSocketBuffers, "setSocketBuffers"));
}

}  // namespace sluice
