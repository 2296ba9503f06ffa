// malloc_core_impl.h - the body of MallocCore<P>: glibc 2.36's malloc, learned from its documented
// algorithm and reproduced decision for decision, since a student must see the same layout.
//
// Included by exactly one .cpp per platform (malloc_sim.cpp; preload.cpp for the real allocator), which
// instantiate the template. Sections: [init] [arenas] [heaps] [tcache] [sysmalloc/trim] [malloc] [free]
// [consolidate] [realloc] [memalign] [api] [info] [fork].
// Must not: allocate through anything but P, or call into code that may call malloc (the one
// exception: malloc_info's stdio, which runs with no lock held, as in glibc).
#pragma once

#include "heap_walk.h"
#include "malloc_core.h"

#include "heapviz/decimal.h"

#include <new>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

extern char** environ;

namespace hv::alloc {

// Defined by the real allocator (preload.cpp): opens the trace if HEAPVIZ_OUT asks for one.
void hv_start_recording_hook();

namespace detail {
inline size_t align_up(size_t v, size_t a) {
  return (v + a - 1) & ~(a - 1);
}
inline size_t align_down(size_t v, size_t a) {
  return v & ~(a - 1);
}
inline bool powerof2(size_t x) {
  return (x & (x - 1)) == 0;
}
template <class T> inline T atomic_load(T* p) {
  return __atomic_load_n(p, __ATOMIC_RELAXED);
}
template <class T> inline void atomic_store(T* p, T v) {
  __atomic_store_n(p, v, __ATOMIC_RELAXED);
}
} // namespace detail

using trace::BinKind;
using trace::ErrorCode;
using trace::MergeHow;

using detail::align_down;
using detail::align_up;
using detail::powerof2;

// ============================================================================ [init]

template <class P> void MallocCore<P>::init_state(Arena* av) {
  for (unsigned i = 1; i < kNBins; ++i) {
    Chunk* bin = av->bin_at(i);
    bin->fd = bin->bk = bin;
  }
  if (av != &main_arena_) av->set_noncontiguous();
  if (av == &main_arena_) global_max_fast_ = set_max_fast_value(kDefaultMxFast);
  detail::atomic_store(&av->have_fastchunks, 0);
  av->top = av->initial_top();
}

template <class P> void MallocCore<P>::init() {
  if (initialized_) return;
  initialized_ = true;
  plat_.init();
  tcache_key_ = plat_.random_key();
  main_arena_.next = &main_arena_;
  main_arena_.attached_threads = 1;
  plat_.thread().arena = &main_arena_;
  init_state(&main_arena_);
  if constexpr (!P::kIsSim) read_environment();
  apply_tunables();
  if constexpr (!P::kIsSim) {
    // HEAPVIZ_CHECKS=1 (checks.h): read from `environ` without allocating, before the trace opens.
    const char* on = nullptr;
    const char* cont = nullptr;
    size_t fill = 32;
    for (char** e = environ; e && *e && !getauxval(AT_SECURE); ++e) {
      if (!strncmp(*e, "HEAPVIZ_CHECKS=", 15)) on = *e + 15;
      if (!strncmp(*e, "HEAPVIZ_CHECKS_CONTINUE=", 24)) cont = *e + 24;
      if (!strncmp(*e, "HEAPVIZ_CHECKS_FILL=", 20)) { // bytes, or "all"
        fill = 0;
        for (const char* d = *e + 20; *d >= '0' && *d <= '9'; ++d)
          fill = fill * 10 + static_cast<size_t>(*d - '0');
      }
    }
    if (on && *on && *on != '0') checks_enable(cont && *cont && *cont != '0', fill);
    hv_start_recording_hook();
  }
}

template <class P> bool MallocCore<P>::checks_enable(bool continue_after_report, size_t fill) {
  if (!checks_.enable(continue_after_report, fill)) return false;
  entry_ = true;
  return true;
}

template <class P> void MallocCore<P>::checks_sweep() {
  if (checks_.on() && initialized_) checks_.sweep();
}

// GLIBC_TUNABLES and the MALLOC_*_ aliases, as glibc 2.36's ld.so reads them (tunables.h),
// without allocating. glibc reads them in ld.so before main; we read `environ` at the first call.
// A set-user-ID program (AT_SECURE) reads none: every malloc tunable is SXID_IGNORE or
// SXID_ERASE.
template <class P> void MallocCore<P>::read_environment() {
  if (!environ || getauxval(AT_SECURE)) return;
  tunables_.init_from_environment(environ);
}

// ptmalloc_init's TUNABLE_GET calls (malloc/arena.c), in their order: each tunable that was set
// goes to its setter, straight (not through mallopt: no consolidation, and tcache_* exist only
// here).
template <class P> void MallocCore<P>::apply_tunables() {
  using T = TunableId;
  const Tunables& t = tunables_;
  auto size = [&](T id) { return static_cast<size_t>(t.get(id)); };
  auto int32 = [&](T id) { return static_cast<int32_t>(t.get(id)); };
  if (t.is_set(T::TopPad)) {
    mp_.top_pad = size(T::TopPad);
    mp_.no_dyn_threshold = 1;
  }
  if (t.is_set(T::Perturb)) mp_.perturb_byte = int32(T::Perturb);
  if (t.is_set(T::MmapThreshold)) { // no upper limit since 2.35 (BZ 27801)
    mp_.mmap_threshold = size(T::MmapThreshold);
    mp_.no_dyn_threshold = 1;
  }
  if (t.is_set(T::TrimThreshold)) {
    mp_.trim_threshold = size(T::TrimThreshold);
    mp_.no_dyn_threshold = 1;
  }
  if (t.is_set(T::MmapMax)) {
    mp_.n_mmaps_max = int32(T::MmapMax);
    mp_.no_dyn_threshold = 1;
  }
  if (t.is_set(T::ArenaMax)) mp_.arena_max = size(T::ArenaMax);
  if (t.is_set(T::ArenaTest)) mp_.arena_test = size(T::ArenaTest);
  if (t.is_set(T::TcacheMax)) do_set_tcache_max(size(T::TcacheMax));
  if (t.is_set(T::TcacheCount)) do_set_tcache_count(size(T::TcacheCount));
  if (t.is_set(T::TcacheUnsortedLimit)) mp_.tcache_unsorted_limit = size(T::TcacheUnsortedLimit);
  if (t.is_set(T::Mxfast)) do_set_mxfast(size(T::Mxfast));
  // hugetlb (THP madvise, huge-page mmap) is not simulated; check is libc_malloc_debug.so's.
}

template <class P> int MallocCore<P>::do_set_mxfast(size_t value) {
  if (value > kMaxFastSize) return 0;
  global_max_fast_ = set_max_fast_value(value);
  return 1;
}

template <class P> int MallocCore<P>::do_set_tcache_max(size_t value) {
  if (value > kMaxTcacheSize) return 0;
  mp_.tcache_max_bytes = value;
  mp_.tcache_bins = csize2tidx(request2size(value)) + 1; // tcache_max=0 still keeps bin 0
  return 1;
}

template <class P> int MallocCore<P>::do_set_tcache_count(size_t value) {
  if (value > kMaxTcacheCount) return 0;
  mp_.tcache_count = value;
  return 1;
}

// ============================================================================ [arenas]

template <class P> Arena* MallocCore<P>::arena_get(ThreadState& ts, size_t size) {
  Arena* a = ts.arena;
  if (a) {
    a->mutex.lock();
    return a;
  }
  return arena_get2(ts, size, nullptr);
}

template <class P> void MallocCore<P>::detach_arena(Arena* a) {
  if (a) {
    HV_GLIBC_ASSERT(a->attached_threads > 0, "detach_arena", "replaced_arena->attached_threads > 0", a);
    --a->attached_threads;
  }
}

template <class P> Arena* MallocCore<P>::get_free_list(ThreadState& ts) {
  Arena* replaced = ts.arena;
  Arena* result = free_list_;
  if (result) {
    free_list_lock_.lock();
    result = free_list_;
    if (result) {
      free_list_ = result->next_free;
      HV_GLIBC_ASSERT(result->attached_threads == 0, "get_free_list", "result->attached_threads == 0",
                      result);
      result->attached_threads = 1;
      detach_arena(replaced);
    }
    free_list_lock_.unlock();
    if (result) {
      result->mutex.lock();
      ts.arena = result;
    }
  }
  return result;
}

template <class P> void MallocCore<P>::remove_from_free_list(Arena* arena) {
  Arena** previous = &free_list_;
  for (Arena* p = free_list_; p; p = p->next_free) {
    HV_GLIBC_ASSERT(p->attached_threads == 0, "remove_from_free_list", "p->attached_threads == 0", p);
    if (p == arena) {
      *previous = p->next_free;
      break;
    }
    previous = &p->next_free;
  }
}

template <class P> Arena* MallocCore<P>::reused_arena(ThreadState& ts, Arena* avoid) {
  if (!next_to_use_) next_to_use_ = &main_arena_;
  Arena* result = next_to_use_;
  bool locked = false;
  do {
    if (result->mutex.try_lock()) {
      locked = true;
      break;
    }
    result = result->next;
  } while (result != next_to_use_);
  if (!locked) {
    if (result == avoid) result = result->next;
    result->mutex.lock();
  }
  Arena* replaced = ts.arena;
  free_list_lock_.lock();
  detach_arena(replaced);
  remove_from_free_list(result);
  ++result->attached_threads;
  free_list_lock_.unlock();
  ts.arena = result;
  next_to_use_ = result->next;
  return result;
}

template <class P> Arena* MallocCore<P>::arena_get2(ThreadState& ts, size_t size, Arena* avoid) {
  Arena* a = get_free_list(ts);
  if (a) return a;
  if (narenas_limit_ == 0) {
    if (mp_.arena_max != 0)
      narenas_limit_ = mp_.arena_max;
    else if (__atomic_load_n(&narenas_, __ATOMIC_RELAXED) > mp_.arena_test) {
      int n = plat_.nprocs();
      narenas_limit_ = static_cast<size_t>(n >= 1 ? n : 2) * 8; // NARENAS_FROM_NCORES
    }
  }
  for (;;) {
    size_t n = __atomic_load_n(&narenas_, __ATOMIC_RELAXED);
    if (n <= narenas_limit_ - 1) { // narenas_limit_ == 0 wraps: no limit yet
      if (!__atomic_compare_exchange_n(&narenas_, &n, n + 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        continue;
      a = new_arena(ts, size);
      if (!a) __atomic_fetch_sub(&narenas_, 1, __ATOMIC_RELAXED);
    } else {
      a = reused_arena(ts, avoid);
    }
    return a;
  }
}

template <class P> Arena* MallocCore<P>::arena_get_retry(ThreadState& ts, Arena* ar, size_t bytes) {
  if (ar != &main_arena_) {
    ar->mutex.unlock();
    ar = &main_arena_;
    ar->mutex.lock();
  } else {
    ar->mutex.unlock();
    ar = arena_get2(ts, bytes, ar);
  }
  return ar;
}

template <class P> Arena* MallocCore<P>::new_arena(ThreadState& ts, size_t size) {
  HeapInfo* h = new_heap(size + (sizeof(HeapInfo) + sizeof(Arena) + kAlign), mp_.top_pad);
  if (!h) {
    h = new_heap(sizeof(HeapInfo) + sizeof(Arena) + kAlign, mp_.top_pad);
    if (!h) return nullptr;
  }
  Arena* a = h->ar_ptr = reinterpret_cast<Arena*>(h + 1);
  init_state(a);
  a->attached_threads = 1;
  a->system_mem = a->max_system_mem = h->size;
  char* ptr = reinterpret_cast<char*>(a + 1);
  uintptr_t misalign = reinterpret_cast<uintptr_t>(ptr + kHdr) & kAlignMask;
  if (misalign > 0) ptr += kAlign - misalign;
  a->top = reinterpret_cast<Chunk*>(ptr);
  a->top->set_head(static_cast<size_t>(reinterpret_cast<char*>(h) + h->size - ptr) | kPrevInuse);

  Arena* replaced = ts.arena;
  ts.arena = a;
  a->mutex.reinit();
  // Locked before it joins the arena list (nobody else can hold it yet; glibc locks it after):
  // a snapshot locks every listed arena, so it cannot walk this one before the events below
  // are written. Locked after, a snapshot could take it first and list its top under a sequence
  // number before its arena_new (a 5-thread recording failed `check` so, about once in 50).
  // No deadlock: whoever holds list_lock_ and locks arenas cannot reach this one until it is
  // linked, which happens under list_lock_.
  a->mutex.lock();
  list_lock_.lock();
  a->next = main_arena_.next;
  __atomic_thread_fence(__ATOMIC_RELEASE);
  main_arena_.next = a;
  // Its trace index is taken here, under list_lock_: two threads creating arenas at once must
  // not both take the same one.
  hooks_.arena_registered(a);
  list_lock_.unlock();
  free_list_lock_.lock();
  detach_arena(replaced);
  free_list_lock_.unlock();
  hooks_.arena_new(a);
  hooks_.mmap(a, h, kHeapMaxSize);
  hooks_.heap_new(a, h, h->size);
  hooks_.top(a, a->top, a->top->size());
  return a;
}

template <class P> void MallocCore<P>::thread_shutdown() {
  ThreadState& ts = plat_.thread();
  {
    LiveScope live(this); // frees tcache chunks: a call like any other for the live gate
    thread_shutdown_body(ts);
  }
  live_gate_.release(ts);
}

template <class P> void MallocCore<P>::thread_shutdown_body(ThreadState& ts) {
  Tcache* tc = ts.tcache;
  ts.tcache_shutting_down = true;
  if (tc) {
    hooks_.stamp(ts); // the flush's events: the time of the exit, not of the thread's last call
    unregister_thread(ts);
    ts.tcache = nullptr;
    for (int i = 0; i < kTcacheMaxBins; ++i) {
      while (tc->entries[i]) {
        TcacheEntry* e = tc->entries[i];
        if (!aligned_ok(reinterpret_cast<uintptr_t>(e)))
          corrupt(ErrorCode::Other, "tcache_thread_shutdown(): unaligned tcache chunk detected", e);
        tc->entries[i] = reveal_ptr(&e->next);
        free_body(e);
      }
    }
    free_body(tc);
  }
  hooks_.thread_exit(ts);
  Arena* a = ts.arena;
  ts.arena = nullptr;
  if (a) {
    free_list_lock_.lock();
    HV_GLIBC_ASSERT(a->attached_threads > 0, "__malloc_arena_thread_freeres", "a->attached_threads > 0", a);
    if (--a->attached_threads == 0) {
      a->next_free = free_list_;
      free_list_ = a;
    }
    free_list_lock_.unlock();
  }
}

// ============================================================================ [heaps]

template <class P> HeapInfo* MallocCore<P>::new_heap(size_t size, size_t top_pad) {
  const size_t pagesize = plat_.pagesize();
  const size_t max_size = kHeapMaxSize;
  if (size + top_pad < kHeapMinSize)
    size = kHeapMinSize;
  else if (size + top_pad <= max_size)
    size += top_pad;
  else if (size > max_size)
    return nullptr;
  else
    size = max_size;
  size = align_up(size, pagesize);

  char* p2 = static_cast<char*>(MAP_FAILED);
  if (aligned_heap_area_) {
    p2 = static_cast<char*>(plat_.mmap(aligned_heap_area_, max_size, PROT_NONE, MAP_NORESERVE));
    aligned_heap_area_ = nullptr;
    if (p2 != MAP_FAILED && (reinterpret_cast<uintptr_t>(p2) & (max_size - 1))) {
      plat_.munmap(p2, max_size);
      p2 = static_cast<char*>(MAP_FAILED);
    }
  }
  if (p2 == MAP_FAILED) {
    char* p1 = static_cast<char*>(plat_.mmap(nullptr, max_size << 1, PROT_NONE, MAP_NORESERVE));
    if (p1 != MAP_FAILED) {
      p2 = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(p1) + (max_size - 1)) & ~(max_size - 1));
      size_t ul = static_cast<size_t>(p2 - p1);
      if (ul)
        plat_.munmap(p1, ul);
      else
        aligned_heap_area_ = p2 + max_size;
      plat_.munmap(p2 + max_size, max_size - ul);
    } else {
      p2 = static_cast<char*>(plat_.mmap(nullptr, max_size, PROT_NONE, MAP_NORESERVE));
      if (p2 == MAP_FAILED) return nullptr;
      if (reinterpret_cast<uintptr_t>(p2) & (max_size - 1)) {
        plat_.munmap(p2, max_size);
        return nullptr;
      }
    }
  }
  if (plat_.mprotect(p2, size, PROT_READ | PROT_WRITE) != 0) {
    plat_.munmap(p2, max_size);
    return nullptr;
  }
  HeapInfo* h = reinterpret_cast<HeapInfo*>(p2);
  h->size = size;
  h->mprotect_size = size;
  h->pagesize = pagesize;
  return h;
}

template <class P> int MallocCore<P>::grow_heap(HeapInfo* h, long diff) {
  diff = static_cast<long>(align_up(static_cast<size_t>(diff), h->pagesize));
  long new_size = static_cast<long>(h->size) + diff;
  if (static_cast<unsigned long>(new_size) > kHeapMaxSize) return -1;
  if (static_cast<unsigned long>(new_size) > h->mprotect_size) {
    if (plat_.mprotect(reinterpret_cast<char*>(h) + h->mprotect_size,
                       static_cast<size_t>(new_size) - h->mprotect_size, PROT_READ | PROT_WRITE) != 0)
      return -2;
    h->mprotect_size = static_cast<size_t>(new_size);
  }
  h->size = static_cast<size_t>(new_size);
  return 0;
}

template <class P> int MallocCore<P>::shrink_heap(HeapInfo* h, long diff) {
  long new_size = static_cast<long>(h->size) - diff;
  if (new_size < static_cast<long>(sizeof(*h))) return -1;
  // glibc remaps the range PROT_NONE instead when vm.overcommit_memory is 2 (check_may_shrink_heap);
  // either way its pages leave the process. heap_trim writes the heap_resize that follows.
  char* gone = reinterpret_cast<char*>(h) + new_size;
  if (plat_.madvise(gone, static_cast<size_t>(diff), MADV_DONTNEED) == 0)
    hooks_.release(h->ar_ptr, gone, static_cast<size_t>(diff));
  h->size = static_cast<size_t>(new_size);
  return 0;
}

template <class P> int MallocCore<P>::heap_trim(HeapInfo* heap, size_t pad) {
  Arena* ar_ptr = heap->ar_ptr;
  Chunk* top_chunk = ar_ptr->top;
  const long max_size = static_cast<long>(kHeapMaxSize);
  while (top_chunk == reinterpret_cast<Chunk*>(reinterpret_cast<char*>(heap) + sizeof(*heap))) {
    HeapInfo* prev_heap = heap->prev;
    long prev_size = static_cast<long>(prev_heap->size) - static_cast<long>(kMinSize - 2 * kSizeSz);
    Chunk* p = reinterpret_cast<Chunk*>(reinterpret_cast<char*>(prev_heap) + prev_size);
    long misalign = static_cast<long>(reinterpret_cast<uintptr_t>(p) & kAlignMask);
    p = reinterpret_cast<Chunk*>(reinterpret_cast<char*>(prev_heap) + prev_size - misalign);
    HV_GLIBC_ASSERT(p->size_nomask() == (0 | kPrevInuse), "heap_trim",
                    "chunksize_nomask (p) == (0 | PREV_INUSE)", chunk2mem(p));
    Chunk* const post = p; // the last fencepost
    p = p->prev();         // the fencepost's predecessor: a fencepost, or an old top's scrap
    Chunk* const pre = p;
    long new_size = static_cast<long>(p->size()) + static_cast<long>(kMinSize - 2 * kSizeSz) + misalign;
    HV_GLIBC_ASSERT(new_size > 0 && new_size < static_cast<long>(2 * kMinSize), "heap_trim",
                    "new_size > 0 && new_size < (long) (2 * MINSIZE)", chunk2mem(p));
    if (!p->prev_inuse()) new_size += static_cast<long>(p->prev_size());
    HV_GLIBC_ASSERT(new_size > 0 && new_size < max_size, "heap_trim", "new_size > 0 && new_size < max_size",
                    chunk2mem(p));
    if (new_size + (max_size - static_cast<long>(prev_heap->size)) <
        static_cast<long>(pad + kMinSize + heap->pagesize))
      break;
    ar_ptr->system_mem -= heap->size;
    if (reinterpret_cast<char*>(heap) + max_size == aligned_heap_area_) aligned_heap_area_ = nullptr;
    hooks_.heap_free(ar_ptr, heap);
    hooks_.munmap(ar_ptr, heap, kHeapMaxSize);
    hooks_.trim(ar_ptr, heap->size);
    plat_.munmap(heap, kHeapMaxSize);
    heap = prev_heap;
    if (!p->prev_inuse()) {
      p = p->prev();
      unlink_chunk(ar_ptr, p);
      hooks_.merge(ar_ptr, MergeHow::WithNext, p, p->size() + pre->size(), pre);
      check_merge(p, p->size() + pre->size(), pre, false);
    }
    HV_GLIBC_ASSERT(
        ((reinterpret_cast<uintptr_t>(p) + static_cast<uintptr_t>(new_size)) & (heap->pagesize - 1)) == 0,
        "heap_trim", "((unsigned long) ((char *) p + new_size) & (heap->pagesize - 1)) == 0", chunk2mem(p));
    HV_GLIBC_ASSERT(reinterpret_cast<char*>(p) + new_size == reinterpret_cast<char*>(heap) + heap->size,
                    "heap_trim", "((char *) p + new_size) == ((char *) heap + heap->size)", chunk2mem(p));
    ar_ptr->top = top_chunk = p;
    top_chunk->set_head(static_cast<size_t>(new_size) | kPrevInuse);
    // The fenceposts (and the old top's scrap, or the old top itself when it was free) are top
    // now: merged, so that no record of them outlives them (docs/trace-format.md).
    hooks_.merge_top(ar_ptr, top_chunk, top_chunk->size(), post);
    check_merge(top_chunk, top_chunk->size(), post, true);
  }
  long top_size = static_cast<long>(top_chunk->size());
  if (static_cast<unsigned long>(top_size) < mp_.trim_threshold) return 0;
  long top_area = top_size - static_cast<long>(kMinSize) - 1;
  if (top_area < 0 || static_cast<size_t>(top_area) <= pad) return 0;
  long extra = static_cast<long>(align_down(static_cast<size_t>(top_area) - pad, heap->pagesize));
  if (extra == 0) return 0;
  if (shrink_heap(heap, extra) != 0) return 0;
  ar_ptr->system_mem -= static_cast<size_t>(extra);
  top_chunk->set_head(static_cast<size_t>(top_size - extra) | kPrevInuse);
  hooks_.heap_resize(ar_ptr, heap, heap->size);
  hooks_.top(ar_ptr, top_chunk, top_chunk->size());
  hooks_.trim(ar_ptr, static_cast<size_t>(extra));
  return 1;
}

template <class P> int MallocCore<P>::segments(Arena* a, Segment* out, int max) {
  int n = 0;
  if (a == &main_arena_) {
    if (a->top == a->initial_top()) return 0;
    char* top_end = reinterpret_cast<char*>(a->top) + a->top->size();
    for (int i = 0; i < n_main_segs_ && n < max; ++i) {
      Segment s = main_segs_[i];
      if (i == n_main_segs_ - 1) s.end = top_end; // the last segment holds top
      out[n++] = s;
    }
    return n;
  }
  // Non-main: heaps chained from the one holding top back to the first.
  Segment tmp[256];
  int m = 0;
  for (HeapInfo* h = heap_for_ptr(a->top); h && m < 256; h = h->prev) {
    char* start = reinterpret_cast<char*>(h) + sizeof(HeapInfo);
    if (h->ar_ptr == reinterpret_cast<Arena*>(start)) start += sizeof(Arena);
    uintptr_t mis = reinterpret_cast<uintptr_t>(start + kHdr) & kAlignMask;
    if (mis) start += kAlign - mis;
    char* end = reinterpret_cast<char*>(h) + h->size;
    if (h == heap_for_ptr(a->top)) end = reinterpret_cast<char*>(a->top) + a->top->size();
    tmp[m++] = {start, end};
  }
  for (int i = m - 1; i >= 0 && n < max; --i)
    out[n++] = tmp[i];
  return n;
}

// A new non-contiguous piece of the main heap starts at `start`; the previous piece (if any)
// ends at `old_end`, just after its two fenceposts.
template <class P> void MallocCore<P>::add_main_segment(char* start, char* old_end) {
  if (n_main_segs_ > 0) main_segs_[n_main_segs_ - 1].end = old_end;
  if (n_main_segs_ < kMaxMainSegments) main_segs_[n_main_segs_++] = {start, nullptr};
}

// ============================================================================ [tcache]

template <class P> void MallocCore<P>::register_thread(ThreadState& ts) {
  registry_lock_.lock();
  ts.reg_prev = nullptr;
  ts.reg_next = registry_;
  if (registry_) registry_->reg_prev = &ts;
  registry_ = &ts;
  registry_lock_.unlock();
}

template <class P> void MallocCore<P>::unregister_thread(ThreadState& ts) {
  registry_lock_.lock();
  if (ts.reg_prev)
    ts.reg_prev->reg_next = ts.reg_next;
  else if (registry_ == &ts)
    registry_ = ts.reg_next;
  if (ts.reg_next) ts.reg_next->reg_prev = ts.reg_prev;
  ts.reg_next = ts.reg_prev = nullptr;
  registry_lock_.unlock();
}

template <class P> void MallocCore<P>::tcache_init(ThreadState& ts) {
  if (ts.tcache_shutting_down) return;
  const size_t bytes = sizeof(Tcache);
  Arena* ar = arena_get(ts, bytes);
  void* victim = int_malloc(ar, bytes);
  if (!victim && ar) {
    ar = arena_get_retry(ts, ar, bytes);
    victim = int_malloc(ar, bytes);
  }
  if (victim) hooks_.internal(ar, mem2chunk(victim)); // the allocator's own chunk
  if (ar) ar->mutex.unlock();
  if (victim) {
    ts.tcache = static_cast<Tcache*>(victim);
    memset(ts.tcache, 0, sizeof(Tcache));
    register_thread(ts);
    plat_.on_thread_start();
  }
}

template <class P>
inline __attribute__((always_inline)) void MallocCore<P>::tcache_put(ThreadState& ts, Chunk* chunk,
                                                                     size_t tc_idx, Arena* from) {
  TcacheEntry* e = static_cast<TcacheEntry*>(chunk2mem(chunk));
  e->key = tcache_key_;
  e->next = reinterpret_cast<TcacheEntry*>(protect_ptr(&e->next, ts.tcache->entries[tc_idx]));
  ts.tcache->entries[tc_idx] = e;
  ++ts.tcache->counts[tc_idx];
  hooks_.tcache_in(ts, from, chunk, tc_idx);
}

template <class P> void* MallocCore<P>::tcache_get(ThreadState& ts, size_t tc_idx) {
  TcacheEntry* e = ts.tcache->entries[tc_idx];
  if (!aligned_ok(reinterpret_cast<uintptr_t>(e)))
    corrupt(ErrorCode::Other, "malloc(): unaligned tcache chunk detected", e);
  ts.tcache->entries[tc_idx] = reveal_ptr(&e->next);
  --ts.tcache->counts[tc_idx];
  e->key = 0;
  return e;
}

// ============================================================================ [sysmalloc/trim]

// The platform's morecore (sbrk semantics), announcing every move of the break.
template <class P> void* MallocCore<P>::morecore(long incr) {
  void* r = plat_.morecore(incr);
  hooks_.sbrk(r, incr);
  return r;
}

template <class P> void* MallocCore<P>::sysmalloc_mmap(size_t nb, size_t pagesize, int extra_flags) {
  long size = static_cast<long>(align_up(nb + kSizeSz, pagesize));
  if (static_cast<unsigned long>(size) <= nb) return MAP_FAILED;
  char* mm =
      static_cast<char*>(plat_.mmap(nullptr, static_cast<size_t>(size), PROT_READ | PROT_WRITE, extra_flags));
  if (mm == MAP_FAILED) return mm;
  HV_GLIBC_ASSERT((reinterpret_cast<uintptr_t>(mm + kHdr) & kAlignMask) == 0, "sysmalloc_mmap",
                  "((INTERNAL_SIZE_T) chunk2mem (mm) & MALLOC_ALIGN_MASK) == 0", mm + kHdr);
  Chunk* p = reinterpret_cast<Chunk*>(mm);
  p->set_prev_size(0);
  p->set_head(static_cast<size_t>(size) | kIsMmapped);
  if (__builtin_expect(entry_, 0)) mmapped_.insert(reinterpret_cast<uintptr_t>(p));
  hooks_.mmap(&main_arena_, mm, static_cast<size_t>(size));
  hooks_.mmap_chunk(&main_arena_, p, static_cast<size_t>(size));
  int n = __atomic_add_fetch(&mp_.n_mmaps, 1, __ATOMIC_RELAXED);
  int old_max = __atomic_load_n(&mp_.max_n_mmaps, __ATOMIC_RELAXED);
  while (n > old_max && !__atomic_compare_exchange_n(&mp_.max_n_mmaps, &old_max, n, true, __ATOMIC_RELAXED,
                                                     __ATOMIC_RELAXED)) {
  }
  size_t sum = __atomic_add_fetch(&mp_.mmapped_mem, static_cast<size_t>(size), __ATOMIC_RELAXED);
  size_t old_sum = __atomic_load_n(&mp_.max_mmapped_mem, __ATOMIC_RELAXED);
  while (sum > old_sum && !__atomic_compare_exchange_n(&mp_.max_mmapped_mem, &old_sum, sum, true,
                                                       __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
  return chunk2mem(p);
}

template <class P>
char* MallocCore<P>::sysmalloc_mmap_fallback(long* s, size_t nb, size_t old_size, size_t minsize,
                                             size_t pagesize, Arena* av) {
  long size = *s;
  if (av->contiguous()) size = static_cast<long>(align_up(static_cast<size_t>(size) + old_size, pagesize));
  if (static_cast<unsigned long>(size) < minsize) size = static_cast<long>(minsize);
  if (static_cast<unsigned long>(size) <= nb) return nullptr;
  char* mbrk = static_cast<char*>(plat_.mmap(nullptr, static_cast<size_t>(size), PROT_READ | PROT_WRITE, 0));
  if (mbrk == MAP_FAILED) return static_cast<char*>(MAP_FAILED);
  av->set_noncontiguous();
  *s = size;
  return mbrk;
}

template <class P> void* MallocCore<P>::sysmalloc(size_t nb, Arena* av) {
  const size_t pagesize = plat_.pagesize();
  bool tried_mmap = false;
  char* brk = nullptr; // MORECORE_FAILURE
  char* snd_brk = nullptr;

  if (av == nullptr ||
      (nb >= mp_.mmap_threshold && __atomic_load_n(&mp_.n_mmaps, __ATOMIC_RELAXED) < mp_.n_mmaps_max)) {
    void* mm = sysmalloc_mmap(nb, pagesize, 0);
    if (mm != MAP_FAILED) return mm;
    tried_mmap = true;
  }
  if (av == nullptr) return nullptr;

  Chunk* old_top = av->top;
  size_t old_size = old_top->size();
  char* old_end = reinterpret_cast<char*>(old_top) + old_size;

  // If not the first time through, old top must be at least MINSIZE, P set, and end on a page.
  HV_GLIBC_ASSERT(
      (old_top == av->initial_top() && old_size == 0) ||
          (old_size >= kMinSize && old_top->prev_inuse() &&
           (reinterpret_cast<uintptr_t>(old_end) & (pagesize - 1)) == 0),
      "sysmalloc",
      "(old_top == initial_top (av) && old_size == 0) || ((unsigned long) (old_size) >= MINSIZE && "
      "prev_inuse (old_top) && ((unsigned long) old_end & (pagesize - 1)) == 0)",
      chunk2mem(old_top));
  // Precondition: not enough current space to satisfy nb request.
  HV_GLIBC_ASSERT(old_size < nb + kMinSize, "sysmalloc",
                  "(unsigned long) (old_size) < (unsigned long) (nb + MINSIZE)", chunk2mem(old_top));

  if (av != &main_arena_) {
    HeapInfo* old_heap = heap_for_ptr(old_top);
    size_t old_heap_size = old_heap->size;
    HeapInfo* heap;
    if (static_cast<long>(kMinSize + nb - old_size) > 0 &&
        grow_heap(old_heap, static_cast<long>(kMinSize + nb - old_size)) == 0) {
      av->system_mem += old_heap->size - old_heap_size;
      old_top->set_head(static_cast<size_t>(reinterpret_cast<char*>(old_heap) + old_heap->size -
                                            reinterpret_cast<char*>(old_top)) |
                        kPrevInuse);
      hooks_.heap_resize(av, old_heap, old_heap->size);
      hooks_.top(av, old_top, old_top->size());
    } else if ((heap = new_heap(nb + (kMinSize + sizeof(*heap)), mp_.top_pad))) {
      heap->ar_ptr = av;
      heap->prev = old_heap;
      av->system_mem += heap->size;
      av->top = reinterpret_cast<Chunk*>(reinterpret_cast<char*>(heap) + sizeof(*heap));
      av->top->set_head((heap->size - sizeof(*heap)) | kPrevInuse);
      hooks_.mmap(av, heap, kHeapMaxSize); // as new_arena's; heap_trim's munmap matches it
      hooks_.heap_new(av, heap, heap->size);
      // Fenceposts at the end of the old heap; the old top goes to the bins. The old top is cut
      // and fenced (split, fence) before the new top's event, which would otherwise retire it
      // (docs/trace-format.md, "Heaps come and go"), and before int_free frees what is left of it.
      const size_t top_size = old_size;
      old_size = (old_size - kMinSize) & ~kAlignMask;
      Chunk* post = old_top->at(static_cast<ptrdiff_t>(old_size + kHdr));
      post->set_head(0 | kPrevInuse);
      if (old_size >= kMinSize) {
        old_top->at(static_cast<ptrdiff_t>(old_size))->set_head(kHdr | kPrevInuse);
        old_top->at(static_cast<ptrdiff_t>(old_size))->set_foot(kHdr);
        old_top->set_head(old_size | kPrevInuse | kNonMainArena);
        hooks_.split(av, old_top, old_size, top_size - old_size);
        hooks_.fence(av, old_top->at(static_cast<ptrdiff_t>(old_size)), kHdr);
        hooks_.fence(av, post, kHdr);
        hooks_.top(av, av->top, av->top->size());
        int_free(av, old_top, true);
      } else { // too small to free: a scrap, in use for good (heap_walk.h calls it a fence)
        old_top->set_head((old_size + kHdr) | kPrevInuse);
        old_top->set_foot(old_size + kHdr);
        hooks_.split(av, old_top, old_size + kHdr, top_size - old_size - kHdr);
        hooks_.fence(av, old_top, old_size + kHdr);
        hooks_.fence(av, post, kHdr);
        hooks_.top(av, av->top, av->top->size());
      }
    } else if (!tried_mmap) {
      void* mm = sysmalloc_mmap(nb, pagesize, 0);
      if (mm != MAP_FAILED) return mm;
    }
  } else {
    long size = static_cast<long>(nb + mp_.top_pad + kMinSize);
    if (av->contiguous()) size -= static_cast<long>(old_size);
    size = static_cast<long>(align_up(static_cast<size_t>(size), pagesize));
    if (size > 0) brk = static_cast<char*>(morecore(size));

    if (brk == nullptr) {
      char* mbrk = sysmalloc_mmap_fallback(&size, nb, old_size, pagesize, 1024 * 1024, av);
      if (mbrk == nullptr) mbrk = static_cast<char*>(MAP_FAILED);
      if (mbrk != MAP_FAILED) {
        brk = mbrk;
        snd_brk = brk + size;
        hooks_.mmap(av, mbrk, static_cast<size_t>(size));
      }
    }

    if (brk != nullptr) {
      if (mp_.sbrk_base == nullptr) mp_.sbrk_base = brk;
      note_main_range(brk, snd_brk != nullptr ? snd_brk : brk + size);
      av->system_mem += static_cast<size_t>(size);

      if (brk == old_end && snd_brk == nullptr) {
        old_top->set_head(static_cast<size_t>(size + static_cast<long>(old_size)) | kPrevInuse);
        hooks_.main_heap_resize(av, old_end + size);
        hooks_.top(av, old_top, old_top->size());
      } else if (av->contiguous() && old_size && brk < old_end) {
        corrupt(ErrorCode::Other, "break adjusted to free malloc space", brk);
      } else {
        size_t front_misalign = 0;
        size_t end_misalign = 0;
        long correction = 0;
        char* aligned_brk = brk;
        if (av->contiguous()) {
          if (old_size) av->system_mem += static_cast<size_t>(brk - old_end);
          front_misalign = reinterpret_cast<uintptr_t>(brk + kHdr) & kAlignMask;
          if (front_misalign > 0) {
            correction = static_cast<long>(kAlign - front_misalign);
            aligned_brk += correction;
          }
          correction += static_cast<long>(old_size);
          end_misalign = reinterpret_cast<uintptr_t>(brk + size + correction);
          correction += static_cast<long>(align_up(end_misalign, pagesize) - end_misalign);
          HV_GLIBC_ASSERT(correction >= 0, "sysmalloc", "correction >= 0", brk);
          snd_brk = static_cast<char*>(morecore(correction));
          if (snd_brk == nullptr) {
            correction = 0;
            snd_brk = static_cast<char*>(plat_.morecore(0));
          }
        } else {
          HV_GLIBC_ASSERT((reinterpret_cast<uintptr_t>(brk + kHdr) & kAlignMask) == 0, "sysmalloc",
                          "((unsigned long) chunk2mem (brk) & MALLOC_ALIGN_MASK) == 0", brk);
          if (snd_brk == nullptr) snd_brk = static_cast<char*>(plat_.morecore(0));
        }
        if (snd_brk != nullptr) {
          av->top = reinterpret_cast<Chunk*>(aligned_brk);
          av->top->set_head(static_cast<size_t>(snd_brk - aligned_brk + correction) | kPrevInuse);
          av->system_mem += static_cast<size_t>(correction);
          note_main_range(aligned_brk, snd_brk + correction);
          add_main_segment(aligned_brk, old_size ? old_end : nullptr);
          hooks_.heap_new(av, aligned_brk, av->top->size());
          if (old_size != 0) {
            // Two fenceposts end the old space; what is left of the old top is freed. As for a
            // new heap of another arena, the old top is cut and fenced before the new top's event.
            const size_t top_size = old_size;
            old_size = (old_size - 2 * kHdr) & ~kAlignMask;
            old_top->set_head(old_size | kPrevInuse);
            old_top->at(static_cast<ptrdiff_t>(old_size))->set_head(kHdr | kPrevInuse);
            old_top->at(static_cast<ptrdiff_t>(old_size + kHdr))->set_head(kHdr | kPrevInuse);
            if (old_size > 0) hooks_.split(av, old_top, old_size, top_size - old_size);
            if (old_size > 0 && old_size < kMinSize) hooks_.fence(av, old_top, old_size);
            hooks_.fence(av, old_top->at(static_cast<ptrdiff_t>(old_size)), kHdr);
            hooks_.fence(av, old_top->at(static_cast<ptrdiff_t>(old_size + kHdr)), kHdr);
            hooks_.top(av, av->top, av->top->size());
            if (old_size >= kMinSize) int_free(av, old_top, true);
          } else {
            hooks_.top(av, av->top, av->top->size());
          }
        }
      }
    }
  }

  if (av->system_mem > av->max_system_mem) av->max_system_mem = av->system_mem;

  Chunk* p = av->top;
  size_t size = p->size();
  if (size >= nb + kMinSize) {
    size_t remainder_size = size - nb;
    Chunk* remainder = p->at(static_cast<ptrdiff_t>(nb));
    av->top = remainder;
    p->set_head(nb | kPrevInuse | (av != &main_arena_ ? kNonMainArena : 0));
    remainder->set_head(remainder_size | kPrevInuse);
    hooks_.split_top(av, p, nb, remainder_size);
    return chunk2mem(p);
  }
  errno = ENOMEM;
  return nullptr;
}

template <class P> int MallocCore<P>::systrim(size_t pad, Arena* av) {
  long top_size = static_cast<long>(av->top->size());
  long top_area = top_size - static_cast<long>(kMinSize) - 1;
  if (top_area <= static_cast<long>(pad)) return 0;
  long extra = static_cast<long>(align_down(static_cast<size_t>(top_area) - pad, plat_.pagesize()));
  if (extra == 0) return 0;
  char* current_brk = static_cast<char*>(plat_.morecore(0));
  if (current_brk == reinterpret_cast<char*>(av->top) + top_size) {
    morecore(-extra);
    char* new_brk = static_cast<char*>(plat_.morecore(0));
    if (new_brk != nullptr) {
      long released = current_brk - new_brk;
      if (released != 0) {
        av->system_mem -= static_cast<size_t>(released);
        av->top->set_head(static_cast<size_t>(top_size - released) | kPrevInuse);
        hooks_.main_heap_resize(av, new_brk);
        hooks_.top(av, av->top, av->top->size());
        hooks_.trim(av, static_cast<size_t>(released));
        return 1;
      }
    }
  }
  return 0;
}

template <class P> void MallocCore<P>::munmap_chunk(Chunk* p) {
  const size_t pagesize = plat_.pagesize();
  size_t size = p->size();
  HV_GLIBC_ASSERT(p->is_mmapped(), "munmap_chunk", "chunk_is_mmapped (p)", chunk2mem(p));
  uintptr_t mem = reinterpret_cast<uintptr_t>(chunk2mem(p));
  uintptr_t block = reinterpret_cast<uintptr_t>(p) - p->prev_size();
  size_t total_size = p->prev_size() + size;
  if (((block | total_size) & (pagesize - 1)) != 0 || !powerof2(mem & (pagesize - 1)))
    corrupt(ErrorCode::InvalidPointer, "munmap_chunk(): invalid pointer", reinterpret_cast<void*>(mem));
  __atomic_sub_fetch(&mp_.n_mmaps, 1, __ATOMIC_RELAXED);
  __atomic_sub_fetch(&mp_.mmapped_mem, total_size, __ATOMIC_RELAXED);
  if (__builtin_expect(entry_, 0)) mmapped_.erase(reinterpret_cast<uintptr_t>(p));
  if (__builtin_expect(checks_.on(), 0)) checks_.forget(p);
  hooks_.munmap_chunk(&main_arena_, p);
  hooks_.munmap(&main_arena_, reinterpret_cast<void*>(block), total_size);
  plat_.munmap(reinterpret_cast<void*>(block), total_size);
}

template <class P> Chunk* MallocCore<P>::mremap_chunk(Chunk* p, size_t new_size) {
  const size_t pagesize = plat_.pagesize();
  size_t offset = p->prev_size();
  size_t size = p->size();
  HV_GLIBC_ASSERT(p->is_mmapped(), "mremap_chunk", "chunk_is_mmapped (p)", chunk2mem(p));
  uintptr_t block = reinterpret_cast<uintptr_t>(p) - offset;
  uintptr_t mem = reinterpret_cast<uintptr_t>(chunk2mem(p));
  size_t total_size = offset + size;
  if (((block | total_size) & (pagesize - 1)) != 0 || !powerof2(mem & (pagesize - 1)))
    corrupt(ErrorCode::InvalidPointer, "mremap_chunk(): invalid pointer", reinterpret_cast<void*>(mem));
  new_size = align_up(new_size + offset + kSizeSz, pagesize);
  if (total_size == new_size) return p;
  char* cp =
      static_cast<char*>(plat_.mremap(reinterpret_cast<void*>(block), total_size, new_size, MREMAP_MAYMOVE));
  if (cp == MAP_FAILED) return nullptr;
  if (__builtin_expect(entry_, 0)) {
    mmapped_.erase(reinterpret_cast<uintptr_t>(p));
    mmapped_.insert(reinterpret_cast<uintptr_t>(cp + offset));
  }
  if (__builtin_expect(checks_.on(), 0) && cp + offset != reinterpret_cast<char*>(p)) checks_.forget(p);
  hooks_.munmap_chunk(&main_arena_, p);
  hooks_.munmap(&main_arena_, reinterpret_cast<void*>(block), total_size);
  hooks_.mmap(&main_arena_, cp, new_size);
  hooks_.mmap_chunk(&main_arena_, reinterpret_cast<Chunk*>(cp + offset), new_size - offset);
  p = reinterpret_cast<Chunk*>(cp + offset);
  HV_GLIBC_ASSERT(aligned_ok(reinterpret_cast<uintptr_t>(chunk2mem(p))), "mremap_chunk",
                  "aligned_OK (chunk2mem (p))", chunk2mem(p));
  HV_GLIBC_ASSERT(p->prev_size() == offset, "mremap_chunk", "prev_size (p) == offset", chunk2mem(p));
  p->set_head((new_size - offset) | kIsMmapped);
  size_t now = __atomic_add_fetch(&mp_.mmapped_mem, new_size - size - offset, __ATOMIC_RELAXED);
  size_t old_max = __atomic_load_n(&mp_.max_mmapped_mem, __ATOMIC_RELAXED);
  while (now > old_max && !__atomic_compare_exchange_n(&mp_.max_mmapped_mem, &old_max, now, true,
                                                       __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
  return p;
}

// ============================================================================ [malloc]

template <class P> void MallocCore<P>::alloc_perturb(void* p, size_t n) {
  if (__builtin_expect(mp_.perturb_byte, 0)) memset(p, mp_.perturb_byte ^ 0xff, n);
}
template <class P> void MallocCore<P>::free_perturb(void* p, size_t n) {
  if (__builtin_expect(mp_.perturb_byte, 0)) memset(p, mp_.perturb_byte, n);
}

template <class P> void MallocCore<P>::unlink_chunk(Arena* av, Chunk* p) {
  (void)av;
  if (p->size() != p->next()->prev_size())
    corrupt(ErrorCode::CorruptedSize, "corrupted size vs. prev_size", chunk2mem(p));
  Chunk* fd = p->fd;
  Chunk* bk = p->bk;
  if (fd->bk != p || bk->fd != p)
    corrupt(ErrorCode::CorruptedList, "corrupted double-linked list", chunk2mem(p));
  fd->bk = bk;
  bk->fd = fd;
  if (!in_smallbin_range(p->size_nomask()) && p->fd_nextsize != nullptr) {
    if (p->fd_nextsize->bk_nextsize != p || p->bk_nextsize->fd_nextsize != p)
      corrupt(ErrorCode::CorruptedList, "corrupted double-linked list (not small)", chunk2mem(p));
    if (fd->fd_nextsize == nullptr) {
      if (p->fd_nextsize == p) {
        fd->fd_nextsize = fd->bk_nextsize = fd;
      } else {
        fd->fd_nextsize = p->fd_nextsize;
        fd->bk_nextsize = p->bk_nextsize;
        p->fd_nextsize->bk_nextsize = fd;
        p->bk_nextsize->fd_nextsize = fd;
      }
    } else {
      p->fd_nextsize->bk_nextsize = p->bk_nextsize;
      p->bk_nextsize->fd_nextsize = p->fd_nextsize;
    }
  }
}

// The end of a bin-sourced allocation (large best fit and the binmap scan): a victim already
// unlinked from its bin either goes out whole (a remainder below MINSIZE) or is split, the
// remainder going to the unsorted bin (and becoming the last remainder for small requests).
template <class P>
void MallocCore<P>::take_and_split(Arena* av, Chunk* victim, size_t size, size_t nb, bool set_last_remainder,
                                   const char* corrupt_msg) {
  size_t remainder_size = size - nb;
  if (remainder_size < kMinSize) {
    victim->set_inuse_at(size);
    if (av != &main_arena_) victim->set_non_main();
    return;
  }
  Chunk* remainder = victim->at(static_cast<ptrdiff_t>(nb));
  Chunk* bck = av->unsorted();
  Chunk* fwd = bck->fd;
  if (fwd->bk != bck)
    corrupt(ErrorCode::CorruptedList, corrupt_msg, chunk2mem(victim)); // corrupted unsorted chunks
  remainder->bk = bck;
  remainder->fd = fwd;
  bck->fd = remainder;
  fwd->bk = remainder;
  if (set_last_remainder) av->last_remainder = remainder;
  if (!in_smallbin_range(remainder_size)) {
    remainder->fd_nextsize = nullptr;
    remainder->bk_nextsize = nullptr;
  }
  victim->set_head(nb | kPrevInuse | (av != &main_arena_ ? kNonMainArena : 0));
  remainder->set_head(remainder_size | kPrevInuse);
  remainder->set_foot(remainder_size);
  hooks_.split_unsorted(av, victim, nb, remainder_size);
  if (__builtin_expect(checks_.on(), 0)) checks_.split_free(victim, nb);
}

// Every chunk int_malloc hands out (to an API call, realloc, memalign or the tcache struct) is
// announced here; mmapped chunks were announced by sysmalloc_mmap. A chunk leaving a bin on the
// way out needs no bin_out: chunk_alloc, split or the next bin_in says where it went.
template <class P> void* MallocCore<P>::int_malloc(Arena* av, size_t bytes) {
  void* r = int_malloc_impl(av, bytes);
  hooks_.chunk_alloc(av, r);
  if (__builtin_expect(checks_.on(), 0)) checks_.int_malloc_out(r);
  return r;
}

template <class P> void* MallocCore<P>::int_malloc_impl(Arena* av, size_t bytes) {
  size_t nb = checked_request2size(bytes);
  if (nb == 0) {
    errno = ENOMEM;
    return nullptr;
  }
  if (av == nullptr) {
    void* p = sysmalloc(nb, av);
    if (p) alloc_perturb(p, bytes);
    return p;
  }
  ThreadState& ts = plat_.thread();
  const bool single = plat_.single_threaded();
  unsigned idx;
  Chunk* bin;
  Chunk* victim;
  size_t size;
  Chunk* remainder;
  size_t remainder_size;
  Chunk* fwd;
  Chunk* bck;

  // ---- Fastbins: exact size, LIFO; stash the rest of the bin into the tcache.
  if (nb <= global_max_fast_) {
    idx = fastbin_index(nb);
    Chunk** fb = av->fastbin(idx);
    victim = *fb;
    if (victim != nullptr) {
      if (misaligned_chunk(victim))
        corrupt(ErrorCode::Other, "malloc(): unaligned fastbin chunk detected 2", victim);
      if (single) {
        *fb = reveal_ptr(&victim->fd);
      } else {
        // Pop with CAS: frees push onto fastbins without the arena lock.
        Chunk* expected = victim;
        for (;;) {
          if (expected == nullptr) break;
          Chunk* nxt = reveal_ptr(&expected->fd);
          if (nxt != nullptr && misaligned_chunk(nxt))
            corrupt(ErrorCode::Other, "malloc(): unaligned fastbin chunk detected", nxt);
          if (__atomic_compare_exchange_n(fb, &expected, nxt, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            break;
        }
        victim = expected;
      }
      if (victim != nullptr) {
        if (fastbin_index(victim->size()) != idx)
          corrupt(ErrorCode::Other, "malloc(): memory corruption (fast)", chunk2mem(victim));
        size_t tc_idx = csize2tidx(nb);
        if (ts.tcache && tc_idx < mp_.tcache_bins) {
          Chunk* tc_victim;
          while (ts.tcache->counts[tc_idx] < mp_.tcache_count && (tc_victim = *fb) != nullptr) {
            if (misaligned_chunk(tc_victim))
              corrupt(ErrorCode::Other, "malloc(): unaligned fastbin chunk detected 3", tc_victim);
            if (single) {
              *fb = reveal_ptr(&tc_victim->fd);
            } else {
              Chunk* expected = tc_victim;
              for (;;) {
                if (expected == nullptr) break;
                Chunk* nxt = reveal_ptr(&expected->fd);
                if (nxt != nullptr && misaligned_chunk(nxt))
                  corrupt(ErrorCode::Other, "malloc(): unaligned fastbin chunk detected", nxt);
                if (__atomic_compare_exchange_n(fb, &expected, nxt, false, __ATOMIC_ACQUIRE,
                                                __ATOMIC_RELAXED))
                  break;
              }
              tc_victim = expected;
              if (tc_victim == nullptr) break;
            }
            tcache_put(ts, tc_victim, tc_idx, av);
          }
        }
        void* p = chunk2mem(victim);
        alloc_perturb(p, bytes);
        return p;
      }
    }
  }

  // ---- Small bins: exact fit; stash the rest of the bin into the tcache.
  if (in_smallbin_range(nb)) {
    idx = smallbin_index(nb);
    bin = av->bin_at(idx);
    if ((victim = bin->bk) != bin) {
      bck = victim->bk;
      if (bck->fd != victim)
        corrupt(ErrorCode::CorruptedList, "malloc(): smallbin double linked list corrupted",
                chunk2mem(victim));
      victim->set_inuse_at(nb);
      bin->bk = bck;
      bck->fd = bin;
      if (av != &main_arena_) victim->set_non_main();
      size_t tc_idx = csize2tidx(nb);
      if (ts.tcache && tc_idx < mp_.tcache_bins) {
        Chunk* tc_victim;
        while (ts.tcache->counts[tc_idx] < mp_.tcache_count && (tc_victim = bin->bk) != bin) {
          bck = tc_victim->bk;
          tc_victim->set_inuse_at(nb);
          if (av != &main_arena_) tc_victim->set_non_main();
          bin->bk = bck;
          bck->fd = bin;
          tcache_put(ts, tc_victim, tc_idx, av);
        }
      }
      void* p = chunk2mem(victim);
      alloc_perturb(p, bytes);
      return p;
    }
  } else {
    idx = largebin_index(nb);
    if (detail::atomic_load(&av->have_fastchunks)) malloc_consolidate(av);
  }

  // ---- The unsorted bin, then best fit in the bins, then top.
  size_t tcache_nb = 0;
  size_t tc_idx = csize2tidx(nb);
  if (ts.tcache && tc_idx < mp_.tcache_bins) tcache_nb = nb;
  bool return_cached = false;
  size_t tcache_unsorted_count = 0;

  for (;;) {
    int iters = 0;
    while ((victim = av->unsorted()->bk) != av->unsorted()) {
      bck = victim->bk;
      size = victim->size();
      Chunk* next = victim->at(static_cast<ptrdiff_t>(size));
      if (size <= kHdr || size > av->system_mem)
        corrupt(ErrorCode::CorruptedSize, "malloc(): invalid size (unsorted)", chunk2mem(victim));
      if (next->size_nomask() < kHdr || next->size_nomask() > av->system_mem)
        corrupt(ErrorCode::CorruptedSize, "malloc(): invalid next size (unsorted)", chunk2mem(victim));
      if ((next->prev_size() & ~kSizeBits) != size)
        corrupt(ErrorCode::CorruptedSize, "malloc(): mismatching next->prev_size (unsorted)",
                chunk2mem(victim));
      if (bck->fd != victim || victim->fd != av->unsorted())
        corrupt(ErrorCode::CorruptedList, "malloc(): unsorted double linked list corrupted",
                chunk2mem(victim));
      if (next->prev_inuse())
        corrupt(ErrorCode::CorruptedList, "malloc(): invalid next->prev_inuse (unsorted)", chunk2mem(victim));

      // Last-remainder rule: a small request keeps carving the chunk it split last.
      if (in_smallbin_range(nb) && bck == av->unsorted() && victim == av->last_remainder &&
          size > nb + kMinSize) {
        remainder_size = size - nb;
        remainder = victim->at(static_cast<ptrdiff_t>(nb));
        av->unsorted()->bk = av->unsorted()->fd = remainder;
        av->last_remainder = remainder;
        remainder->bk = remainder->fd = av->unsorted();
        if (!in_smallbin_range(remainder_size)) {
          remainder->fd_nextsize = nullptr;
          remainder->bk_nextsize = nullptr;
        }
        victim->set_head(nb | kPrevInuse | (av != &main_arena_ ? kNonMainArena : 0));
        remainder->set_head(remainder_size | kPrevInuse);
        remainder->set_foot(remainder_size);
        hooks_.split_unsorted(av, victim, nb, remainder_size);
        if (__builtin_expect(checks_.on(), 0)) checks_.split_free(victim, nb);
        void* p = chunk2mem(victim);
        alloc_perturb(p, bytes);
        return p;
      }

      if (bck->fd != victim)
        corrupt(ErrorCode::CorruptedList, "malloc(): corrupted unsorted chunks 3", chunk2mem(victim));
      av->unsorted()->bk = bck;
      bck->fd = av->unsorted();

      if (size == nb) {
        victim->set_inuse_at(size);
        if (av != &main_arena_) victim->set_non_main();
        if (tcache_nb && ts.tcache->counts[tc_idx] < mp_.tcache_count) {
          tcache_put(ts, victim, tc_idx, av);
          return_cached = true;
          continue;
        }
        void* p = chunk2mem(victim);
        alloc_perturb(p, bytes);
        return p;
      }

      unsigned victim_index;
      if (in_smallbin_range(size)) {
        victim_index = smallbin_index(size);
        bck = av->bin_at(victim_index);
        fwd = bck->fd;
      } else {
        victim_index = largebin_index(size);
        bck = av->bin_at(victim_index);
        fwd = bck->fd;
        if (fwd != bck) {
          size |= kPrevInuse; // compared against size_nomask, as glibc does
          HV_GLIBC_ASSERT(!bck->bk->non_main(), "_int_malloc", "chunk_main_arena (bck->bk)",
                          chunk2mem(bck->bk));
          if (size < bck->bk->size_nomask()) {
            fwd = bck;
            bck = bck->bk;
            victim->fd_nextsize = fwd->fd;
            victim->bk_nextsize = fwd->fd->bk_nextsize;
            fwd->fd->bk_nextsize = victim->bk_nextsize->fd_nextsize = victim;
          } else {
            HV_GLIBC_ASSERT(!fwd->non_main(), "_int_malloc", "chunk_main_arena (fwd)", chunk2mem(fwd));
            while (size < fwd->size_nomask()) {
              fwd = fwd->fd_nextsize;
              HV_GLIBC_ASSERT(!fwd->non_main(), "_int_malloc", "chunk_main_arena (fwd)", chunk2mem(fwd));
            }
            if (size == fwd->size_nomask()) {
              fwd = fwd->fd; // same size: insert second, no nextsize links
            } else {
              victim->fd_nextsize = fwd;
              victim->bk_nextsize = fwd->bk_nextsize;
              if (fwd->bk_nextsize->fd_nextsize != fwd)
                corrupt(ErrorCode::CorruptedList,
                        "malloc(): largebin double linked list corrupted (nextsize)", chunk2mem(fwd));
              fwd->bk_nextsize = victim;
              victim->bk_nextsize->fd_nextsize = victim;
            }
            bck = fwd->bk;
            if (bck->fd != fwd)
              corrupt(ErrorCode::CorruptedList, "malloc(): largebin double linked list corrupted (bk)",
                      chunk2mem(fwd));
          }
        } else {
          victim->fd_nextsize = victim->bk_nextsize = victim;
        }
      }
      av->mark_bin(victim_index);
      victim->bk = bck;
      victim->fd = fwd;
      fwd->bk = victim;
      bck->fd = victim;
      hooks_.bin_in_at(av, victim, victim_index);

      ++tcache_unsorted_count;
      if (return_cached && mp_.tcache_unsorted_limit > 0 && tcache_unsorted_count > mp_.tcache_unsorted_limit)
        return tcache_get(ts, tc_idx);

      if (++iters >= 10000) break;
    }

    if (return_cached) return tcache_get(ts, tc_idx);

    // Large request: best fit within its own bin, via the nextsize skip list.
    if (!in_smallbin_range(nb)) {
      bin = av->bin_at(idx);
      if ((victim = bin->fd) != bin && victim->size_nomask() >= nb) {
        victim = victim->bk_nextsize;
        while ((size = victim->size()) < nb)
          victim = victim->bk_nextsize;
        // Take the second of equal-size chunks, so the nextsize links need no rerouting.
        if (victim != bin->bk && victim->size_nomask() == victim->fd->size_nomask()) victim = victim->fd;
        remainder_size = size - nb;
        unlink_chunk(av, victim);
        take_and_split(av, victim, size, nb, false, "malloc(): corrupted unsorted chunks");
        void* p = chunk2mem(victim);
        alloc_perturb(p, bytes);
        return p;
      }
    }

    // Scan larger bins through the binmap: the smallest chunk that fits.
    ++idx;
    bin = av->bin_at(idx);
    unsigned block = idx2block(idx);
    unsigned map = av->binmap[block];
    unsigned bit = idx2bit(idx);
    bool use_top = false;
    for (;;) {
      if (bit > map || bit == 0) {
        do {
          if (++block >= static_cast<unsigned>(kBinmapSize)) {
            use_top = true;
            break;
          }
        } while ((map = av->binmap[block]) == 0);
        if (use_top) break;
        bin = av->bin_at(block << kBinmapShift);
        bit = 1;
      }
      while ((bit & map) == 0) {
        bin = next_bin(bin);
        bit <<= 1;
        HV_GLIBC_ASSERT(bit != 0, "_int_malloc", "bit != 0", chunk2mem(bin));
      }
      victim = bin->bk;
      if (victim == bin) {
        av->binmap[block] = map &= ~bit; // stale bit: clear it
        bin = next_bin(bin);
        bit <<= 1;
      } else {
        size = victim->size();
        HV_GLIBC_ASSERT(size >= nb, "_int_malloc", "(unsigned long) (size) >= (unsigned long) (nb)",
                        chunk2mem(victim));
        remainder_size = size - nb;
        unlink_chunk(av, victim);
        take_and_split(av, victim, size, nb, in_smallbin_range(nb), "malloc(): corrupted unsorted chunks 2");
        void* p = chunk2mem(victim);
        alloc_perturb(p, bytes);
        return p;
      }
    }

    // use_top:
    victim = av->top;
    size = victim->size();
    if (size > av->system_mem)
      corrupt(ErrorCode::CorruptedSize, "malloc(): corrupted top size", chunk2mem(victim));
    if (size >= nb + kMinSize) {
      remainder_size = size - nb;
      remainder = victim->at(static_cast<ptrdiff_t>(nb));
      av->top = remainder;
      victim->set_head(nb | kPrevInuse | (av != &main_arena_ ? kNonMainArena : 0));
      remainder->set_head(remainder_size | kPrevInuse);
      hooks_.split_top(av, victim, nb, remainder_size);
      void* p = chunk2mem(victim);
      alloc_perturb(p, bytes);
      return p;
    } else if (detail::atomic_load(&av->have_fastchunks)) {
      malloc_consolidate(av);
      idx = in_smallbin_range(nb) ? smallbin_index(nb) : largebin_index(nb);
    } else {
      void* p = sysmalloc(nb, av);
      if (p) alloc_perturb(p, bytes);
      return p;
    }
  }
}

// ============================================================================ [free]

// glibc's _int_free, first half: the sanity checks and the tcache. Returns true if the tcache
// took the chunk. Inlined into free() so the common case makes no further call.
template <class P>
inline __attribute__((always_inline)) bool MallocCore<P>::free_checks_and_tcache(ThreadState& ts, Chunk* p,
                                                                                 size_t size) {
  if (reinterpret_cast<uintptr_t>(p) > static_cast<uintptr_t>(0) - size || misaligned_chunk(p))
    corrupt(ErrorCode::InvalidPointer, "free(): invalid pointer", chunk2mem(p));
  if (size < kMinSize || !aligned_ok(size))
    corrupt(ErrorCode::CorruptedSize, "free(): invalid size", chunk2mem(p));
  size_t tc_idx = csize2tidx(size);
  if (ts.tcache != nullptr && tc_idx < mp_.tcache_bins) {
    TcacheEntry* e = static_cast<TcacheEntry*>(chunk2mem(p));
    if (__builtin_expect(e->key == tcache_key_, 0)) tcache_double_free_scan(ts, e, tc_idx);
    if (ts.tcache->counts[tc_idx] < mp_.tcache_count) {
      tcache_put(ts, p, tc_idx);
      return true;
    }
  }
  return false;
}

// The key matched: either a double free or (1 in 2^64) user data that equals the key.
template <class P>
void MallocCore<P>::tcache_double_free_scan(ThreadState& ts, TcacheEntry* e, size_t tc_idx) {
  size_t cnt = 0;
  for (TcacheEntry* tmp = ts.tcache->entries[tc_idx]; tmp; tmp = reveal_ptr(&tmp->next), ++cnt) {
    if (cnt >= mp_.tcache_count) corrupt(ErrorCode::Other, "free(): too many chunks detected in tcache", e);
    if (!aligned_ok(reinterpret_cast<uintptr_t>(tmp)))
      corrupt(ErrorCode::Other, "free(): unaligned chunk detected in tcache 2", tmp);
    if (tmp == e) corrupt(ErrorCode::DoubleFree, "free(): double free detected in tcache 2", e);
  }
}

template <class P> void MallocCore<P>::int_free(Arena* av, Chunk* p, bool have_lock) {
  size_t size = p->size();
  hooks_.chunk_free(av, p, size);
  if (__builtin_expect(checks_.on(), 0)) checks_.internal_free(p, size);
  if (free_checks_and_tcache(plat_.thread(), p, size)) return;
  int_free_bins(av, p, size, have_lock);
}

// glibc's _int_free, second half: fastbins, or coalescing into the unsorted bin or top, trimming.
template <class P> void MallocCore<P>::int_free_bins(Arena* av, Chunk* p, size_t size, bool have_lock) {
  const bool single = plat_.single_threaded();
  if (size <= global_max_fast_) {
    Chunk* nxt = p->at(static_cast<ptrdiff_t>(size));
    if (nxt->size_nomask() <= kHdr || nxt->size() >= av->system_mem) {
      bool fail = true;
      if (!have_lock) {
        av->mutex.lock();
        fail = nxt->size_nomask() <= kHdr || nxt->size() >= av->system_mem;
        av->mutex.unlock();
      }
      if (fail) corrupt(ErrorCode::CorruptedSize, "free(): invalid next size (fast)", chunk2mem(p));
    }
    free_perturb(chunk2mem(p), size - kHdr);
    detail::atomic_store(&av->have_fastchunks, 1);
    unsigned idx = fastbin_index(size);
    Chunk** fb = av->fastbin(idx);
    // Announced before the push: once pushed, another thread may pop it (and say so) at once.
    hooks_.bin_in(av, p, size, BinKind::Fast, idx);
    Chunk* old = *fb;
    if (single) {
      if (old == p) corrupt(ErrorCode::DoubleFree, "double free or corruption (fasttop)", chunk2mem(p));
      p->fd = reinterpret_cast<Chunk*>(protect_ptr(&p->fd, old));
      *fb = p;
    } else {
      old = __atomic_load_n(fb, __ATOMIC_RELAXED);
      do {
        if (old == p) corrupt(ErrorCode::DoubleFree, "double free or corruption (fasttop)", chunk2mem(p));
        p->fd = reinterpret_cast<Chunk*>(protect_ptr(&p->fd, old));
      } while (!__atomic_compare_exchange_n(fb, &old, p, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
    }
    if (have_lock && old != nullptr && fastbin_index(old->size()) != idx)
      corrupt(ErrorCode::Other, "invalid fastbin entry (free)", chunk2mem(old));
    return;
  }

  if (p->is_mmapped()) {
    int err = errno;
    munmap_chunk(p);
    errno = err;
    return;
  }

  if (single) have_lock = true;
  if (!have_lock) av->mutex.lock();
  Chunk* nextchunk = p->at(static_cast<ptrdiff_t>(size));
  if (p == av->top) corrupt(ErrorCode::DoubleFree, "double free or corruption (top)", chunk2mem(p));
  if (av->contiguous() &&
      reinterpret_cast<char*>(nextchunk) >= reinterpret_cast<char*>(av->top) + av->top->size())
    corrupt(ErrorCode::DoubleFree, "double free or corruption (out)", chunk2mem(p));
  if (!nextchunk->prev_inuse())
    corrupt(ErrorCode::DoubleFree, "double free or corruption (!prev)", chunk2mem(p));
  size_t nextsize = nextchunk->size();
  if (nextchunk->size_nomask() <= kHdr || nextsize >= av->system_mem)
    corrupt(ErrorCode::CorruptedSize, "free(): invalid next size (normal)", chunk2mem(p));
  free_perturb(chunk2mem(p), size - kHdr);

  if (!p->prev_inuse()) {
    Chunk* freed = p;
    size_t prevsize = p->prev_size();
    size += prevsize;
    p = p->at(-static_cast<ptrdiff_t>(prevsize));
    if (p->size() != prevsize)
      corrupt(ErrorCode::CorruptedSize, "corrupted size vs. prev_size while consolidating", chunk2mem(p));
    unlink_chunk(av, p);
    hooks_.merge(av, MergeHow::WithPrev, p, size, freed);
    check_merge(p, size, freed, false);
  }
  if (nextchunk != av->top) {
    bool nextinuse = nextchunk->inuse_at(nextsize);
    if (!nextinuse) {
      unlink_chunk(av, nextchunk);
      size += nextsize;
      hooks_.merge(av, MergeHow::WithNext, p, size, nextchunk);
      check_merge(p, size, nextchunk, false);
    } else {
      nextchunk->clear_inuse_at(0);
    }
    Chunk* bck = av->unsorted();
    Chunk* fwd = bck->fd;
    if (fwd->bk != bck) corrupt(ErrorCode::CorruptedList, "free(): corrupted unsorted chunks", chunk2mem(p));
    p->fd = fwd;
    p->bk = bck;
    if (!in_smallbin_range(size)) {
      p->fd_nextsize = nullptr;
      p->bk_nextsize = nullptr;
    }
    bck->fd = p;
    fwd->bk = p;
    p->set_head(size | kPrevInuse);
    p->set_foot(size);
    hooks_.bin_in(av, p, size, BinKind::Unsorted, 1);
  } else {
    size += nextsize;
    p->set_head(size | kPrevInuse);
    av->top = p;
    hooks_.merge_top(av, p, size, nextchunk);
    check_merge(p, size, nextchunk, true);
  }

  if (size >= kFastbinConsolidationThreshold) {
    int err = errno; // trimming makes system calls; free() must not change errno
    if (detail::atomic_load(&av->have_fastchunks)) malloc_consolidate(av);
    if (av == &main_arena_) {
      if (av->top->size() >= mp_.trim_threshold) systrim(mp_.top_pad, av);
    } else {
      HeapInfo* heap = heap_for_ptr(av->top);
      HV_GLIBC_ASSERT(heap->ar_ptr == av, "_int_free", "heap->ar_ptr == av", heap);
      heap_trim(heap, mp_.top_pad);
    }
    errno = err;
  }
  if (!have_lock) av->mutex.unlock();
}

// ============================================================================ [consolidate]

template <class P> void MallocCore<P>::malloc_consolidate(Arena* av) {
  detail::atomic_store(&av->have_fastchunks, 0);
  Chunk* unsorted_bin = av->unsorted();
  for (int i = 0; i < kNFastBins; ++i) {
    Chunk** fb = av->fastbin(static_cast<unsigned>(i));
    Chunk* p = __atomic_exchange_n(fb, nullptr, __ATOMIC_ACQUIRE);
    while (p != nullptr) {
      if (misaligned_chunk(p))
        corrupt(ErrorCode::Other, "malloc_consolidate(): unaligned fastbin chunk detected", p);
      if (fastbin_index(p->size()) != static_cast<unsigned>(i))
        corrupt(ErrorCode::CorruptedSize, "malloc_consolidate(): invalid chunk size", chunk2mem(p));
      Chunk* nextp = reveal_ptr(&p->fd);
      size_t size = p->size();
      Chunk* nextchunk = p->at(static_cast<ptrdiff_t>(size));
      size_t nextsize = nextchunk->size();
      hooks_.bin_out(av, p, BinKind::Fast, static_cast<unsigned>(i));
      if (!p->prev_inuse()) {
        Chunk* freed = p;
        size_t prevsize = p->prev_size();
        size += prevsize;
        p = p->at(-static_cast<ptrdiff_t>(prevsize));
        if (p->size() != prevsize)
          corrupt(ErrorCode::CorruptedSize, "corrupted size vs. prev_size in fastbins", chunk2mem(p));
        unlink_chunk(av, p);
        hooks_.merge(av, MergeHow::WithPrev, p, size, freed);
        check_merge(p, size, freed, false);
      }
      if (nextchunk != av->top) {
        bool nextinuse = nextchunk->inuse_at(nextsize);
        if (!nextinuse) {
          size += nextsize;
          unlink_chunk(av, nextchunk);
          hooks_.merge(av, MergeHow::WithNext, p, size, nextchunk);
          check_merge(p, size, nextchunk, false);
        } else {
          nextchunk->clear_inuse_at(0);
        }
        Chunk* first_unsorted = unsorted_bin->fd;
        unsorted_bin->fd = p;
        first_unsorted->bk = p;
        if (!in_smallbin_range(size)) {
          p->fd_nextsize = nullptr;
          p->bk_nextsize = nullptr;
        }
        p->set_head(size | kPrevInuse);
        p->bk = unsorted_bin;
        p->fd = first_unsorted;
        p->set_foot(size);
        hooks_.bin_in(av, p, size, BinKind::Unsorted, 1);
      } else {
        size += nextsize;
        p->set_head(size | kPrevInuse);
        av->top = p;
        hooks_.merge_top(av, p, size, nextchunk);
        check_merge(p, size, nextchunk, true);
      }
      p = nextp;
    }
  }
}

// ============================================================================ [realloc]

template <class P> void* MallocCore<P>::int_realloc(Arena* av, Chunk* oldp, size_t oldsize, size_t nb) {
  if (oldp->size_nomask() <= kHdr || oldsize >= av->system_mem)
    corrupt(ErrorCode::CorruptedSize, "realloc(): invalid old size", chunk2mem(oldp));
  HV_GLIBC_ASSERT(!oldp->is_mmapped(), "_int_realloc", "!chunk_is_mmapped (oldp)", chunk2mem(oldp));
  Chunk* next = oldp->at(static_cast<ptrdiff_t>(oldsize));
  size_t nextsize = next->size();
  if (next->size_nomask() <= kHdr || nextsize >= av->system_mem)
    corrupt(ErrorCode::CorruptedSize, "realloc(): invalid next size", chunk2mem(oldp));
  const size_t abit = av != &main_arena_ ? kNonMainArena : 0;
  Chunk* newp;
  size_t newsize;
  if (oldsize >= nb) {
    newp = oldp;
    newsize = oldsize;
  } else {
    if (next == av->top && (newsize = oldsize + nextsize) >= nb + kMinSize) {
      oldp->set_head_size(nb | abit);
      av->top = oldp->at(static_cast<ptrdiff_t>(nb));
      av->top->set_head((newsize - nb) | kPrevInuse);
      hooks_.realloc_in_place(av, oldp, oldsize, nb);
      hooks_.top(av, av->top, newsize - nb);
      return chunk2mem(oldp);
    } else if (next != av->top && !next->inuse() && (newsize = oldsize + nextsize) >= nb) {
      newp = oldp;
      unlink_chunk(av, next);
      hooks_.merge(av, MergeHow::WithNext, oldp, newsize, next);
      check_merge(oldp, newsize, next, false);
    } else {
      void* newmem = int_malloc(av, nb - kAlignMask);
      if (newmem == nullptr) return nullptr;
      newp = mem2chunk(newmem);
      newsize = newp->size();
      if (newp == next) {
        newsize += oldsize;
        newp = oldp;
        hooks_.merge(av, MergeHow::WithNext, oldp, newsize, next);
        check_merge(oldp, newsize, next, false);
      } else {
        memcpy(newmem, chunk2mem(oldp), memsize(oldp));
        int_free(av, oldp, true);
        hooks_.realloc_moved(av, oldp, newp);
        return newmem;
      }
    }
  }
  HV_GLIBC_ASSERT(newsize >= nb, "_int_realloc", "(unsigned long) (newsize) >= (unsigned long) (nb)",
                  chunk2mem(newp));
  size_t remainder_size = newsize - nb;
  if (remainder_size < kMinSize) {
    newp->set_head_size(newsize | abit);
    newp->set_inuse_at(newsize);
  } else {
    Chunk* remainder = newp->at(static_cast<ptrdiff_t>(nb));
    newp->set_head_size(nb | abit);
    remainder->set_head(remainder_size | kPrevInuse | abit);
    remainder->set_inuse_at(remainder_size);
    hooks_.split(av, newp, nb, remainder_size);
    int_free(av, remainder, true);
  }
  hooks_.realloc_in_place(av, newp, oldsize, newp->size());
  return chunk2mem(newp);
}

// ============================================================================ [memalign]

template <class P> void* MallocCore<P>::int_memalign(Arena* av, size_t alignment, size_t bytes) {
  size_t nb = checked_request2size(bytes);
  if (nb == 0 || alignment > static_cast<size_t>(PTRDIFF_MAX)) {
    errno = ENOMEM;
    return nullptr;
  }
  char* m = static_cast<char*>(int_malloc(av, nb + alignment + kMinSize));
  if (m == nullptr) return nullptr;
  Chunk* p = mem2chunk(m);
  const size_t abit = av != &main_arena_ ? kNonMainArena : 0;
  if (reinterpret_cast<uintptr_t>(m) % alignment != 0) {
    char* brk = reinterpret_cast<char*>(
        mem2chunk(reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(m) + alignment - 1) & -alignment)));
    if (static_cast<size_t>(brk - reinterpret_cast<char*>(p)) < kMinSize) brk += alignment;
    Chunk* newp = reinterpret_cast<Chunk*>(brk);
    size_t leadsize = static_cast<size_t>(brk - reinterpret_cast<char*>(p));
    size_t newsize = p->size() - leadsize;
    if (p->is_mmapped()) {
      newp->set_prev_size(p->prev_size() + leadsize);
      newp->set_head(newsize | kIsMmapped);
      if (__builtin_expect(entry_, 0)) {
        mmapped_.erase(reinterpret_cast<uintptr_t>(p));
        mmapped_.insert(reinterpret_cast<uintptr_t>(newp));
      }
      hooks_.munmap_chunk(av, p);
      hooks_.mmap_chunk(av, newp, newsize);
      return chunk2mem(newp);
    }
    newp->set_head(newsize | kPrevInuse | abit);
    newp->set_inuse_at(newsize);
    p->set_head_size(leadsize | abit);
    hooks_.split(av, p, leadsize, newsize);
    int_free(av, p, true);
    p = newp;
    HV_GLIBC_ASSERT(newsize >= nb && reinterpret_cast<uintptr_t>(chunk2mem(p)) % alignment == 0,
                    "_int_memalign", "newsize >= nb && (((unsigned long) (chunk2mem (p))) % alignment) == 0",
                    chunk2mem(p));
  }
  if (!p->is_mmapped()) {
    size_t size = p->size();
    if (size > nb + kMinSize) {
      size_t remainder_size = size - nb;
      Chunk* remainder = p->at(static_cast<ptrdiff_t>(nb));
      remainder->set_head(remainder_size | kPrevInuse | abit);
      p->set_head_size(nb);
      hooks_.split(av, p, nb, remainder_size);
      int_free(av, remainder, true);
    }
  }
  return chunk2mem(p);
}

template <class P> void* MallocCore<P>::mid_memalign(size_t alignment, size_t bytes) {
  if (alignment <= kAlign) return malloc_body(bytes);
  if (alignment < kMinSize) alignment = kMinSize;
  if (alignment > SIZE_MAX / 2 + 1) {
    errno = EINVAL;
    return nullptr;
  }
  if (!powerof2(alignment)) {
    size_t a = kAlign * 2;
    while (a < alignment)
      a <<= 1;
    alignment = a;
  }
  void* p;
  if (plat_.single_threaded()) {
    p = int_memalign(&main_arena_, alignment, bytes);
    HV_GLIBC_ASSERT(
        !p || mem2chunk(p)->is_mmapped() || &main_arena_ == arena_for_chunk(mem2chunk(p)), "_mid_memalign",
        "!p || chunk_is_mmapped (mem2chunk (p)) || &main_arena == arena_for_chunk (mem2chunk (p))", p);
    return p;
  }
  ThreadState& ts = plat_.thread();
  Arena* ar = arena_get(ts, bytes + alignment + kMinSize);
  p = int_memalign(ar, alignment, bytes);
  if (!p && ar) {
    ar = arena_get_retry(ts, ar, bytes);
    p = int_memalign(ar, alignment, bytes);
  }
  if (ar) ar->mutex.unlock();
  HV_GLIBC_ASSERT(!p || mem2chunk(p)->is_mmapped() || ar == arena_for_chunk(mem2chunk(p)), "_mid_memalign",
                  "!p || chunk_is_mmapped (mem2chunk (p)) || ar_ptr == arena_for_chunk (mem2chunk (p))", p);
  return p;
}

// ============================================================================ [api]

template <class P> inline __attribute__((always_inline)) void* MallocCore<P>::malloc_body(size_t bytes) {
  if (__builtin_expect(!initialized_, 0)) init();
  size_t tbytes = checked_request2size(bytes);
  if (__builtin_expect(tbytes == 0, 0)) {
    errno = ENOMEM;
    return nullptr;
  }
  size_t tc_idx = csize2tidx(tbytes);
  ThreadState& ts = plat_.thread();
  if (__builtin_expect(ts.tcache == nullptr, 0)) tcache_init(ts);
  if (tc_idx < mp_.tcache_bins && ts.tcache && ts.tcache->counts[tc_idx] > 0) return tcache_get(ts, tc_idx);
  return malloc_from_arena(ts, bytes);
}

// malloc() past the tcache: the arena, locked unless the process is single-threaded.
template <class P> void* MallocCore<P>::malloc_from_arena(ThreadState& ts, size_t bytes) {
  void* victim;
  if (plat_.single_threaded()) {
    victim = int_malloc(&main_arena_, bytes);
    HV_GLIBC_ASSERT(
        !victim || mem2chunk(victim)->is_mmapped() || &main_arena_ == arena_for_chunk(mem2chunk(victim)),
        "__libc_malloc",
        "!victim || chunk_is_mmapped (mem2chunk (victim)) || &main_arena == arena_for_chunk (mem2chunk "
        "(victim))",
        victim);
    return victim;
  }
  Arena* ar = arena_get(ts, bytes);
  victim = int_malloc(ar, bytes);
  if (!victim && ar) {
    ar = arena_get_retry(ts, ar, bytes);
    victim = int_malloc(ar, bytes);
  }
  if (ar) ar->mutex.unlock();
  HV_GLIBC_ASSERT(
      !victim || mem2chunk(victim)->is_mmapped() || ar == arena_for_chunk(mem2chunk(victim)), "__libc_malloc",
      "!victim || chunk_is_mmapped (mem2chunk (victim)) || ar_ptr == arena_for_chunk (mem2chunk (victim))",
      victim);
  return victim;
}

// free() leaves errno as it found it (POSIX 2024, and glibc). Only munmap_chunk and the trim
// paths make system calls, so only they save and restore it; the tcache path never touches it.
template <class P> inline __attribute__((always_inline)) void MallocCore<P>::free_body(void* mem) {
  if (mem == nullptr) return;
  Chunk* p = mem2chunk(mem);
  if (__builtin_expect(p->is_mmapped(), 0)) return free_mmapped(p);
  // As glibc's __libc_free: no check of our own here (a pointer outside every heap is
  // HEAPVIZ_CHECKS's, docs/checks.md), and the arena is read before _int_free's checks.
  ThreadState& ts = plat_.thread();
  if (__builtin_expect(ts.tcache == nullptr, 0)) tcache_init(ts);
  Arena* av = arena_for_chunk(p);
  size_t size = p->size();
  if (free_checks_and_tcache(ts, p, size)) return;
  int_free_bins(av, p, size, false);
}

template <class P> void MallocCore<P>::free_mmapped(Chunk* p) {
  int err = errno;
  if (!mp_.no_dyn_threshold && p->size_nomask() > mp_.mmap_threshold &&
      p->size_nomask() <= kDefaultMmapThresholdMax) {
    mp_.mmap_threshold = p->size();
    mp_.trim_threshold = 2 * mp_.mmap_threshold;
  }
  munmap_chunk(p);
  errno = err;
}

template <class P> void* MallocCore<P>::realloc_body(void* oldmem, size_t bytes) {
  if (!initialized_) init();
  if (bytes == 0 && oldmem != nullptr) {
    free_body(oldmem);
    return nullptr;
  }
  if (oldmem == nullptr) return malloc_body(bytes);
  Chunk* oldp = mem2chunk(oldmem);
  const size_t oldsize = oldp->size();
  Arena* ar_ptr = nullptr;
  ThreadState& ts = plat_.thread();
  if (!oldp->is_mmapped()) {
    if (ts.tcache == nullptr) tcache_init(ts);
    ar_ptr = arena_for_chunk(oldp);
  }
  if (reinterpret_cast<uintptr_t>(oldp) > static_cast<uintptr_t>(0) - oldsize || misaligned_chunk(oldp))
    corrupt(ErrorCode::InvalidPointer, "realloc(): invalid pointer", oldmem);
  size_t nb = checked_request2size(bytes);
  if (nb == 0) {
    errno = ENOMEM;
    return nullptr;
  }
  if (oldp->is_mmapped()) {
    Chunk* newp = mremap_chunk(oldp, nb);
    if (newp) return chunk2mem(newp);
    if (oldsize - kSizeSz >= nb) return oldmem;
    void* newmem = malloc_body(bytes);
    if (newmem == nullptr) return nullptr;
    memcpy(newmem, oldmem, oldsize - kHdr);
    munmap_chunk(oldp);
    return newmem;
  }
  void* newp;
  if (plat_.single_threaded()) {
    newp = int_realloc(ar_ptr, oldp, oldsize, nb);
    HV_GLIBC_ASSERT(
        !newp || mem2chunk(newp)->is_mmapped() || ar_ptr == arena_for_chunk(mem2chunk(newp)),
        "__libc_realloc",
        "!newp || chunk_is_mmapped (mem2chunk (newp)) || ar_ptr == arena_for_chunk (mem2chunk (newp))", newp);
    return newp;
  }
  ar_ptr->mutex.lock();
  newp = int_realloc(ar_ptr, oldp, oldsize, nb);
  ar_ptr->mutex.unlock();
  HV_GLIBC_ASSERT(
      !newp || mem2chunk(newp)->is_mmapped() || ar_ptr == arena_for_chunk(mem2chunk(newp)), "__libc_realloc",
      "!newp || chunk_is_mmapped (mem2chunk (newp)) || ar_ptr == arena_for_chunk (mem2chunk (newp))", newp);
  if (newp == nullptr) {
    newp = malloc_body(bytes);
    if (newp != nullptr) {
      memcpy(newp, oldmem, memsize(oldp));
      int_free(ar_ptr, oldp, false);
    }
  }
  return newp;
}

template <class P> void* MallocCore<P>::memalign_body(size_t alignment, size_t bytes) {
  if (!initialized_) init();
  return mid_memalign(alignment, bytes);
}

template <class P> void* MallocCore<P>::valloc_body(size_t bytes) {
  if (!initialized_) init();
  return mid_memalign(plat_.pagesize(), bytes);
}

template <class P> void* MallocCore<P>::pvalloc_body(size_t bytes) {
  if (!initialized_) init();
  size_t pagesize = plat_.pagesize();
  size_t rounded;
  if (__builtin_add_overflow(bytes, pagesize - 1, &rounded)) {
    errno = ENOMEM;
    return nullptr;
  }
  rounded &= -(pagesize - 1); // glibc 2.36's exact (odd) mask
  return mid_memalign(pagesize, rounded);
}

template <class P> int MallocCore<P>::posix_memalign_body(void** memptr, size_t alignment, size_t size) {
  if (!initialized_) init();
  if (alignment % sizeof(void*) != 0 || !powerof2(alignment / sizeof(void*)) || alignment == 0) return EINVAL;
  void* mem = mid_memalign(alignment, size);
  if (mem != nullptr) {
    *memptr = mem;
    return 0;
  }
  return ENOMEM;
}

template <class P> void* MallocCore<P>::calloc_body(size_t n, size_t elem_size) {
  size_t bytes;
  if (__builtin_mul_overflow(n, elem_size, &bytes) || bytes > static_cast<size_t>(PTRDIFF_MAX)) {
    // glibc computes into a ptrdiff_t: anything above PTRDIFF_MAX overflows.
    errno = ENOMEM;
    return nullptr;
  }
  size_t sz = bytes;
  if (!initialized_) init();
  ThreadState& ts = plat_.thread();
  if (ts.tcache == nullptr) tcache_init(ts);
  Arena* av;
  const bool single = plat_.single_threaded();
  if (single)
    av = &main_arena_;
  else
    av = arena_get(ts, sz);
  Chunk* oldtop = nullptr;
  size_t oldtopsize = 0;
  if (av) {
    oldtop = av->top;
    oldtopsize = av->top->size();
    if (av == &main_arena_ && mp_.sbrk_base &&
        oldtopsize <
            static_cast<size_t>(mp_.sbrk_base + av->max_system_mem - reinterpret_cast<char*>(oldtop)))
      oldtopsize = static_cast<size_t>(mp_.sbrk_base + av->max_system_mem - reinterpret_cast<char*>(oldtop));
    if (av != &main_arena_) {
      HeapInfo* heap = heap_for_ptr(oldtop);
      if (oldtopsize < static_cast<size_t>(reinterpret_cast<char*>(heap) + heap->mprotect_size -
                                           reinterpret_cast<char*>(oldtop)))
        oldtopsize = static_cast<size_t>(reinterpret_cast<char*>(heap) + heap->mprotect_size -
                                         reinterpret_cast<char*>(oldtop));
    }
  }
  void* mem = int_malloc(av, sz);
  HV_GLIBC_ASSERT(
      !mem || mem2chunk(mem)->is_mmapped() || av == arena_for_chunk(mem2chunk(mem)), "__libc_calloc",
      "!mem || chunk_is_mmapped (mem2chunk (mem)) || av == arena_for_chunk (mem2chunk (mem))", mem);
  if (!single) {
    if (mem == nullptr && av != nullptr) {
      av = arena_get_retry(ts, av, sz);
      mem = int_malloc(av, sz);
    }
    if (av != nullptr) av->mutex.unlock();
  }
  if (mem == nullptr) return nullptr;
  Chunk* p = mem2chunk(mem);
  size_t csz = p->size();
  if (p->is_mmapped()) {
    if (__builtin_expect(mp_.perturb_byte, 0)) return memset(mem, 0, sz);
    return mem;
  }
  if (mp_.perturb_byte == 0 && p == oldtop && csz > oldtopsize) csz = oldtopsize;
  HV_GLIBC_ASSERT((csz - kSizeSz) / kSizeSz >= 3, "__libc_calloc", "nclears >= 3", mem);
  memset(mem, 0, csz - kSizeSz);
  return mem;
}

// ---- The public entry points: the bodies above, plus the API events when tracing ----------
// (malloc, free, calloc and realloc themselves: malloc_core.h, inlined into their callers)

template <class P> void* MallocCore<P>::malloc_hooked(size_t bytes) {
  const Caller c = HV_CALLER();
  if (__builtin_expect(private_alloc_, 0)) {
    void* r = private_alloc(bytes);
    if (checks_.on()) checks_.allocated(r, bytes);
    return r;
  }
  LiveScope live(this);
  if (!hooks_.on()) return checks_.on() ? malloc_checked(bytes) : malloc_body(bytes);
  return malloc_traced_inline(bytes, c);
}
// With HEAPVIZ_CHECKS (checks.h): the block's request is noted and its slack gets the canary; a
// free or realloc first asks the checks whether it may go on (a reported bug, continue mode: no).
template <class P> void* MallocCore<P>::malloc_checked(size_t bytes) {
  void* r = malloc_body(bytes);
  checks_.allocated(r, bytes);
  return r;
}
template <class P> void MallocCore<P>::free_checked(void* mem) {
  if (mem && !checks_.before_free(mem)) return;
  free_body(mem);
}
template <class P> void* MallocCore<P>::realloc_checked(void* oldmem, size_t bytes) {
  if (oldmem == nullptr) return malloc_checked(bytes);
  if (bytes == 0) {
    if (checks_.before_free(oldmem)) realloc_body(oldmem, 0);
    return nullptr;
  }
  if (!checks_.before_realloc(oldmem)) {
    errno = ENOMEM;
    return nullptr;
  }
  void* r = realloc_body(oldmem, bytes);
  checks_.after_realloc(oldmem, r, bytes);
  return r;
}
// A fake mmapped chunk in a mapping of its own: free, realloc and malloc_usable_size treat it as
// any mmapped chunk, and no arena ever sees it.
template <class P> void* MallocCore<P>::private_alloc(size_t bytes) {
  size_t len = align_up(bytes + 2 * kHdr, plat_.pagesize());
  void* m = plat_.mmap(nullptr, len, PROT_READ | PROT_WRITE, 0);
  if (m == MAP_FAILED) return nullptr;
  Chunk* p = static_cast<Chunk*>(m);
  p->set_head(len | kIsMmapped);
  __atomic_add_fetch(&mp_.n_mmaps, 1, __ATOMIC_RELAXED); // munmap_chunk takes them off again
  __atomic_add_fetch(&mp_.mmapped_mem, len, __ATOMIC_RELAXED);
  return chunk2mem(p);
}
// A signal handler's call while this thread is inside a traced one (trace_hooks.h, "Calls from a
// signal handler"). An allocation is a fake mmapped chunk of its own, as private_alloc's (zeroed:
// calloc's too); the interrupted call, when it ends, writes its MmapChunk and API events. An
// aligned allocation fails (ENOMEM): a fake chunk is aligned to 16 only. Beyond
// TraceThread::kNestedCalls notes in one interrupted call an allocation fails too, and a free is
// dropped (the block stays allocated, in the heap and in the trace).
template <class P>
void* MallocCore<P>::nested_alloc(ThreadState& ts, trace::Ev what, uint64_t a, uint64_t b, size_t bytes) {
  void* r = hooks_.nested_room(ts, 1) ? private_alloc(bytes) : nullptr;
  if (r == nullptr) {
    errno = ENOMEM;
    return nullptr;
  }
  hooks_.nested_note(ts, what, a, b, r);
  return r;
}
template <class P> void MallocCore<P>::nested_free(ThreadState& ts, void* mem) {
  if (mem != nullptr && hooks_.nested_room(ts, 1)) hooks_.nested_note(ts, trace::Ev::Free, 0, 0, mem);
}
// A new block, the old one's bytes copied and the old one's free put off: the trace says
// malloc and free rather than realloc.
template <class P> void* MallocCore<P>::nested_realloc(ThreadState& ts, void* oldmem, size_t bytes) {
  if (oldmem == nullptr) return nested_alloc(ts, trace::Ev::Malloc, bytes, 0, bytes);
  if (bytes == 0) {
    nested_free(ts, oldmem);
    return nullptr;
  }
  if (!hooks_.nested_room(ts, 2)) {
    errno = ENOMEM;
    return nullptr;
  }
  void* r = nested_alloc(ts, trace::Ev::Malloc, bytes, 0, bytes);
  if (r == nullptr) return nullptr;
  size_t old = usable_size(oldmem);
  memcpy(r, oldmem, old < bytes ? old : bytes);
  nested_free(ts, oldmem);
  return r;
}

// The hottest API event: hooks_.malloc encodes it inline here (trace_hooks.h).
template <class P> void* MallocCore<P>::malloc_traced(size_t bytes) {
  return malloc_traced_inline(bytes, HV_CALLER());
}
template <class P> inline void* MallocCore<P>::malloc_traced_inline(size_t bytes, Caller c) {
  ThreadState& ts = plat_.thread();
  if (hooks_.nested(ts)) return nested_alloc(ts, trace::Ev::Malloc, bytes, 0, bytes);
  if (checks_.on()) checks_.prefetch_malloc(ts, bytes);
  hooks_.call_begin(ts, c);
  void* r = malloc_body(bytes);
  if (checks_.on()) checks_.allocated(r, bytes);
  hooks_.malloc(ts, bytes, r);
  hooks_.call_end(ts);
  return r;
}
template <class P> void MallocCore<P>::free_hooked(void* mem) {
  const Caller c = HV_CALLER();
  LiveScope live(this);
  if (!hooks_.on()) return checks_.on() ? free_checked(mem) : free_body(mem);
  free_traced_inline(mem, c);
}
// The Free event is written lazily (TraceThread::free_pending): as FreeTcache if the chunk goes
// straight into the tcache, else just before the first event the free causes, else at the end.
template <class P> void MallocCore<P>::free_traced(void* mem) {
  free_traced_inline(mem, HV_CALLER());
}
template <class P> inline void MallocCore<P>::free_traced_inline(void* mem, Caller c) {
  ThreadState& ts = plat_.thread();
  if (hooks_.nested(ts)) return nested_free(ts, mem);
  if (checks_.on() && mem) checks_.prefetch(mem);
  hooks_.free_begin(ts, mem, c);
  if (!checks_.on() || mem == nullptr || checks_.before_free(mem))
    free_body(mem);
  else
    hooks_.free_skipped(ts); // (HEAPVIZ_CHECKS_CONTINUE: a bug the checks reported, the free not done)
  hooks_.free_end(ts);
  hooks_.call_end(ts);
}
template <class P> void* MallocCore<P>::realloc_hooked(void* oldmem, size_t bytes) {
  const Caller c = HV_CALLER();
  LiveScope live(this);
  if (!hooks_.on()) return checks_.on() ? realloc_checked(oldmem, bytes) : realloc_body(oldmem, bytes);
  ThreadState& ts = plat_.thread();
  if (hooks_.nested(ts)) return nested_realloc(ts, oldmem, bytes);
  hooks_.call_begin(ts, c);
  hooks_.realloc_begin(ts, oldmem);
  void* r = checks_.on() ? realloc_checked(oldmem, bytes) : realloc_body(oldmem, bytes);
  hooks_.realloc(oldmem, bytes, r);
  hooks_.call_end(ts);
  return r;
}
template <class P> void* MallocCore<P>::calloc_hooked(size_t n, size_t elem_size) {
  const Caller c = HV_CALLER();
  if (__builtin_expect(private_alloc_, 0)) {
    size_t b;
    void* r = __builtin_mul_overflow(n, elem_size, &b) ? nullptr : private_alloc(b); // mmap memory is zero
    if (checks_.on()) checks_.allocated(r, b);
    return r;
  }
  LiveScope live(this);
  if (!hooks_.on() && !checks_.on()) return calloc_body(n, elem_size);
  ThreadState& ts = plat_.thread();
  if (hooks_.nested(ts)) {
    size_t total;
    if (__builtin_mul_overflow(n, elem_size, &total)) {
      errno = ENOMEM;
      return nullptr;
    }
    return nested_alloc(ts, trace::Ev::Calloc, n, elem_size, total); // mmap memory is zero
  }
  hooks_.call_begin(ts, c);
  void* r = calloc_body(n, elem_size);
  if (checks_.on()) checks_.allocated(r, n * elem_size);
  hooks_.calloc(n, elem_size, r);
  hooks_.call_end(ts);
  return r;
}
template <class P> void* MallocCore<P>::memalign(size_t alignment, size_t bytes) {
  if (__builtin_expect(!entry_, 1)) return memalign_body(alignment, bytes);
  LiveScope live(this);
  if (!hooks_.on() && !checks_.on()) return memalign_body(alignment, bytes);
  if (hooks_.nested(plat_.thread())) { // no aligned block outside the heap (nested_alloc)
    errno = ENOMEM;
    return nullptr;
  }
  hooks_.call_begin(plat_.thread());
  void* r = memalign_body(alignment, bytes);
  if (checks_.on()) checks_.allocated(r, bytes);
  hooks_.memalign(alignment, bytes, r);
  hooks_.call_end(plat_.thread());
  return r;
}
template <class P> void* MallocCore<P>::valloc(size_t bytes) {
  if (__builtin_expect(!entry_, 1)) return valloc_body(bytes);
  LiveScope live(this);
  if (!hooks_.on() && !checks_.on()) return valloc_body(bytes);
  if (hooks_.nested(plat_.thread())) { // no aligned block outside the heap (nested_alloc)
    errno = ENOMEM;
    return nullptr;
  }
  hooks_.call_begin(plat_.thread());
  void* r = valloc_body(bytes);
  if (checks_.on()) checks_.allocated(r, bytes);
  hooks_.memalign(plat_.pagesize(), bytes, r);
  hooks_.call_end(plat_.thread());
  return r;
}
template <class P> void* MallocCore<P>::pvalloc(size_t bytes) {
  if (__builtin_expect(!entry_, 1)) return pvalloc_body(bytes);
  LiveScope live(this);
  if (!hooks_.on() && !checks_.on()) return pvalloc_body(bytes);
  if (hooks_.nested(plat_.thread())) { // no aligned block outside the heap (nested_alloc)
    errno = ENOMEM;
    return nullptr;
  }
  hooks_.call_begin(plat_.thread());
  void* r = pvalloc_body(bytes);
  if (checks_.on()) checks_.allocated(r, r ? usable_size(r) : 0);
  hooks_.memalign(plat_.pagesize(), bytes, r);
  hooks_.call_end(plat_.thread());
  return r;
}
template <class P> int MallocCore<P>::posix_memalign(void** memptr, size_t alignment, size_t size) {
  if (__builtin_expect(!entry_, 1)) return posix_memalign_body(memptr, alignment, size);
  LiveScope live(this);
  if (!hooks_.on() && !checks_.on()) return posix_memalign_body(memptr, alignment, size);
  if (hooks_.nested(plat_.thread())) { // no aligned block outside the heap (nested_alloc)
    return ENOMEM;
  }
  hooks_.call_begin(plat_.thread());
  int rc = posix_memalign_body(memptr, alignment, size);
  if (checks_.on() && rc == 0) checks_.allocated(*memptr, size);
  hooks_.memalign(alignment, size, rc == 0 ? *memptr : nullptr);
  hooks_.call_end(plat_.thread());
  return rc;
}

template <class P> size_t MallocCore<P>::usable_size(void* mem) {
  if (mem == nullptr) return 0;
  if (__builtin_expect(checks_.on(), 0)) checks_.usable_queried(mem); // (ASan shrinks the answer: a change)
  Chunk* p = mem2chunk(mem);
  if (p->is_mmapped()) return p->size() - kHdr;
  if (p->inuse()) return memsize(p);
  return 0;
}

template <class P> int MallocCore<P>::mtrim(Arena* av, size_t pad) {
  malloc_consolidate(av);
  const size_t ps = plat_.pagesize();
  unsigned psindex = bin_index(ps);
  const size_t psm1 = ps - 1;
  int result = 0;
  for (unsigned i = 1; i < kNBins; ++i) {
    if (i == 1 || i >= psindex) {
      Chunk* bin = av->bin_at(i);
      for (Chunk* p = bin->bk; p != bin; p = p->bk) {
        size_t size = p->size();
        if (size > psm1 + sizeof(Chunk)) {
          char* paligned_mem =
              reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(p) + sizeof(Chunk) + psm1) & ~psm1);
          HV_GLIBC_ASSERT(static_cast<char*>(chunk2mem(p)) + 2 * kHdr <= paligned_mem, "mtrim",
                          "(char *) chunk2mem (p) + 2 * CHUNK_HDR_SZ <= paligned_mem", chunk2mem(p));
          HV_GLIBC_ASSERT(reinterpret_cast<char*>(p) + size > paligned_mem, "mtrim",
                          "(char *) p + size > paligned_mem", chunk2mem(p));
          size -= static_cast<size_t>(paligned_mem - reinterpret_cast<char*>(p));
          if (size > psm1) {
            // The whole pages past the chunk's list words (its header, fd, bk and the large bins'
            // fd_nextsize, bk_nextsize: sizeof(struct malloc_chunk)) leave the process, and read
            // back as zeros; the chunk stays free in its bin (docs/trace-format.md, `release`).
            if (plat_.madvise(paligned_mem, size & ~psm1, MADV_DONTNEED) == 0) {
              hooks_.release(av, paligned_mem, size & ~psm1);
              if (__builtin_expect(checks_.on(), 0)) checks_.released(p);
            }
            result = 1;
          }
        }
      }
    }
  }
  return result | (av == &main_arena_ ? systrim(pad, av) : 0);
}

template <class P> int MallocCore<P>::trim(size_t pad) {
  LiveScope live(this); // changes the heap or records: a call like malloc for the live gate
  if (!initialized_) init();
  hooks_.stamp(plat_.thread()); // its events (consolidation, releases, systrim): stamped as a call's
  int result = 0;
  Arena* ar = &main_arena_;
  do {
    ar->mutex.lock();
    result |= mtrim(ar, pad);
    ar->mutex.unlock();
    ar = ar->next;
  } while (ar != &main_arena_);
  return result;
}

// ============================================================================ [info]

template <class P> void MallocCore<P>::int_mallinfo(Arena* av, struct mallinfo2* m) {
  size_t avail = av->top->size();
  int nblocks = 1;
  int nfastblocks = 0;
  size_t fastavail = 0;
  for (int i = 0; i < kNFastBins; ++i) {
    for (Chunk* p = av->fastbins[i]; p != nullptr; p = reveal_ptr(&p->fd)) {
      if (misaligned_chunk(p))
        corrupt(ErrorCode::Other, "int_mallinfo(): unaligned fastbin chunk detected", p);
      ++nfastblocks;
      fastavail += p->size();
    }
  }
  avail += fastavail;
  for (unsigned i = 1; i < kNBins; ++i) {
    Chunk* b = av->bin_at(i);
    for (Chunk* p = b->bk; p != b; p = p->bk) {
      ++nblocks;
      avail += p->size();
    }
  }
  m->smblks += static_cast<size_t>(nfastblocks);
  m->ordblks += static_cast<size_t>(nblocks);
  m->fordblks += avail;
  m->uordblks += av->system_mem - avail;
  m->arena += av->system_mem;
  m->fsmblks += fastavail;
  if (av == &main_arena_) {
    m->hblks = static_cast<size_t>(mp_.n_mmaps);
    m->hblkhd = mp_.mmapped_mem;
    m->usmblks = 0;
    m->keepcost = av->top->size();
  }
}

template <class P> struct mallinfo2 MallocCore<P>::info() {
  LiveScope live(this); // changes the heap or records: a call like malloc for the live gate
  if (!initialized_) init();
  struct mallinfo2 m;
  memset(&m, 0, sizeof(m));
  Arena* ar = &main_arena_;
  do {
    ar->mutex.lock();
    int_mallinfo(ar, &m);
    ar->mutex.unlock();
    ar = ar->next;
  } while (ar != &main_arena_);
  return m;
}

namespace detail {
  // "%10u"-style right-aligned decimal, written without stdio.
  inline void write_num_line(int fd, const char* label, unsigned long v) {
    char buf[64];
    char digits[24];
    size_t nd = put_decimal(digits, sizeof digits, v);
    size_t n = 0;
    for (const char* s = label; *s; ++s)
      buf[n++] = *s;
    for (size_t pad = nd; pad < 10; ++pad)
      buf[n++] = ' ';
    for (size_t i = 0; i < nd; ++i)
      buf[n++] = digits[i];
    buf[n++] = '\n';
    buf[n] = 0;
    raw_write(fd, buf);
  }
} // namespace detail

template <class P> void MallocCore<P>::stats(int fd) {
  LiveScope live(this); // changes the heap or records: a call like malloc for the live gate
  if (!initialized_) init();
  unsigned in_use_b = static_cast<unsigned>(mp_.mmapped_mem), system_b = in_use_b;
  Arena* ar = &main_arena_;
  for (int i = 0;; ++i) {
    struct mallinfo2 mi;
    memset(&mi, 0, sizeof(mi));
    ar->mutex.lock();
    int_mallinfo(ar, &mi);
    char head[32] = "Arena ";
    char num[16];
    int nd = 0, v = i;
    do {
      num[nd++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v);
    size_t n = 6;
    while (nd)
      head[n++] = num[--nd];
    head[n++] = ':';
    head[n++] = '\n';
    head[n] = 0;
    raw_write(fd, head);
    detail::write_num_line(fd, "system bytes     = ", static_cast<unsigned>(mi.arena));
    detail::write_num_line(fd, "in use bytes     = ", static_cast<unsigned>(mi.uordblks));
    system_b += static_cast<unsigned>(mi.arena);
    in_use_b += static_cast<unsigned>(mi.uordblks);
    ar->mutex.unlock();
    ar = ar->next;
    if (ar == &main_arena_) break;
  }
  raw_write(fd, "Total (incl. mmap):\n");
  detail::write_num_line(fd, "system bytes     = ", system_b);
  detail::write_num_line(fd, "in use bytes     = ", in_use_b);
  detail::write_num_line(fd, "max mmap regions = ", static_cast<unsigned>(mp_.max_n_mmaps));
  detail::write_num_line(fd, "max mmap bytes   = ", static_cast<unsigned long>(mp_.max_mmapped_mem));
}

// glibc's __malloc_info: per arena, the free chunks by bin (fastbins by their size class, the
// other bins by the smallest and largest chunk in them, the unsorted bin on a line of its own),
// the totals, the arena's memory and address space; then the totals of all arenas. As in glibc,
// the sizes of non-fast chunks are the raw size words (P bit included, so they are odd), tcache
// chunks count as in use, and each arena's lock is held only while its numbers are gathered.
template <class P> int MallocCore<P>::info_xml(int options, FILE* fp) {
  if (options != 0) return EINVAL;
  if (!initialized_) init();
  int n = 0;
  size_t total_nblocks = 0, total_nfastblocks = 0, total_avail = 0, total_fastavail = 0;
  size_t total_system = 0, total_max_system = 0, total_aspace = 0, total_aspace_mprotect = 0;
  fputs("<malloc version=\"1\">\n", fp);
  Arena* ar = &main_arena_;
  do {
    fprintf(fp, "<heap nr=\"%d\">\n<sizes>\n", n++);
    struct {
      size_t from, to, total, count;
    } sizes[kNFastBins + kNBins - 1];
    constexpr size_t kNSizes = sizeof(sizes) / sizeof(sizes[0]);
    size_t nblocks = 0, nfastblocks = 0, avail = 0, fastavail = 0;
    size_t heap_size = 0, heap_mprotect_size = 0, heap_count = 0, system_mem = 0, max_system_mem = 0;
    {
      LiveScope live(this); // reads the heap: a call like malloc for the live gate
      ar->mutex.lock();
      avail = ar->top->size(); // top is in no bin, and always exists
      nblocks = 1;
      for (int i = 0; i < kNFastBins; ++i) {
        Chunk* p = ar->fastbins[i];
        if (p != nullptr) {
          size_t nthissize = 0, thissize = p->size();
          for (; p != nullptr; p = reveal_ptr(&p->fd)) {
            if (misaligned_chunk(p))
              corrupt(ErrorCode::Other, "__malloc_info(): unaligned fastbin chunk detected", p);
            ++nthissize;
          }
          fastavail += nthissize * thissize;
          nfastblocks += nthissize;
          sizes[i].from = thissize - (kAlign - 1);
          sizes[i].to = thissize;
          sizes[i].count = nthissize;
        } else {
          sizes[i].from = sizes[i].to = sizes[i].count = 0;
        }
        sizes[i].total = sizes[i].count * sizes[i].to;
      }
      for (unsigned i = 1; i < kNBins; ++i) {
        auto& s = sizes[kNFastBins - 1 + i];
        Chunk* bin = ar->bin_at(i);
        s.from = ~size_t(0);
        s.to = s.total = s.count = 0;
        for (Chunk* r = bin->fd; r != nullptr && r != bin; r = r->fd) {
          size_t r_size = r->size_nomask();
          ++s.count;
          s.total += r_size;
          s.from = std::min(s.from, r_size);
          s.to = std::max(s.to, r_size);
        }
        if (s.count == 0) s.from = 0;
        nblocks += s.count;
        avail += s.total;
      }
      if (ar != &main_arena_) {
        for (HeapInfo* h = heap_for_ptr(ar->top); h != nullptr; h = h->prev) { // newest first
          heap_size += h->size;
          heap_mprotect_size += h->mprotect_size;
          ++heap_count;
        }
      }
      system_mem = ar->system_mem;
      max_system_mem = ar->max_system_mem;
      ar->mutex.unlock();
    }
    total_nfastblocks += nfastblocks;
    total_fastavail += fastavail;
    total_nblocks += nblocks;
    total_avail += avail;
    for (size_t i = 0; i < kNSizes; ++i)
      if (sizes[i].count != 0 && i != static_cast<size_t>(kNFastBins)) // [kNFastBins]: unsorted
        fprintf(fp, "  <size from=\"%zu\" to=\"%zu\" total=\"%zu\" count=\"%zu\"/>\n", sizes[i].from,
                sizes[i].to, sizes[i].total, sizes[i].count);
    if (sizes[kNFastBins].count != 0)
      fprintf(fp, "  <unsorted from=\"%zu\" to=\"%zu\" total=\"%zu\" count=\"%zu\"/>\n",
              sizes[kNFastBins].from, sizes[kNFastBins].to, sizes[kNFastBins].total, sizes[kNFastBins].count);
    total_system += system_mem;
    total_max_system += max_system_mem;
    fprintf(fp,
            "</sizes>\n<total type=\"fast\" count=\"%zu\" size=\"%zu\"/>\n"
            "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n"
            "<system type=\"current\" size=\"%zu\"/>\n"
            "<system type=\"max\" size=\"%zu\"/>\n",
            nfastblocks, fastavail, nblocks, avail, system_mem, max_system_mem);
    if (ar != &main_arena_) {
      fprintf(fp,
              "<aspace type=\"total\" size=\"%zu\"/>\n"
              "<aspace type=\"mprotect\" size=\"%zu\"/>\n"
              "<aspace type=\"subheaps\" size=\"%zu\"/>\n",
              heap_size, heap_mprotect_size, heap_count);
      total_aspace += heap_size;
      total_aspace_mprotect += heap_mprotect_size;
    } else {
      fprintf(fp,
              "<aspace type=\"total\" size=\"%zu\"/>\n"
              "<aspace type=\"mprotect\" size=\"%zu\"/>\n",
              system_mem, system_mem);
      total_aspace += system_mem;
      total_aspace_mprotect += system_mem;
    }
    fputs("</heap>\n", fp);
    ar = __atomic_load_n(&ar->next, __ATOMIC_ACQUIRE);
  } while (ar != &main_arena_);
  fprintf(fp,
          "<total type=\"fast\" count=\"%zu\" size=\"%zu\"/>\n"
          "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n"
          "<total type=\"mmap\" count=\"%d\" size=\"%zu\"/>\n"
          "<system type=\"current\" size=\"%zu\"/>\n"
          "<system type=\"max\" size=\"%zu\"/>\n"
          "<aspace type=\"total\" size=\"%zu\"/>\n"
          "<aspace type=\"mprotect\" size=\"%zu\"/>\n"
          "</malloc>\n",
          total_nfastblocks, total_fastavail, total_nblocks, total_avail,
          __atomic_load_n(&mp_.n_mmaps, __ATOMIC_RELAXED),
          __atomic_load_n(&mp_.mmapped_mem, __ATOMIC_RELAXED), total_system, total_max_system, total_aspace,
          total_aspace_mprotect);
  return 0;
}

template <class P> int MallocCore<P>::mallopt(int param, int value) {
  LiveScope live(this); // changes the heap or records: a call like malloc for the live gate
  if (!initialized_) init();
  Arena* av = &main_arena_;
  int res = 1;
  av->mutex.lock();
  malloc_consolidate(av);
  const size_t v = static_cast<size_t>(static_cast<long>(value));
  switch (param) {
  case M_MXFAST:
    res = do_set_mxfast(v);
    break;
  case M_TRIM_THRESHOLD:
    mp_.trim_threshold = v;
    mp_.no_dyn_threshold = 1;
    break;
  case M_TOP_PAD:
    mp_.top_pad = v;
    mp_.no_dyn_threshold = 1;
    break;
  case M_MMAP_THRESHOLD:
    mp_.mmap_threshold = v;
    mp_.no_dyn_threshold = 1;
    break;
  case M_MMAP_MAX:
    mp_.n_mmaps_max = value;
    mp_.no_dyn_threshold = 1;
    break;
  case M_CHECK_ACTION:
    break;
  case M_PERTURB:
    mp_.perturb_byte = value;
    break;
  case M_ARENA_TEST:
    if (value > 0) mp_.arena_test = v;
    break;
  case M_ARENA_MAX:
    if (value > 0) mp_.arena_max = v;
    break;
  default:
    break;
  }
  av->mutex.unlock();
  return res;
}

// ============================================================================ [fork]

template <class P> void MallocCore<P>::lock_all() {
  list_lock_.lock();
  Arena* ar = &main_arena_;
  do {
    ar->mutex.lock();
    ar = ar->next;
  } while (ar != &main_arena_);
}

template <class P> void MallocCore<P>::unlock_all() {
  Arena* ar = &main_arena_;
  do {
    ar->mutex.unlock();
    ar = ar->next;
  } while (ar != &main_arena_);
  list_lock_.unlock();
}

template <class P> void MallocCore<P>::fork_prepare() {
  if (!initialized_) return;
  lock_all();
  registry_lock_.lock();
}

template <class P> void MallocCore<P>::fork_parent() {
  if (!initialized_) return;
  registry_lock_.unlock();
  unlock_all();
}

template <class P> void MallocCore<P>::fork_child() {
  if (!initialized_) return;
  ThreadState& ts = plat_.thread();
  free_list_lock_.reinit();
  if (ts.arena) ts.arena->attached_threads = 1;
  free_list_ = nullptr;
  Arena* ar = &main_arena_;
  do {
    ar->mutex.reinit();
    if (ar != ts.arena) {
      ar->attached_threads = 0;
      ar->next_free = free_list_;
      free_list_ = ar;
    }
    ar = ar->next;
  } while (ar != &main_arena_);
  list_lock_.reinit();
  live_gate_.after_fork_child(ts);
  mmapped_.after_fork_child();
  // Only this thread survives: its tcache is the only live one.
  registry_lock_.reinit();
  registry_ = nullptr;
  if (ts.tcache) {
    ts.reg_next = ts.reg_prev = nullptr;
    registry_ = &ts;
  }
}

// ============================================================================ [trace]
// Starting and stopping a recording, marks and the header's parameters; every event is written
// by the hooks (trace_hooks.h).

template <class P> void MallocCore<P>::trace_mark(const char* label) {
  LiveScope live(this); // changes the heap or records: a call like malloc for the live gate
  hooks_.mark(label);
}

template <class P>
bool MallocCore<P>::trace_start(const char* path, bool exclusive, uint64_t verify_every,
                                uint32_t extra_flags) {
  ensure_init();
  uint64_t params[trace::kNumParams] = {};
  uint64_t heap_base = 0;
  header_params(params, &heap_base);
  uint32_t flags = extra_flags | (verify_every ? static_cast<uint32_t>(trace::kFileSnapshots) : 0u) |
                   (hooks_.sink().compression() ? static_cast<uint32_t>(trace::kFileZstd) : 0u) |
                   (hooks_.writer().stacks_on() ? static_cast<uint32_t>(trace::kFileStacks) : 0u);
  if (!hooks_.open(path, exclusive, params, heap_base, flags, static_cast<uint32_t>(plat_.pagesize()),
                   verify_every))
    return false;
  entry_ = true;
  // A heap that already has chunks (allocations made before tracing began, or a forked child)
  // is described by a baseline snapshot, so the trace replays from a known state.
  if (main_arena_.top != main_arena_.initial_top() || main_arena_.next != &main_arena_) {
    hooks_.regions();
    hooks_.snapshot(true, false);
    hooks_.mmapped_chunks();
    hooks_.sink().flush_all(); // a forked child may exec at once: the baseline must reach the file
  }
  return true;
}

template <class P>
void MallocCore<P>::header_params(uint64_t params[trace::kNumParams], uint64_t* heap_base_out) {
  params[trace::kParamMmapThreshold] = mp_.mmap_threshold;
  params[trace::kParamTrimThreshold] = mp_.trim_threshold;
  params[trace::kParamTopPad] = mp_.top_pad;
  params[trace::kParamMmapMax] = static_cast<uint64_t>(mp_.n_mmaps_max);
  params[trace::kParamArenaMax] = mp_.arena_max;
  params[trace::kParamArenaTest] = mp_.arena_test;
  params[trace::kParamTcacheCount] = mp_.tcache_count;
  params[trace::kParamMaxFast] = global_max_fast_;
  uint64_t heap_base = 0;
  if constexpr (P::kIsSim)
    heap_base = reinterpret_cast<uintptr_t>(plat_.brk_base());
  else
    heap_base = reinterpret_cast<uintptr_t>(mp_.sbrk_base ? mp_.sbrk_base : plat_.morecore(0));
  *heap_base_out = heap_base;
}

template <class P> uint64_t MallocCore<P>::footprint_bytes() {
  uint64_t total = __atomic_load_n(&mp_.mmapped_mem, __ATOMIC_RELAXED);
  Arena* a = &main_arena_;
  do {
    total += __atomic_load_n(&a->system_mem, __ATOMIC_RELAXED);
    a = __atomic_load_n(&a->next, __ATOMIC_ACQUIRE);
  } while (a && a != &main_arena_);
  return total;
}

} // namespace hv::alloc
