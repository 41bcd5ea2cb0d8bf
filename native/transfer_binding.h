// sendfile, transmit, transmitNow and cancelTransfers for JS (typed in src/native/binding.ts), over one
// TransferThread per Node environment (main thread or worker), created on first use.
#pragma once

#include <napi.h>

namespace sluice {

// Also claims the environment's instance data, which tears the transfer thread down with it.
void RegisterTransfer(Napi::Env env, Napi::Object exports);

}  // namespace sluice
