#include "record_walk.h"

#include <cmath>

#include "args.h"

namespace sluice {
namespace {

constexpr int64_t kNoTimestamp = -1;

// Reads an unsigned LEB128 value of at most `maxBytes` bytes below `limit`; false when it does not end.
inline bool ReadUnsigned(const uint8_t* data, size_t limit, size_t* pos, int maxBytes, uint64_t* out) {
  uint64_t value = 0;
  size_t at = *pos;
  for (int i = 0; i < maxBytes; i++) {
    if (at >= limit) return false;
    uint8_t byte = data[at++];
    value |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if (byte < 0x80) {
      *pos = at;
      *out = value;
      return true;
    }
  }
  return false;
}

inline bool ReadVarint(const uint8_t* data, size_t limit, size_t* pos, int64_t* out) {
  uint64_t zigzag;
  if (!ReadUnsigned(data, limit, pos, 5, &zigzag)) return false;
  uint32_t bits = static_cast<uint32_t>(zigzag);  // a fifth byte's bits above 32 drop, as in Kafka
  *out = static_cast<int32_t>((bits >> 1) ^ (~(bits & 1) + 1));
  return true;
}

inline bool ReadVarlong(const uint8_t* data, size_t limit, size_t* pos, int64_t* out) {
  uint64_t zigzag;
  if (!ReadUnsigned(data, limit, pos, 10, &zigzag)) return false;
  *out = static_cast<int64_t>((zigzag >> 1) ^ (~(zigzag & 1) + 1));
  return true;
}

// Moves past `length` bytes when length > 0 (a null field is any negative length).
inline void Skip(size_t* pos, int64_t length) {
  if (length > 0) *pos += static_cast<size_t>(length);
}

}  // namespace

RecordWalkResult WalkRecords(const uint8_t* data, size_t start, size_t end, int64_t baseTimestamp) {
  RecordWalkResult result;
  size_t pos = start;
  int64_t maxDelta = 0;
  while (pos < end) {
    const size_t recordAt = pos;
    auto fail = [&](RecordWalkError error) {
      result.error = error;
      result.failedRecordAt = static_cast<int64_t>(recordAt);
      return result;
    };
    int64_t length;
    if (!ReadVarint(data, end, &pos, &length) || length < 0 || static_cast<size_t>(length) > end - pos) {
      return fail(RecordWalkError::kLength);
    }
    const size_t recordEnd = pos + static_cast<size_t>(length);
    pos++;  // attributes
    int64_t timestampDelta;
    int64_t offsetDelta;
    int64_t fieldLength;
    if (!ReadVarlong(data, recordEnd, &pos, &timestampDelta)) return fail(RecordWalkError::kTimestampDelta);
    if (!ReadVarint(data, recordEnd, &pos, &offsetDelta)) return fail(RecordWalkError::kOffsetDelta);
    // Each read fails once pos has passed recordEnd, so a field that overruns the record is caught
    // by the read after it, or by the final size check.
    if (!ReadVarint(data, recordEnd, &pos, &fieldLength)) return fail(RecordWalkError::kKey);
    Skip(&pos, fieldLength);
    if (pos > recordEnd || !ReadVarint(data, recordEnd, &pos, &fieldLength)) return fail(RecordWalkError::kValue);
    Skip(&pos, fieldLength);
    int64_t headers;
    if (pos > recordEnd || !ReadVarint(data, recordEnd, &pos, &headers) || headers < 0) {
      return fail(pos > recordEnd ? RecordWalkError::kValue : RecordWalkError::kHeaders);
    }
    for (int64_t h = 0; h < headers; h++) {
      if (!ReadVarint(data, recordEnd, &pos, &fieldLength) || fieldLength < 0) return fail(RecordWalkError::kHeaders);
      Skip(&pos, fieldLength);
      if (pos > recordEnd || !ReadVarint(data, recordEnd, &pos, &fieldLength)) return fail(RecordWalkError::kHeaders);
      Skip(&pos, fieldLength);
    }
    if (pos != recordEnd) return fail(pos > recordEnd ? RecordWalkError::kHeaders : RecordWalkError::kSizeMismatch);

    if (offsetDelta != result.count) result.offsetDeltasInOrder = false;
    if (result.count == 0 || timestampDelta > maxDelta) maxDelta = timestampDelta;
    // Java's long addition wraps; unsigned arithmetic does the same without undefined behaviour.
    const int64_t timestamp =
        static_cast<int64_t>(static_cast<uint64_t>(baseTimestamp) + static_cast<uint64_t>(timestampDelta));
    if (timestamp != kNoTimestamp) {
      if (result.checkedCount == 0 || timestamp < result.minCheckedTimestamp) result.minCheckedTimestamp = timestamp;
      if (result.checkedCount == 0 || timestamp > result.maxCheckedTimestamp) result.maxCheckedTimestamp = timestamp;
      result.checkedCount++;
    }
    result.count++;
  }
  result.maxTimestamp = result.count == 0
                            ? kNoTimestamp
                            : static_cast<int64_t>(static_cast<uint64_t>(baseTimestamp) + static_cast<uint64_t>(maxDelta));
  return result;
}

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
  if (!info[4].IsTypedArray() || info[4].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      info[4].As<Napi::Float64Array>().ElementLength() < kOutSlots) {
    return ThrowTypeError(env, "The \"out\" argument must be a Float64Array of at least 6 elements");
  }
  Napi::Float64Array out = info[4].As<Napi::Float64Array>();
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
