// The per-record pass of the broker's append validation (src/storage/log-validator.ts), done over
// the bytes in C++ because a JS loop over 1,000 records of 100 B took ~50-70 us a batch, a quarter
// of Log.appendSync's own time. Knows the record layout only; the JS binding is record_walk_binding.
//
// Record layout (RecordBatch v2, zigzag varints; src/record/batch-format.ts is the document):
//   length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
//   keyLength varint (<0 = null) | key | valueLength varint (<0 = null) | value |
//   headerCount varint | headers: keyLength varint (>= 0) | key | valueLength varint | value
// Every field after `length` must lie within the record, and together fill exactly `length` bytes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sluice {

// Why a walk stopped; 0 is success. The numbers are part of the JS interface (binding.ts).
enum class RecordWalkError : int32_t {
  kNone = 0,
  kLength = 1,          // a record's length is unreadable, negative, or runs past the region
  kTimestampDelta = 2,  // unreadable timestampDelta
  kOffsetDelta = 3,     // unreadable offsetDelta
  kKey = 4,             // the key length is unreadable or the key runs past the record
  kValue = 5,           // the value length is unreadable or the value runs past the record
  kHeaders = 6,         // bad header count, header key length, or a header past the record
  kSizeMismatch = 7,    // the fields end before the record's length says
};

struct RecordWalkResult {
  RecordWalkError error = RecordWalkError::kNone;
  int64_t count = 0;
  // On error: the index of the failing record and the byte (relative to the buffer) it starts at.
  int64_t failedRecordAt = 0;
  int64_t maxTimestamp = -1;
  // Over records whose timestamp is not -1 (NO_TIMESTAMP); valid only when checkedCount > 0.
  int64_t checkedCount = 0;
  int64_t minCheckedTimestamp = 0;
  int64_t maxCheckedTimestamp = 0;
  bool offsetDeltasInOrder = true;
};

// Walks the records in data[start, end); timestamps are baseTimestamp + delta, wrapping as Java's
// long arithmetic does.
RecordWalkResult WalkRecords(const uint8_t* data, size_t start, size_t end, int64_t baseTimestamp);

}  // namespace sluice
