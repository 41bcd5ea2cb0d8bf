// crc32c, crc32cSoftware, crc32cHardware(data, start?, end?) and hasHardwareCrc32c for JS.
#pragma once

#include <napi.h>

namespace sluice {

void RegisterCrc32c(Napi::Env env, Napi::Object exports);

}  // namespace sluice
