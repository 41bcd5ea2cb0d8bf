#include "segment_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "args.h"
#include "errors.h"
#include "limits.h"
#include "promise_worker.h"

namespace sluice {
namespace {

// Reads until `lengthBytes` or end of file; returns the bytes read, or -errno.
int64_t ReadFully(int fd, uint8_t* data, size_t lengthBytes, int64_t positionBytes) {
  size_t doneBytes = 0;
  while (doneBytes < lengthBytes) {
    ssize_t n = pread(fd, data + doneBytes, lengthBytes - doneBytes, positionBytes + doneBytes);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (n == 0) break;
    doneBytes += static_cast<size_t>(n);
  }
  return static_cast<int64_t>(doneBytes);
}

// Writes every iovec at `positionBytes`, IOV_MAX at a time, resuming after partial writes.
// Consumes the iovecs; returns 0 or the errno.
int WriteFully(int fd, iovec* iovecs, size_t count, int64_t positionBytes) {
  size_t first = 0;
  while (first < count) {
    int batch = static_cast<int>(std::min<size_t>(count - first, kIovecsPerWriteMax));
    ssize_t n = pwritev(fd, iovecs + first, batch, positionBytes);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;  // a regular file never takes 0 of a non-empty write; don't spin
    positionBytes += n;
    size_t writtenBytes = static_cast<size_t>(n);
    while (writtenBytes > 0) {
      if (writtenBytes >= iovecs[first].iov_len) {
        writtenBytes -= iovecs[first].iov_len;
        first++;
      } else {
        iovecs[first].iov_base = static_cast<uint8_t*>(iovecs[first].iov_base) + writtenBytes;
        iovecs[first].iov_len -= writtenBytes;
        writtenBytes = 0;
      }
    }
  }
  return 0;
}

class ReadWorker : public PromiseWorker {
 public:
  ReadWorker(Napi::Env env, std::shared_ptr<FileHandle> file, Napi::Uint8Array target, uint8_t* data,
             size_t lengthBytes, int64_t positionBytes)
      : PromiseWorker(env, "sluice.SegmentFile.read", "read", file->path()),
        file_(std::move(file)),
        target_(Napi::Persistent(target)),
        data_(data),
        lengthBytes_(lengthBytes),
        positionBytes_(positionBytes) {}

 private:
  void Execute() override {
    int64_t result = ReadFully(file_->fd(), data_, lengthBytes_, positionBytes_);
    if (result < 0) {
      errnoValue_ = static_cast<int>(-result);
    } else {
      readBytes_ = result;
    }
  }
  Napi::Value Result(Napi::Env env) override { return Napi::Number::New(env, static_cast<double>(readBytes_)); }

  const std::shared_ptr<FileHandle> file_;
  const Napi::Reference<Napi::Uint8Array> target_;  // keeps `data_` alive until OnOK
  uint8_t* const data_;
  const size_t lengthBytes_;
  const int64_t positionBytes_;
  int64_t readBytes_ = 0;
};

class SyncWorker : public PromiseWorker {
 public:
  SyncWorker(Napi::Env env, std::shared_ptr<FileHandle> file)
      : PromiseWorker(env, "sluice.SegmentFile.sync", "fdatasync", file->path()), file_(std::move(file)) {}

 private:
  void Execute() override {
    if (fdatasync(file_->fd()) != 0) errnoValue_ = errno;
  }

  const std::shared_ptr<FileHandle> file_;
};

}  // namespace

Napi::Function SegmentFile::Define(Napi::Env env) {
  return DefineClass(env, "SegmentFile",
                     {
                         InstanceAccessor<&SegmentFile::Path>("path"),
                         InstanceAccessor<&SegmentFile::Fd>("fd"),
                         InstanceMethod<&SegmentFile::Size>("size"),
                         InstanceMethod<&SegmentFile::Append>("append"),
                         InstanceMethod<&SegmentFile::Preallocate>("preallocate"),
                         InstanceMethod<&SegmentFile::ReadSync>("readSync"),
                         InstanceMethod<&SegmentFile::Read>("read"),
                         InstanceMethod<&SegmentFile::Sync>("sync"),
                         InstanceMethod<&SegmentFile::Truncate>("truncate"),
                         InstanceMethod<&SegmentFile::Map>("map"),
                         InstanceMethod<&SegmentFile::Close>("close"),
                     });
}

SegmentFile::SegmentFile(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SegmentFile>(info) {
  Napi::Env env = info.Env();
  if (!ToString(env, info[0], "path", &path_)) return;
  bool create = true;
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    if (!info[1].IsObject()) {
      ThrowTypeError(env, "The \"options\" argument must be of type object");
      return;
    }
    Napi::Object options = info[1].As<Napi::Object>();
    Napi::Value createValue = options.Get("create");
    Napi::Value readOnlyValue = options.Get("readOnly");
    if (env.IsExceptionPending()) return;
    if (!createValue.IsUndefined()) create = createValue.ToBoolean();
    if (!readOnlyValue.IsUndefined()) readOnly_ = readOnlyValue.ToBoolean();
  }
  // A read-only open never creates: an empty file nobody can append to would only hide a bad path.
  int flags = O_CLOEXEC | (readOnly_ ? O_RDONLY : O_RDWR | (create ? O_CREAT : 0));
  int fd = open(path_.c_str(), flags, 0666);  // 0666 & umask, as Node's fs.open
  if (fd < 0) {
    ThrowErrno(env, errno, "open", path_);
    return;
  }
  struct stat status;
  if (fstat(fd, &status) != 0) {
    int error = errno;
    close(fd);
    ThrowErrno(env, error, "fstat", path_);
    return;
  }
  file_ = std::make_shared<FileHandle>(fd, path_);
  endBytes_ = status.st_size;
}

bool SegmentFile::CheckUsable(Napi::Env env, const char* syscall, bool write) {
  if (file_ != nullptr && !(write && readOnly_)) return true;
  ThrowErrno(env, EBADF, syscall, path_);
  return false;
}

Napi::Value SegmentFile::Path(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), path_); }

Napi::Value SegmentFile::Fd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), file_ != nullptr ? file_->fd() : -1);
}

Napi::Value SegmentFile::Size(const Napi::CallbackInfo& info) {
  if (!CheckUsable(info.Env(), "size", false)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), static_cast<double>(endBytes_));
}

bool SegmentFile::CollectBuffers(Napi::Env env, Napi::Value buffers, uint64_t* totalBytes) {
  iovecs_.clear();
  *totalBytes = 0;
  auto add = [&](Napi::Uint8Array buffer) {
    // Empty buffers are dropped: a zero-length iovec would also stall the partial-write loop.
    if (buffer.ByteLength() == 0) return;
    iovecs_.push_back({buffer.Data(), buffer.ByteLength()});
    *totalBytes += buffer.ByteLength();
  };
  if (IsUint8Array(buffers)) {
    add(buffers.As<Napi::Uint8Array>());
    return true;
  }
  if (!buffers.IsArray()) {
    ThrowTypeError(env, "The \"buffers\" argument must be a Uint8Array or an array of them");
    return false;
  }
  Napi::Array list = buffers.As<Napi::Array>();
  uint32_t count = list.Length();
  for (uint32_t i = 0; i < count; i++) {
    Napi::Value element = list.Get(i);
    if (env.IsExceptionPending()) return false;
    Napi::Uint8Array buffer;
    if (!ToUint8Array(env, element, "buffers[i]", &buffer)) return false;
    add(buffer);
  }
  return true;
}

Napi::Value SegmentFile::Append(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env, "pwritev", true)) return env.Undefined();
  uint64_t totalBytes;
  if (!CollectBuffers(env, info[0], &totalBytes)) return env.Undefined();
  if (static_cast<double>(endBytes_) + static_cast<double>(totalBytes) > kSafeIntegerMax) {
    return ThrowRangeError(env, "append: the file would pass 2^53 - 1 bytes");
  }
  int64_t startBytes = endBytes_;
  int error = WriteFully(file_->fd(), iovecs_.data(), iovecs_.size(), startBytes);
  if (error != 0) {
    // A partial write (e.g. ENOSPC halfway) would leave bytes past the end that a reopen counts as
    // data; cut them so the file ends where the tracked end says. Best effort: we report `error`.
    int ignored = ftruncate(file_->fd(), startBytes);
    (void)ignored;
    return ThrowErrno(env, error, "pwritev", path_);
  }
  endBytes_ += static_cast<int64_t>(totalBytes);
  return Napi::Number::New(env, static_cast<double>(startBytes));
}

Napi::Value SegmentFile::Preallocate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t bytes;
  if (!ToInteger(env, info[0], "bytes", 0, kSafeIntegerMax, &bytes)) return env.Undefined();
  if (!CheckUsable(env, "fallocate", true)) return env.Undefined();
  if (bytes == 0) return env.Undefined();  // fallocate rejects a zero length with EINVAL
  while (fallocate(file_->fd(), FALLOC_FL_KEEP_SIZE, 0, bytes) != 0) {
    if (errno == EINTR) continue;
    // Reserving blocks only saves fragmentation; filesystems without it (some NFS, older ZFS) still work.
    if (errno == EOPNOTSUPP) break;
    return ThrowErrno(env, errno, "fallocate", path_);
  }
  return env.Undefined();
}

// The arguments readSync and read share: (position, target, targetOffset, length).
struct ReadArgs {
  int64_t positionBytes;
  Napi::Uint8Array target;
  uint8_t* data;
  size_t lengthBytes;
};

static bool ToReadArgs(const Napi::CallbackInfo& info, ReadArgs* args) {
  return ToInteger(info.Env(), info[0], "position", 0, kSafeIntegerMax, &args->positionBytes) &&
         ToTargetRange(info, 1, &args->target, &args->data, &args->lengthBytes);
}

Napi::Value SegmentFile::ReadSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ReadArgs args;
  if (!ToReadArgs(info, &args) || !CheckUsable(env, "read", false)) return env.Undefined();
  int64_t result = ReadFully(file_->fd(), args.data, args.lengthBytes, args.positionBytes);
  if (result < 0) return ThrowErrno(env, static_cast<int>(-result), "read", path_);
  return Napi::Number::New(env, static_cast<double>(result));
}

Napi::Value SegmentFile::Read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ReadArgs args;
  if (!ToReadArgs(info, &args) || !CheckUsable(env, "read", false)) return env.Undefined();
  auto* worker = new ReadWorker(env, file_, args.target, args.data, args.lengthBytes, args.positionBytes);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value SegmentFile::Sync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env, "fdatasync", false)) return env.Undefined();
  auto* worker = new SyncWorker(env, file_);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value SegmentFile::Truncate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t sizeBytes;
  if (!ToInteger(env, info[0], "size", 0, kSafeIntegerMax, &sizeBytes)) return env.Undefined();
  if (!CheckUsable(env, "ftruncate", true)) return env.Undefined();
  for (const std::weak_ptr<Mapping>& weak : mappings_) {
    std::shared_ptr<Mapping> mapping = weak.lock();
    if (mapping == nullptr) continue;
    int error = mapping->HideFrom(static_cast<size_t>(sizeBytes));
    if (error != 0) return ThrowErrno(env, error, "mmap", path_);
  }
  while (ftruncate(file_->fd(), sizeBytes) != 0) {
    if (errno != EINTR) return ThrowErrno(env, errno, "ftruncate", path_);
  }
  endBytes_ = sizeBytes;
  return env.Undefined();
}

// A read-only shared mapping of the file's first `bytes` as an external ArrayBuffer. `bytes` may
// exceed the file's size (the active segment is mapped at segment.bytes once, not again as it
// grows); the caller reads only below size(). The buffer keeps the mapping alive, so views stay
// valid after close() and after the file is deleted; truncate() hides what it cuts (HideFrom).
Napi::Value SegmentFile::Map(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t bytes;
  if (!ToInteger(env, info[0], "bytes", 0, kSafeIntegerMax, &bytes)) return env.Undefined();
  if (!CheckUsable(env, "mmap", false)) return env.Undefined();
  if (bytes == 0) return Napi::ArrayBuffer::New(env, 0);
  int error = 0;
  std::shared_ptr<Mapping> mapping = Mapping::Map(file_->fd(), path_, static_cast<size_t>(bytes), false, Mapping::Access::kReadAhead, &error);
  if (mapping == nullptr) return ThrowErrno(env, error, "mmap", path_);
  mappings_.erase(std::remove_if(mappings_.begin(), mappings_.end(), [](const std::weak_ptr<Mapping>& weak) { return weak.expired(); }),
                  mappings_.end());
  mappings_.push_back(mapping);
  auto* keep = new std::shared_ptr<Mapping>(mapping);
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(
      env, mapping->data(), mapping->bytes(), [](Napi::Env, void*, std::shared_ptr<Mapping>* hint) { delete hint; }, keep);
  if (env.IsExceptionPending()) {
    delete keep;
    return env.Undefined();
  }
  return buffer;
}

Napi::Value SegmentFile::Close(const Napi::CallbackInfo& info) {
  file_.reset();  // closes now, or when the last in-flight read or sync lets go
  return info.Env().Undefined();
}

}  // namespace sluice
