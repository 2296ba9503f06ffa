// trace_hooks.h - the trace hooks: the one door from an allocation policy to the trace, and the
// contract every call site keeps.
//
// Owns: the call-site contract below; TraceWriter, the policy-neutral writer (typed events
// through the generated put_<event> encoders, arena indices cached per thread, the pending free,
// snapshot parts, their bin lists); TraceHooks<P>, glibc's hook set that MallocCore<P> calls
// (Arena* and Chunk* turned into arena indices, addresses and sizes); what a trace starts with
// (regions, mmapped chunks), heap snapshots (and each bin's list in its order) and errors.
// Included at the end of malloc_core.h: it sees the whole core.
// Must not: allocate (malloc or the C++ runtime), throw, take a lock on the event path, change
// errno, or change the heap.
//
// ==== The call-site contract ===================================================================
//
// MallocCore calls every hook one way, `hooks_.name(args)`, in the algorithm and in the [api]
// section alike. A hook is an always_inline wrapper around one test of TraceSink::on, a bool in
// MallocCore's own object (already in cache); with tracing off that predictable branch is all it
// costs. Its arguments are values the algorithm holds anyway; what a hook must read or compute
// (a size from a chunk header, a bin's kind, a segment) is read inside the branch. The event
// bodies are out of line (noinline), which keeps the wrappers small enough for the paths they sit
// in (tcache_put must inline into free). The events of nearly every call, `malloc` and
// `free_tcache`, are encoded inline in code that runs only while tracing (malloc_traced,
// free_traced: free_tcache at free_end); a tcache's other `bin_in` in tcache_in_'s body.
//
// While tracing, a hook writes its events into the calling thread's buffer (TraceSink), and:
//   - never calls malloc (buffers are mmapped; a full block goes out with write(2));
//   - never changes the heap: no chunk, bin, arena or tcache is written, only read;
//   - never changes errno (TraceSink::flush and thread_buf keep it; snapshot() restores it);
//   - takes no lock: the order of a chunk's sequence numbers comes from the lock its caller holds
//     (table below). Exceptions, none on the event path: a thread's first event maps its buffer
//     and links it under the sink's spin lock (a leaf: nothing is taken under it); error() flushes
//     every buffer under that spin lock; snapshot() takes every arena lock (lock_all), and is
//     called only where the caller holds none.
// Hooks run in any thread, in a forked child (TraceSink::after_fork_child drops what it
// inherited), and after the thread's exit hook (its buffer is mapped again on the next event).
//
// Which hook, at which point of the algorithm, under which lock. "av's lock" is the arena's
// mutex, or none in a process that is still single-threaded (glibc takes none there either).
//
//   hook                           written when                                      lock held
//   call_begin(ts)                 an API call starts (its events share one stamp)   none
//   malloc realloc calloc memalign the call returns, with its result                 none
//   free_begin(ts, mem), free_end  free starts / ends (the Free event is lazy, below) none
//   realloc_begin(ts, old)         realloc starts: orders its changes after old's    none
//                                  hand-over (no event: TraceSink::order_after)
//   call_end(ts)                   after the API event: the HEAPVIZ_VERIFY snapshot, none
//                                  then what a signal handler's calls left (below)
//   chunk_alloc(av, mem)           int_malloc hands mem out (null, mmapped: nothing) av's
//   chunk_free(av, c, size)        an internal free starts (c is still the caller's) av's or none
//   split(av, c, first, rest)      c is cut: [c, +first) stays, [c+first, +rest) new av's
//   split_top, split_unsorted      ... and the new chunk is top / goes to unsorted   av's
//   merge(av, how, c, size, gone)  two chunks became c; `gone` no longer exists      av's
//   merge_top(av, c, size, gone)   ... and c is the new top                          av's
//   bin_in(av, c, size, kind, i)   c goes into a bin; a fastbin's BEFORE the         av's; fast:
//                                  lock-free push (its number precedes any pop)      none
//   bin_in_at(av, c, i)            the unsorted scan sorted c into bin i             av's
//   bin_out(av, c, kind, i)        c left a bin for consolidation                    av's
//   tcache_in(ts, from, c, i)      c went into this thread's tcache bin i, from a    from's; a
//                                  bin of arena `from` (malloc's stash) or a free    free: none
//   top(av, c, size), fence        c is av's top / an unusable fencepost             av's
//   internal(av, c)                tcache_init carved c, the allocator's own chunk   av's
//   realloc_in_place, _moved       realloc resized c where it is / moved it          av's
//   arena_registered(a)            new_arena linked a into the arena list            list_lock_
//   arena_new(a)                   a exists (its index and address)                  a's
//   heap_new heap_resize heap_free a region of av appeared / changed size / went     av's
//   main_heap_resize(av, end)      the main arena's last segment now ends at end     av's
//   sbrk(old_break, delta)         the program break moved                           main's
//   mmap munmap                    a mapping for the heap appeared / went            av's or none
//   mmap_chunk munmap_chunk        an mmapped chunk appeared / went (the caller's)   none needed
//   trim(av, bytes)                bytes went back to the system                     av's
//   release(av, p, len)            madvise(MADV_DONTNEED) gave [p, +len) back while  av's
//                                  it stays in the heap (mtrim, shrink_heap)
//   stamp(ts)                      a call outside malloc's family starts (malloc_trim) none
//   error(code, addr, msg)         a check failed, before glibc's message and abort  any
//   report(code, kind, msg, ...)   a heapviz check (HEAPVIZ_CHECKS) found a bug          any
//   mark(label)                    hv_mark()                                         none
// The Free event is lazy (TraceThread::free_pending): free_begin notes the pointer; tcache_in
// notes it when the chunk goes straight into the tcache, and free_end then writes one
// free_tcache event; any other event of the free writes the pending one first, and free_end
// writes a plain Free if nothing did.
//
// ==== Another policy ==========================================================================
//
// TraceWriter knows nothing of glibc: events are typed (event<Ev::X>(at, fields...) takes exactly
// the fields of X's row in trace_events.h), arenas are trace indices, chunks are addresses and
// sizes; of ThreadState it uses only `trace`, the thread's buffer. heapviz/policy_trace.h
// (PolicyTrace, allocator/src/policy_trace.cpp) is that narrow public class for a policy on
// simulated memory (a textbook first fit in visualizer/sim, say). It keeps a TraceWriter and:
//   1. opens writer.sink() with its own policy name and parameters (as MallocCore::trace_start);
//   2. per API call: call_begin(ts); for free, the Free event first (the reader takes the chunk
//      in hand), then its changes; for the others, the changes, then the API event (Ev::Malloc,
//      ...) with its result;
//   3. writes each change as writer.event<Ev::X>(TraceAt{ts, arena, key, single}, fields...),
//      ts from plat.thread(): arena 0 (key nullptr) for a single heap; with several arenas,
//      arena_index(ts, key) and an Ev::ArenaNew before an arena's first event. The events that
//      make a heap replay are docs/trace-format.md's ("How a reader rebuilds the heap"): heap_new
//      and top for a region, split, chunk_alloc, chunk_free, merge, and bin_in with a bin kind
//      the model shows (a single free list can be BinKind::Unsorted, index 1);
//   4. optionally writes snapshots: writer.snapshot(at, chunks, n, flags), chunks in address order.
// TraceHooks<P> below is that for glibc: each hook turns glibc's state into such fields.
#pragma once

#include "malloc_core.h"
#include "trace_sink.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <new>
#include <sys/mman.h>

namespace hv::alloc {

template <class P> class HeapWalk; // heap_walk.h; complete wherever snapshot() is instantiated

// Where an event goes: the thread writing it, its arena's trace index, the policy's own name for
// that arena (its address: the thread's buffer caches the index under it; nullptr: no caching),
// and whether events happen one at a time (Platform::trace_sequential: then one counter numbers
// them; otherwise the clocks of TraceSink's "Order").
struct TraceAt {
  ThreadState& ts;
  uint32_t arena;
  const void* key;
  bool single;
};

// One chunk of a snapshot, as every policy reports it.
struct SnapshotChunk {
  uint64_t addr; // the chunk (its header)
  uint64_t size;
  trace::ChunkState state;
  uint8_t bin;
};

// One chunk of a heap's bin lists, as every policy reports them: a list's chunks together, head
// first (docs/trace-format.md, "Bin order").
struct BinListChunk {
  uint64_t addr;  // the chunk (its header)
  uint32_t owner; // the arena's trace index; for a tcache, its thread's id (0: unknown)
  trace::BinKind kind;
  uint8_t index;
};

// ============================================================================ [writer]
// The policy-neutral writer: the sink, typed events, arena indices, snapshot parts.
class TraceWriter {
public:
  static constexpr uint32_t kMaxArenas = 4096; // the format promises arena indices below 4096

  bool on() const { return sink_.on; }
  TraceSink& sink() { return sink_; }
  const TraceSink& sink() const { return sink_; }

  // Starts an event E of arena at.arena in the thread's buffer (flushing a full block, writing the
  // pending Free and an Arena event first if needed): room for event_info(E).max_bytes, plus
  // variable_bytes for an event with a label, blob or snapshot. nullptr if the thread has no
  // buffer (out of memory).
  // key, key2: the pointers that order an API event (TraceSink's OrderBy::Address).
  template <trace::Ev E>
  __attribute__((always_inline)) TraceThread* begin(const TraceAt& at, size_t variable_bytes = 0,
                                                    uint64_t key = 0, uint64_t key2 = 0) {
    static_assert(trace::event_info(E).name != nullptr, "not an event of the table");
    sink_.set_single_threaded(at.single);
    TraceThread* t =
        sink_.begin(at.ts, E, at.arena, trace::event_info(E).max_bytes + variable_bytes, key, key2);
    if (t) t->arena_ptr = at.key; // t->arena is at.arena now: the cache pair stays true
    return t;
  }
  // One whole event: E's fields, in its table order (trace::put<E>, generated).
  template <trace::Ev E, class... F>
  __attribute__((always_inline)) void event(const TraceAt& at, F... fields) {
    static_assert(!trace::event_info(E).variable,
                  "events with a label, blob or snapshot: see mark(), snapshot()");
    uint64_t key = 0, key2 = 0;
    if constexpr (order_by(E) == OrderBy::Address) {
      // The user pointers: malloc's family, the result (last field); free's, the pointer
      // (first); realloc's, both.
      const uint64_t f[] = {uint64_t(fields)...};
      constexpr size_t last = sizeof...(F) - 1;
      if constexpr (E == trace::Ev::Free || E == trace::Ev::FreeTcache) {
        key = f[0];
      } else if constexpr (E == trace::Ev::Realloc) {
        key = f[0];
        key2 = f[last];
      } else {
        key = f[last];
      }
    }
    if (TraceThread* t = begin<E>(at, 0, key, key2)) trace::put<E>(t->enc, fields...);
  }

  // The trace index of arena `key` (never null, never the main arena: that is 0). A thread's
  // buffer remembers the key of its last event's arena beside that index (TraceThread::arena_ptr,
  // ::arena), so a thread that stays in its arena finds the index without the table.
  __attribute__((always_inline)) uint32_t arena_index(ThreadState& ts, const void* key) {
    TraceThread* t = ts.trace;
    if (__builtin_expect(t != nullptr && t->arena_ptr == key, 1)) return t->arena;
    return add_arena(key);
  }
  // The table: finds key or numbers it (1, 2, ...; arenas past kMaxArenas - 1 share the last
  // index). Callers serialise numbering (glibc: new_arena under list_lock_, and the recording's
  // start, before any other thread writes); lookups in other threads see an entry before the count.
  __attribute__((noinline)) uint32_t add_arena(const void* key) {
    uint32_t n = n_arenas_.load(std::memory_order_acquire);
    for (uint32_t i = 1; i < n; ++i)
      if (arenas_[i] == key) return i;
    if (n == 0) n = 1;
    if (n >= kMaxArenas) return kMaxArenas - 1;
    arenas_[n] = key;
    n_arenas_.store(n + 1, std::memory_order_release);
    return n;
  }

  // A timestamp for events outside an API call (a baseline, a mark, a thread's exit): a fresh
  // reading (TraceSink::stamp_now); no stack is taken.
  void stamp(ThreadState& ts) { sink_.stamp_now(ts); }

  // ---- Call stacks
  // The function that takes the calling thread's stack and returns its node, writing the nodes
  // and modules the trace does not have yet (stack_capture.cpp; null: no stacks, every API
  // event says 0). Set once, before any thread records.
  // c: the program's call, when the entry point knew it (the check is cheaper then).
  using StackFn = uint32_t (*)(TraceWriter& w, ThreadState& ts, Caller c);
  void set_stack_fn(StackFn fn) { stack_fn_ = fn; }
  bool stacks_on() const { return stack_fn_ != nullptr; }

  // ---- API calls
  // A call starts: its events share one timestamp (TraceSink::stamp) and its stack.
  __attribute__((always_inline)) void call_begin(ThreadState& ts, Caller c = {}) {
    sink_.stamp(ts);
    if (TraceThread* t = ts.trace) {
      t->in_free = false;
      t->in_call = true;
    }
    if (stack_fn_ != nullptr) take_stack(ts, c);
  }
  // Inlined: a stack seen lately (TraceThread::memo) costs a few compares and no call.
  __attribute__((always_inline)) void take_stack(ThreadState& ts, Caller c) {
    if (TraceThread* t = ts.trace) {
      if (c.ra != 0 && !t->in_stack) { // (in_stack: a handler's call while the memos change)
        const uint32_t epoch = sink_.stack_epoch();
        for (const TraceThread::StackMemo& m : t->memo) {
          if (m.ra != c.ra || m.cfa != c.cfa || m.epoch != epoch) continue;
          uint32_t i = 0;
          while (i < m.nwords && *reinterpret_cast<const uintptr_t*>(m.words[i].addr) == m.words[i].value)
            ++i;
          if (i == m.nwords) {
            t->enc.call_stack = m.stack;
            return;
          }
        }
      }
      t->enc.call_stack = 0; // the stack function's own events (nodes, modules) carry none
      t->enc.call_stack = stack_fn_(*this, ts, c);
      t->in_call = true; // an allocation the walk made (an ordinary call) ended it
    }
  }
  // free(ptr) starts: the Free event waits (see the contract above).
  __attribute__((always_inline)) void free_begin(ThreadState& ts, bool single, uint64_t ptr, Caller c) {
    call_begin(ts, c);
    sink_.set_single_threaded(single);
    if (TraceThread* t = ts.trace) {
      t->pending_ptr = ptr;
      t->free_pending = true;
      t->pending_tcache = 0;
      t->in_free = true;
    }
  }
  // If the thread's pending free is ptr, notes that its chunk went into tcache bin `index`:
  // free_end says both in one free_tcache event.
  __attribute__((always_inline)) bool free_into_tcache(ThreadState& ts, uint64_t ptr, size_t index) {
    TraceThread* t = ts.trace;
    if (!t || !t->free_pending || t->pending_ptr != ptr) return false;
    t->pending_tcache = static_cast<uint8_t>(index + 1);
    return true;
  }
  // free() returns, its chunk in the tcache (free_into_tcache): the free_tcache event.
  __attribute__((always_inline)) void free_tcache_end(const TraceAt& at) {
    TraceThread* t = at.ts.trace;
    uint8_t index = static_cast<uint8_t>(t->pending_tcache - 1);
    t->free_pending = false;
    t->pending_tcache = 0;
    event<trace::Ev::FreeTcache>(at, t->pending_ptr, index);
  }
  // A call that changes ptr's chunk before it writes its API event (realloc) is ordered after
  // what handed ptr to this thread (TraceSink::order_after).
  void order_after(ThreadState& ts, bool single, uint64_t ptr) {
    sink_.set_single_threaded(single);
    sink_.order_after(ts, ptr);
  }
  // free() returns: its Free event, if no other event wrote it.
  void free_end(ThreadState& ts) { sink_.finish_free(ts); }

  // ---- Variable-length events
  void mark(const TraceAt& at, const char* label) {
    size_t n = strlen(label);
    if (n > 255) n = 255;
    if (TraceThread* t = begin<trace::Ev::Mark>(at, n)) trace::put_mark(t->enc, trace::ByteSpan{label, n});
  }
  // SNAPSHOT event(s) for n chunks in address order: a part per block, every part but the last
  // flagged kSnapshotMore. At least one event, even for no chunks.
  void snapshot(const TraceAt& at, const SnapshotChunk* c, size_t n, uint8_t flags) {
    constexpr size_t kPerPart =
        (TraceThread::kBlockBytes - 64 - trace::event_info(trace::Ev::Snapshot).max_bytes) /
        trace::kMaxSnapshotChunkBytes;
    size_t done = 0;
    do {
      size_t part = std::min(n - done, kPerPart);
      uint8_t f = static_cast<uint8_t>(flags | (done + part < n ? trace::kSnapshotMore : 0));
      if (TraceThread* t = begin<trace::Ev::Snapshot>(at, part * trace::kMaxSnapshotChunkBytes)) {
        trace::put_snapshot(t->enc, trace::SnapshotHead{part, f});
        for (size_t i = done; i < done + part; ++i)
          trace::put_snapshot_chunk(t->enc, c[i].addr, c[i].size, c[i].state, c[i].bin);
        t->enc.mark_whole();
      }
      done += part;
    } while (done < n);
  }

  // BIN_LISTS event(s) for n chunks in list order, right after a snapshot: each part's record is
  // built in buf (kBinListsPart bytes), every part but the last flagged kSnapshotMore; a list too
  // long for a part goes on at the start of the next, under the same head. At least one event,
  // even for no chunks (every list is empty).
  static constexpr size_t kBinListsPart = 16384;
  void bin_lists(const TraceAt& at, const BinListChunk* c, size_t n, uint8_t flags, uint8_t* buf) {
    static_assert(kBinListsPart + 64 + 10 + trace::event_info(trace::Ev::BinLists).max_bytes <=
                      TraceThread::kBlockBytes,
                  "a part of the bin lists fits a block");
    size_t i = 0;
    do {
      uint8_t* p = buf + 1;
      uint64_t prev = 0;
      while (i < n) {
        size_t room = static_cast<size_t>(buf + kBinListsPart - p), len = 0, bytes = 0;
        if (room < trace::kMaxBinListHeadBytes + trace::kMaxBinListChunkBytes) break;
        room -= trace::kMaxBinListHeadBytes;
        for (uint64_t q = prev; i + len < n && c[i + len].kind == c[i].kind &&
                                c[i + len].index == c[i].index && c[i + len].owner == c[i].owner;
             q = c[i + len++].addr) {
          uint64_t z = trace::zigzag(static_cast<int64_t>(c[i + len].addr - q));
          size_t b = (static_cast<size_t>(64 - __builtin_clzll(z | 1)) + 6) / 7; // its varint's bytes
          if (bytes + b > room) break;
          bytes += b;
        }
        p = trace::put_bin_list_head(p, c[i].kind, c[i].index, c[i].owner, len);
        for (size_t k = i; k < i + len; ++k)
          p = trace::put_bin_list_chunk(p, prev, c[k].addr);
        i += len;
      }
      buf[0] = static_cast<uint8_t>(flags | (i < n ? trace::kSnapshotMore : 0));
      size_t len = static_cast<size_t>(p - buf);
      if (TraceThread* t = begin<trace::Ev::BinLists>(at, len + 10))
        trace::put_bin_lists(t->enc, trace::ByteSpan{buf, len});
    } while (i < n);
  }

private:
  TraceSink sink_{};
  StackFn stack_fn_ = nullptr;
  const void* arenas_[kMaxArenas] = {};
  std::atomic<uint32_t> n_arenas_{0};
};

// ============================================================================ [glibc hooks]
// glibc's hook set (the table above). Each hook: one branch on `on`, then TraceWriter events.
#define HV_HOOK __attribute__((always_inline)) inline

template <class P> class TraceHooks {
public:
  using Ev = trace::Ev;
  static constexpr const char* kPolicy = "glibc-2.36";

  constexpr explicit TraceHooks(MallocCore<P>* core) : core_(core) {}
  bool on() const { return w_.on(); }
  TraceSink& sink() { return w_.sink(); }
  TraceWriter& writer() { return w_; }

  // ---- Recording: start, stop, threads (not hooks: no `on` test)
  bool open(const char* path, bool exclusive, const uint64_t params[trace::kNumParams], uint64_t heap_base,
            uint32_t flags, uint32_t page_size, uint64_t verify_every) {
    if (!w_.sink().open(path, exclusive, kPolicy, params, heap_base, flags, page_size)) return false;
    verify_every_ = verify_every;
    next_snapshot_ = verify_every;
    watch_ = verify_every_ | break_at_;
    return true;
  }
  // HEAPVIZ_BREAK_AT: stop the process (P::breakpoint) after the call during which the trace
  // reaches event n (0: never). Set before recording starts.
  void set_break_at(uint64_t n) {
    break_at_ = n;
    watch_ = verify_every_ | break_at_;
  }
  void close() { w_.sink().close(); }
  void thread_exit(ThreadState& ts) { w_.sink().release(ts); } // flush and unmap its buffer
  // What the trace starts with when the heap is not empty (a forked child, a late start, a live
  // attach): every region (regions()), the chunks (snapshot(true)), the mmapped chunks.
  void regions();
  void mmapped_chunks();
  // The heap as SNAPSHOT event(s). baseline: the trace's starting state; exact: every other
  // thread is stopped (the live gate), so tcaches and fastbins are listed even when threaded.
  // Takes every arena lock: call it holding none.
  void snapshot(bool baseline, bool exact);

  // ---- API calls
  HV_HOOK void call_begin(ThreadState& ts, Caller c = {}) {
    if (__builtin_expect(on(), 0)) w_.call_begin(ts, c);
  }
  HV_HOOK void malloc(ThreadState& ts, size_t bytes, const void* result) {
    if (__builtin_expect(on(), 0)) w_.event<Ev::Malloc>(at(ts, ts.arena), uint64_t(bytes), addr(result));
  }
  HV_HOOK void free_begin(ThreadState& ts, const void* mem, Caller c) {
    if (__builtin_expect(on(), 0)) w_.free_begin(ts, plat().trace_sequential(), addr(mem), c);
  }
  HV_HOOK void free_end(ThreadState& ts) {
    if (__builtin_expect(on(), 0)) {
      TraceThread* t = ts.trace;
      if (t && t->pending_tcache && t->free_pending)
        w_.free_tcache_end(at(ts, ts.arena));
      else
        w_.free_end(ts);
    }
  }
  // realloc starts (after call_begin): its changes to old's chunk come before its API event.
  HV_HOOK void realloc_begin(ThreadState& ts, const void* old) {
    if (__builtin_expect(on(), 0) && old) w_.order_after(ts, plat().trace_sequential(), addr(old));
  }
  HV_HOOK void realloc(const void* old, size_t bytes, const void* result) {
    if (__builtin_expect(on(), 0)) api<Ev::Realloc>(addr(old), uint64_t(bytes), addr(result));
  }
  HV_HOOK void calloc(size_t n, size_t size, const void* result) {
    if (__builtin_expect(on(), 0)) api<Ev::Calloc>(uint64_t(n), uint64_t(size), addr(result));
  }
  HV_HOOK void memalign(size_t alignment, size_t bytes, const void* result) {
    if (__builtin_expect(on(), 0)) api<Ev::Memalign>(uint64_t(alignment), uint64_t(bytes), addr(result));
  }
  // The HEAPVIZ_VERIFY snapshot still belongs to the call (it holds every arena lock: a signal
  // handler's malloc meanwhile must be nested()). Not tied to on(): a call that began while
  // tracing ends even if tracing stopped. (A call made by another's stack walk ends that one
  // too; take_stack starts it again.)
  HV_HOOK void call_end(ThreadState& ts) {
    if (__builtin_expect(watch_ != 0, 0) && on()) after_call();
    if (TraceThread* t = ts.trace) {
      t->in_call = false;
      if (__builtin_expect(t->nested_n != 0, 0)) nested_end_(ts);
    }
  }

  // ---- Calls from a signal handler
  // A handler that mallocs or frees while this thread is inside a traced call would change the
  // heap under the call (glibc's own malloc does so too: undefined behaviour that often goes
  // well) and write its events into the middle of the call's. While tracing, such a call is
  // nested(): MallocCore serves it without touching the heap (an allocation in a mapping of its
  // own, a free put off) and notes it (nested_note); when the interrupted call ends, the notes'
  // events follow its own and the put-off frees are done (nested_end_). A stack walk's own
  // allocations (in_stack) go the ordinary way: nothing has changed yet in that call.
  HV_HOOK bool nested(ThreadState& ts) const {
    const TraceThread* t = ts.trace;
    return t != nullptr && __builtin_expect(t->in_call, 0) && !t->in_stack;
  }
  // Room for n more notes.
  bool nested_room(ThreadState& ts, uint32_t n) const {
    return ts.trace->nested_n + n <= TraceThread::kNestedCalls;
  }
  void nested_note(ThreadState& ts, Ev what, uint64_t a, uint64_t b, void* ptr) {
    TraceThread* t = ts.trace;
    t->nested[t->nested_n] = TraceThread::NestedCall{what, a, b, ptr};
    __atomic_signal_fence(__ATOMIC_SEQ_CST); // the note is whole before it counts
    ++t->nested_n;
  }
  HV_HOOK void mark(const char* label) {
    if (__builtin_expect(on(), 0)) mark_(label);
  }

  // ---- Chunks
  HV_HOOK void chunk_alloc(Arena* av, void* mem) {
    if (__builtin_expect(on(), 0) && mem && !mem2chunk(mem)->is_mmapped())
      chunk<Ev::ChunkAlloc>(av, mem2chunk(mem), mem2chunk(mem)->size());
  }
  HV_HOOK void chunk_free(Arena* av, const Chunk* c, size_t size) {
    if (__builtin_expect(on(), 0)) chunk<Ev::ChunkFree>(av, c, size);
  }
  HV_HOOK void top(Arena* av, const Chunk* c, size_t size) {
    if (__builtin_expect(on(), 0)) chunk<Ev::Top>(av, c, size);
  }
  HV_HOOK void fence(Arena* av, const Chunk* c, size_t size) {
    if (__builtin_expect(on(), 0)) chunk<Ev::Fence>(av, c, size);
  }
  // c is the allocator's own chunk (the tcache struct), just carved: an extension-range event.
  HV_HOOK void internal(Arena* av, const Chunk* c) {
    if (__builtin_expect(on(), 0)) write<Ev::Internal>(av, addr(c), uint64_t(c->size()));
  }
  HV_HOOK void split(Arena* av, const Chunk* c, size_t first, size_t rest) {
    if (__builtin_expect(on(), 0)) write<Ev::Split>(av, addr(c), uint64_t(first), uint64_t(rest));
  }
  HV_HOOK void split_top(Arena* av, const Chunk* c, size_t first, size_t rest) {
    if (__builtin_expect(on(), 0)) {
      write<Ev::Split>(av, addr(c), uint64_t(first), uint64_t(rest));
      write<Ev::Top>(av, addr(c) + first, uint64_t(rest));
    }
  }
  HV_HOOK void split_unsorted(Arena* av, const Chunk* c, size_t first, size_t rest) {
    if (__builtin_expect(on(), 0)) {
      write<Ev::Split>(av, addr(c), uint64_t(first), uint64_t(rest));
      write<Ev::BinIn>(av, addr(c) + first, uint64_t(rest), trace::BinKind::Unsorted, uint8_t(1));
    }
  }
  HV_HOOK void merge(Arena* av, trace::MergeHow how, const Chunk* result, size_t size,
                     const Chunk* absorbed) {
    if (__builtin_expect(on(), 0)) write<Ev::Merge>(av, how, addr(result), uint64_t(size), addr(absorbed));
  }
  HV_HOOK void merge_top(Arena* av, const Chunk* result, size_t size, const Chunk* absorbed) {
    if (__builtin_expect(on(), 0)) {
      write<Ev::Merge>(av, trace::MergeHow::IntoTop, addr(result), uint64_t(size), addr(absorbed));
      chunk<Ev::Top>(av, result, size);
    }
  }
  HV_HOOK void bin_in(Arena* av, const Chunk* c, size_t size, trace::BinKind kind, unsigned idx) {
    if (__builtin_expect(on(), 0)) write<Ev::BinIn>(av, addr(c), uint64_t(size), kind, uint8_t(idx));
  }
  HV_HOOK void bin_in_at(Arena* av, const Chunk* c, unsigned idx) {
    if (__builtin_expect(on(), 0))
      write<Ev::BinIn>(av, addr(c), uint64_t(c->size()), bin_kind_of(idx), uint8_t(idx));
  }
  HV_HOOK void bin_out(Arena* av, const Chunk* c, trace::BinKind kind, unsigned idx) {
    if (__builtin_expect(on(), 0)) write<Ev::BinOut>(av, addr(c), kind, uint8_t(idx));
  }
  // free()'s chunk (from: null) is only noted here; a chunk malloc stashes is a bin_in.
  HV_HOOK void tcache_in(ThreadState& ts, Arena* from, const Chunk* c, size_t tc_idx) {
    if (__builtin_expect(on(), 0) && !(from == nullptr && w_.free_into_tcache(ts, addr(c) + kHdr, tc_idx)))
      tcache_in_(ts, from, c, tc_idx);
  }
  HV_HOOK void realloc_in_place(Arena* av, const Chunk* c, size_t old_size, size_t new_size) {
    if (__builtin_expect(on(), 0))
      write<Ev::ReallocInPlace>(av, addr(c), uint64_t(old_size), uint64_t(new_size));
  }
  HV_HOOK void realloc_moved(Arena* av, const Chunk* from, const Chunk* to) {
    if (__builtin_expect(on(), 0)) write<Ev::ReallocMoved>(av, addr(from), addr(to));
  }

  // ---- Arenas, regions, the system
  HV_HOOK void arena_registered(const Arena* a) {
    if (__builtin_expect(on(), 0)) w_.add_arena(a);
  }
  HV_HOOK void arena_new(Arena* a) {
    if (__builtin_expect(on(), 0)) arena_new_(a);
  }
  HV_HOOK void heap_new(Arena* av, const void* start, size_t size) {
    if (__builtin_expect(on(), 0)) region<Ev::HeapNew>(av, start, size);
  }
  HV_HOOK void heap_resize(Arena* av, const void* start, size_t size) {
    if (__builtin_expect(on(), 0)) region<Ev::HeapResize>(av, start, size);
  }
  HV_HOOK void main_heap_resize(Arena* av, const char* end) {
    if (__builtin_expect(on(), 0)) main_heap_resize_(av, end);
  }
  HV_HOOK void heap_free(Arena* av, const void* start) {
    if (__builtin_expect(on(), 0)) write<Ev::HeapFree>(av, addr(start));
  }
  HV_HOOK void sbrk(const void* old_break, long delta) {
    if (__builtin_expect(on(), 0) && old_break != nullptr && delta != 0)
      write<Ev::Sbrk>(main(), addr(old_break), int64_t(delta));
  }
  HV_HOOK void mmap(Arena* av, const void* start, size_t length) {
    if (__builtin_expect(on(), 0)) region<Ev::Mmap>(av, start, length);
  }
  HV_HOOK void munmap(Arena* av, const void* start, size_t length) {
    if (__builtin_expect(on(), 0)) region<Ev::Munmap>(av, start, length);
  }
  HV_HOOK void mmap_chunk(Arena* av, const Chunk* c, size_t size) {
    if (__builtin_expect(on(), 0)) region<Ev::MmapChunk>(av, c, size);
  }
  HV_HOOK void munmap_chunk(Arena* av, const Chunk* c) {
    if (__builtin_expect(on(), 0)) write<Ev::MunmapChunk>(av, addr(c));
  }
  HV_HOOK void trim(Arena* av, size_t bytes) {
    if (__builtin_expect(on(), 0)) write<Ev::Trim>(av, uint64_t(bytes));
  }
  // The pages [p, p + len) were handed back with madvise(MADV_DONTNEED) (the call succeeded).
  HV_HOOK void release(Arena* av, const void* p, size_t len) {
    if (__builtin_expect(on(), 0)) write<Ev::Release>(av, addr(p), uint64_t(len));
  }
  // A call that is none of the API events starts (malloc_trim): its events get the time now.
  HV_HOOK void stamp(ThreadState& ts) {
    if (__builtin_expect(on(), 0)) w_.stamp(ts);
  }

  // ---- Errors: the check that failed, named by the call site (corrupt()); then every buffer
  // is flushed, since glibc's abort follows.
  HV_HOOK void error(trace::ErrorCode code, const void* at_addr, const char* msg) {
    if (__builtin_expect(on(), 0))
      error_(code, trace::error_kind_of(code), trace::HeapErrorSource::Glibc, msg, at_addr, nullptr, nullptr,
             0);
  }
  // A bug heapviz's own checks found (HEAPVIZ_CHECKS): the error event, then its report with the
  // bytes that differ (runs), then every buffer is flushed. The caller then aborts or goes on.
  // defer_call (HEAPVIZ_CHECKS_CONTINUE): the program goes on, and a free may yet be skipped
  // (free_skipped), so its pending Free is not written before the report: the report says the
  // call's event comes after (if the free is done at all).
  // source: Glibc when the message is glibc's (a bug glibc's own check sees at this call).
  HV_HOOK void report(trace::ErrorCode code, trace::HeapErrorKind kind, const char* msg, const void* ptr,
                      const void* chunk, const trace::ErrorRun* runs, size_t nruns, bool defer_call = false,
                      trace::HeapErrorSource source = trace::HeapErrorSource::Heapviz) {
    if (__builtin_expect(on(), 0)) {
      TraceThread* t = plat().thread().trace;
      const bool hold = defer_call && t && t->free_pending;
      if (hold) t->free_pending = t->in_free = false;
      error_(code, kind, source, msg, ptr, chunk, runs, nruns);
      if (hold) t->free_pending = t->in_free = true;
    }
  }
  // HEAPVIZ_CHECKS_CONTINUE: the checks skipped this free (a double free, an invalid pointer, an
  // overwritten header): no Free event at all, so that a reader's heap stays as the real one.
  HV_HOOK void free_skipped(ThreadState& ts) {
    if (__builtin_expect(on(), 0))
      if (TraceThread* t = ts.trace) t->free_pending = false, t->pending_tcache = 0, t->in_free = false;
  }

private:
  static uint64_t addr(const void* p) { return reinterpret_cast<uintptr_t>(p); }
  P& plat() { return core_->platform(); }
  Arena* main() { return core_->main_arena(); }
  static trace::BinKind bin_kind_of(unsigned idx) {
    return idx == 1            ? trace::BinKind::Unsorted
           : idx < kNSmallBins ? trace::BinKind::Small
                               : trace::BinKind::Large;
  }
  // The glibc side of TraceAt: the main arena (and none) is 0, others through the writer's cache.
  HV_HOOK TraceAt at(ThreadState& ts, const Arena* av) {
    uint32_t index = (av == nullptr || av == main()) ? 0 : w_.arena_index(ts, av);
    return TraceAt{ts, index, av, plat().trace_sequential()};
  }
  // The event bodies, out of line; one instance per event and field types.
  template <Ev E, class... F> __attribute__((noinline)) void write(const Arena* av, F... fields) {
    w_.event<E>(at(plat().thread(), av), fields...);
  }
  template <Ev E> HV_HOOK void chunk(Arena* av, const Chunk* c, size_t size) {
    static_assert(E == Ev::ChunkAlloc || E == Ev::ChunkFree || E == Ev::Top || E == Ev::Fence);
    write<E>(av, addr(c), uint64_t(size));
  }
  template <Ev E> HV_HOOK void region(Arena* av, const void* start, size_t size) {
    static_assert(E == Ev::HeapNew || E == Ev::HeapResize || E == Ev::Mmap || E == Ev::Munmap ||
                  E == Ev::MmapChunk);
    write<E>(av, addr(start), uint64_t(size));
  }
  template <Ev E, class... F> __attribute__((noinline)) void api(F... fields) {
    ThreadState& ts = plat().thread();
    w_.event<E>(at(ts, ts.arena), fields...);
  }
  __attribute__((noinline)) void tcache_in_(ThreadState& ts, Arena* from, const Chunk* c, size_t tc_idx);
  __attribute__((noinline)) void arena_new_(Arena* a);
  __attribute__((noinline)) void main_heap_resize_(Arena* av, const char* end);
  __attribute__((noinline)) void mark_(const char* label);
  __attribute__((noinline)) void after_call();
  __attribute__((noinline)) void nested_end_(ThreadState& ts);
  void bin_lists_(ThreadState& ts, HeapWalk<P>& w, uint8_t flags);
  uint32_t tid_of(ThreadState& ts);
  __attribute__((noinline, cold)) void error_(trace::ErrorCode code, trace::HeapErrorKind kind,
                                              trace::HeapErrorSource source, const char* msg,
                                              const void* at_addr, const void* chunk,
                                              const trace::ErrorRun* runs, size_t nruns);

  MallocCore<P>* core_; // beside the sink's `on`: the inline hooks read both
  TraceWriter w_{};
  uint64_t verify_every_ = 0; // HEAPVIZ_VERIFY: a snapshot every that many events
  uint64_t next_snapshot_ = 0;
  uint64_t break_at_ = 0; // HEAPVIZ_BREAK_AT: the event to stop at (0: none, or done)
  uint64_t watch_ = 0;    // nonzero when call_end has work: verify_every_ | break_at_
  bool in_snapshot_ = false;
};

// A chunk entering the tcache other than free()'s own (tcache_in notes that one): out of line,
// so that tcache_put stays small enough to inline. A chunk malloc stashes from a bin of arena
// `from` leaves that bin: its event ticks that arena's clock, which need not be the thread's (a
// realloc of another arena's chunk mallocs there; a 4-thread VERIFY recording failed `check`
// so, about once in 90).
template <class P>
void TraceHooks<P>::tcache_in_(ThreadState& ts, Arena* from, const Chunk* c, size_t tc_idx) {
  TraceAt where = at(ts, from ? from : ts.arena);
  w_.event<Ev::BinIn>(where, addr(c), uint64_t(c->size()), trace::BinKind::Tcache, uint8_t(tc_idx));
}

// The interrupted call has ended: its nested calls' events, in the order they were made, then
// the frees they put off. The notes are taken out first: a put-off free is an ordinary call,
// and a handler that interrupts it notes (and ends) its own.
template <class P> void TraceHooks<P>::nested_end_(ThreadState& ts) {
  TraceThread* t = ts.trace;
  TraceThread::NestedCall calls[TraceThread::kNestedCalls];
  uint32_t n = t->nested_n;
  memcpy(calls, t->nested, n * sizeof calls[0]);
  t->nested_n = 0;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  if (on()) {
    const uint32_t stack = t->enc.call_stack;
    t->enc.call_stack = 0; // the handler's stack is not the interrupted call's
    for (uint32_t i = 0; i < n; ++i) {
      const TraceThread::NestedCall& c = calls[i];
      if (c.what == Ev::Free) continue;
      const Chunk* p = mem2chunk(c.ptr);
      region<Ev::MmapChunk>(main(), p, p->size());
      if (c.what == Ev::Calloc)
        w_.event<Ev::Calloc>(at(ts, ts.arena), c.a, c.b, addr(c.ptr));
      else
        w_.event<Ev::Malloc>(at(ts, ts.arena), c.a, addr(c.ptr));
    }
    t->enc.call_stack = stack;
  }
  for (uint32_t i = 0; i < n; ++i)
    if (calls[i].what != Ev::Free)
      core_->nested_made(calls[i].ptr, calls[i].what == Ev::Calloc ? calls[i].a * calls[i].b : calls[i].a);
  for (uint32_t i = 0; i < n; ++i)
    if (calls[i].what == Ev::Free) core_->free(calls[i].ptr);
}

template <class P> void TraceHooks<P>::arena_new_(Arena* a) {
  uint32_t index = w_.add_arena(a);
  w_.event<Ev::ArenaNew>(at(plat().thread(), a), uint64_t(index), addr(a));
}

// The main arena's regions are its sbrk segments (MallocCore::add_main_segment); the last one
// holds top.
template <class P> void TraceHooks<P>::main_heap_resize_(Arena* av, const char* end) {
  if (core_->n_main_segs_ == 0) return;
  const char* seg = core_->main_segs_[core_->n_main_segs_ - 1].start;
  region<Ev::HeapResize>(av, seg, static_cast<size_t>(end - seg));
}

template <class P> void TraceHooks<P>::mark_(const char* label) {
  ThreadState& ts = plat().thread();
  w_.stamp(ts);
  w_.mark(at(ts, ts.arena), label);
}

// The report carries the call's stack: the one call_begin took for this call (an error in
// malloc or realloc comes before the call's own event, which would carry it).
template <class P>
void TraceHooks<P>::error_(trace::ErrorCode code, trace::HeapErrorKind kind, trace::HeapErrorSource source,
                           const char* msg, const void* at_addr, const void* chunk,
                           const trace::ErrorRun* runs, size_t nruns) {
  ThreadState& ts = plat().thread();
  TraceAt where = at(ts, ts.arena);
  w_.event<Ev::Error>(where, code, addr(at_addr));
  uint8_t rec[trace::kMaxErrorReportBytes]; // (1.5 KB of stack, on a cold path)
  uint32_t stack = ts.trace ? ts.trace->enc.call_stack : 0;
  size_t n = trace::build_error_report(rec, kind, source,
                                       ts.trace && ts.trace->in_free ? trace::kErrorCallWritten : 0, stack,
                                       addr(at_addr), addr(chunk), msg, runs, nruns);
  if (TraceThread* t = w_.begin<Ev::ErrorReport>(where, n + 10))
    trace::put_error_report(t->enc, trace::ByteSpan{rec, n});
  w_.sink().flush_all();
}

template <class P> void TraceHooks<P>::after_call() {
  // Counted in events written (the next one's number while single-threaded); once threaded, in
  // events of any thread, which the trace's merged order may number a little differently.
  const uint64_t next = w_.sink().events_written() + 1;
  if (break_at_ && next > break_at_) { // (once: the first call there)
    uint64_t target = break_at_;
    break_at_ = 0;
    watch_ = verify_every_;
    w_.sink().flush_all();
    char why[96] = "at event ";
    char* p = why + 9;
    auto put = [&p](uint64_t v) {
      char digits[24];
      int n = 0;
      for (; v || n == 0; v /= 10)
        digits[n++] = char('0' + v % 10);
      while (n)
        *p++ = digits[--n];
    };
    put(next - 1);
    memcpy(p, ", after the call that reached event ", 36);
    p += 36;
    put(target);
    memcpy(p, " (HEAPVIZ_BREAK_AT)", 20);
    plat().breakpoint(why);
  }
  if (!verify_every_ || in_snapshot_ || next < next_snapshot_) return;
  in_snapshot_ = true;
  snapshot(false, false);
  next_snapshot_ = w_.sink().events_written() + 1 + verify_every_;
  in_snapshot_ = false;
}

// ============================================================================ [baseline]

template <class P> void TraceHooks<P>::regions() {
  ThreadState& ts = plat().thread();
  w_.stamp(ts); // the first events of a baseline: they need a time of their own (no stack)
  Segment segs[kMaxMainSegments];
  int n = core_->segments(main(), segs, kMaxMainSegments);
  for (int i = 0; i < n; ++i)
    region<Ev::HeapNew>(main(), segs[i].start, static_cast<size_t>(segs[i].end - segs[i].start));
  // Where the program break is (sbrk(0): no allocation), as an sbrk of 0 bytes: a reader that
  // starts here knows it without having seen the heap grow (the Arenas window, `stats`).
  if (n > 0)
    if (void* brk = plat().morecore(0)) write<Ev::Sbrk>(main(), addr(brk), int64_t(0));
  for (Arena* a = main()->next; a != main(); a = a->next) {
    arena_new_(a);
    HeapInfo* heaps[256];
    int m = 0;
    for (HeapInfo* h = heap_for_ptr(a->top); h && m < 256; h = h->prev)
      heaps[m++] = h;
    while (m > 0) { // oldest first
      HeapInfo* h = heaps[--m];
      region<Ev::HeapNew>(a, h, h->size);
    }
  }
}

template <class P> void TraceHooks<P>::mmapped_chunks() {
  core_->mmapped_.for_each([&](uintptr_t a) {
    const Chunk* p = reinterpret_cast<const Chunk*>(a);
    region<Ev::MmapChunk>(main(), p, p->size());
  });
}

template <class P> void TraceHooks<P>::snapshot(bool baseline, bool exact) {
  const int saved_errno = errno; // the scratch mappings may fail
  const bool coarse = !exact && !plat().single_threaded();
  void* wmem =
      ::mmap(nullptr, sizeof(HeapWalk<P>), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (wmem == MAP_FAILED) {
    errno = saved_errno;
    return;
  }
  auto* w = new (wmem) HeapWalk<P>(*core_);
  w->set_coarse(coarse);
  // Every arena stays locked for the whole snapshot, so no chunk event can slip in between the
  // walk and the events that describe it.
  core_->lock_all();
  w->build_locked();
  size_t n = 0;
  w->for_each_chunk([&](const auto&) {
    ++n;
    return true;
  });
  size_t bytes = (n + 1) * sizeof(SnapshotChunk);
  void* emem = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (emem != MAP_FAILED) {
    auto* e = static_cast<SnapshotChunk*>(emem);
    size_t k = 0;
    w->for_each_chunk([&](const auto& v) {
      if (k >= n) return false;
      // heap_walk.h asserts that its states are numbered as the format's ChunkState.
      e[k++] = {addr(v.chunk), uint64_t(v.size), static_cast<trace::ChunkState>(v.state),
                static_cast<uint8_t>(v.bin < 0 ? 0 : v.bin)};
      return true;
    });
    // Address order (the format promises it; arenas are listed newest first).
    std::sort(e, e + k, [](const SnapshotChunk& a, const SnapshotChunk& b) { return a.addr < b.addr; });
    ThreadState& ts = plat().thread();
    w_.stamp(ts);
    uint8_t flags = static_cast<uint8_t>((coarse ? trace::kSnapshotCoarse : 0) |
                                         (baseline ? trace::kSnapshotBaseline : 0));
    w_.snapshot(at(ts, main()), e, k, flags);
    ::munmap(emem, bytes);
    bin_lists_(ts, *w, flags);
    // A trace that starts with a heap (a late start, a forked child, a live attach) says which
    // chunks are the allocator's own, as one that saw them carved does (internal()).
    if (baseline)
      w->for_each_chunk([&](const auto& v) {
        if (v.internal) w_.event<Ev::Internal>(at(ts, main()), addr(v.chunk), uint64_t(v.size));
        return true;
      });
  }
  core_->unlock_all();
  w->~HeapWalk<P>();
  ::munmap(wmem, sizeof(HeapWalk<P>));
  errno = saved_errno;
}

// The walk's bin lists, head first, as BIN_LISTS events right after the snapshot's, under the
// same locks: between the two only other threads' tcache and fastbin operations may come, and a
// coarse snapshot lists neither.
template <class P> void TraceHooks<P>::bin_lists_(ThreadState& ts, HeapWalk<P>& w, uint8_t flags) {
  if (!w.report().ok) return; // the lists may not end
  size_t n = w.report().binned;
  size_t bytes = (n + 1) * sizeof(BinListChunk) + TraceWriter::kBinListsPart;
  void* mem = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return;
  auto* c = static_cast<BinListChunk*>(mem);
  size_t k = 0;
  w.for_each_bin_chunk(
      [&](trace::BinKind kind, unsigned index, int, Arena* av, ThreadState* owner, Chunk* ch) {
        if (k >= n) return false;
        uint32_t who = owner ? tid_of(*owner) : av == main() ? 0 : w_.add_arena(av);
        c[k++] = BinListChunk{addr(ch), who, kind, static_cast<uint8_t>(index)};
        return true;
      });
  w_.bin_lists(at(ts, main()), c, k, flags, reinterpret_cast<uint8_t*>(c + n + 1));
  ::munmap(mem, bytes);
}

// A tcache's owner: its thread's id, as its trace blocks say it; for a thread that has written no
// event yet, the id its live-gate slot holds (a live attach stops threads that never recorded).
template <class P> uint32_t TraceHooks<P>::tid_of(ThreadState& ts) {
  if (ts.trace) return ts.trace->tid;
  return static_cast<uint32_t>(core_->live_gate().tid_of(ts));
}

#undef HV_HOOK

} // namespace hv::alloc
