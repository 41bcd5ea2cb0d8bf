// Kafka's index entry layouts, big-endian, the single C++ statement of them. The addon exports
// the entry sizes as `formats` so that a test holds them equal to src/storage/index-format.ts.
//
//   .index      relativeOffset u32 | position u32             8 bytes
//   .timeindex  timestamp i64      | relativeOffset u32      12 bytes
#pragma once

#include <cstdint>

namespace sluice {

constexpr uint32_t kOffsetIndexEntryBytes = 8;
constexpr uint32_t kOffsetIndexValueOffsetBytes = 4;  // the position follows the u32 relative offset

constexpr uint32_t kTimeIndexEntryBytes = 12;
constexpr uint32_t kTimeIndexValueOffsetBytes = 8;  // the relative offset follows the i64 timestamp

}  // namespace sluice
