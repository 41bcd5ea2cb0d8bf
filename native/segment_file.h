// SegmentFile: an open segment `.log` file (typed in src/native/binding.ts). Appends go to the
// tracked end with one pwritev per call; reads are positional (pread) on the JS thread or on
// libuv's thread pool, or through a read-only mapping (map()); close() with async work in flight
// defers the close(2) (see file_handle.h).
#pragma once

#include <napi.h>
#include <sys/uio.h>

#include <memory>
#include <string>
#include <vector>

#include "file_handle.h"
#include "mapping.h"

namespace sluice {

class SegmentFile : public Napi::ObjectWrap<SegmentFile> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit SegmentFile(const Napi::CallbackInfo& info);

 private:
  Napi::Value Path(const Napi::CallbackInfo& info);
  Napi::Value Fd(const Napi::CallbackInfo& info);
  Napi::Value Size(const Napi::CallbackInfo& info);
  Napi::Value Append(const Napi::CallbackInfo& info);
  Napi::Value Preallocate(const Napi::CallbackInfo& info);
  Napi::Value ReadSync(const Napi::CallbackInfo& info);
  Napi::Value Read(const Napi::CallbackInfo& info);
  Napi::Value Sync(const Napi::CallbackInfo& info);
  Napi::Value Truncate(const Napi::CallbackInfo& info);
  Napi::Value Map(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  // Throws EBADF (naming `syscall`) unless open, and also unless writable when `write` is set.
  bool CheckUsable(Napi::Env env, const char* syscall, bool write);
  // Fills iovecs_ from a Uint8Array or an array of them; returns false with an exception pending.
  bool CollectBuffers(Napi::Env env, Napi::Value buffers, uint64_t* totalBytes);

  std::string path_;
  bool readOnly_ = false;
  std::shared_ptr<FileHandle> file_;  // null once closed
  int64_t endBytes_ = 0;              // the tracked end: where the next append lands
  std::vector<iovec> iovecs_;         // reused by append() so a call allocates nothing
  // Every read mapping map() made that a JS buffer still holds: truncate() hides their pages past
  // the cut first, so no view, old or new, can touch a page the file no longer has.
  std::vector<std::weak_ptr<Mapping>> mappings_;
};

}  // namespace sluice
