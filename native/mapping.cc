#include "mapping.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "mapping_faults.h"

namespace sluice {

std::shared_ptr<Mapping> Mapping::Map(int fd, const std::string& path, size_t bytes, bool writable, Access access, int* errnoValue) {
  int protection = writable ? PROT_READ | PROT_WRITE : PROT_READ;
  void* address = mmap(nullptr, bytes, protection, MAP_SHARED, fd, 0);
  if (address == MAP_FAILED) {
    *errnoValue = errno;
    return nullptr;
  }
  // Advice only: a kernel that refuses it reads ahead as before, which is slower, not wrong.
  if (access == Access::kRandom) (void)madvise(address, bytes, MADV_RANDOM);
  uint8_t* data = static_cast<uint8_t*>(address);
  return std::shared_ptr<Mapping>(new Mapping(data, bytes, RegisterMappedRange(data, bytes, writable, path)));
}

Mapping::~Mapping() {
  UnregisterMappedRange(faultSlot_);
  munmap(data_, bytes_);
}

int Mapping::HideFrom(size_t offsetBytes) {
  size_t pageBytes = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t start = (offsetBytes + pageBytes - 1) / pageBytes * pageBytes;
  if (start >= bytes_) return 0;
  void* address = mmap(data_ + start, bytes_ - start, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  return address == MAP_FAILED ? errno : 0;
}

int Mapping::Sync() const { return msync(data_, bytes_, MS_SYNC) == 0 ? 0 : errno; }

}  // namespace sluice
