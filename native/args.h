// Argument checks at the native edge, shaped like Node's own: a wrong type throws a TypeError with
// code 'ERR_INVALID_ARG_TYPE', a value out of range a RangeError with code 'ERR_OUT_OF_RANGE'.
// Each check returns false with the exception pending, so the caller returns at once.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

namespace sluice {

Napi::Value ThrowTypeError(Napi::Env env, const std::string& message);
Napi::Value ThrowRangeError(Napi::Env env, const std::string& message);

bool IsUint8Array(Napi::Value value);

// An integral number in [min, max]; bounds beyond 2^53 are meaningless for a double.
bool ToInteger(Napi::Env env, Napi::Value value, const char* name, double min, double max, int64_t* out);

bool ToUint8Array(Napi::Env env, Napi::Value value, const char* name, Napi::Uint8Array* out);

bool ToString(Napi::Env env, Napi::Value value, const char* name, std::string* out);

// (target, targetOffset, length) at info[first..first+2]: a Uint8Array and a range inside it.
bool ToTargetRange(const Napi::CallbackInfo& info, size_t first, Napi::Uint8Array* target, uint8_t** data,
                   size_t* lengthBytes);

}  // namespace sluice
