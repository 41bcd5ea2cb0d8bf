// An AsyncWorker that settles a Promise with the outcome of one system call: Execute() runs on
// libuv's thread pool and records an errno; OnOK() runs on the JS thread and resolves with
// Result() or rejects with an errno-coded Error (see errors.h). The worker deletes itself after.
#pragma once

#include <napi.h>

#include <string>

namespace sluice {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  PromiseWorker(Napi::Env env, const char* resourceName, const char* syscall, std::string path);
  virtual Napi::Value Result(Napi::Env env) { return env.Undefined(); }

  int errnoValue_ = 0;  // written in Execute(), read in OnOK() after the pool hands the work back

 private:
  void OnOK() override;

  Napi::Promise::Deferred deferred_;
  const char* const syscall_;
  const std::string path_;
};

}  // namespace sluice
