// arena.h - arenas, non-main heaps, the tcache and the tunable parameters.
//
// Owns: the byte layout of glibc 2.36's malloc_state, heap_info and tcache_perthread_struct (sizes
// are asserted, because they decide where the first chunk of a heap lands), the bin accessors, and
// a futex lock with the footprint of glibc's `int` lock. Must not: allocate or call into libc
// beyond futex(2).
#pragma once

#include "chunk.h"

#include <climits>
#include <cstddef>
#include <cstdint>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace hv::alloc {

// A futex lock in one int (Drepper's "mutex2"): 0 free, 1 locked, 2 locked with waiters.
struct Lock {
  int v = 0;
  void lock() {
    int c = 0;
    if (__atomic_compare_exchange_n(&v, &c, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return;
    if (c != 2) c = __atomic_exchange_n(&v, 2, __ATOMIC_ACQUIRE);
    while (c != 0) {
      syscall(SYS_futex, &v, FUTEX_WAIT_PRIVATE, 2, nullptr, nullptr, 0);
      c = __atomic_exchange_n(&v, 2, __ATOMIC_ACQUIRE);
    }
  }
  bool try_lock() {
    int c = 0;
    return __atomic_compare_exchange_n(&v, &c, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
  }
  void unlock() {
    int was = __atomic_fetch_sub(&v, 1, __ATOMIC_RELEASE);
    HV_ASSERT_MSG(was == 1 || was == 2, "unlock of a lock that is not held (unbalanced lock/unlock?)");
    if (was != 1) {
      __atomic_store_n(&v, 0, __ATOMIC_RELEASE);
      syscall(SYS_futex, &v, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
    }
  }
  void reinit() { v = 0; }
};
static_assert(sizeof(Lock) == sizeof(int));

inline constexpr int kNonContiguousBit = 2;

// malloc_state. Field order and size match glibc so that a non-main heap's first chunk lands at
// heap + 0x8d0, as under glibc.
struct Arena {
  Lock mutex;
  int flags;
  int have_fastchunks;
  Chunk* fastbins[kNFastBins];
  Chunk* top;
  Chunk* last_remainder;
  Chunk* bins[kNBins * 2 - 2];
  unsigned binmap[kBinmapSize];
  Arena* next;
  Arena* next_free;
  size_t attached_threads;
  size_t system_mem;
  size_t max_system_mem;

  // bin_at(i): a fake chunk whose fd/bk alias bins[2(i-1)], bins[2(i-1)+1].
  Chunk* bin_at(unsigned i) {
    HV_ASSERT_MSG(i >= 1 && i < kNBins, "bin index out of range (bin 0 does not exist)");
    return reinterpret_cast<Chunk*>(reinterpret_cast<char*>(&bins[(i - 1) * 2]) - offsetof(Chunk, fd));
  }
  Chunk* unsorted() { return bin_at(1); }
  Chunk* initial_top() { return unsorted(); }
  bool contiguous() const { return !(flags & kNonContiguousBit); }
  void set_noncontiguous() { flags |= kNonContiguousBit; }
  void mark_bin(unsigned i) {
    HV_ASSERT(i < kNBins);
    binmap[idx2block(i)] |= idx2bit(i);
  }
  void unmark_bin(unsigned i) {
    HV_ASSERT(i < kNBins);
    binmap[idx2block(i)] &= ~idx2bit(i);
  }
  bool bin_marked(unsigned i) const { return binmap[idx2block(i)] & idx2bit(i); }
  Chunk** fastbin(unsigned i) {
    HV_ASSERT_MSG(i < kNFastBins, "fastbin index out of range (a size above global_max_fast?)");
    return &fastbins[i];
  }
};
static_assert(sizeof(Arena) == 2200, "malloc_state must match glibc 2.36 on x86-64");

// heap_info: the header of each 64 MiB-aligned heap of a non-main arena.
inline constexpr size_t kHeapMinSize = 32 * 1024;
inline constexpr size_t kDefaultMmapThresholdMin = 128 * 1024;
inline constexpr size_t kDefaultMmapThresholdMax = 4 * 1024 * 1024 * sizeof(long); // 32 MiB
inline constexpr size_t kHeapMaxSize = 2 * kDefaultMmapThresholdMax;               // 64 MiB
struct HeapInfo {
  Arena* ar_ptr;
  HeapInfo* prev;
  size_t size;
  size_t mprotect_size;
  size_t pagesize;
  char pad[(0 - 3 * kSizeSz) & kAlignMask];
};
static_assert(sizeof(HeapInfo) == 48);
inline HeapInfo* heap_for_ptr(void* p) {
  return reinterpret_cast<HeapInfo*>(reinterpret_cast<uintptr_t>(p) & ~(kHeapMaxSize - 1));
}

// tcache_perthread_struct: the first chunk (0x290) of a thread's first arena allocation.
struct TcacheEntry {
  TcacheEntry* next; // safe-linked
  uintptr_t key;     // == tcache_key while the chunk sits in a tcache (double-free check)
};
struct Tcache {
  uint16_t counts[kTcacheMaxBins];
  TcacheEntry* entries[kTcacheMaxBins];
};
static_assert(sizeof(Tcache) == 0x280);

// Where the program called the allocator: the return address into the caller and the caller's
// stack pointer once it is back (the CFA of the function that takes it), for the stack check
// (stack_capture.cpp). HV_CALLER takes it in an out-of-line function that the exported entry
// point tail-calls (MallocCore::malloc_traced and the like); {0, 0}: not known.
struct Caller {
  uintptr_t ra = 0, cfa = 0;
};
#define HV_CALLER()                                                                                          \
  (::hv::alloc::Caller{reinterpret_cast<uintptr_t>(__builtin_return_address(0)),                             \
                       reinterpret_cast<uintptr_t>(__builtin_dwarf_cfa())})

// Per-thread allocator state. Plain data: it lives in __thread storage in the real allocator.
struct TraceThread;
struct ThreadState {
  Tcache* tcache;
  TraceThread* trace; // this thread's trace buffer (trace_sink.h), null until it records
  Arena* arena;
  bool tcache_shutting_down;
  ThreadState* reg_next; // registry of live tcaches, for the checker and heap walks
  ThreadState* reg_prev;
  // The live gate (live_gate.h), used only in a HEAPVIZ_LIVE process: this thread's slot in
  // the gate's table (index + 1; 0: none yet), and how deep it is in calls that passed the gate.
  uint32_t live_slot;
  uint32_t live_passed;
  uint32_t* live_admitted; // that slot's count of calls that passed (null: none yet)
  // A simulated scenario thread (SimPlatform::new_thread): the thread id its trace events carry
  // (0: the calling OS thread's, gettid()).
  uint32_t sim_tid;
};

// mp_: the process-wide parameters (mallopt, environment, dynamic thresholds, statistics).
struct Params {
  size_t trim_threshold = 128 * 1024;
  size_t top_pad = 128 * 1024;
  size_t mmap_threshold = kDefaultMmapThresholdMin;
  size_t arena_test = 8; // NARENAS_FROM_NCORES(1)
  size_t arena_max = 0;
  int n_mmaps = 0;
  int n_mmaps_max = 65536;
  int max_n_mmaps = 0;
  int no_dyn_threshold = 0;
  size_t mmapped_mem = 0;
  size_t max_mmapped_mem = 0;
  char* sbrk_base = nullptr;
  size_t tcache_bins = kTcacheMaxBins;
  size_t tcache_max_bytes = kMaxTcacheSize;
  size_t tcache_count = kTcacheFillCount;
  size_t tcache_unsorted_limit = 0;
  int perturb_byte = 0;
};

} // namespace hv::alloc
