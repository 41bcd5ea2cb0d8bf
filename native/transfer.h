// The transfer thread: moves buffers and file regions to non-blocking sockets without the JS
// thread. It sends as far as a socket takes, then waits for EPOLLOUT in its own epoll set (libuv
// keeps one watcher per fd, so a second libuv poll handle on a Node socket is unsafe; a separate
// epoll set may watch the same socket). Transfers to one socket run in FIFO order; sockets take
// turns of at most kTransferTurnBytesMax. No JS here: results are handed back through Notify.
#pragma once

#include <pthread.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace sluice {

// A buffer (fileFd < 0: data, remainingBytes) or a file region (fileFd, positionBytes, remainingBytes).
struct TransferPart {
  int fileFd = -1;  // a dup owned by the transfer
  int64_t positionBytes = 0;
  const uint8_t* data = nullptr;  // kept alive by the JS side until the result is delivered
  uint64_t remainingBytes = 0;
};

// Owns its descriptors: destroying a Transfer closes them.
struct Transfer {
  Transfer() = default;
  ~Transfer();
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  uint64_t id = 0;
  int socketKey = -1;  // the caller's socket fd number: the FIFO queue this transfer joins
  int socketFd = -1;   // a dup owned by the transfer, so a closed-and-reused number is never written
  std::vector<TransferPart> parts;
  size_t partIndex = 0;
  uint64_t sentBytes = 0;
  bool inEpoll = false;     // socketFd is registered in the epoll set
  bool writeCalls = false;  // send(2) said ENOTSOCK (a pipe): use write(2)
};

// How far one pass of SendParts got.
enum class SendStep { kDone, kFailed, kWouldBlock, kTurnOver };

// Sends parts[*partIndex...] in order to a non-blocking socket until they are all sent (kDone),
// the socket takes no more (kWouldBlock), *turnBytes runs out (kTurnOver) or a call fails
// (kFailed, with *errnoValue and *syscall). Advances the parts, *partIndex and *sentBytes past what
// went; *writeCalls turns on (write(2) instead of send(2)) for a descriptor that is not a socket.
// Used by the transfer thread, and on the JS thread by transmitNow.
SendStep SendParts(int socketFd, std::vector<TransferPart>& parts, size_t* partIndex, uint64_t* sentBytes,
                   bool* writeCalls, uint64_t* turnBytes, int* errnoValue, const char** syscall);

struct TransferResult {
  uint64_t id;
  uint64_t sentBytes;
  int errnoValue;       // 0 on success
  const char* syscall;  // the failing call, or null (ECANCELED)
};

class TransferThread {
 public:
  // Called on the transfer thread when results are waiting and the last notice was taken.
  using Notify = void (*)(void* context);

  TransferThread(Notify notify, void* context) : notify_(notify), context_(context) {}
  ~TransferThread() { Stop(); }
  TransferThread(const TransferThread&) = delete;
  TransferThread& operator=(const TransferThread&) = delete;

  // Creates the epoll set, the eventfd and the thread; returns 0, or the errno and the failed call.
  int Start(const char** syscall);
  bool started() const { return started_; }
  void Submit(std::unique_ptr<Transfer> transfer);
  // Fails every transfer queued for the socket key with ECANCELED.
  void Cancel(int socketKey);
  std::vector<TransferResult> TakeResults();
  // Stops and joins the thread and closes every descriptor it owns; no result is reported after.
  // Idempotent.
  void Stop();

 private:
  struct Command {
    std::unique_ptr<Transfer> transfer;  // null for a cancel
    int socketKey;
  };
  struct SocketQueue {
    std::deque<std::unique_ptr<Transfer>> transfers;
    bool ready = false;  // in ready_
  };
  static void* Main(void* self);
  void Run();
  void Wake();
  bool ApplyCommands();  // false once stopping
  void MarkReady(int socketKey);
  void Serve(int socketKey);
  void Finish(std::unique_ptr<Transfer> transfer, int errnoValue, const char* syscall);
  void Publish();
  void CloseAll();

  const Notify notify_;
  void* const context_;
  bool started_ = false;
  bool joined_ = false;
  pthread_t thread_{};
  int epollFd_ = -1;
  int wakeFd_ = -1;

  std::mutex mutex_;  // guards the four members below, shared with the JS thread
  std::vector<Command> commands_;
  std::vector<TransferResult> results_;
  bool notified_ = false;  // a notice is out and its results not yet taken
  bool stopping_ = false;

  // Owned by the transfer thread alone.
  std::unordered_map<int, SocketQueue> queues_;
  std::deque<int> ready_;  // socket keys with a transfer that can make progress now
  std::vector<TransferResult> finished_;
};

}  // namespace sluice
