#include "mapped_index.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <utility>

#include "args.h"
#include "big_endian.h"
#include "errors.h"
#include "formats.h"
#include "limits.h"
#include "promise_worker.h"

namespace sluice {
namespace {

// Kafka's "warm section": appends and most lookups (consumers near the tail) touch the last
// entries, so a lookup first checks the last 8 KiB, 2-3 of the 2,560 pages of a 10 MiB index.
// A plain binary search would touch ~12 pages spread over the file and keep them all resident.
constexpr uint64_t kWarmSectionBytes = 8192;

uint32_t ReadOffsetKey(const uint8_t* entry) { return LoadU32BigEndian(entry); }
int64_t ReadTimeKey(const uint8_t* entry) { return LoadI64BigEndian(entry); }

// The slot of the largest key <= target in keys ascending by slot, or -1.
template <uint32_t kEntryBytes, typename Key, Key (*ReadKey)(const uint8_t*)>
int64_t LargestAtMost(const uint8_t* data, uint64_t entries, Key target) {
  auto keyAt = [data](uint64_t slot) { return ReadKey(data + slot * kEntryBytes); };
  if (entries == 0 || keyAt(0) > target) return -1;
  uint64_t low = 0;  // invariant: keyAt(low) <= target, and the answer is in [low, high]
  uint64_t high = entries - 1;
  constexpr uint64_t kWarmEntries = kWarmSectionBytes / kEntryBytes;
  if (entries > kWarmEntries) {
    uint64_t warmFirst = entries - kWarmEntries;
    if (keyAt(warmFirst) <= target) {
      low = warmFirst;
    } else {
      high = warmFirst - 1;
    }
  }
  while (low < high) {
    uint64_t middle = low + (high - low + 1) / 2;
    if (keyAt(middle) <= target) {
      low = middle;
    } else {
      high = middle - 1;
    }
  }
  return static_cast<int64_t>(low);
}

class SyncWorker : public PromiseWorker {
 public:
  SyncWorker(Napi::Env env, std::shared_ptr<Mapping> mapping, std::string path)
      : PromiseWorker(env, "sluice.MappedIndex.sync", "msync", std::move(path)), mapping_(std::move(mapping)) {}

 private:
  void Execute() override { errnoValue_ = mapping_->Sync(); }

  const std::shared_ptr<Mapping> mapping_;
};

// Largest multiple of `entryBytes` <= bytes: Kafka sizes index files in whole entries.
uint64_t WholeEntriesBytes(double bytes, uint32_t entryBytes) {
  return static_cast<uint64_t>(bytes) / entryBytes * entryBytes;
}

uint64_t PageBytes() {
  static const uint64_t pageBytes = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return pageBytes;
}

uint64_t RoundDown(uint64_t bytes, uint64_t unit) { return bytes / unit * unit; }
uint64_t RoundUp(uint64_t bytes, uint64_t unit) { return (bytes + unit - 1) / unit * unit; }

// Bytes of the file that may hold entries: up to its first hole. Entries are written front to
// back, so a hole ends them; an untrimmed index after a crash is a hole past its last written
// page. Filesystems without SEEK_HOLE report the whole file as data, as does an error here.
uint64_t DataBytes(int fd, uint64_t fileBytes) {
  if (fileBytes == 0) return 0;  // SEEK_HOLE at the end of an empty file fails with ENXIO
  off_t hole = lseek(fd, 0, SEEK_HOLE);
  return hole >= 0 ? std::min(fileBytes, static_cast<uint64_t>(hole)) : fileBytes;
}

int Ftruncate(int fd, uint64_t bytes) {
  while (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    if (errno != EINTR) return errno;
  }
  return 0;
}

}  // namespace

Napi::Function MappedIndex::Define(Napi::Env env) {
  return DefineClass(env, "MappedIndex",
                     {
                         InstanceAccessor<&MappedIndex::Path>("path"),
                         InstanceAccessor<&MappedIndex::KindName>("kind"),
                         InstanceAccessor<&MappedIndex::EntryBytes>("entryBytes"),
                         InstanceMethod<&MappedIndex::Entries>("entries"),
                         InstanceMethod<&MappedIndex::Capacity>("capacity"),
                         InstanceMethod<&MappedIndex::IsFull>("isFull"),
                         InstanceMethod<&MappedIndex::Append>("append"),
                         InstanceMethod<&MappedIndex::Lookup>("lookup"),
                         InstanceMethod<&MappedIndex::KeyAt>("keyAt"),
                         InstanceMethod<&MappedIndex::ValueAt>("valueAt"),
                         InstanceMethod<&MappedIndex::TruncateEntries>("truncateEntries"),
                         InstanceMethod<&MappedIndex::Resize>("resize"),
                         InstanceMethod<&MappedIndex::Sync>("sync"),
                         InstanceMethod<&MappedIndex::Close>("close"),
                         InstanceMethod<&MappedIndex::View>("view"),
                     });
}

MappedIndex::MappedIndex(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MappedIndex>(info) {
  Napi::Env env = info.Env();
  if (!ToString(env, info[0], "path", &path_)) return;
  if (!info[1].IsObject()) {
    ThrowTypeError(env, "The \"options\" argument must be an object with kind and maxBytes");
    return;
  }
  Napi::Object options = info[1].As<Napi::Object>();
  Napi::Value kindValue = options.Get("kind");
  Napi::Value maxBytesValue = options.Get("maxBytes");
  Napi::Value readOnlyValue = options.Get("readOnly");
  if (env.IsExceptionPending()) return;
  std::string kind = kindValue.IsString() ? kindValue.As<Napi::String>().Utf8Value() : "";
  if (kind == "offset") {
    kind_ = Kind::kOffset;
    entryBytes_ = kOffsetIndexEntryBytes;
  } else if (kind == "time") {
    kind_ = Kind::kTime;
    entryBytes_ = kTimeIndexEntryBytes;
  } else {
    ThrowTypeError(env, "The \"options.kind\" property must be 'offset' or 'time'");
    return;
  }
  readOnly_ = !readOnlyValue.IsUndefined() && readOnlyValue.ToBoolean();
  int64_t maxBytes = 0;
  // A read-only index keeps the file's size, so it has no use for maxBytes.
  if (!(readOnly_ && maxBytesValue.IsUndefined()) &&
      !ToInteger(env, maxBytesValue, "options.maxBytes", 0, kIndexBytesMax, &maxBytes)) {
    return;
  }
  Open(env, static_cast<double>(maxBytes));
}

MappedIndex::~MappedIndex() {
  if (fd_ >= 0) close(fd_);
}

bool MappedIndex::Open(Napi::Env env, double maxBytes) {
  int flags = O_CLOEXEC | (readOnly_ ? O_RDONLY : O_RDWR | O_CREAT);
  int fd = open(path_.c_str(), flags, 0666);  // 0666 & umask, as Node's fs.open
  if (fd < 0) {
    ThrowErrno(env, errno, "open", path_);
    return false;
  }
  fd_ = fd;
  const char* failedCall = nullptr;
  int error = 0;
  struct stat status;
  if (fstat(fd_, &status) != 0) {
    failedCall = "fstat";
    error = errno;
  } else {
    uint64_t fileBytes = static_cast<uint64_t>(status.st_size);
    uint64_t dataBytes = DataBytes(fd_, fileBytes);
    entries_ = dataBytes / entryBytes_;  // a trimmed file holds exactly its entries
    allocatedBytes_ = RoundDown(dataBytes, PageBytes());
    uint64_t mapBytes = fileBytes;
    if (!readOnly_) {
      // A file larger than maxBytes (written with a larger segment.index.bytes) is kept whole.
      mapBytes = std::max(fileBytes, WholeEntriesBytes(maxBytes, entryBytes_));
      if (mapBytes > fileBytes) {
        error = Ftruncate(fd_, mapBytes);  // sparse: the new bytes are a hole
        if (error != 0) failedCall = "ftruncate";
      }
    }
    if (failedCall == nullptr) {
      error = Remap(mapBytes);
      if (error != 0) failedCall = "mmap";
    }
  }
  if (failedCall != nullptr) {
    close(fd_);
    fd_ = -1;
    ThrowErrno(env, error, failedCall, path_);
    return false;
  }
  return true;
}

int MappedIndex::Remap(size_t bytes) {
  DetachView();
  std::shared_ptr<Mapping> mapping;
  if (bytes > 0) {  // mmap rejects a zero length; an empty index maps nothing
    int error = 0;
    mapping = Mapping::Map(fd_, path_, bytes, !readOnly_, Mapping::Access::kRandom, &error);
    if (mapping == nullptr) return error;
  }
  mapping_ = std::move(mapping);  // the old mapping goes once no sync holds it
  data_ = mapping_ != nullptr ? mapping_->data() : nullptr;
  capacity_ = bytes / entryBytes_;
  return 0;
}

bool MappedIndex::CheckUsable(Napi::Env env, const char* syscall, bool write) {
  if (fd_ >= 0 && !(write && readOnly_)) return true;
  ThrowErrno(env, EBADF, syscall, path_);
  return false;
}

bool MappedIndex::ToSlot(const Napi::CallbackInfo& info, uint64_t* slot) {
  if (!CheckUsable(info.Env(), "read", false)) return false;
  int64_t value;
  if (entries_ == 0) {
    ThrowRangeError(info.Env(), "The index is empty: there is no slot to read");
    return false;
  }
  if (!ToInteger(info.Env(), info[0], "slot", 0, static_cast<double>(entries_ - 1), &value)) return false;
  *slot = static_cast<uint64_t>(value);
  return true;
}

Napi::Value MappedIndex::Path(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), path_); }

Napi::Value MappedIndex::KindName(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), kind_ == Kind::kOffset ? "offset" : "time");
}

Napi::Value MappedIndex::EntryBytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), entryBytes_); }

Napi::Value MappedIndex::Entries(const Napi::CallbackInfo& info) {
  if (!CheckUsable(info.Env(), "entries", false)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), static_cast<double>(entries_));
}

Napi::Value MappedIndex::Capacity(const Napi::CallbackInfo& info) {
  if (!CheckUsable(info.Env(), "capacity", false)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), static_cast<double>(capacity_));
}

Napi::Value MappedIndex::IsFull(const Napi::CallbackInfo& info) {
  if (!CheckUsable(info.Env(), "isFull", false)) return info.Env().Undefined();
  return Napi::Boolean::New(info.Env(), entries_ >= capacity_);
}

Napi::Value MappedIndex::Append(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t key;
  int64_t value;
  double keyMin = kind_ == Kind::kOffset ? 0 : -kSafeIntegerMax;
  double keyMax = kind_ == Kind::kOffset ? 4294967295.0 : kSafeIntegerMax;
  if (!ToInteger(env, info[0], "key", keyMin, keyMax, &key)) return env.Undefined();
  if (!ToInteger(env, info[1], "value", 0, 4294967295.0, &value)) return env.Undefined();
  if (!CheckUsable(env, "append", true)) return env.Undefined();
  if (entries_ >= capacity_) {
    return ThrowRangeError(env, "MappedIndex.append: " + path_ + " is full (" + std::to_string(capacity_) + " entries)");
  }
  uint8_t entry[kTimeIndexEntryBytes];  // the larger of the two entry sizes
  if (kind_ == Kind::kOffset) {
    StoreU32BigEndian(entry, static_cast<uint32_t>(key));
    StoreU32BigEndian(entry + kOffsetIndexValueOffsetBytes, static_cast<uint32_t>(value));
  } else {
    StoreI64BigEndian(entry, key);
    StoreU32BigEndian(entry + kTimeIndexValueOffsetBytes, static_cast<uint32_t>(value));
  }
  int error = StoreEntry(entry);
  if (error != 0) return ThrowErrno(env, error, writeEntries_ ? "pwrite" : "fallocate", path_);
  entries_++;
  return env.Undefined();
}

int MappedIndex::AllocateThrough(uint64_t endBytes) {
  if (endBytes <= allocatedBytes_) return 0;
  uint64_t chunkBytes = RoundUp(kIndexAllocationBytes, PageBytes());
  // Never past the file's end: fallocate would grow the file beyond the mapping.
  uint64_t toBytes = std::min<uint64_t>(RoundUp(endBytes, chunkBytes), mapping_->bytes());
  while (fallocate(fd_, 0, static_cast<off_t>(allocatedBytes_), static_cast<off_t>(toBytes - allocatedBytes_)) != 0) {
    if (errno != EINTR) return errno;
  }
  allocatedBytes_ = toBytes;
  return 0;
}

int MappedIndex::StoreEntry(const uint8_t* entry) {
  uint64_t position = entries_ * entryBytes_;
  if (!writeEntries_) {
    int error = AllocateThrough(position + entryBytes_);
    if (error == 0) {
      std::memcpy(data_ + position, entry, entryBytes_);
      return 0;
    }
    if (error != EOPNOTSUPP) return error;
    writeEntries_ = true;
  }
  // The page cache backs both the descriptor and the shared mapping, so lookups see the entry.
  size_t written = 0;
  while (written < entryBytes_) {
    ssize_t count = pwrite(fd_, entry + written, entryBytes_ - written, static_cast<off_t>(position + written));
    if (count < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    written += static_cast<size_t>(count);
  }
  return 0;
}

// The hot path (every fetch): one napi_get_value_double, the search, one number back.
Napi::Value MappedIndex::Lookup(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  double target;
  if (napi_get_value_double(env, info[0], &target) != napi_ok || std::isnan(target)) {
    return ThrowTypeError(info.Env(), "The \"target\" argument must be a number");
  }
  if (!CheckUsable(info.Env(), "lookup", false)) return info.Env().Undefined();
  int64_t slot;
  // Every key is an integer, so key <= target exactly when key <= floor(target); targets past
  // the key type's range clamp to its ends.
  if (kind_ == Kind::kOffset) {
    if (target < 0) {
      slot = -1;
    } else {
      uint32_t key = target >= 4294967295.0 ? UINT32_MAX : static_cast<uint32_t>(target);
      slot = LargestAtMost<kOffsetIndexEntryBytes, uint32_t, ReadOffsetKey>(data_, entries_, key);
    }
  } else {
    constexpr double kTwoTo63 = 9223372036854775808.0;
    int64_t key = target >= kTwoTo63    ? INT64_MAX
                  : target < -kTwoTo63  ? INT64_MIN
                                        : static_cast<int64_t>(std::floor(target));
    slot = LargestAtMost<kTimeIndexEntryBytes, int64_t, ReadTimeKey>(data_, entries_, key);
  }
  return Napi::Number::New(env, static_cast<double>(slot));
}

Napi::Value MappedIndex::KeyAt(const Napi::CallbackInfo& info) {
  uint64_t slot;
  if (!ToSlot(info, &slot)) return info.Env().Undefined();
  const uint8_t* entry = EntryAt(slot);
  double key = kind_ == Kind::kOffset ? ReadOffsetKey(entry) : static_cast<double>(ReadTimeKey(entry));
  return Napi::Number::New(info.Env(), key);
}

Napi::Value MappedIndex::ValueAt(const Napi::CallbackInfo& info) {
  uint64_t slot;
  if (!ToSlot(info, &slot)) return info.Env().Undefined();
  uint32_t valueOffsetBytes = kind_ == Kind::kOffset ? kOffsetIndexValueOffsetBytes : kTimeIndexValueOffsetBytes;
  return Napi::Number::New(info.Env(), LoadU32BigEndian(EntryAt(slot) + valueOffsetBytes));
}

Napi::Value MappedIndex::TruncateEntries(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env, "truncateEntries", true)) return env.Undefined();
  int64_t count;
  if (!ToInteger(env, info[0], "count", 0, static_cast<double>(entries_), &count)) return env.Undefined();
  uint64_t keptCount = static_cast<uint64_t>(count);
  if (keptCount == entries_) return env.Undefined();
  // Cut the file to the kept entries and grow it back: the kernel frees the blocks past them and
  // zeroes the rest of their last page, so no stale entry survives to be misread, nothing is
  // written through the mapping, and a crash in between leaves a trimmed index. Writing zeros
  // instead would allocate every page of an untrimmed index (10 MiB each by default).
  uint64_t keptBytes = keptCount * entryBytes_;
  uint64_t fileBytes = mapping_->bytes();  // entries_ > keptCount >= 0, so something is mapped
  int error = Ftruncate(fd_, keptBytes);
  if (error != 0) return ThrowErrno(env, error, "ftruncate", path_);
  entries_ = keptCount;
  allocatedBytes_ = std::min(allocatedBytes_, RoundDown(keptBytes, PageBytes()));
  error = Ftruncate(fd_, fileBytes);
  if (error != 0) {
    // The mapping now reaches past the file's end, where a store would fault: room for no more
    // entries until a resize grows the file again.
    capacity_ = keptCount;
    return ThrowErrno(env, error, "ftruncate", path_);
  }
  return env.Undefined();
}

Napi::Value MappedIndex::Resize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env, "ftruncate", true)) return env.Undefined();
  int64_t bytes;
  if (!ToInteger(env, info[0], "bytes", static_cast<double>(entries_ * entryBytes_), kIndexBytesMax, &bytes)) {
    return env.Undefined();
  }
  uint64_t newBytes = WholeEntriesBytes(static_cast<double>(bytes), entryBytes_);
  uint64_t oldBytes = mapping_ != nullptr ? mapping_->bytes() : 0;
  int error = Ftruncate(fd_, newBytes);  // growing allocates nothing: the new bytes are a hole
  if (error != 0) return ThrowErrno(env, error, "ftruncate", path_);
  allocatedBytes_ = std::min(allocatedBytes_, RoundDown(newBytes, PageBytes()));
  error = Remap(newBytes);
  if (error != 0) {
    // Keep the old mapping usable: put the file back to the length it covers.
    int ignored = Ftruncate(fd_, oldBytes);
    (void)ignored;
    return ThrowErrno(env, error, "mmap", path_);
  }
  return env.Undefined();
}

Napi::Value MappedIndex::Sync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env, "msync", false)) return env.Undefined();
  if (mapping_ == nullptr) {  // nothing mapped, nothing to flush
    Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
    deferred.Resolve(env.Undefined());
    return deferred.Promise();
  }
  auto* worker = new SyncWorker(env, mapping_, path_);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value MappedIndex::Close(const Napi::CallbackInfo& info) {
  DetachView();
  if (fd_ >= 0) {
    mapping_.reset();  // unmapped now, or when an in-flight msync lets go
    data_ = nullptr;
    close(fd_);
    fd_ = -1;
    entries_ = 0;
    capacity_ = 0;
    allocatedBytes_ = 0;
  }
  return info.Env().Undefined();
}

// The mapping as an external ArrayBuffer of capacity() entries (only the first entries() hold any:
// reading further would touch the file's holes). Its lifetime is handled twice over: the buffer
// holds a reference to the mapping, released by its finalizer, so it never shows unmapped memory;
// and it is detached when the mapping is replaced (resize) or dropped (close), so JS never reads
// a mapping this index no longer uses. Nothing mapped (an empty read-only index): an empty buffer.
Napi::Value MappedIndex::View(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env, "view", false)) return env.Undefined();
  if (!view_.IsEmpty()) return view_.Value();
  if (data_ == nullptr) return Napi::ArrayBuffer::New(env, 0);
  auto* keep = new std::shared_ptr<Mapping>(mapping_);
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(
      env, data_, capacity_ * entryBytes_, [](Napi::Env, void*, std::shared_ptr<Mapping>* hint) { delete hint; }, keep);
  if (env.IsExceptionPending()) {
    delete keep;
    return env.Undefined();
  }
  view_ = Napi::Persistent(buffer);
  return buffer;
}

void MappedIndex::DetachView() {
  if (view_.IsEmpty()) return;
  Napi::HandleScope scope(view_.Env());
  Napi::ArrayBuffer buffer = view_.Value();
  if (!buffer.IsDetached()) buffer.Detach();
  view_.Reset();
}

}  // namespace sluice
