// The module's entry point: registers every native class and function on the exports object.
// The JS side is typed in src/native/binding.ts, the only importer of this addon. Each Node
// environment (the main thread, every worker) runs this once and gets its own classes and its
// own transfer thread; the environment's instance data belongs to transfer_binding.cc.
#include <napi.h>

#include "crc32c_binding.h"
#include "file_lock.h"
#include "formats.h"
#include "mapped_index.h"
#include "mapping_faults.h"
#include "process_limits.h"
#include "record_walk_binding.h"
#include "segment_file.h"
#include "socket_buffers.h"
#include "transfer_binding.h"

namespace sluice {
namespace {

Napi::Object Formats(Napi::Env env) {
  Napi::Object formats = Napi::Object::New(env);
  formats.Set("offsetIndexEntryBytes", kOffsetIndexEntryBytes);
  formats.Set("timeIndexEntryBytes", kTimeIndexEntryBytes);
  formats.Freeze();
  return formats;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  RegisterCrc32c(env, exports);
  exports.Set("formats", Formats(env));
  exports.Set("SegmentFile", SegmentFile::Define(env));
  exports.Set("MappedIndex", MappedIndex::Define(env));
  RegisterTransfer(env, exports);
  RegisterFileLock(env, exports);
  RegisterProcessLimits(env, exports);
  RegisterMappingFaults(env, exports);
  RegisterRecordWalk(env, exports);
  RegisterSocketBuffers(env, exports);
  return exports;
}

}  // namespace sluice

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return sluice::Init(env, exports); }

NODE_API_MODULE(sluice, InitModule)
