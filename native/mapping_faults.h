// A read of a mapped file that the kernel cannot serve (a disk's read error, or a page past the
// end of a file something else cut) raises SIGBUS, whose default action ends the process: one bad
// sector under a segment would take the broker, and every healthy directory with it, down. Kafka
// reads its logs with pread and gets an IOException; its JVM turns such a fault in a mapped index
// into an InternalError. Here every mapping the addon makes (segment reads, indexes) is
// registered, and a SIGBUS inside one is answered by putting a zero page where the faulting page
// was (mmap MAP_FIXED, a system call and safe in a handler), counting the fault, and returning:
// the access runs again and reads zeros. Nothing reads those zeros as data: each JS thread has a
// fault counter (MappingFaultCounter) that the log's calls compare before and after their reads
// and writes, and a changed counter makes the call fail with EIO, which takes the log's directory
// offline (KIP-112, src/storage/log-dirs.ts). A view handed to a caller and read later is caught
// by the directories' sweep of the faulted mappings (TakeMappingFaults). A SIGBUS outside every
// registered mapping goes to the handler installed before ours, or ends the process as before.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace sluice {

// Registers a live mapping of `path` (the handler's first use installs it); returns its slot, or
// -1 when the registry is full (that mapping's faults then end the process, as without this).
int RegisterMappedRange(const uint8_t* data, size_t bytes, bool writable, const std::string& path);
// Before the mapping is unmapped.
void UnregisterMappedRange(int slot);

// mappingFaultCounter(): an ArrayBuffer of one uint32 counting the faults taken on the calling
// thread; mappingFaultsUnder(dirs): the paths under `dirs` whose mappings faulted since the last
// call (each reported once).
void RegisterMappingFaults(Napi::Env env, Napi::Object exports);

}  // namespace sluice
