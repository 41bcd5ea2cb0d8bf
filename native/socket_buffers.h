// setSocketBuffers(fd, sendBytes, receiveBytes): a socket's SO_SNDBUF and SO_RCVBUF, as Kafka's
// socket.send.buffer.bytes and socket.receive.buffer.bytes set them (-1 leaves the OS's, which
// autotunes). Node's net module sets neither on TCP sockets, so the addon does it on the
// descriptor Node holds.
#pragma once

#include <napi.h>

namespace sluice {

void RegisterSocketBuffers(Napi::Env env, Napi::Object exports);

}  // namespace sluice
