// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Kafka's RecordBatch v2.
// Known vector: crc32c("123456789") == 0xE3069283.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sluice {

// Picks the SSE4.2 `crc32` instruction when the CPU has it, the table-driven code otherwise.
uint32_t Crc32c(const uint8_t* data, size_t length);

// Both implementations, exposed so that tests can hold them to the same vectors.
uint32_t Crc32cSoftware(const uint8_t* data, size_t length);
uint32_t Crc32cHardware(const uint8_t* data, size_t length);  // only call when HasHardwareCrc32c()
bool HasHardwareCrc32c();

}  // namespace sluice
