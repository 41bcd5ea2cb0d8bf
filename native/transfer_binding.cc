#include "transfer_binding.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "args.h"
#include "can_run_js.h"
#include "errors.h"
#include "limits.h"
#include "transfer.h"

namespace sluice {
namespace {

struct PendingTransfer {
  napi_deferred deferred;
  std::vector<Napi::Reference<Napi::Uint8Array>> buffers;  // keep the sent bytes alive
  int socketKey;
};

// The JS-thread side of one environment's transfers. Shared by the environment's instance data
// and by the thread-safe function's finalizer: Node tears those down in an order of its own, and
// whichever goes first stops the thread, whichever goes last frees this.
class TransferState {
 public:
  explicit TransferState(napi_env env) : env_(env) {}

  // Starts the thread and the thread-safe function on first use; returns 0, or the errno and the
  // failed call.
  int EnsureStarted(const std::shared_ptr<TransferState>& self, const char** syscall);
  napi_value Begin(std::unique_ptr<Transfer> transfer, std::vector<Napi::Reference<Napi::Uint8Array>> buffers);
  uint32_t Cancel(int socketKey);
  void Teardown();

 private:
  static void OnResults(void* self);
  static void CallJs(napi_env env, napi_value callback, void* context, void* data);
  static void Finalize(napi_env env, void* data, void* hint);
  void Deliver();
  void HoldLoop(bool hold);

  const napi_env env_;
  TransferThread thread_{&TransferState::OnResults, this};
  napi_threadsafe_function tsfn_ = nullptr;
  bool loopHeld_ = false;
  uint64_t nextId_ = 1;
  std::unordered_map<uint64_t, PendingTransfer> pending_;
  std::unordered_map<int, uint32_t> pendingBySocket_;
};

// The environment's instance data: deleted by Node at environment teardown.
struct TransferService {
  std::shared_ptr<TransferState> state;
  ~TransferService() { state->Teardown(); }
};

int TransferState::EnsureStarted(const std::shared_ptr<TransferState>& self, const char** syscall) {
  if (thread_.started()) return 0;
  if (tsfn_ == nullptr) {
    napi_value name;
    napi_create_string_utf8(env_, "sluice.transfer", NAPI_AUTO_LENGTH, &name);
    auto* finalizeHolder = new std::shared_ptr<TransferState>(self);
    // No JS function: CallJs settles promises itself. Queue size 0 = unbounded, so the transfer
    // thread never blocks on the JS thread; notices are coalesced to one outstanding anyway.
    napi_status status = napi_create_threadsafe_function(env_, nullptr, nullptr, name, 0, 1, finalizeHolder,
                                                         &TransferState::Finalize, this, &TransferState::CallJs,
                                                         &tsfn_);
    if (status != napi_ok) {
      delete finalizeHolder;
      tsfn_ = nullptr;
      *syscall = "napi_create_threadsafe_function";
      return ENOMEM;  // its only failure short of a broken environment: an allocation
    }
    // Idle transfers must not keep the process alive; HoldLoop refs it while any is pending.
    napi_unref_threadsafe_function(env_, tsfn_);
  }
  return thread_.Start(syscall);
}

napi_value TransferState::Begin(std::unique_ptr<Transfer> transfer,
                                std::vector<Napi::Reference<Napi::Uint8Array>> buffers) {
  uint64_t id = nextId_++;
  transfer->id = id;
  napi_deferred deferred;
  napi_value promise;
  if (napi_create_promise(env_, &deferred, &promise) != napi_ok) return nullptr;
  pendingBySocket_[transfer->socketKey]++;
  pending_.emplace(id, PendingTransfer{deferred, std::move(buffers), transfer->socketKey});
  HoldLoop(true);
  thread_.Submit(std::move(transfer));
  return promise;
}

uint32_t TransferState::Cancel(int socketKey) {
  auto found = pendingBySocket_.find(socketKey);
  if (found == pendingBySocket_.end()) return 0;
  thread_.Cancel(socketKey);
  // Those the thread finishes before it sees the cancel still resolve with their bytes.
  return found->second;
}

void TransferState::Teardown() {
  thread_.Stop();
  pending_.clear();  // releases the buffer references; the promises die with the environment
  pendingBySocket_.clear();
}

void TransferState::OnResults(void* self) {
  // Fails only with napi_closing during teardown, when nobody waits for results any more.
  napi_call_threadsafe_function(static_cast<TransferState*>(self)->tsfn_, nullptr, napi_tsfn_nonblocking);
}

void TransferState::CallJs(napi_env env, napi_value, void* context, void*) {
  if (env == nullptr) return;  // the queue is being drained at teardown, possibly after Finalize
  static_cast<TransferState*>(context)->Deliver();
}

void TransferState::Finalize(napi_env, void* data, void*) {
  auto* holder = static_cast<std::shared_ptr<TransferState>*>(data);
  (*holder)->thread_.Stop();  // the thread must not call the function Node is about to free
  delete holder;
}

void TransferState::Deliver() {
  Napi::Env env(env_);
  Napi::HandleScope scope(env);
  if (!CanRunJs(env_)) return;  // the environment is being torn down: nobody awaits the promises
  for (const TransferResult& result : thread_.TakeResults()) {
    auto found = pending_.find(result.id);
    if (found == pending_.end()) continue;
    napi_deferred deferred = found->second.deferred;
    auto bySocket = pendingBySocket_.find(found->second.socketKey);
    if (--bySocket->second == 0) pendingBySocket_.erase(bySocket);
    pending_.erase(found);
    if (result.errnoValue != 0) {
      napi_reject_deferred(env_, deferred, ErrnoError(env, result.errnoValue, result.syscall).Value());
    } else {
      napi_resolve_deferred(env_, deferred, Napi::Number::New(env, static_cast<double>(result.sentBytes)));
    }
  }
  if (pending_.empty()) HoldLoop(false);
}

void TransferState::HoldLoop(bool hold) {
  if (hold == loopHeld_) return;
  loopHeld_ = hold;
  if (hold) {
    napi_ref_threadsafe_function(env_, tsfn_);
  } else {
    napi_unref_threadsafe_function(env_, tsfn_);
  }
}

TransferState* StateOf(const Napi::CallbackInfo& info) {
  return static_cast<TransferService*>(info.Data())->state.get();
}

// A private duplicate of `fd`, close-on-exec; -1 with errno set on failure.
int Duplicate(int fd) { return fcntl(fd, F_DUPFD_CLOEXEC, 0); }

// Appends a file region to `parts`, its descriptor dup'ed when `duplicate` (for the transfer thread,
// which must not see a closed-and-reused number); false with an exception pending.
bool AddRegion(Napi::Env env, Napi::Value fdValue, Napi::Value positionValue, Napi::Value countValue,
               bool duplicate, std::vector<TransferPart>* parts) {
  int64_t fd;
  int64_t positionBytes;
  int64_t countBytes;
  if (!ToInteger(env, fdValue, "fd", 0, INT_MAX, &fd)) return false;
  if (!ToInteger(env, positionValue, "position", 0, kSafeIntegerMax, &positionBytes)) return false;
  if (!ToInteger(env, countValue, "count", 0, kSafeIntegerMax, &countBytes)) return false;
  if (countBytes == 0) return true;
  TransferPart part;
  part.fileFd = duplicate ? Duplicate(static_cast<int>(fd)) : static_cast<int>(fd);
  if (part.fileFd < 0) {
    ThrowErrno(env, errno, "dup");
    return false;
  }
  part.positionBytes = positionBytes;
  part.remainingBytes = static_cast<uint64_t>(countBytes);
  parts->push_back(part);
  return true;
}

// Reads transmit's parts (Uint8Arrays and {fd, position, count} regions) into `parts`, keeping a
// reference to each buffer in `buffers` when given; false with an exception pending.
bool ReadParts(Napi::Env env, Napi::Value value, bool duplicate, std::vector<TransferPart>* parts,
               std::vector<Napi::Reference<Napi::Uint8Array>>* buffers) {
  if (!value.IsArray()) {
    ThrowTypeError(env, "The \"parts\" argument must be an array");
    return false;
  }
  Napi::Array array = value.As<Napi::Array>();
  for (uint32_t i = 0, count = array.Length(); i < count; i++) {
    Napi::Value part = array.Get(i);
    if (env.IsExceptionPending()) return false;
    if (IsUint8Array(part)) {
      Napi::Uint8Array buffer = part.As<Napi::Uint8Array>();
      if (buffer.ByteLength() == 0) continue;
      TransferPart bufferPart;
      bufferPart.data = buffer.Data();
      bufferPart.remainingBytes = buffer.ByteLength();
      parts->push_back(bufferPart);
      if (buffers != nullptr) buffers->push_back(Napi::Persistent(buffer));
    } else if (part.IsObject()) {
      Napi::Object region = part.As<Napi::Object>();
      Napi::Value fd = region.Get("fd");
      Napi::Value position = region.Get("position");
      Napi::Value countBytes = region.Get("count");
      if (env.IsExceptionPending() || !AddRegion(env, fd, position, countBytes, duplicate, parts)) return false;
    } else {
      ThrowTypeError(env, "Each part must be a Uint8Array or a {fd, position, count} region");
      return false;
    }
  }
  return true;
}

// Validates the socket and the state, and dups the socket; null with an exception pending.
std::unique_ptr<Transfer> NewTransfer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t socketFd;
  if (!ToInteger(env, info[0], "socketFd", 0, INT_MAX, &socketFd)) return nullptr;
  TransferService* service = static_cast<TransferService*>(info.Data());
  const char* syscall = nullptr;
  int error = service->state->EnsureStarted(service->state, &syscall);
  if (error != 0) {
    ThrowErrno(env, error, syscall);
    return nullptr;
  }
  auto transfer = std::make_unique<Transfer>();
  transfer->socketKey = static_cast<int>(socketFd);
  transfer->socketFd = Duplicate(transfer->socketKey);
  if (transfer->socketFd < 0) {
    ThrowErrno(env, errno, "dup");
    return nullptr;
  }
  return transfer;
}

Napi::Value Submit(const Napi::CallbackInfo& info, std::unique_ptr<Transfer> transfer,
                   std::vector<Napi::Reference<Napi::Uint8Array>> buffers) {
  uint64_t totalBytes = 0;
  for (const TransferPart& part : transfer->parts) totalBytes += part.remainingBytes;
  if (static_cast<double>(totalBytes) > kSafeIntegerMax) {
    return ThrowRangeError(info.Env(), "A transfer must total at most 2^53 - 1 bytes");
  }
  napi_value promise = StateOf(info)->Begin(std::move(transfer), std::move(buffers));
  return promise != nullptr ? Napi::Value(info.Env(), promise) : info.Env().Undefined();
}

// sendfile(socketFd, fileFd, position, count): transmit(socketFd, [{fd, position, count}]).
Napi::Value Sendfile(const Napi::CallbackInfo& info) {
  std::unique_ptr<Transfer> transfer = NewTransfer(info);
  if (transfer == nullptr) return info.Env().Undefined();
  if (!AddRegion(info.Env(), info[1], info[2], info[3], true, &transfer->parts)) return info.Env().Undefined();
  return Submit(info, std::move(transfer), {});
}

Napi::Value Transmit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[1].IsArray()) return ThrowTypeError(env, "The \"parts\" argument must be an array");
  std::unique_ptr<Transfer> transfer = NewTransfer(info);
  if (transfer == nullptr) return env.Undefined();
  std::vector<Napi::Reference<Napi::Uint8Array>> buffers;
  if (!ReadParts(env, info[1], true, &transfer->parts, &buffers)) return env.Undefined();
  return Submit(info, std::move(transfer), std::move(buffers));
}

// transmitNow(socketFd, parts, maxBytes): sends the parts in order on this thread, as far as the
// socket takes without blocking and at most maxBytes, and returns the bytes sent. No descriptor is
// duplicated and no thread woken: a response the socket's buffer takes whole (a follower's or a
// consumer's fetch of fresh bytes) costs one sendfile(2) and no round trip through the transfer
// thread (its eventfd wake, then a notice back to the event loop). `sluice e2e-latency`, acks=1,
// one broker, four alternating pairs of 3,000-5,000 records: 1.63-1.91 ms on average, each pair
// 10-13% below the 1.87-2.13 ms through the thread alone. The caller hands what is left to
// transmit(), in order. A socket not in non-blocking mode sends nothing (0), so this never blocks
// the event loop. A reset socket raises SIGPIPE on sendfile(2), which Node ignores. Throws the
// errno of a failed call.
Napi::Value TransmitNow(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t socketFd;
  int64_t maxBytes;
  if (!ToInteger(env, info[0], "socketFd", 0, INT_MAX, &socketFd)) return env.Undefined();
  if (!ToInteger(env, info[2], "maxBytes", 0, kSafeIntegerMax, &maxBytes)) return env.Undefined();
  std::vector<TransferPart> parts;
  if (!ReadParts(env, info[1], false, &parts, nullptr)) return env.Undefined();
  int flags = fcntl(static_cast<int>(socketFd), F_GETFL);
  if (flags < 0) {
    ThrowErrno(env, errno, "fcntl");
    return env.Undefined();
  }
  if ((flags & O_NONBLOCK) == 0) return Napi::Number::New(env, 0);
  size_t partIndex = 0;
  uint64_t sentBytes = 0;
  bool writeCalls = false;
  uint64_t turnBytes = static_cast<uint64_t>(maxBytes);
  int error = 0;
  const char* syscall = nullptr;
  SendStep step = SendParts(static_cast<int>(socketFd), parts, &partIndex, &sentBytes, &writeCalls, &turnBytes,
                            &error, &syscall);
  if (step == SendStep::kFailed) {
    ThrowErrno(env, error, syscall);
    return env.Undefined();
  }
  return Napi::Number::New(env, static_cast<double>(sentBytes));
}

Napi::Value CancelTransfers(const Napi::CallbackInfo& info) {
  int64_t socketFd;
  if (!ToInteger(info.Env(), info[0], "socketFd", 0, INT_MAX, &socketFd)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), StateOf(info)->Cancel(static_cast<int>(socketFd)));
}

}  // namespace

void RegisterTransfer(Napi::Env env, Napi::Object exports) {
  auto* service = new TransferService{std::make_shared<TransferState>(env)};
  env.SetInstanceData(service);
  exports.Set("sendfile", Napi::Function::New(env, Sendfile, "sendfile", service));
  exports.Set("transmit", Napi::Function::New(env, Transmit, "transmit", service));
  exports.Set("transmitNow", Napi::Function::New(env, TransmitNow, "transmitNow", service));
  exports.Set("cancelTransfers", Napi::Function::New(env, CancelTransfers, "cancelTransfers", service));
}

}  // namespace sluice
