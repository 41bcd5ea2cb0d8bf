#include "errors.h"

#include <uv.h>

#include <cstring>

namespace sluice {

Napi::Error ErrnoError(Napi::Env env, int errnoValue, const char* syscall, const std::string& path) {
  char reason[128];
  // GNU strerror_r: thread-safe (workers build errors concurrently), may return a static string.
  const char* text = strerror_r(errnoValue, reason, sizeof(reason));
  std::string message;
  if (syscall != nullptr) message += syscall;
  if (!path.empty()) message += (message.empty() ? "" : " ") + path;
  if (!message.empty()) message += ": ";
  message += text;

  Napi::Error error = Napi::Error::New(env, message);
  Napi::Object object = error.Value();
  object.Set("code", Napi::String::New(env, uv_err_name(-errnoValue)));
  object.Set("errno", Napi::Number::New(env, -errnoValue));
  if (syscall != nullptr) object.Set("syscall", Napi::String::New(env, syscall));
  if (!path.empty()) object.Set("path", Napi::String::New(env, path));
  return error;
}

Napi::Value ThrowErrno(Napi::Env env, int errnoValue, const char* syscall, const std::string& path) {
  ErrnoError(env, errnoValue, syscall, path).ThrowAsJavaScriptException();
  return env.Undefined();
}

}  // namespace sluice
