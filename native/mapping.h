// A shared memory mapping of a file from offset 0, unmapped by the last std::shared_ptr owner: a
// MappedIndex holds one and an in-flight msync another, so close() or resize() during a sync
// never unmaps memory the thread pool is still syncing; a segment's read mapping is held by the
// external ArrayBuffer JS reads it through, and unmapped when that is collected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace sluice {

class Mapping {
 public:
  // How the pages will be touched, told to the kernel (madvise) so a fault reads what it should.
  enum class Access {
    // The kernel's default: a fault reads ahead around it (the device's read_ahead_kb, 8 MiB on
    // the reference machine's disk). Right for a log segment, read front to back.
    kReadAhead,
    // No read-ahead (MADV_RANDOM): a fault brings in its own page only. An index is appended an
    // entry at a time and searched a few pages at a time; read-ahead on its sparse file zero-fills
    // megabytes of page cache per fault (~5% of a broker's CPU under 16 KiB Produce requests).
    kRandom,
  };
  // Maps `bytes` (> 0) of `fd`, the file at `path`; returns null with *errnoValue set on failure.
  // A read the kernel cannot serve reads zeros and is counted (mapping_faults.h), not SIGBUS.
  static std::shared_ptr<Mapping> Map(int fd, const std::string& path, size_t bytes, bool writable, Access access, int* errnoValue);
  ~Mapping();
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;

  uint8_t* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  // msync(MS_SYNC); returns 0 or the errno. Runs on the thread pool.
  int Sync() const;
  // Replaces the whole pages from `offsetBytes` (rounded up to a page) to the end with anonymous
  // zero pages, before the file is cut there: a read of a page wholly past a file's end raises
  // SIGBUS, and JS may still hold a view over them. Returns 0 or the errno.
  int HideFrom(size_t offsetBytes);

 private:
  Mapping(uint8_t* data, size_t bytes, int faultSlot) : data_(data), bytes_(bytes), faultSlot_(faultSlot) {}
  uint8_t* const data_;
  const size_t bytes_;
  const int faultSlot_;
};

}  // namespace sluice
