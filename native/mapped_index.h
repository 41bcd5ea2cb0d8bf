// MappedIndex: a memory-mapped `.index` or `.timeindex` file in Kafka's format (formats.h), typed
// in src/native/binding.ts. A writable index is grown to maxBytes and mapped whole, so appends
// are stores into memory; lookup() binary-searches in C++ (one JS call, no allocation), and view()
// hands the mapping to JS as an ArrayBuffer, so JS can search it without a call per lookup.
//
// The file stays sparse: growing it (ftruncate) allocates nothing, and no byte past the entries is
// ever read or written through the mapping, because touching a hole of a shared mapping allocates
// a page (tmpfs does so even on a read) and, on a full filesystem, kills the process with SIGBUS.
// So an append first allocates its page with fallocate(2), which reports ENOSPC instead; entries
// are discarded by cutting the file and growing it back, never by writing zeros; and on open the
// entries end at the file's first hole, where an untrimmed index left by a crash stops holding
// any.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>

#include "mapping.h"

namespace sluice {

class MappedIndex : public Napi::ObjectWrap<MappedIndex> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit MappedIndex(const Napi::CallbackInfo& info);
  ~MappedIndex() override;

 private:
  enum class Kind { kOffset, kTime };

  Napi::Value Path(const Napi::CallbackInfo& info);
  Napi::Value KindName(const Napi::CallbackInfo& info);
  Napi::Value EntryBytes(const Napi::CallbackInfo& info);
  Napi::Value Entries(const Napi::CallbackInfo& info);
  Napi::Value Capacity(const Napi::CallbackInfo& info);
  Napi::Value IsFull(const Napi::CallbackInfo& info);
  Napi::Value Append(const Napi::CallbackInfo& info);
  Napi::Value Lookup(const Napi::CallbackInfo& info);
  Napi::Value KeyAt(const Napi::CallbackInfo& info);
  Napi::Value ValueAt(const Napi::CallbackInfo& info);
  Napi::Value TruncateEntries(const Napi::CallbackInfo& info);
  Napi::Value Resize(const Napi::CallbackInfo& info);
  Napi::Value Sync(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value View(const Napi::CallbackInfo& info);

  bool Open(Napi::Env env, double maxBytes);
  // Throws EBADF (naming `syscall`) unless open, and also unless writable when `write` is set.
  bool CheckUsable(Napi::Env env, const char* syscall, bool write);
  // Reads a slot argument in [0, entries); returns false with an exception pending.
  bool ToSlot(const Napi::CallbackInfo& info, uint64_t* slot);
  // Replaces the mapping with one of `bytes` (0 maps nothing); returns 0 or the errno.
  int Remap(size_t bytes);
  // Detaches the ArrayBuffer view() handed out (its JS views read as empty from then on), before
  // the mapping it shows goes away or changes size.
  void DetachView();
  // Makes the file's blocks below `endBytes` allocated, so stores there cannot fault; returns 0 or
  // the errno (ENOSPC, or EOPNOTSUPP where the filesystem has no fallocate).
  int AllocateThrough(uint64_t endBytes);
  // Writes one encoded entry at the end: a store after AllocateThrough, else a pwrite.
  int StoreEntry(const uint8_t* entry);
  uint8_t* EntryAt(uint64_t slot) const { return data_ + slot * entryBytes_; }

  std::string path_;
  Kind kind_ = Kind::kOffset;
  uint32_t entryBytes_ = 0;
  bool readOnly_ = false;
  int fd_ = -1;                       // -1 once closed
  std::shared_ptr<Mapping> mapping_;  // null when nothing is mapped (zero length, or closed)
  uint8_t* data_ = nullptr;           // mapping_->data(), cached for lookup()
  // The external ArrayBuffer over the mapping that view() returned, until the mapping changes.
  Napi::Reference<Napi::ArrayBuffer> view_;
  uint64_t entries_ = 0;
  uint64_t capacity_ = 0;             // entries the mapping has room for
  // The file's blocks in [0, allocatedBytes_) are allocated (page-aligned, or the file's end).
  uint64_t allocatedBytes_ = 0;
  // The filesystem has no fallocate (some FUSE, NFS before 4.2, ZFS before 2.2): entries are
  // written with pwrite(2), which allocates or fails with ENOSPC, and read through the mapping.
  bool writeEntries_ = false;
};

}  // namespace sluice
