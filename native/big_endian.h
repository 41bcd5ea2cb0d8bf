// Big-endian loads and stores for Kafka's on-disk integers. memcpy keeps unaligned access
// defined (a 12-byte time-index entry leaves every other timestamp 4-byte aligned only) and
// compiles to one mov + bswap.
#pragma once

#include <cstdint>
#include <cstring>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the byte swaps below assume a little-endian host");

namespace sluice {

inline uint32_t LoadU32BigEndian(const uint8_t* bytes) {
  uint32_t value;
  std::memcpy(&value, bytes, sizeof(value));
  return __builtin_bswap32(value);
}

inline int64_t LoadI64BigEndian(const uint8_t* bytes) {
  uint64_t value;
  std::memcpy(&value, bytes, sizeof(value));
  return static_cast<int64_t>(__builtin_bswap64(value));
}

inline void StoreU32BigEndian(uint8_t* bytes, uint32_t value) {
  value = __builtin_bswap32(value);
  std::memcpy(bytes, &value, sizeof(value));
}

inline void StoreI64BigEndian(uint8_t* bytes, int64_t value) {
  uint64_t swapped = __builtin_bswap64(static_cast<uint64_t>(value));
  std::memcpy(bytes, &swapped, sizeof(swapped));
}

}  // namespace sluice
