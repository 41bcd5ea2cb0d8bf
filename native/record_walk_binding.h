// walkRecords(records, start, end, baseTimestamp, out) for JS (typed in src/native/binding.ts).
#pragma once

#include <napi.h>

namespace sluice {

void RegisterRecordWalk(Napi::Env env, Napi::Object exports);

}  // namespace sluice
