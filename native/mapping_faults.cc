#include "mapping_faults.h"

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <vector>

namespace sluice {
namespace {

// vm.max_map_count's default is 65530 areas, so no process holds more mappings than this.
constexpr uint32_t kSlots = 65536;
// JS threads with a counter at once: the main thread and each worker that loads the addon.
constexpr uint32_t kCounters = 256;

// What the handler reads is atomics in static storage: it may run on any thread, at any moment,
// and must neither lock nor allocate. A slot is live while `end` is non-zero.
struct Slot {
  std::atomic<uintptr_t> start{0};
  std::atomic<uintptr_t> end{0};
  std::atomic<int> protection{0};  // zero-initialised, so the registry costs the .node file nothing (bss)
  std::atomic<bool> faulted{false};
};
Slot gSlots[kSlots];
// Slots at or past this were never used: the handler's scan stops here.
std::atomic<uint32_t> gSlotsUsed{0};

struct Counter {
  std::atomic<bool> claimed{false};
  std::atomic<pthread_t> thread{0};
  std::atomic<uint32_t*> count{nullptr};  // set after `thread`, cleared before the slot is let go
};
Counter gCounters[kCounters];

size_t gPageBytes = 4096;
struct sigaction gPrevious;

// Registration and the sweep run on ordinary threads, under this lock.
std::mutex gLock;
std::vector<std::string>* gPaths = nullptr;  // by slot; leaked on purpose, as the handler outlives every env
std::vector<int>* gFreeSlots = nullptr;
// Faulted mappings unmapped before a sweep saw them (a view read after its segment was let go).
std::vector<std::string>* gUnsweptFaults = nullptr;

void CountOnThisThread() {
  pthread_t self = pthread_self();
  for (Counter& counter : gCounters) {
    uint32_t* count = counter.count.load(std::memory_order_acquire);
    if (count != nullptr && pthread_equal(counter.thread.load(std::memory_order_acquire), self)) {
      __atomic_add_fetch(count, 1, __ATOMIC_SEQ_CST);
      return;
    }
  }
}

void OnSigbus(int signal, siginfo_t* info, void* context) {
  int savedErrno = errno;
  uintptr_t address = reinterpret_cast<uintptr_t>(info->si_addr);
  // A SIGBUS sent by kill() (si_code <= 0) carries no fault address, and nothing would raise it again.
  uint32_t used = info->si_code > 0 ? gSlotsUsed.load(std::memory_order_acquire) : 0;
  for (uint32_t i = 0; i < used; i++) {
    Slot& slot = gSlots[i];
    uintptr_t end = slot.end.load(std::memory_order_acquire);
    if (end == 0 || address >= end || address < slot.start.load(std::memory_order_acquire)) continue;
    void* page = reinterpret_cast<void*>(address & ~(gPageBytes - 1));
    void* zeros = mmap(page, gPageBytes, slot.protection.load(std::memory_order_relaxed), MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (zeros == MAP_FAILED) break;  // the access would fault again: let the process end
    slot.faulted.store(true, std::memory_order_release);
    CountOnThisThread();
    errno = savedErrno;
    return;
  }
  errno = savedErrno;
  if ((gPrevious.sa_flags & SA_SIGINFO) != 0 && gPrevious.sa_sigaction != nullptr) {
    gPrevious.sa_sigaction(signal, info, context);
    return;
  }
  if ((gPrevious.sa_flags & SA_SIGINFO) == 0 && gPrevious.sa_handler != SIG_DFL && gPrevious.sa_handler != SIG_IGN) {
    gPrevious.sa_handler(signal);
    return;
  }
  // The default action: on return a faulting access runs again and its signal ends the process; a
  // sent one is raised again, delivered once the handler returns (SIGBUS is blocked until then).
  struct sigaction fallback = {};
  fallback.sa_handler = SIG_DFL;
  sigemptyset(&fallback.sa_mask);
  sigaction(SIGBUS, &fallback, nullptr);
  if (info->si_code <= 0) raise(SIGBUS);
}

// Under gLock.
void InstallLocked() {
  if (gPaths != nullptr) return;
  gPaths = new std::vector<std::string>();
  gFreeSlots = new std::vector<int>();
  gUnsweptFaults = new std::vector<std::string>();
  long pageBytes = sysconf(_SC_PAGESIZE);
  if (pageBytes > 0) gPageBytes = static_cast<size_t>(pageBytes);
  struct sigaction action = {};
  action.sa_sigaction = OnSigbus;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  sigemptyset(&action.sa_mask);
  sigaction(SIGBUS, &action, &gPrevious);
}

// mappingFaultCounter() -> ArrayBuffer(4): this thread's fault count, read by JS without a call.
Napi::Value MappingFaultCounter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  {
    std::lock_guard<std::mutex> guard(gLock);
    InstallLocked();
  }
  auto* count = new uint32_t(0);
  Counter* claimed = nullptr;
  for (Counter& counter : gCounters) {
    bool expected = false;
    if (counter.claimed.compare_exchange_strong(expected, true)) {
      counter.thread.store(pthread_self(), std::memory_order_release);
      counter.count.store(count, std::memory_order_release);
      claimed = &counter;
      break;
    }
  }
  // No counter left: this thread's faults are still zero pages, and its sweep still finds them.
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(
      env, count, sizeof(uint32_t),
      [](Napi::Env, void* data, Counter* counter) {
        if (counter != nullptr) {
          counter->count.store(nullptr, std::memory_order_release);
          counter->claimed.store(false, std::memory_order_release);
        }
        delete static_cast<uint32_t*>(data);
      },
      claimed);
  return buffer;
}

// mappingFaultsUnder(dirs: string[]) -> string[]
Napi::Value MappingFaultsUnder(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) {
    Napi::TypeError::New(env, "mappingFaultsUnder: dirs must be an array of paths").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array dirsArray = info[0].As<Napi::Array>();
  std::vector<std::string> dirs;
  for (uint32_t i = 0; i < dirsArray.Length(); i++) {
    Napi::Value dir = dirsArray.Get(i);
    if (!dir.IsString()) continue;
    std::string prefix = dir.As<Napi::String>().Utf8Value();
    if (prefix.empty() || prefix.back() != '/') prefix += '/';
    dirs.push_back(prefix);
  }
  Napi::Array faulted = Napi::Array::New(env);
  std::lock_guard<std::mutex> guard(gLock);
  if (gPaths == nullptr) return faulted;
  auto under = [&dirs](const std::string& path) {
    for (const std::string& dir : dirs) {
      if (path.compare(0, dir.size(), dir) == 0) return true;
    }
    return false;
  };
  uint32_t used = gSlotsUsed.load();
  for (uint32_t i = 0; i < used; i++) {
    if (!gSlots[i].faulted.load(std::memory_order_acquire) || !under((*gPaths)[i])) continue;
    gSlots[i].faulted.store(false);
    faulted.Set(faulted.Length(), (*gPaths)[i]);
  }
  std::vector<std::string>& unswept = *gUnsweptFaults;
  for (size_t i = 0; i < unswept.size();) {
    if (!under(unswept[i])) {
      i++;
      continue;
    }
    faulted.Set(faulted.Length(), unswept[i]);
    unswept.erase(unswept.begin() + static_cast<std::ptrdiff_t>(i));
  }
  return faulted;
}

}  // namespace

int RegisterMappedRange(const uint8_t* data, size_t bytes, bool writable, const std::string& path) {
  std::lock_guard<std::mutex> guard(gLock);
  InstallLocked();
  int slot;
  if (!gFreeSlots->empty()) {
    slot = gFreeSlots->back();
    gFreeSlots->pop_back();
  } else {
    uint32_t used = gSlotsUsed.load();
    if (used == kSlots) return -1;
    slot = static_cast<int>(used);
    gPaths->emplace_back();
    gSlotsUsed.store(used + 1, std::memory_order_release);
  }
  (*gPaths)[slot] = path;
  Slot& entry = gSlots[slot];
  entry.faulted.store(false);
  entry.protection.store(writable ? PROT_READ | PROT_WRITE : PROT_READ);
  entry.start.store(reinterpret_cast<uintptr_t>(data), std::memory_order_release);
  entry.end.store(reinterpret_cast<uintptr_t>(data) + bytes, std::memory_order_release);
  return slot;
}

void UnregisterMappedRange(int slot) {
  if (slot < 0) return;
  std::lock_guard<std::mutex> guard(gLock);
  gSlots[slot].end.store(0, std::memory_order_release);
  gSlots[slot].start.store(0, std::memory_order_release);
  if (gSlots[slot].faulted.exchange(false)) gUnsweptFaults->push_back((*gPaths)[slot]);
  (*gPaths)[slot].clear();
  gFreeSlots->push_back(slot);
}

void RegisterMappingFaults(Napi::Env env, Napi::Object exports) {
  exports.Set("mappingFaultCounter", Napi::Function::New(env, MappingFaultCounter, "mappingFaultCounter"));
  exports.Set("mappingFaultsUnder", Napi::Function::New(env, MappingFaultsUnder, "mappingFaultsUnder"));
}

}  // namespace sluice
