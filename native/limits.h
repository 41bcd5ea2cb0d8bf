// Every hard bound of the native layer, each with the reason for its number.
// The TypeScript side's bounds live in src/limits.ts.
#pragma once

#include <climits>
#include <cstdint>

namespace sluice {

// Positions and sizes arrive as JS numbers (doubles), which hold every integer up to 2^53 - 1.
constexpr double kSafeIntegerMax = 9007199254740991.0;

// pwritev(2) fails with EINVAL beyond IOV_MAX (1024 on Linux) buffers; longer lists take more calls.
constexpr int kIovecsPerWriteMax = IOV_MAX;

// segment.index.bytes is an int32 in Kafka's config, so an index file maps at most 2 GiB - 1.
constexpr double kIndexBytesMax = 2147483647.0;

// Disk space a writable index allocates (fallocate(2)) before an append stores into a page the
// file does not have yet: a store into a hole of a full filesystem faults with SIGBUS, fallocate
// reports ENOSPC. One 4 KiB page holds 512 offset entries (~2 MiB of log at index.interval.bytes
// 4096), so an append calls it once per ~2 MiB, and an index holds at most one page it has not
// filled yet (8 MiB over 1,000 partitions' two indexes). Rounded up to the page size where larger.
constexpr uint64_t kIndexAllocationBytes = 4096;

// Linux moves at most 0x7ffff000 (2,147,479,552) bytes in one sendfile(2), send(2) or write(2).
constexpr uint64_t kSendBytesPerCallMax = 0x7ffff000;

// Bytes one socket may take per turn of the transfer thread before the next ready socket is
// served: at loopback's ~2.2 GB/s, 1 MiB is ~0.5 ms, the most one fast consumer delays the others.
constexpr uint64_t kTransferTurnBytesMax = 1 << 20;

// Events taken per epoll_wait(2): 64 keeps the array on the stack (768 bytes) and still drains a
// thousand writable sockets in 16 calls.
constexpr int kEpollEventsPerWaitMax = 64;

}  // namespace sluice
