// heap_walk.h - one walk over every arena that names each chunk's state and bin, and the heap
// checker built on it (the numbered invariants live beside the chunk struct in chunk.h).
//
// Owns: chunk classification (in use / tcache / fastbin / unsorted / smallbin / largebin / top /
// fence; the allocator's own chunks: the threads' tcache structs), the invariant checks I1..I11,
// and each bin's list in its order (for_each_bin_chunk: snapshots' bin_lists, `heapviz sim`). Used by
// `heapviz sim` to print a heap, by tests after every operation, and (later) by trace snapshots.
// Allocation-free: scratch tables come from mmap, so it may run inside the real allocator. The caller keeps
// the heap quiescent (other threads paused); the walk takes every arena lock itself.
#pragma once

#include "heapviz/trace_format.h"
#include "malloc_core.h"

#include <cstdio>
#include <cstring>
#include <sys/mman.h>

namespace hv::alloc {

// The states are the trace format's (heapviz/chunk_states.h, with their names): snapshots write
// a ChunkView's state as it is.
using trace::ChunkState;

struct ChunkView {
  Chunk* chunk;
  size_t size;  // without flag bits
  size_t flags; // A|M|P bits
  ChunkState state;
  int bin;       // bin index for tcache/fast/small/large; -1 otherwise
  int arena;     // 0 = main arena, then in arena-list order
  int segment;   // index into HeapWalk::segments()
  bool internal; // the allocator's own: a live thread's tcache_perthread_struct
};

struct CheckReport {
  bool ok = true;
  int invariant = 0; // the I-number of the first violation
  uintptr_t addr = 0;
  char message[320] = {};
  size_t chunks = 0; // chunks walked (excluding fenceposts)
  size_t binned = 0; // chunks found in any bin
  size_t arenas = 0;
};

template <class P> class HeapWalk {
public:
  static constexpr int kMaxSegs = 512;
  static constexpr uint16_t kInternalTag = 0x8000;
  struct Seg {
    Segment range;
    int arena;
    // Per 16-byte granule: 0 = not a chunk start, else 1 + (kind << 8 | bin); kInternalTag is
    // added on a tcache struct once the checks are done.
    uint16_t* tag;
    size_t granules;
  };

  explicit HeapWalk(MallocCore<P>& m) : m_(m) {}
  ~HeapWalk() { release(); }
  HeapWalk(const HeapWalk&) = delete;
  HeapWalk& operator=(const HeapWalk&) = delete;

  // Builds the classification and checks every invariant. Takes and releases all arena locks.
  const CheckReport& run() {
    m_.ensure_init();
    m_.lock_all();
    build();
    m_.unlock_all();
    return rep_;
  }
  const CheckReport& report() const { return rep_; }
  // Coarse: do not read tcaches or fastbins (other threads may change them without a lock);
  // their chunks then count as in use.
  void set_coarse(bool c) { coarse_ = c; }
  // run() for a caller that already holds every arena lock.
  const CheckReport& build_locked() {
    build();
    return rep_;
  }
  int segment_count() const { return nsegs_; }
  const Seg& segment(int i) const {
    HV_ASSERT(i >= 0 && i < nsegs_);
    return segs_[i];
  }

  // Visits chunks in address order per segment (call after run(); reads the heap again, so
  // keep it quiescent). Stops early if f returns false.
  template <class F> void for_each_chunk(F&& f) {
    for (int s = 0; s < nsegs_; ++s) {
      Seg& sg = segs_[s];
      Arena* av = arena_of(sg.arena);
      char* p = sg.range.start;
      while (p < sg.range.end) {
        Chunk* c = reinterpret_cast<Chunk*>(p);
        size_t sz = c->size();
        ChunkView v{c, sz, c->size_nomask() & kSizeBits, ChunkState::InUse, -1, sg.arena, s, false};
        if (c == av->top) {
          v.state = ChunkState::Top;
        } else if (sz == kHdr || sz == 0) {
          v.state = ChunkState::Fence;
          if (sz == 0) v.size = kHdr;
        } else if (scrap(c, sz, sg.range.end)) {
          v.state = ChunkState::Fence;
        } else {
          uint16_t t = tag_at(sg, c);
          v.internal = t & kInternalTag;
          t &= uint16_t(~kInternalTag);
          if (t > 1) {
            v.state = static_cast<ChunkState>((t - 1) >> 8);
            v.bin = static_cast<int>((t - 1) & 0xff);
          }
        }
        if (!f(v)) return;
        if (v.state == ChunkState::Top || v.size == 0) break;
        p += v.size;
      }
    }
  }

  // Visits every chunk in a bin, list by list, each list head first (fd order; the end an
  // insertion uses, docs/trace-format.md "Bin order"): f(kind, index, arena, av, thread, chunk):
  // an arena's bins with its number (0 = main, then in arena-list order) and av, thread nullptr;
  // a tcache with arena -1, av nullptr and its thread. Per arena: the unsorted bin (index 1),
  // smallbins, largebins, fastbins; then each live thread's tcache. Tcaches and fastbins only
  // when not coarse. Only after a run that found the heap sound (then every list ends); stops
  // early if f returns false.
  template <class F> void for_each_bin_chunk(F&& f) {
    if (!rep_.ok) return;
    for (int ai = 0; ai < narenas_; ++ai) {
      Arena* av = arenas_[ai];
      for (unsigned i = 1; i < kNBins; ++i) {
        Chunk* bin = av->bin_at(i);
        trace::BinKind kind = i == 1                                   ? trace::BinKind::Unsorted
                              : i < static_cast<unsigned>(kNSmallBins) ? trace::BinKind::Small
                                                                       : trace::BinKind::Large;
        for (Chunk* c = bin->fd; c != bin; c = c->fd)
          if (!f(kind, i, ai, av, static_cast<ThreadState*>(nullptr), c)) return;
      }
      for (int i = 0; i < kNFastBins && !coarse_; ++i)
        for (Chunk* c = av->fastbins[i]; c; c = reveal_ptr(&c->fd))
          if (!f(trace::BinKind::Fast, static_cast<unsigned>(i), ai, av, static_cast<ThreadState*>(nullptr),
                 c))
            return;
    }
    if (coarse_) return;
    bool go = true;
    m_.for_each_thread([&](ThreadState& ts) {
      for (int i = 0; go && ts.tcache && i < kTcacheMaxBins; ++i)
        for (TcacheEntry* e = ts.tcache->entries[i]; go && e; e = reveal_ptr(&e->next))
          go = f(trace::BinKind::Tcache, static_cast<unsigned>(i), -1, static_cast<Arena*>(nullptr), &ts,
                 mem2chunk(e));
    });
  }

private:
  MallocCore<P>& m_;
  bool coarse_ = false;
  CheckReport rep_;
  Seg segs_[kMaxSegs] = {};
  int nsegs_ = 0;
  Arena* arenas_[256] = {};
  int narenas_ = 0;

  Arena* arena_of(int i) { return arenas_[i]; }

  // The scrap of an old top that was too small to free when its arena made a new heap
  // (sysmalloc): in use for good, without the A bit, and followed by the heap's last fencepost
  // (size 0). Walked, and reported, as a fence.
  static bool scrap(Chunk* c, size_t sz, const char* end) {
    const char* next = reinterpret_cast<const char*>(c) + sz;
    return next + kHdr <= end && c->at(static_cast<ptrdiff_t>(sz))->size_nomask() == kPrevInuse;
  }

  void fail(int inv, const void* addr, const char* fmt, unsigned long a = 0, unsigned long b = 0) {
    HV_ASSERT_MSG(inv >= 0 && inv <= 11, "a check names an invariant chunk.h does not number");
    if (!rep_.ok) return;
    rep_.ok = false;
    rep_.invariant = inv;
    rep_.addr = reinterpret_cast<uintptr_t>(addr);
    char msg[256];
    snprintf(msg, sizeof msg, fmt, a, b);
    snprintf(rep_.message, sizeof rep_.message, "I%d violated at %#lx: %s", inv,
             static_cast<unsigned long>(rep_.addr), msg);
  }

  void release() {
    for (int i = 0; i < nsegs_; ++i)
      if (segs_[i].tag) munmap(segs_[i].tag, segs_[i].granules * sizeof(uint16_t));
    nsegs_ = 0;
  }

  Seg* seg_of(const void* addr) {
    const char* a = static_cast<const char*>(addr);
    for (int i = 0; i < nsegs_; ++i)
      if (a >= segs_[i].range.start && a < segs_[i].range.end) return &segs_[i];
    return nullptr;
  }
  // The index of c's 16-byte granule in s.tag: only for chunks inside s (checked).
  static size_t granule(const Seg& s, const Chunk* c) {
    const char* p = reinterpret_cast<const char*>(c);
    HV_ASSERT_MSG(p >= s.range.start && p < s.range.end, "granule() of a chunk outside its segment");
    return static_cast<size_t>(p - s.range.start) / kAlign;
  }
  uint16_t tag_at(const Seg& s, const Chunk* c) { return s.tag[granule(s, c)]; }

  // Records that chunk c sits in a bin; checks it is a real chunk and in no other bin (I4).
  bool mark(Chunk* c, ChunkState kind, int bin) {
    Seg* s = seg_of(c);
    if (!s || !aligned_ok(reinterpret_cast<uintptr_t>(c) - reinterpret_cast<uintptr_t>(s->range.start))) {
      fail(4, c, "a bin entry is not a chunk of any heap");
      return false;
    }
    uint16_t& t = s->tag[granule(*s, c)];
    if (t == 0) {
      fail(4, c, "a bin entry is not the start of a chunk");
      return false;
    }
    if (t != 1) {
      fail(4, c, "a chunk sits in two bins (kinds %lu and %lu)", (t - 1) >> 8,
           static_cast<unsigned long>(kind));
      return false;
    }
    t = static_cast<uint16_t>(1 + ((static_cast<unsigned>(kind) << 8) | static_cast<unsigned>(bin)));
    ++rep_.binned;
    return true;
  }

  void build() {
    release();
    rep_ = CheckReport{};
    // Arenas and their segments.
    narenas_ = 0;
    Arena* a = m_.main_arena();
    do {
      if (narenas_ < 256) arenas_[narenas_++] = a;
      a = a->next;
    } while (a != m_.main_arena());
    rep_.arenas = static_cast<size_t>(narenas_);
    for (int ai = 0; ai < narenas_; ++ai) {
      Segment tmp[kMaxSegs];
      int n = m_.segments(arenas_[ai], tmp, kMaxSegs);
      for (int i = 0; i < n && nsegs_ < kMaxSegs; ++i) {
        Seg& s = segs_[nsegs_++];
        s.range = tmp[i];
        s.arena = ai;
        s.granules = static_cast<size_t>(tmp[i].end - tmp[i].start) / kAlign + 1;
        void* mem = mmap(nullptr, s.granules * sizeof(uint16_t), PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        s.tag = mem == MAP_FAILED ? nullptr : static_cast<uint16_t*>(mem);
        if (!s.tag) {
          fail(0, nullptr, "out of memory for the checker's scratch table");
          return;
        }
      }
    }
    for (int s = 0; s < nsegs_ && rep_.ok; ++s)
      walk_segment(segs_[s]);
    if (!rep_.ok) return;
    for (int ai = 0; ai < narenas_ && rep_.ok; ++ai)
      check_bins(arenas_[ai]);
    if (!rep_.ok) return;
    check_tcaches();
    if (!rep_.ok) return;
    for (int s = 0; s < nsegs_ && rep_.ok; ++s)
      check_free_chunks(segs_[s]);
    // mark() takes only walked chunk starts, each once.
    HV_ASSERT(!rep_.ok || rep_.binned <= rep_.chunks);
    mark_tcache_structs();
  }

  // Tags each live thread's tcache_perthread_struct (after the checks, which read plain tags).
  void mark_tcache_structs() {
    m_.for_each_thread([&](ThreadState& ts) {
      if (!ts.tcache) return;
      Chunk* c = mem2chunk(ts.tcache);
      Seg* s = seg_of(c);
      if (s && tag_at(*s, c) == 1) s->tag[granule(*s, c)] |= kInternalTag;
    });
  }

  // I1, I8, I9, I10: the chunk sizes tile the segment and top comes last.
  void walk_segment(Seg& s) {
    Arena* av = arenas_[s.arena];
    const bool main = m_.is_main(av);
    char* p = s.range.start;
    while (p < s.range.end) {
      Chunk* c = reinterpret_cast<Chunk*>(p);
      size_t sz = c->size();
      if (!aligned_ok(reinterpret_cast<uintptr_t>(chunk2mem(c)))) return fail(1, c, "misaligned chunk");
      if (c == av->top) {
        if (!c->prev_inuse()) return fail(8, c, "top's P bit is clear");
        if (sz < kMinSize) return fail(8, c, "top is smaller than MINSIZE (%#lx)", sz);
        if (p + sz != s.range.end) return fail(9, c, "top does not end its heap");
        s.tag[granule(s, c)] = 1;
        ++rep_.chunks;
        return;
      }
      if (sz == kHdr || sz == 0) { // fencepost(s) closing a segment or a non-main heap
        p += kHdr;
        continue;
      }
      if (sz < kMinSize || !aligned_ok(sz)) return fail(1, c, "bad chunk size %#lx", sz);
      if (p + sz > s.range.end) return fail(9, c, "chunk of size %#lx runs past its heap's end", sz);
      if (!main && scrap(c, sz, s.range.end)) { // fenced, no A bit (I10 does not apply)
        p += sz;
        continue;
      }
      if (c->is_mmapped()) return fail(10, c, "heap chunk carries the IS_MMAPPED bit");
      if (c->inuse() && (main ? c->non_main() : !c->non_main()))
        return fail(10, c,
                    main ? "main-arena chunk carries NON_MAIN_ARENA" : "non-main chunk lacks NON_MAIN_ARENA");
      s.tag[granule(s, c)] = 1;
      ++rep_.chunks;
      p += sz;
    }
    if (p != s.range.end) fail(9, p, "the chunk walk overshoots its heap's end");
    // A segment with no top must have ended in fenceposts; the last main segment holds top.
    if (s.range.end == reinterpret_cast<char*>(av->top) + av->top->size())
      fail(8, av->top, "top was not reached");
  }

  // I4, I5, I6, I7 for the regular bins and fastbins of one arena.
  void check_bins(Arena* av) {
    const size_t limit = rep_.chunks + 2;
    for (unsigned i = 1; i < kNBins && rep_.ok; ++i) {
      Chunk* bin = av->bin_at(i);
      ChunkState kind = i == 1                                   ? ChunkState::Unsorted
                        : i < static_cast<unsigned>(kNSmallBins) ? ChunkState::Small
                                                                 : ChunkState::Large;
      size_t steps = 0;
      size_t prev_size = ~size_t(0);
      for (Chunk* c = bin->fd; c != bin; c = c->fd) {
        if (++steps > limit) return fail(4, bin, "bin %lu's list does not close", i);
        if (c->fd->bk != c || c->bk->fd != c) return fail(4, c, "broken fd/bk links in bin %lu", i);
        if (!mark(c, kind, static_cast<int>(i))) return;
        size_t sz = c->size();
        if (kind == ChunkState::Small && smallbin_index(sz) != i)
          return fail(5, c, "size %#lx is in small bin %lu", sz, i);
        if (kind == ChunkState::Large) {
          if (largebin_index(sz) != i) return fail(5, c, "size %#lx is in large bin %lu", sz, i);
          if (sz > prev_size)
            return fail(6, c, "large bin %lu is not sorted (size %#lx after a smaller one)", i, sz);
          bool first_of_size = c->bk == bin || c->bk->size() != sz;
          if (first_of_size != (c->fd_nextsize != nullptr && c->fd_nextsize->bk_nextsize == c))
            return fail(6, c, "large bin %lu: nextsize links wrong for size %#lx", i, sz);
          prev_size = sz;
        }
      }
      if (i > 1 && bin->fd != bin && !av->bin_marked(i))
        return fail(7, bin, "bin %lu is not empty but its binmap bit is clear", i);
    }
    for (int i = 0; i < kNFastBins && rep_.ok && !coarse_; ++i) {
      size_t steps = 0;
      for (Chunk* c = av->fastbins[i]; c; c = reveal_ptr(&c->fd)) {
        if (++steps > limit) return fail(4, c, "fastbin %lu does not end", static_cast<unsigned long>(i));
        if (!mark(c, ChunkState::Fast, i)) return;
        if (fastbin_index(c->size()) != static_cast<unsigned>(i))
          return fail(5, c, "size %#lx is in fastbin %lu", c->size(), static_cast<unsigned long>(i));
        if (!c->inuse()) return fail(2, c, "fastbin chunk's successor has P clear");
      }
    }
  }

  // I4, I5, I11 for every live thread's tcache.
  void check_tcaches() {
    if (coarse_) return;
    m_.for_each_thread([&](ThreadState& ts) {
      if (!rep_.ok || !ts.tcache) return;
      Tcache* tc = ts.tcache;
      for (int i = 0; i < kTcacheMaxBins && rep_.ok; ++i) {
        size_t n = 0;
        for (TcacheEntry* e = tc->entries[i]; e; e = reveal_ptr(&e->next)) {
          if (++n > m_.params().tcache_count + 1)
            return fail(11, e, "tcache bin %lu holds too many chunks", i);
          Chunk* c = mem2chunk(e);
          if (!mark(c, ChunkState::Tcache, i)) return;
          if (csize2tidx(c->size()) != static_cast<size_t>(i))
            return fail(5, c, "size %#lx is in tcache bin %lu", c->size(), static_cast<unsigned long>(i));
          if (e->key != m_.tcache_key()) return fail(11, c, "tcache entry lost its key");
        }
        if (n != tc->counts[i])
          return fail(11, tc, "tcache bin %lu: count %lu but list length differs", i, tc->counts[i]);
        if (n > m_.params().tcache_count) return fail(11, tc, "tcache bin %lu holds %lu chunks", i, n);
      }
    });
  }

  // I2, I3, I4: each chunk free by its boundary tags is in a regular bin; no free neighbours.
  void check_free_chunks(Seg& s) {
    Arena* av = arenas_[s.arena];
    char* p = s.range.start;
    Chunk* prev = nullptr;
    bool prev_free = false;
    while (p < s.range.end) {
      Chunk* c = reinterpret_cast<Chunk*>(p);
      size_t sz = c->size();
      if (c == av->top) {
        if (prev && prev_free && av->top->prev_inuse()) return; // P of top is always set
        return;
      }
      if (sz == kHdr || sz == 0 || scrap(c, sz, s.range.end)) {
        p += sz == 0 ? kHdr : sz;
        prev = nullptr;
        prev_free = false;
        continue;
      }
      Chunk* nx = c->next();
      bool is_free = !(nx->size_nomask() & kPrevInuse);
      uint16_t t = tag_at(s, c);
      ChunkState st = t > 1 ? static_cast<ChunkState>((t - 1) >> 8) : ChunkState::InUse;
      if (is_free) {
        if (nx->prev_size() != sz)
          return fail(2, c, "free chunk of size %#lx, next prev_size %#lx", sz, nx->prev_size());
        if (st != ChunkState::Unsorted && st != ChunkState::Small && st != ChunkState::Large)
          return fail(4, c, "chunk of size %#lx is free but in no regular bin", sz);
        if (prev_free) return fail(3, c, "two adjacent free chunks");
      } else if (st == ChunkState::Unsorted || st == ChunkState::Small || st == ChunkState::Large) {
        return fail(2, c, "chunk in a regular bin but its successor's P bit is set");
      }
      if (prev && !c->prev_inuse() && c->prev_size() != prev->size())
        return fail(2, c, "prev_size %#lx does not match the previous chunk's size %#lx", c->prev_size(),
                    prev->size());
      prev = c;
      prev_free = is_free;
      p += sz;
    }
  }
};

} // namespace hv::alloc
