// malloc_core.h - glibc 2.36's malloc algorithm (ptmalloc2), written as one class template.
//
// Owns: arenas and their bins, the tcache, top/sysmalloc/trim, mmapped chunks, arena assignment,
// and the public entry points (malloc, free, calloc, realloc, the memalign family, mallopt,
// mallinfo2, malloc_trim, malloc_stats, malloc_info), and the tunables it applies at init
// (tunables.h: GLIBC_TUNABLES and the MALLOC_*_ aliases). The platform P (platform.h) supplies
// memory and thread state, so the same algorithm runs on the real process (libhvalloc.so) and on
// a simulated region (heapviz sim, tests). Implementation: malloc_core_impl.h; a guided tour:
// docs/allocator.md. Tracing goes through hooks_ (trace_hooks.h, included at the end: the
// contract of every hook).
// Must not: allocate through anything but P, use C++ runtime allocation, throw, or recurse.
#pragma once

#include "arena.h"
#include "live_gate.h"
#include "mmap_table.h"
#include "platform.h"
#include "trace_sink.h"
#include "tunables.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <malloc.h>

// glibc 2.36's `assert (EXPR)` in malloc.c or arena.c, inside glibc's function FUNC: EXPR is
// glibc's text as its assert stringifies it (every run of blanks one space), the condition the C++
// that computes the same thing. Every one is listed in docs/checks.md ("glibc's own checks").
#define HV_GLIBC_ASSERT(cond, func, expr, addr)                                                              \
  do {                                                                                                       \
    if (__builtin_expect(!(cond), 0))                                                                        \
      this->assert_failed("Fatal glibc error: malloc assertion failure in " func ": " expr, addr);           \
  } while (0)

namespace hv::alloc {

// A maximal run of chunks in one heap region: the main arena's sbrk space (one segment per
// non-contiguous extension), or one heap of a non-main arena.
struct Segment {
  char* start;
  char* end; // exclusive; for the segment holding top, top's end
};

inline constexpr int kMaxMainSegments = 64;

template <class P> class TraceHooks; // trace_hooks.h
template <class P> class Checks;     // checks.h
class TraceWriter;                   // trace_hooks.h

template <class P> class MallocCore {
public:
  template <class... A> constexpr explicit MallocCore(A&&... a) : plat_(static_cast<A&&>(a)...) {}

  // ---- glibc's public API ------------------------------------------------------------------
  // Inlined into the exported functions, whose tail calls into the traced paths (below) let those
  // name the program's call (HV_CALLER).
  __attribute__((always_inline)) inline void* malloc(size_t bytes);
  __attribute__((always_inline)) inline void free(void* mem);
  __attribute__((always_inline)) inline void* calloc(size_t n, size_t elem_size);
  __attribute__((always_inline)) inline void* realloc(void* oldmem, size_t bytes);
  void* memalign(size_t alignment, size_t bytes); // also aligned_alloc, as glibc 2.36
  void* valloc(size_t bytes);
  void* pvalloc(size_t bytes);
  int posix_memalign(void** memptr, size_t alignment, size_t size);
  size_t usable_size(void* mem);
  int trim(size_t pad);
  struct mallinfo2 info();
  int mallopt(int param, int value);
  // A glibc tunable (tunables.h) for a simulated heap, before its first call, as if it stood in
  // GLIBC_TUNABLES: false when ld.so would drop the value (out of bounds) or the heap has started.
  // The real allocator reads them from its environment instead (read_environment).
  bool set_tunable(TunableId id, TunableNum value) { return !initialized_ && tunables_.update(id, value); }
  void stats(int fd);
  // malloc_info(options, fp): glibc 2.36's XML, number for number. Like glibc it writes with
  // stdio, and only while it holds no lock (the FILE's first write may malloc its buffer).
  // Options other than 0 return EINVAL itself, with errno untouched, as glibc 2.36 does
  // (its manual says -1 and errno).
  int info_xml(int options, FILE* fp);

  // ---- Tracing (trace_hooks.h, docs/trace-format.md) ---------------------------------------
  // Starts writing events to `path`. verify_every > 0 adds a heap-walk snapshot every that many
  // events. heap_base is the address offsets are measured from (the initial program break).
  bool trace_start(const char* path, bool exclusive, uint64_t verify_every, uint32_t extra_flags);
  void trace_stop() {
    hooks_.close();
    entry_ = live_ || checks_.on();
  }
  bool tracing() const { return hooks_.on(); }
  void trace_mark(const char* label);
  void trace_flush_all(bool interrupted = false) { hooks_.sink().flush_all(interrupted); }
  void trace_flush_ending(bool interrupted) { hooks_.sink().flush_ending(interrupted, plat_.thread().trace); }
  uint64_t trace_events() { return hooks_.sink().events_written(); } // events written so far
  void trace_break_at(uint64_t n) { hooks_.set_break_at(n); }        // HEAPVIZ_BREAK_AT (trace_hooks.h)
  TraceSink& trace_sink() { return hooks_.sink(); }
  TraceWriter& trace_writer() { return hooks_.writer(); } // complete below
  // Writes the current heap as SNAPSHOT event(s); baseline marks it as the trace's starting state.
  // exact: every thread is known to be outside the allocator (the live gate is closed), so
  // tcaches and fastbins are listed even in a multi-threaded process.
  void trace_snapshot(bool baseline, bool exact = false) { hooks_.snapshot(baseline, exact); }
  // Writes ArenaNew and HeapNew events for every arena and heap region that exists now: with a
  // baseline snapshot, they let a trace that starts mid-run (a forked child, a live attach)
  // replay the heap's layout, not just its chunks.
  void trace_regions() { hooks_.regions(); }
  // Writes MmapChunk events for every mmapped chunk that exists now (after a baseline snapshot,
  // which lists only the arenas' chunks).
  void trace_mmapped_chunks() { hooks_.mmapped_chunks(); }

  // ---- Live mode (HEAPVIZ_LIVE, live_gate.h, docs/live.md) ---------------------------------
  // From now on every API call passes the live gate (the process can be attached to).
  void live_enable() {
    live_gate_.init();
    live_ = true;
    entry_ = true;
  }
  bool live() const { return live_; }
  void live_disable_in_child() {
    live_ = false;
    entry_ = hooks_.on() || checks_.on();
  }
  // The allocator's parameters and heap base, as a trace header records them.
  void header_params(uint64_t params[trace::kNumParams], uint64_t* heap_base);
  LiveGate& live_gate() { return live_gate_; }
  // While set, malloc and calloc in this process are served from private mappings outside the
  // heap (for glibc's own allocation when the live thread is created: the heap stays as glibc's).
  void set_private_alloc(bool on) { private_alloc_ = on; }
  // The footprint of every arena plus mmapped chunks (racy reads: a display value).
  uint64_t footprint_bytes();

  // ---- HEAPVIZ_CHECKS (checks.h, docs/checks.md) -------------------------------------------
  // Turns heapviz's own checks on, before the heap's first call (the real allocator reads
  // HEAPVIZ_CHECKS and HEAPVIZ_CHECKS_CONTINUE at init). False if its table cannot be mapped.
  // fill: the pattern's bytes per freed chunk (HEAPVIZ_CHECKS_FILL; 0: all of it).
  bool checks_enable(bool continue_after_report, size_t fill = 32);
  bool checks_on() const { return checks_.on(); }
  // Every live block's canary and every freed chunk's pattern, now (at exit).
  void checks_sweep();
  // Gives the checks' table back (a simulated heap that goes away).
  void checks_release() { checks_.release(); }

  // ---- Process and thread lifecycle -------------------------------------------------------
  void ensure_init() {
    if (!initialized_) init();
  }
  void thread_shutdown(); // __malloc_arena_thread_freeres: flush the tcache, detach the arena
  void thread_shutdown_body(ThreadState& ts);
  void fork_prepare();
  void fork_parent();
  void fork_child();

  // ---- Read access for the checker, the walkers and tests ---------------------------------
  P& platform() { return plat_; }
  Arena* main_arena() { return &main_arena_; }
  const Params& params() const { return mp_; }
  bool initialized() const { return initialized_; }
  size_t max_fast() const { return global_max_fast_; }
  uintptr_t tcache_key() const { return tcache_key_; }
  bool is_main(const Arena* a) const { return a == &main_arena_; }
  // Segments of an arena, in address order for the main arena. Returns the count written.
  int segments(Arena* a, Segment* out, int max);
  // Every live thread's state (for tcache walks); call only while the heap is quiescent.
  template <class F> void for_each_thread(F&& f);
  // Locks every arena (for a consistent heap walk) and unlocks them.
  void lock_all();
  void unlock_all();

private:
  friend class TraceHooks<P>; // reads the state it describes (segments, mmapped chunks, arenas)
  friend class Checks<P>;     // reads the arenas, the tcache and the parameters it predicts glibc by

  void init();
  void init_state(Arena* av);
  void read_environment();
  void apply_tunables();
  // malloc.c's do_set_* (shared by mallopt and the tunables): 1 when applied, 0 when ignored.
  int do_set_mxfast(size_t value);
  int do_set_tcache_max(size_t value);
  int do_set_tcache_count(size_t value);

  // Arena assignment (arena.c)
  Arena* arena_get(ThreadState& ts, size_t size);
  Arena* arena_get2(ThreadState& ts, size_t size, Arena* avoid);
  Arena* arena_get_retry(ThreadState& ts, Arena* ar, size_t bytes);
  Arena* get_free_list(ThreadState& ts);
  Arena* reused_arena(ThreadState& ts, Arena* avoid);
  Arena* new_arena(ThreadState& ts, size_t size);
  void detach_arena(Arena* a);
  void remove_from_free_list(Arena* a);
  Arena* arena_for_chunk(Chunk* p) { return p->non_main() ? heap_for_ptr(p)->ar_ptr : &main_arena_; }
  HeapInfo* new_heap(size_t size, size_t top_pad);
  int grow_heap(HeapInfo* h, long diff);
  int shrink_heap(HeapInfo* h, long diff);
  int heap_trim(HeapInfo* heap, size_t pad);

  // The algorithm (malloc.c)
  void* int_malloc(Arena* av, size_t bytes);
  void* malloc_body(size_t bytes);
  void free_body(void* mem);
  // The traced calls: out of line for a process that is not listening (malloc() and free() call
  // them straight), inlined into the live gate's scope (malloc_hooked, free_hooked) for one that
  // is: either way one frame less per call.
  __attribute__((noinline)) void* malloc_traced(size_t bytes);
  __attribute__((noinline)) void free_traced(void* mem);
  __attribute__((always_inline)) inline void* malloc_traced_inline(size_t bytes, Caller c);
  __attribute__((always_inline)) inline void free_traced_inline(void* mem, Caller c);
  void* realloc_body(void* oldmem, size_t bytes);
  void* calloc_body(size_t n, size_t elem_size);
  void* memalign_body(size_t alignment, size_t bytes);
  void* valloc_body(size_t bytes);
  void* pvalloc_body(size_t bytes);
  int posix_memalign_body(void** memptr, size_t alignment, size_t size);
  void int_free(Arena* av, Chunk* p, bool have_lock);
  bool free_checks_and_tcache(ThreadState& ts, Chunk* p, size_t size);
  __attribute__((noinline)) void tcache_double_free_scan(ThreadState& ts, TcacheEntry* e, size_t tc_idx);
  __attribute__((noinline)) void int_free_bins(Arena* av, Chunk* p, size_t size, bool have_lock);
  __attribute__((noinline, cold)) void free_mmapped(Chunk* p);
  __attribute__((noinline)) void* malloc_from_arena(ThreadState& ts, size_t bytes);
  void* int_realloc(Arena* av, Chunk* oldp, size_t oldsize, size_t nb);
  void* int_memalign(Arena* av, size_t alignment, size_t bytes);
  void* mid_memalign(size_t alignment, size_t bytes);
  void malloc_consolidate(Arena* av);
  void unlink_chunk(Arena* av, Chunk* p);
  void* sysmalloc(size_t nb, Arena* av);
  void* morecore(long incr);
  void* sysmalloc_mmap(size_t nb, size_t pagesize, int extra_flags);
  char* sysmalloc_mmap_fallback(long* s, size_t nb, size_t old_size, size_t minsize, size_t pagesize,
                                Arena* av);
  int systrim(size_t pad, Arena* av);
  void munmap_chunk(Chunk* p);
  Chunk* mremap_chunk(Chunk* p, size_t new_size);
  int mtrim(Arena* av, size_t pad);
  void int_mallinfo(Arena* av, struct mallinfo2* m);
  void add_main_segment(char* start, char* old_end);
  static Chunk* next_bin(Chunk* b) { return b->at(2 * sizeof(Chunk*)); }

  // Tcache
  void tcache_init(ThreadState& ts);
  // from: the arena whose bin chunk leaves (malloc's stashes, under its lock); nullptr for a
  // free, whose chunk was in use (its event is ordered by its pointer or its thread).
  void tcache_put(ThreadState& ts, Chunk* chunk, size_t tc_idx, Arena* from = nullptr);
  void* tcache_get(ThreadState& ts, size_t tc_idx);
  void register_thread(ThreadState& ts);
  void unregister_thread(ThreadState& ts);

  // The envelope of all memory the main arena ever took (a cheap wild-pointer filter for free).
  bool in_main_range(Chunk* p) const {
    uintptr_t a = reinterpret_cast<uintptr_t>(p);
    return a >= __atomic_load_n(&main_lo_, __ATOMIC_RELAXED) &&
           a < __atomic_load_n(&main_hi_, __ATOMIC_RELAXED);
  }
  void note_main_range(char* lo, char* hi) {
    uintptr_t l = reinterpret_cast<uintptr_t>(lo), h = reinterpret_cast<uintptr_t>(hi);
    if (main_lo_ == 0 || l < main_lo_) __atomic_store_n(&main_lo_, l, __ATOMIC_RELAXED);
    if (h > main_hi_) __atomic_store_n(&main_hi_, h, __ATOMIC_RELAXED);
  }
  // A failed integrity check: the trace gets an Error event with `code` (what the check found;
  // trace_format.h), then glibc's message and abort. Every call site names its code.
  [[noreturn]] void corrupt(trace::ErrorCode code, const char* msg, const void* addr) {
    // With HEAPVIZ_CHECKS, when the checks know the block's header was overwritten: glibc's
    // verdict and message, recorded as the overflow it is (docs/checks.md: kind
    // heap-buffer-overflow, source glibc, the size word expected and found); after glibc's
    // message, what the checks know of it (its header, and by which block's end).
    uint64_t found = 0, expect = 0;
    Chunk* before = nullptr;
    uint32_t pe = 0;
    char note[trace::kMaxErrorMessage];
    const char* said = nullptr;
    if (checks_.on() && checks_.header_overwritten(addr, &found, &expect, &before, &pe)) {
      said = checks_.header_note(found, expect, before, pe, note, sizeof note);
      const trace::ErrorRun run{kSizeSz, kSizeSz, reinterpret_cast<const uint8_t*>(&expect),
                                reinterpret_cast<const uint8_t*>(&found)};
      hooks_.report(code, trace::HeapErrorKind::HeapBufferOverflow, msg, addr,
                    mem2chunk(const_cast<void*>(addr)), &run, 1, false, trace::HeapErrorSource::Glibc);
    } else {
      hooks_.error(code, addr, msg);
    }
    plat_.fatal(msg, addr, said);
  }
  // A failed assert of glibc's malloc. glibc keeps malloc's asserts in its release builds
  // (malloc.c's __malloc_assert): "Fatal glibc error: malloc assertion failure in FUNC: EXPR",
  // then abort. Here it is an Error event (code Other) like any check, then glibc's message
  // (HV_GLIBC_ASSERT builds it at compile time: no formatting, no allocation).
  [[noreturn]] __attribute__((noinline, cold)) void assert_failed(const char* msg, const void* addr) {
    corrupt(trace::ErrorCode::Other, msg, addr);
  }

  // HEAPVIZ_CHECKS: `gone` became part of `r` (size bytes now); into_top: r is the new top.
  void check_merge(Chunk* r, size_t size, Chunk* gone, bool into_top) {
    if (__builtin_expect(checks_.on(), 0)) checks_.merged(r, size, gone, into_top);
  }

  void* int_malloc_impl(Arena* av, size_t bytes);
  void take_and_split(Arena* av, Chunk* victim, size_t size, size_t nb, bool set_last_remainder,
                      const char* corrupt_msg);
  void alloc_perturb(void* p, size_t n);
  void free_perturb(void* p, size_t n);

  Arena main_arena_{};
  Params mp_{};
  Tunables tunables_{}; // read at init (real), or set before it (simulated)
  P plat_;
  bool initialized_ = false;
  uintptr_t tcache_key_ = 0;
  size_t global_max_fast_ = 0;
  Lock list_lock_{};
  Lock free_list_lock_{};
  Lock registry_lock_{};
  Arena* free_list_ = nullptr;
  size_t narenas_ = 1;
  size_t narenas_limit_ = 0;
  Arena* next_to_use_ = nullptr;
  char* aligned_heap_area_ = nullptr;
  ThreadState* registry_ = nullptr;
  Segment main_segs_[kMaxMainSegments] = {};
  int n_main_segs_ = 0;
  uintptr_t main_lo_ = 0;
  uintptr_t main_hi_ = 0;
  TraceHooks<P> hooks_{this};
  Checks<P> checks_{this};
  // entry_ is the one branch of every API entry: tracing() || live_.
  bool entry_ = false;
  bool live_ = false;
  bool private_alloc_ = false;
  LiveGate live_gate_{};
  MmapTable mmapped_{};

  // Holds the live gate for the length of one API call (nothing when not live).
  struct LiveScope {
    MallocCore* m;
    ThreadState* ts = nullptr;
    explicit LiveScope(MallocCore* core) : m(core) {
      if (m->live_) {
        ts = &m->plat_.thread();
        if (__builtin_expect(ts->live_admitted == nullptr, 0)) m->plat_.on_thread_start(); // released at exit
        m->live_gate_.enter(*ts);
      }
    }
    ~LiveScope() {
      if (ts) m->live_gate_.leave(*ts);
    }
  };
  void* private_alloc(size_t bytes);
  // A call from a signal handler that interrupted a traced call (TraceHooks::nested): served
  // without touching the heap, and noted for the trace.
  void* nested_alloc(ThreadState& ts, trace::Ev what, uint64_t a, uint64_t b, size_t bytes);
  void nested_free(ThreadState& ts, void* mem);
  void* nested_realloc(ThreadState& ts, void* oldmem, size_t bytes);
  // The interrupted call has ended: HEAPVIZ_CHECKS learns of a block a nested call made.
  void nested_made(void* mem, size_t bytes) {
    if (checks_.on()) checks_.allocated(mem, bytes);
  }
  // The API calls of a process that traces, listens or checks: out of line, and entered by a tail
  // call from the exported function (its inlined malloc() etc.), so that their return address and
  // CFA are the program's call (HV_CALLER: the stack check's key; when the compiler made no tail
  // call they are the exported function's, and the check finds no match by them).
  __attribute__((noinline)) void* malloc_hooked(size_t bytes);
  __attribute__((noinline)) void free_hooked(void* mem);
  __attribute__((noinline)) void* realloc_hooked(void* oldmem, size_t bytes);
  __attribute__((noinline)) void* calloc_hooked(size_t n, size_t elem_size);
  void* malloc_checked(size_t bytes);
  void free_checked(void* mem);
  void* realloc_checked(void* oldmem, size_t bytes);
};

template <class P> template <class F> void MallocCore<P>::for_each_thread(F&& f) {
  for (ThreadState* t = registry_; t; t = t->reg_next)
    f(*t);
}

} // namespace hv::alloc

#include "checks.h"      // Checks<P>, complete: it sees the whole core
#include "trace_hooks.h" // TraceHooks<P>, complete: it sees the whole core

namespace hv::alloc {
// The public entry points: inlined into every caller (the exported functions), so defined here
// for every translation unit that calls them.
template <class P> inline void* MallocCore<P>::malloc(size_t bytes) {
  if (__builtin_expect(entry_, 0)) {
    // Recording, not listening: straight to the traced call (no frame in between).
    if (!live_ && !private_alloc_ && hooks_.on()) return malloc_traced(bytes);
    return malloc_hooked(bytes);
  }
  return malloc_body(bytes);
}
template <class P> inline void MallocCore<P>::free(void* mem) {
  if (__builtin_expect(entry_, 0)) {
    if (!live_ && hooks_.on()) return free_traced(mem); // as malloc
    return free_hooked(mem);
  }
  free_body(mem);
}
template <class P> inline void* MallocCore<P>::realloc(void* oldmem, size_t bytes) {
  if (__builtin_expect(!entry_, 1)) return realloc_body(oldmem, bytes);
  return realloc_hooked(oldmem, bytes);
}
template <class P> inline void* MallocCore<P>::calloc(size_t n, size_t elem_size) {
  if (__builtin_expect(!entry_, 1)) return calloc_body(n, elem_size);
  return calloc_hooked(n, elem_size);
}
} // namespace hv::alloc
