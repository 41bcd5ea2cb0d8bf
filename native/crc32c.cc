#include "crc32c.h"

#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace sluice {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78;  // reflected Castagnoli

// Slicing-by-8: eight 256-entry tables let the loop consume 8 bytes per iteration with
// eight independent lookups, about 4x the speed of the byte-at-a-time table.
struct Tables {
  uint32_t t[8][256];
  Tables() {
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t crc = i;
      for (int bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ (kPolynomial & (0u - (crc & 1)));
      t[0][i] = crc;
    }
    for (uint32_t i = 0; i < 256; i++) {
      for (int k = 1; k < 8; k++) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
    }
  }
};

const Tables& SoftwareTables() {
  static const Tables tables;
  return tables;
}

}  // namespace

uint32_t Crc32cSoftware(const uint8_t* data, size_t length) {
  const Tables& tb = SoftwareTables();
  uint32_t crc = 0xFFFFFFFFu;
  while (length >= 8) {
    uint32_t lo;
    uint32_t hi;
    std::memcpy(&lo, data, 4);
    std::memcpy(&hi, data + 4, 4);
    lo ^= crc;  // little-endian host: the reflected CRC consumes the low byte first
    crc = tb.t[7][lo & 0xFF] ^ tb.t[6][(lo >> 8) & 0xFF] ^ tb.t[5][(lo >> 16) & 0xFF] ^
          tb.t[4][lo >> 24] ^ tb.t[3][hi & 0xFF] ^ tb.t[2][(hi >> 8) & 0xFF] ^
          tb.t[1][(hi >> 16) & 0xFF] ^ tb.t[0][hi >> 24];
    data += 8;
    length -= 8;
  }
  while (length-- > 0) crc = (crc >> 8) ^ tb.t[0][(crc ^ *data++) & 0xFF];
  return crc ^ 0xFFFFFFFFu;
}

#if defined(__x86_64__)

bool HasHardwareCrc32c() {
  static const bool has = __builtin_cpu_supports("sse4.2");
  return has;
}

// Three independent crc32 streams would hide the instruction's 3-cycle latency, but a single
// stream already runs at ~8 bytes / 3 cycles (~8 GB/s at 3 GHz), far above what the append
// path needs (a 100 KB batch costs ~13 us against ~80 us for its write), so we keep it simple.
__attribute__((target("sse4.2"))) uint32_t Crc32cHardware(const uint8_t* data, size_t length) {
  uint64_t crc = 0xFFFFFFFFu;
  while (length >= 8) {
    uint64_t word;
    std::memcpy(&word, data, 8);
    crc = _mm_crc32_u64(crc, word);
    data += 8;
    length -= 8;
  }
  uint32_t crc32 = static_cast<uint32_t>(crc);
  while (length-- > 0) crc32 = _mm_crc32_u8(crc32, *data++);
  return crc32 ^ 0xFFFFFFFFu;
}

#else

bool HasHardwareCrc32c() { return false; }
uint32_t Crc32cHardware(const uint8_t* data, size_t length) { return Crc32cSoftware(data, length); }

#endif

uint32_t Crc32c(const uint8_t* data, size_t length) {
  return HasHardwareCrc32c() ? Crc32cHardware(data, length) : Crc32cSoftware(data, length);
}

}  // namespace sluice
