#include "record_walk.h"


namespace sluice {
namespace {

constexpr int64_t kNoTimestamp = -1;

// Reads an unsigned LEB128 value of at most `maxBytes` bytes below `limit`; false when it does not
// end. Most fields of a record (attributes aside) are one byte; that case takes one branch.
inline bool ReadUnsigned(const uint8_t* data, size_t limit, size_t& pos, int maxBytes, uint64_t& out) {
  if (pos < limit && data[pos] < 0x80) {
    out = data[pos++];
    return true;
  }
  uint64_t value = 0;
  size_t at = pos;
  for (int i = 0; i < maxBytes; i++) {
    if (at >= limit) return false;
    const uint8_t byte = data[at++];
    value |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if (byte < 0x80) {
      pos = at;
      out = value;
      return true;
    }
  }
  return false;
}

inline bool ReadVarint(const uint8_t* data, size_t limit, size_t& pos, int64_t& out) {
  uint64_t zigzag;
  if (!ReadUnsigned(data, limit, pos, 5, zigzag)) return false;
  const uint32_t bits = static_cast<uint32_t>(zigzag);  // a fifth byte's bits above 32 drop, as in Kafka
  out = static_cast<int32_t>((bits >> 1) ^ (~(bits & 1) + 1));
  return true;
}

inline bool ReadVarlong(const uint8_t* data, size_t limit, size_t& pos, int64_t& out) {
  uint64_t zigzag;
  if (!ReadUnsigned(data, limit, pos, 10, zigzag)) return false;
  out = static_cast<int64_t>((zigzag >> 1) ^ (~(zigzag & 1) + 1));
  return true;
}

// Moves past `length` bytes when length > 0 (a null field is any negative length).
inline void Skip(size_t& pos, int64_t length) {
  if (length > 0) pos += static_cast<size_t>(length);
}

}  // namespace

RecordWalkResult WalkRecords(const uint8_t* data, size_t start, size_t end, int64_t baseTimestamp) {
  RecordWalkResult result;
  // Locals, not the result's fields, so that the loop keeps them in registers.
  size_t pos = start;
  int64_t count = 0;
  int64_t maxDelta = 0;
  int64_t checked = 0;
  int64_t minChecked = 0;
  int64_t maxChecked = 0;
  bool inOrder = true;
  RecordWalkError error = RecordWalkError::kNone;
  size_t recordAt = pos;
  while (pos < end) {
    recordAt = pos;
    int64_t length;
    if (!ReadVarint(data, end, pos, length) || length < 0 || static_cast<size_t>(length) > end - pos) {
      error = RecordWalkError::kLength;
      break;
    }
    const size_t recordEnd = pos + static_cast<size_t>(length);
    pos++;  // attributes
    int64_t timestampDelta;
    int64_t offsetDelta;
    int64_t fieldLength;
    int64_t headers;
    // Each read fails once pos has passed recordEnd, so a field that overruns the record is caught
    // by the read after it, or by the final size check.
    if (!ReadVarlong(data, recordEnd, pos, timestampDelta)) {
      error = RecordWalkError::kTimestampDelta;
      break;
    }
    if (!ReadVarint(data, recordEnd, pos, offsetDelta)) {
      error = RecordWalkError::kOffsetDelta;
      break;
    }
    if (!ReadVarint(data, recordEnd, pos, fieldLength)) {
      error = RecordWalkError::kKey;
      break;
    }
    Skip(pos, fieldLength);
    if (pos > recordEnd || !ReadVarint(data, recordEnd, pos, fieldLength)) {
      error = RecordWalkError::kValue;
      break;
    }
    Skip(pos, fieldLength);
    if (pos > recordEnd || !ReadVarint(data, recordEnd, pos, headers) || headers < 0) {
      error = pos > recordEnd ? RecordWalkError::kValue : RecordWalkError::kHeaders;
      break;
    }
    for (int64_t h = 0; h < headers && error == RecordWalkError::kNone; h++) {
      if (!ReadVarint(data, recordEnd, pos, fieldLength) || fieldLength < 0) {
        error = RecordWalkError::kHeaders;
      } else {
        Skip(pos, fieldLength);
        if (pos > recordEnd || !ReadVarint(data, recordEnd, pos, fieldLength)) error = RecordWalkError::kHeaders;
        else Skip(pos, fieldLength);
      }
    }
    if (error != RecordWalkError::kNone) break;
    if (pos != recordEnd) {
      error = pos > recordEnd ? RecordWalkError::kHeaders : RecordWalkError::kSizeMismatch;
      break;
    }

    if (offsetDelta != count) inOrder = false;
    if (count == 0 || timestampDelta > maxDelta) maxDelta = timestampDelta;
    // Java's long addition wraps; unsigned arithmetic does the same without undefined behaviour.
    const int64_t timestamp =
        static_cast<int64_t>(static_cast<uint64_t>(baseTimestamp) + static_cast<uint64_t>(timestampDelta));
    if (timestamp != kNoTimestamp) {
      if (checked == 0 || timestamp < minChecked) minChecked = timestamp;
      if (checked == 0 || timestamp > maxChecked) maxChecked = timestamp;
      checked++;
    }
    count++;
  }
  result.error = error;
  result.count = count;
  result.failedRecordAt = error == RecordWalkError::kNone ? 0 : static_cast<int64_t>(recordAt);
  result.maxTimestamp =
      count == 0 ? kNoTimestamp : static_cast<int64_t>(static_cast<uint64_t>(baseTimestamp) + static_cast<uint64_t>(maxDelta));
  result.checkedCount = checked;
  result.minCheckedTimestamp = minChecked;
  result.maxCheckedTimestamp = maxChecked;
  result.offsetDeltasInOrder = inOrder;
  return result;
}

}  // namespace sluice
