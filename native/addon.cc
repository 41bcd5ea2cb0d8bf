// The module's entry point: registers every native class and function on the exports object.
// The JS side is typed in src/native/binding.ts, the only importer of this addon.
#include <napi.h>

#include "crc32c.h"

namespace sluice {
namespace {

// Reads (buffer, start?, end?) and checks the range, so the C++ side never reads out of bounds.
bool ByteRange(const Napi::CallbackInfo& info, const uint8_t** data, size_t* length) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray()) {
    Napi::TypeError::New(env, "crc32c: expected a Buffer or Uint8Array").ThrowAsJavaScriptException();
    return false;
  }
  Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
  size_t start = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int64Value() : 0;
  size_t end = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Int64Value()
                                                        : bytes.ByteLength();
  if (start > end || end > bytes.ByteLength()) {
    Napi::RangeError::New(env, "crc32c: range outside the buffer").ThrowAsJavaScriptException();
    return false;
  }
  *data = bytes.Data() + start;
  *length = end - start;
  return true;
}

template <uint32_t (*Fn)(const uint8_t*, size_t)>
Napi::Value Crc(const Napi::CallbackInfo& info) {
  const uint8_t* data;
  size_t length;
  if (!ByteRange(info, &data, &length)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), Fn(data, length));
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("crc32c", Napi::Function::New(env, Crc<Crc32c>, "crc32c"));
  exports.Set("crc32cSoftware", Napi::Function::New(env, Crc<Crc32cSoftware>, "crc32cSoftware"));
  exports.Set("crc32cHardware", Napi::Function::New(env, Crc<Crc32cHardware>, "crc32cHardware"));
  exports.Set("hasHardwareCrc32c", Napi::Boolean::New(env, HasHardwareCrc32c()));
  return exports;
}

}  // namespace sluice

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return sluice::Init(env, exports); }

NODE_API_MODULE(sluice, InitModule)
