#include "promise_worker.h"

#include <utility>

#include "can_run_js.h"
#include "errors.h"

namespace sluice {

PromiseWorker::PromiseWorker(Napi::Env env, const char* resourceName, const char* syscall, std::string path)
    : Napi::AsyncWorker(env, resourceName),
      deferred_(Napi::Promise::Deferred::New(env)),
      syscall_(syscall),
      path_(std::move(path)) {}

void PromiseWorker::OnOK() {
  Napi::Env env = Env();
  if (!CanRunJs(env)) return;  // the environment is being torn down: nobody awaits the promise
  if (errnoValue_ != 0) {
    deferred_.Reject(ErrnoError(env, errnoValue_, syscall_, path_).Value());
  } else {
    deferred_.Resolve(Result(env));
  }
}

}  // namespace sluice
