#include "record_walk_binding.h"

#include <cmath>

#include "args.h"
#include "record_walk.h"

namespace sluice {
namespace {

// The slots of the Float64Array `out`, in the order binding.ts documents.
enum OutSlot { kCount, kMaxTimestamp, kMinChecked, kMaxChecked, kInOrder, kFailedAt, kOutSlots };

Napi::Value WalkRecordsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array records;
  if (!ToUint8Array(env, info[0], "records", &records)) return env.Undefined();
  const double sizeBytes = static_cast<double>(records.ByteLength());
  int64_t start;
  int64_t end;
  if (!ToInteger(env, info[1], "start", 0, sizeBytes, &start)) return env.Undefined();
  if (!ToInteger(env, info[2], "end", static_cast<double>(start), sizeBytes, &end)) return env.Undefined();
  if (!info[3].IsNumber()) return ThrowTypeError(env, "The \"baseTimestamp\" argument must be of type number");
  const double base = info[3].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(base) || std::trunc(base) != base || std::fabs(base) > 9007199254740992.0) {
    return ThrowRangeError(env, "The value of \"baseTimestamp\" is out of range. It must be a safe integer");
  }
  // One napi call for the result array's type, length and memory: this runs once per appended batch.
  napi_typedarray_type outType;
  size_t outLength = 0;
  void* outData = nullptr;
  if (!info[4].IsTypedArray() ||
      napi_get_typedarray_info(env, info[4], &outType, &outLength, &outData, nullptr, nullptr) != napi_ok ||
      outType != napi_float64_array || outLength < kOutSlots) {
    return ThrowTypeError(env, "The \"out\" argument must be a Float64Array of at least 6 elements");
  }
  double* out = static_cast<double*>(outData);
  const RecordWalkResult result =
      WalkRecords(records.Data(), static_cast<size_t>(start), static_cast<size_t>(end), static_cast<int64_t>(base));
  out[kCount] = static_cast<double>(result.count);
  out[kMaxTimestamp] = static_cast<double>(result.maxTimestamp);
  out[kMinChecked] = result.checkedCount > 0 ? static_cast<double>(result.minCheckedTimestamp) : NAN;
  out[kMaxChecked] = result.checkedCount > 0 ? static_cast<double>(result.maxCheckedTimestamp) : NAN;
  out[kInOrder] = result.offsetDeltasInOrder ? 1 : 0;
  out[kFailedAt] = static_cast<double>(result.failedRecordAt);
  return Napi::Number::New(env, static_cast<int32_t>(result.error));
}

}  // namespace

void RegisterRecordWalk(Napi::Env env, Napi::Object exports) {
  exports.Set("walkRecords", Napi::Function::New(env, WalkRecordsJs, "walkRecords"));
}

}  // namespace sluice
