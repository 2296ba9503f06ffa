// platform.h - the one interface through which the allocator core gets memory and thread state.
//
// Owns: two implementations of the same interface, chosen at compile time (the core is a template):
//   RealPlatform - the process's own break (sbrk) and mmap; per-thread state in __thread storage.
//   SimPlatform  - a private reserved region that plays the program break, so a simulated heap
//                  starts at a known, page-aligned base; per-thread state kept per instance.
// Interface (what MallocCore<P> calls): morecore(incr) [sbrk semantics, nullptr on failure],
// mmap/munmap/mprotect/mremap/madvise [mmap(2) semantics], pagesize(), nprocs(), thread(),
// single_threaded(), random_key(), fatal(msg, addr).
// Must not: call malloc or anything that may allocate (it runs inside malloc).
#pragma once

#include "arena.h"

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <sys/mman.h>
#include <sys/single_threaded.h>

namespace hv::alloc {

// The real allocator's per-thread state: plain data in initial-exec TLS (no constructor, no
// destructor, no allocation on first touch).
extern __thread ThreadState g_real_thread_state __attribute__((tls_model("initial-exec")));

// Writes "msg\n" (and the address, if any; then note, a line of heapviz's, if any) to stderr and
// aborts, as glibc's malloc_printerr.
[[noreturn]] void fatal_error(const char* msg, const void* addr, const char* note = nullptr);
// Breakpoints (HEAPVIZ_BREAK_ON_ERROR, HEAPVIZ_BREAK_AT; `heapviz run --break-on-error`,
// `--break-at N`): stop_here() says why and how to attach a debugger on stderr, runs
// g_before_stop (the preload library's: flush the trace, let a live viewer receive it), then stops
// the process with SIGSTOP; it returns once the process is continued (SIGCONT). fatal_error()
// calls it before aborting when g_break_on_error is set, and g_before_abort (a live viewer's last
// sync) in any case.
extern bool g_break_on_error;
extern void (*g_before_stop)();
extern void (*g_before_abort)();
void stop_here(const char* why);
// Raw helpers usable inside malloc (no allocation): write(2) of a C string / hex number.
void raw_write(int fd, const char* s);
void raw_write_hex(int fd, uintptr_t v);

class RealPlatform {
public:
  static constexpr bool kIsSim = false;
  void* morecore(ptrdiff_t incr);
  void* mmap(void* addr, size_t len, int prot, int flags) {
    return ::mmap(addr, len, prot, flags | MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  }
  int munmap(void* p, size_t len) { return ::munmap(p, len); }
  int mprotect(void* p, size_t len, int prot) { return ::mprotect(p, len, prot); }
  void* mremap(void* p, size_t old_len, size_t new_len, int flags) {
    return ::mremap(p, old_len, new_len, flags);
  }
  int madvise(void* p, size_t len, int advice) { return ::madvise(p, len, advice); }
  size_t pagesize() const { return page_; }
  int nprocs();
  ThreadState& thread() { return g_real_thread_state; }
  bool single_threaded() const { return __libc_single_threaded; }
  // Whether events happen one at a time (the trace then numbers them with one counter).
  bool trace_sequential() const { return __libc_single_threaded; }
  uintptr_t random_key();
  [[noreturn]] void fatal(const char* msg, const void* addr, const char* note = nullptr) {
    fatal_error(msg, addr, note);
  }
  void breakpoint(const char* why) { stop_here(why); }
  void init(); // reads the page size; no allocation
  // Arms the thread-exit hook (a pthread key destructor) for the calling thread.
  void on_thread_start();

private:
  size_t page_ = 4096;
};

class SimPlatform {
public:
  static constexpr bool kIsSim = true;
  // Reserves `capacity` bytes of address space (not committed) to play the program break.
  explicit SimPlatform(size_t capacity = size_t(4) << 30);
  ~SimPlatform();
  SimPlatform(const SimPlatform&) = delete;
  SimPlatform& operator=(const SimPlatform&) = delete;

  void* morecore(ptrdiff_t incr);
  void* mmap(void* addr, size_t len, int prot, int flags);
  int munmap(void* p, size_t len);
  int mprotect(void* p, size_t len, int prot) { return ::mprotect(p, len, prot); }
  void* mremap(void* p, size_t old_len, size_t new_len, int flags);
  int madvise(void* p, size_t len, int advice) { return ::madvise(p, len, advice); }
  size_t pagesize() const { return 4096; }
  int nprocs() const { return nprocs_; }
  ThreadState& thread();
  bool single_threaded() const { return !threaded_; }
  // Scenario threads all run on one OS thread, one event at a time: their trace is numbered by
  // one counter, in the script's order, as glibc's own threads could not be.
  bool trace_sequential() const { return !threaded_ || scenario_threads_; }
  uintptr_t random_key() const { return 0x6865617076697a21ull; } // deterministic in simulation
  [[noreturn]] void fatal(const char* msg, const void* addr, const char* note = nullptr) {
    fatal_error(msg, addr, note);
  }
  void breakpoint(const char*) {} // a simulation has no process to stop
  void init() {}
  void on_thread_start() {}

  // Simulation controls.
  void set_threaded(bool t) { threaded_ = t; }
  // Scenario threads (docs/scenarios.md, "Threads"), all run by one OS thread: a fresh, zeroed
  // thread state, and the one thread() returns from now on (nullptr: the calling OS thread's own).
  ThreadState* new_thread();
  void select_thread(ThreadState* ts) { selected_ = ts; }
  void set_nprocs(int n) { nprocs_ = n; }
  char* brk_base() const { return base_; }
  char* brk_cur() const { return cur_; }
  size_t mapped_bytes() const { return mapped_bytes_; }
  // Visits every thread state created in this simulation (the checker walks their tcaches).
  template <class F> void for_each_thread(F&& f) {
    int n = __atomic_load_n(&nslots_, __ATOMIC_ACQUIRE);
    for (int i = 0; i < n && i < kMaxThreads; ++i)
      f(slots_[i]);
  }

  static constexpr int kMaxThreads = 256;

private:
  bool scenario_threads_ = false; // new_thread() was called: a scenario's threads
  char* base_ = nullptr;
  char* cur_ = nullptr;
  char* committed_ = nullptr;
  size_t capacity_ = 0;
  size_t mapped_bytes_ = 0;
  bool threaded_ = false;
  ThreadState* selected_ = nullptr;
  int nprocs_ = 2;
  uint64_t id_ = 0;
  int nslots_ = 0;
  ThreadState slots_[kMaxThreads] = {};
};

} // namespace hv::alloc
