#include "transfer.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "limits.h"

namespace sluice {
namespace {

// epoll data of the eventfd; socket keys are descriptor numbers, so never this.
constexpr uint64_t kWakeKey = UINT64_MAX;

}  // namespace

Transfer::~Transfer() {
  if (socketFd >= 0) close(socketFd);
  for (const TransferPart& part : parts) {
    if (part.fileFd >= 0) close(part.fileFd);
  }
}

int TransferThread::Start(const char** syscall) {
  *syscall = "epoll_create1";
  epollFd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epollFd_ < 0) return errno;
  *syscall = "eventfd";
  wakeFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  int error = 0;
  epoll_event wake{};
  wake.events = EPOLLIN;
  wake.data.u64 = kWakeKey;
  if (wakeFd_ < 0 || epoll_ctl(epollFd_, EPOLL_CTL_ADD, wakeFd_, &wake) != 0) {
    error = errno;
  } else {
    *syscall = "pthread_create";
    // The thread starts with every signal blocked: the JS thread handles signals, and a SIGPIPE
    // raised by sendfile(2) on a reset socket (it has no MSG_NOSIGNAL) stays pending here, harmless,
    // even in a host that has not ignored SIGPIPE as Node does.
    sigset_t all;
    sigset_t previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    error = pthread_create(&thread_, nullptr, &TransferThread::Main, this);
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  }
  if (error != 0) {
    if (wakeFd_ >= 0) close(wakeFd_);
    close(epollFd_);
    wakeFd_ = -1;
    epollFd_ = -1;
    return error;
  }
  pthread_setname_np(thread_, "sluice-transfer");
  started_ = true;
  return 0;
}

void TransferThread::Submit(std::unique_ptr<Transfer> transfer) {
  int socketKey = transfer->socketKey;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    commands_.push_back({std::move(transfer), socketKey});
  }
  Wake();
}

void TransferThread::Cancel(int socketKey) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    commands_.push_back({nullptr, socketKey});
  }
  Wake();
}

std::vector<TransferResult> TransferThread::TakeResults() {
  std::vector<TransferResult> results;
  std::lock_guard<std::mutex> lock(mutex_);
  results.swap(results_);
  notified_ = false;
  return results;
}

void TransferThread::Stop() {
  if (!started_ || joined_) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  Wake();
  pthread_join(thread_, nullptr);
  joined_ = true;
  close(wakeFd_);
  close(epollFd_);
  std::lock_guard<std::mutex> lock(mutex_);
  commands_.clear();  // each Transfer closes its descriptors
  results_.clear();
}

void* TransferThread::Main(void* self) {
  static_cast<TransferThread*>(self)->Run();
  return nullptr;
}

void TransferThread::Wake() {
  uint64_t one = 1;
  // Fails only with EAGAIN once the counter nears 2^64, when a wake-up is already pending.
  ssize_t ignored = write(wakeFd_, &one, sizeof(one));
  (void)ignored;
}

void TransferThread::Run() {
  epoll_event events[kEpollEventsPerWaitMax];
  while (true) {
    // Sockets whose turn ran out are still ready: poll without sleeping until they are served.
    int timeoutMs = ready_.empty() ? -1 : 0;
    int count = epoll_wait(epollFd_, events, kEpollEventsPerWaitMax, timeoutMs);
    for (int i = 0; i < count; i++) {
      if (events[i].data.u64 == kWakeKey) {
        uint64_t wakeCount;
        ssize_t ignored = read(wakeFd_, &wakeCount, sizeof(wakeCount));
        (void)ignored;
      } else {
        // EPOLLERR and EPOLLHUP land here too: the next send reports the socket's error.
        MarkReady(static_cast<int>(events[i].data.u64));
      }
    }
    if (!ApplyCommands()) break;
    for (size_t turns = ready_.size(); turns > 0; turns--) {
      int socketKey = ready_.front();
      ready_.pop_front();
      Serve(socketKey);
    }
    Publish();
  }
  CloseAll();
}

bool TransferThread::ApplyCommands() {
  std::vector<Command> commands;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return false;
    commands.swap(commands_);
  }
  for (Command& command : commands) {
    if (command.transfer != nullptr) {
      SocketQueue& queue = queues_[command.socketKey];
      queue.transfers.push_back(std::move(command.transfer));
      if (queue.transfers.size() == 1) MarkReady(command.socketKey);
      continue;
    }
    auto found = queues_.find(command.socketKey);
    if (found == queues_.end()) continue;
    for (std::unique_ptr<Transfer>& transfer : found->second.transfers) Finish(std::move(transfer), ECANCELED, nullptr);
    queues_.erase(found);  // a stale key left in ready_ is skipped by Serve
  }
  return true;
}

void TransferThread::MarkReady(int socketKey) {
  auto found = queues_.find(socketKey);
  if (found == queues_.end() || found->second.ready) return;  // a stale event, or already queued
  found->second.ready = true;
  ready_.push_back(socketKey);
}

void TransferThread::Serve(int socketKey) {
  auto found = queues_.find(socketKey);
  if (found == queues_.end()) return;
  SocketQueue& queue = found->second;
  queue.ready = false;
  uint64_t turnBytes = kTransferTurnBytesMax;
  while (!queue.transfers.empty()) {
    Transfer& transfer = *queue.transfers.front();
    int error = 0;
    const char* syscall = nullptr;
    SendStep step = SendParts(transfer.socketFd, transfer.parts, &transfer.partIndex, &transfer.sentBytes,
                              &transfer.writeCalls, &turnBytes, &error, &syscall);
    if (step == SendStep::kTurnOver) {
      MarkReady(socketKey);
      return;
    }
    if (step == SendStep::kWouldBlock) {
      // One-shot: the event disarms itself, so a socket reported writable is served once, and a
      // socket nobody waits on costs nothing.
      epoll_event writable{};
      writable.events = EPOLLOUT | EPOLLONESHOT;
      writable.data.u64 = static_cast<uint64_t>(socketKey);
      if (epoll_ctl(epollFd_, transfer.inEpoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, transfer.socketFd, &writable) == 0) {
        transfer.inEpoll = true;
        return;
      }
      step = SendStep::kFailed;
      error = errno;
      syscall = "epoll_ctl";
    }
    std::unique_ptr<Transfer> done = std::move(queue.transfers.front());
    queue.transfers.pop_front();
    Finish(std::move(done), step == SendStep::kDone ? 0 : error, syscall);
  }
  queues_.erase(found);
}

SendStep SendParts(int socketFd, std::vector<TransferPart>& parts, size_t* partIndex, uint64_t* sentBytes,
                   bool* writeCalls, uint64_t* turnBytes, int* errnoValue, const char** syscall) {
  while (*partIndex < parts.size()) {
    TransferPart& part = parts[*partIndex];
    if (part.remainingBytes == 0) {
      (*partIndex)++;
      continue;
    }
    if (*turnBytes == 0) return SendStep::kTurnOver;
    size_t wantBytes = std::min({part.remainingBytes, *turnBytes, kSendBytesPerCallMax});
    ssize_t movedNow;
    if (part.fileFd >= 0) {
      off_t offset = part.positionBytes;  // our own offset: the file position is never moved
      *syscall = "sendfile";
      movedNow = sendfile(socketFd, part.fileFd, &offset, wantBytes);
    } else if (!*writeCalls) {
      *syscall = "send";
      movedNow = send(socketFd, part.data, wantBytes, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (movedNow < 0 && errno == ENOTSOCK) {
        *writeCalls = true;
        continue;
      }
    } else {
      *syscall = "write";
      movedNow = write(socketFd, part.data, wantBytes);
    }
    if (movedNow < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return SendStep::kWouldBlock;
      *errnoValue = errno;
      return SendStep::kFailed;
    }
    if (movedNow == 0) {
      // sendfile returns 0 only at end of file: the region asked for bytes the file lacks. A
      // zero-byte send of a non-empty buffer has no meaning; fail rather than spin.
      *errnoValue = part.fileFd >= 0 ? ENODATA : EIO;
      return SendStep::kFailed;
    }
    uint64_t movedBytes = static_cast<uint64_t>(movedNow);
    part.remainingBytes -= movedBytes;
    if (part.fileFd >= 0) {
      part.positionBytes += movedNow;
    } else {
      part.data += movedBytes;
    }
    *sentBytes += movedBytes;
    *turnBytes -= movedBytes;
  }
  return SendStep::kDone;
}

void TransferThread::Finish(std::unique_ptr<Transfer> transfer, int errnoValue, const char* syscall) {
  // Deregister before the dup closes: the registration belongs to the open socket, which the
  // caller's own descriptor keeps alive, so closing ours alone would not remove it.
  if (transfer->inEpoll) epoll_ctl(epollFd_, EPOLL_CTL_DEL, transfer->socketFd, nullptr);
  finished_.push_back({transfer->id, transfer->sentBytes, errnoValue, errnoValue != 0 ? syscall : nullptr});
}

void TransferThread::Publish() {
  if (finished_.empty()) return;
  bool notify;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    results_.insert(results_.end(), finished_.begin(), finished_.end());
    notify = !notified_;
    notified_ = true;
  }
  finished_.clear();
  if (notify) notify_(context_);
}

void TransferThread::CloseAll() {
  queues_.clear();  // each Transfer closes its descriptors
  ready_.clear();
  finished_.clear();
}

}  // namespace sluice
