// simulated_heap.h - glibc 2.36's malloc on a simulated memory region, behind one narrow class:
// what `heapviz sim` (visualizer/sim/glibc_policy.cpp) needs from the allocator core.
//
// Owns: the interface only. allocator/src/simulated_heap.cpp wraps MallocCore<SimPlatform> and
// the heap walk; chunk.h, arena.h, malloc_core*.h and heap_walk.h stay private to allocator/.
// Must not: expose the allocator's types, or throw (the allocator is built without exceptions).
#pragma once

#include "heapviz/trace_format.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

namespace hv::alloc {

class SimulatedHeap {
public:
  SimulatedHeap();
  ~SimulatedHeap();
  SimulatedHeap(const SimulatedHeap&) = delete;
  SimulatedHeap& operator=(const SimulatedHeap&) = delete;

  // glibc's API, on the simulated region.
  void* malloc(size_t n);
  void* calloc(size_t n, size_t size);
  void* realloc(void* p, size_t n);
  void* memalign(size_t align, size_t n);
  void free(void* p);
  size_t usable_size(void* p);
  // heapviz's own checks (HEAPVIZ_CHECKS, docs/checks.md), before the first call; cont: report
  // and go on instead of aborting. False if they cannot start (their table is not mapped).
  bool enable_checks(bool cont);
  // The checks' sweep: every live block's canary and every freed chunk's pattern, now.
  void checks_sweep();
  // p (returned by this heap, not null) is an mmapped chunk.
  bool is_mmapped(void* p) const;
  // glibc's mallopt(param, value), param an M_* number of <malloc.h>: glibc 2.36's result.
  int mallopt(int param, int value);
  // glibc's malloc_trim(pad): every arena's free chunks give their whole pages back
  // (madvise), and the main arena's top shrinks to pad. glibc 2.36's result (1: memory released).
  int malloc_trim(size_t pad);

  // A glibc malloc tunable ("glibc.malloc.tcache_count") set to a value before the first call,
  // as if it stood in GLIBC_TUNABLES (allocator/src/tunables.h). What became of it:
  enum class TunableResult {
    Applied,
    Unknown,     // no glibc 2.36 malloc tunable has that name
    Unsupported, // glibc.malloc.hugetlb, glibc.malloc.check: not simulated
    Dropped,     // outside ld.so's bounds (perturb 256, arena_max 0): glibc ignores it
    Ignored,     // within ld.so's bounds but refused by malloc's setter (tcache_count 65536)
    TooLate,     // the heap has started: glibc reads tunables once, at its first call
  };
  // `accepts` (may be null) receives the values glibc 2.36 takes, in words ("0..255").
  TunableResult set_tunable(const char* name, size_t name_len, uint64_t value, const char** accepts);
  // The i-th known tunable's name, nullptr past the last.
  static const char* tunable_name(int i);

  // Scenario threads (docs/scenarios.md, "Threads"), all run by the calling OS thread one call
  // at a time. thread_new() makes a fresh thread (its tcache and arena come at its first call, as
  // in glibc) and returns its handle (1, 2, ...); its trace events carry the thread id
  // trace_tid (never 0). thread_select(h) makes the calls that follow run as thread h (0: the
  // calling OS thread, the scenario's main thread). set_multithreaded() is glibc's first
  // pthread_create: SINGLE_THREAD_P is false from then on. thread_exit() runs glibc's exit of
  // the selected thread (__malloc_arena_thread_freeres: tcache_thread_shutdown frees its
  // tcache's chunks and the tcache itself, then its arena goes to the free list when no other
  // thread is attached to it) and selects the main thread again.
  int thread_new(uint32_t trace_tid);
  void thread_select(int handle);
  void set_multithreaded();
  void thread_exit();
  // The start of the region an address's offset is measured from: heap_base() in the main heap,
  // else the start of the non-main heap (64 MiB aligned, its heap_info) that holds it.
  uintptr_t region_start(uintptr_t addr) const;

  // The simulated program break before the first call: the address offsets are measured from.
  uintptr_t heap_base() const;
  uint64_t main_heap_bytes() const; // the main arena's system memory (sbrk space)
  uint64_t mmapped_bytes() const;

  // One chunk as the heap walk classifies it.
  struct ChunkInfo {
    uintptr_t addr;          // the chunk (its header), not the user pointer
    size_t size;             // whole chunk, without the flag bits
    unsigned flags;          // glibc's A|M|P bits
    trace::ChunkState state; // as trace snapshots write it; names in heapviz/chunk_states.h
    int bin;                 // bin index for tcache/fastbin/smallbin/largebin; -1 otherwise
    int arena;               // 0 = the main arena, then in arena-list order
    bool internal;           // the allocator's own: a thread's tcache_perthread_struct
  };
  // Walks every arena and calls f(const ChunkInfo&) for each chunk, in address order per
  // region; stops early when f returns false.
  template <class F> void for_each_chunk(F&& f) {
    using Fn = std::remove_reference_t<F>;
    walk([](const ChunkInfo& c, void* ctx) -> bool { return (*static_cast<Fn*>(ctx))(c); },
         const_cast<std::remove_const_t<Fn>*>(&f));
  }
  // One chunk of a bin's list, as the heap walk follows the list (for_each_bin_chunk).
  struct BinChunk {
    uintptr_t addr; // the chunk (its header)
    trace::BinKind kind;
    unsigned index; // the bin's index (the unsorted bin: 1)
    int arena;      // 0 = the main arena, then in arena-list order; -1: a thread's tcache
    int thread;     // a tcache's thread: its thread_new handle (0: the calling OS thread's)
  };
  // Calls f(const BinChunk&) for every chunk in a bin, list by list, each list head first (the
  // end its next insertion uses; docs/trace-format.md, "Bin order"); nothing when the heap check
  // fails. Stops early when f returns false.
  template <class F> void for_each_bin_chunk(F&& f) {
    using Fn = std::remove_reference_t<F>;
    walk_bins([](const BinChunk& c, void* ctx) -> bool { return (*static_cast<Fn*>(ctx))(c); },
              const_cast<std::remove_const_t<Fn>*>(&f));
  }
  // Runs the heap checker (invariants I1..I11, allocator/src/chunk.h): nullptr when every
  // invariant holds, else the first violation's message (valid until the next call).
  const char* check();

  // Records every event of this heap to `path` (docs/trace-format.md), flagged as simulated;
  // verify_every > 0 adds a heap snapshot every that many events. False if it cannot.
  bool trace_start(const char* path, uint64_t verify_every);
  void trace_stop();
  // Events the trace holds so far (a position after the last call: the calls' events are written).
  uint64_t trace_events() const;
  void trace_mark(const char* label);

private:
  using ChunkFn = bool (*)(const ChunkInfo&, void* ctx);
  void walk(ChunkFn fn, void* ctx);
  using BinFn = bool (*)(const BinChunk&, void* ctx);
  void walk_bins(BinFn fn, void* ctx);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace hv::alloc
