#include "args.h"

#include <cmath>
#include <cstdio>

namespace sluice {
namespace {

Napi::Value ThrowCoded(Napi::Error error, const char* code) {
  error.Set("code", Napi::String::New(error.Env(), code));
  error.ThrowAsJavaScriptException();
  return error.Env().Undefined();
}

std::string Describe(Napi::Value value) {
  if (!value.IsNumber()) {
    switch (value.Type()) {
      case napi_undefined: return "undefined";
      case napi_null: return "null";
      case napi_boolean: return "type boolean";
      case napi_string: return "type string";
      case napi_bigint: return "type bigint";
      case napi_function: return "function";
      default: return "an instance of Object";
    }
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%.17g", value.As<Napi::Number>().DoubleValue());
  return text;
}

std::string FormatNumber(double number) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.17g", number);
  return text;
}

}  // namespace

Napi::Value ThrowTypeError(Napi::Env env, const std::string& message) {
  return ThrowCoded(Napi::TypeError::New(env, message), "ERR_INVALID_ARG_TYPE");
}

Napi::Value ThrowRangeError(Napi::Env env, const std::string& message) {
  return ThrowCoded(Napi::RangeError::New(env, message), "ERR_OUT_OF_RANGE");
}

bool IsUint8Array(Napi::Value value) {
  return value.IsTypedArray() && value.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array;
}

bool ToInteger(Napi::Env env, Napi::Value value, const char* name, double min, double max, int64_t* out) {
  if (!value.IsNumber()) {
    ThrowTypeError(env, std::string("The \"") + name + "\" argument must be of type number. Received " +
                            Describe(value));
    return false;
  }
  double number = value.As<Napi::Number>().DoubleValue();
  if (!(number >= min && number <= max) || std::trunc(number) != number) {
    ThrowRangeError(env, std::string("The value of \"") + name + "\" is out of range. It must be an integer >= " +
                             FormatNumber(min) + " && <= " + FormatNumber(max) + ". Received " +
                             FormatNumber(number));
    return false;
  }
  *out = static_cast<int64_t>(number);
  return true;
}

bool ToUint8Array(Napi::Env env, Napi::Value value, const char* name, Napi::Uint8Array* out) {
  if (!IsUint8Array(value)) {
    ThrowTypeError(env, std::string("The \"") + name + "\" argument must be a Buffer or Uint8Array. Received " +
                            Describe(value));
    return false;
  }
  *out = value.As<Napi::Uint8Array>();
  return true;
}

bool ToString(Napi::Env env, Napi::Value value, const char* name, std::string* out) {
  if (!value.IsString()) {
    ThrowTypeError(env, std::string("The \"") + name + "\" argument must be of type string. Received " +
                            Describe(value));
    return false;
  }
  *out = value.As<Napi::String>().Utf8Value();
  return true;
}

bool ToTargetRange(const Napi::CallbackInfo& info, size_t first, Napi::Uint8Array* target, uint8_t** data,
                   size_t* lengthBytes) {
  Napi::Env env = info.Env();
  int64_t offsetBytes;
  int64_t length;
  if (!ToUint8Array(env, info[first], "target", target)) return false;
  double capacityBytes = static_cast<double>(target->ByteLength());
  if (!ToInteger(env, info[first + 1], "targetOffset", 0, capacityBytes, &offsetBytes)) return false;
  if (!ToInteger(env, info[first + 2], "length", 0, capacityBytes - static_cast<double>(offsetBytes), &length)) {
    return false;
  }
  *data = target->Data() + offsetBytes;
  *lengthBytes = static_cast<size_t>(length);
  return true;
}

}  // namespace sluice
