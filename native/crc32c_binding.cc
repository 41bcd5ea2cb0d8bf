#include "crc32c_binding.h"

#include "args.h"
#include "crc32c.h"

namespace sluice {
namespace {

// Reads (data, start?, end?) and checks the range, so the C++ side never reads out of bounds.
bool ByteRange(const Napi::CallbackInfo& info, const uint8_t** data, size_t* lengthBytes) {
  Napi::Env env = info.Env();
  Napi::Uint8Array bytes;
  if (!ToUint8Array(env, info[0], "data", &bytes)) return false;
  double sizeBytes = static_cast<double>(bytes.ByteLength());
  int64_t start = 0;
  int64_t end = static_cast<int64_t>(bytes.ByteLength());
  if (!info[1].IsUndefined() && !ToInteger(env, info[1], "start", 0, sizeBytes, &start)) return false;
  if (!info[2].IsUndefined() && !ToInteger(env, info[2], "end", static_cast<double>(start), sizeBytes, &end)) {
    return false;
  }
  *data = bytes.Data() + start;
  *lengthBytes = static_cast<size_t>(end - start);
  return true;
}

template <uint32_t (*Checksum)(const uint8_t*, size_t)>
Napi::Value Crc(const Napi::CallbackInfo& info) {
  const uint8_t* data;
  size_t lengthBytes;
  if (!ByteRange(info, &data, &lengthBytes)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), Checksum(data, lengthBytes));
}

}  // namespace

void RegisterCrc32c(Napi::Env env, Napi::Object exports) {
  exports.Set("crc32c", Napi::Function::New(env, Crc<Crc32c>, "crc32c"));
  exports.Set("crc32cSoftware", Napi::Function::New(env, Crc<Crc32cSoftware>, "crc32cSoftware"));
  // Without SSE4.2 the instruction would fault, so the hardware entry falls back to software.
  exports.Set("crc32cHardware", HasHardwareCrc32c() ? Napi::Function::New(env, Crc<Crc32cHardware>, "crc32cHardware")
                                                    : Napi::Function::New(env, Crc<Crc32cSoftware>, "crc32cHardware"));
  exports.Set("hasHardwareCrc32c", Napi::Boolean::New(env, HasHardwareCrc32c()));
}

}  // namespace sluice
