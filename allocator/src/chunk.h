// chunk.h - the chunk: glibc 2.36's boundary-tag header, its constants and its invariants.
//
// Owns: the in-memory layout of a chunk, size arithmetic (request2size), bin indexing, and the
// numbered invariants that the heap checker (checker.cpp) verifies. Walk-through: docs/allocator.md.
// Must not: allocate, lock, or know where memory comes from (that is platform.h).
#pragma once

#include "heapviz/hv_assert.h"

#include <cstddef>
#include <cstdint>

namespace hv::alloc {

// ---- Numbers (x86-64, glibc 2.36) ----------------------------------------------------------
inline constexpr size_t kSizeSz = sizeof(size_t); // 8
inline constexpr size_t kAlign = 2 * kSizeSz;     // MALLOC_ALIGNMENT 16
inline constexpr size_t kAlignMask = kAlign - 1;  // 15
inline constexpr size_t kHdr = 2 * kSizeSz;       // CHUNK_HDR_SZ 16
inline constexpr size_t kMinChunk = 4 * kSizeSz;  // MIN_CHUNK_SIZE 32 (fd, bk included)
inline constexpr size_t kMinSize = (kMinChunk + kAlignMask) & ~kAlignMask; // MINSIZE 32

inline constexpr size_t kPrevInuse = 0x1;    // P: the previous chunk is in use
inline constexpr size_t kIsMmapped = 0x2;    // M: this chunk came from its own mmap
inline constexpr size_t kNonMainArena = 0x4; // A: this chunk belongs to a non-main arena's heap
inline constexpr size_t kSizeBits = kPrevInuse | kIsMmapped | kNonMainArena;

/*
  A chunk, as glibc lays it out (byte offsets from the chunk start `p`):

      p+0   +-----------------------------------------------+
            | prev_size: size of the previous chunk if it is |  valid only when P == 0; otherwise
            |            free (else: its last user word)     |  the previous chunk's user data
      p+8   +-----------------------------------------------+
            | size                                     |A|M|P|
      p+16  +-----------------------------------------------+  <- user pointer (chunk2mem)
            | in use: user data ...                          |
            | free:   fd, bk (bin links), and for large      |
            |         chunks fd_nextsize, bk_nextsize        |
            |         tcache/fastbin: next (safe-linked)     |
  p+size    +-----------------------------------------------+
            | next chunk's prev_size == size (if p is free)  |
            +-----------------------------------------------+

  Numbered invariants (checker.cpp asserts each one by this number; keep the two in step):
   I1  Every chunk start and every size is a multiple of 16; size >= MINSIZE (except fenceposts
       of size 16 that end a non-contiguous segment or a non-main heap).
   I2  Boundary tags: a chunk is free (in a regular bin) iff the next chunk's P bit is 0; then
       next->prev_size == size.  Tcache and fastbin chunks keep P set in their successor.
   I3  No two adjacent chunks are both free by I2 (free chunks outside tcache/fastbins coalesce).
   I4  Every chunk free by I2 sits in exactly one regular bin (unsorted, small or large), and no
       chunk sits in two bins of any kind (tcache, fast, unsorted, small, large).
   I5  A chunk in small bin i has smallbin_index(size) == i; in large bin i, largebin_index(size)
       == i; in fastbin i, fastbin_index(size) == i; in tcache bin i, csize2tidx(size) == i.
   I6  Large bins are sorted by size, largest first; the fd_nextsize ring links exactly the first
       chunk of each distinct size.
   I7  The binmap bit of a non-empty bin is set (a set bit may be stale: glibc clears lazily).
   I8  The top chunk is the last chunk of its heap, its P bit is set, and size >= MINSIZE.
   I9  The chunk sizes of a heap segment sum to the segment's size (walk ends exactly at top's end).
   I10 A non-main chunk carries A (but for the scrap of an old top too small to free when its
       arena made a new heap: in use for good, before the heap's last fencepost, of size 0); a
       main-arena chunk does not; mmapped chunks carry M and are page-granular:
       (prev_size + size) % pagesize == 0.
   I11 Tcache bin i holds at most tcache_count chunks and counts[i] equals its list length.
*/
struct Chunk {
  size_t prev_size_;
  size_t size_;
  Chunk* fd; // free chunks only
  Chunk* bk;
  Chunk* fd_nextsize; // large free chunks only
  Chunk* bk_nextsize;

  size_t size() const { return size_ & ~kSizeBits; }
  size_t size_nomask() const { return size_; }
  size_t prev_size() const { return prev_size_; }
  bool prev_inuse() const { return size_ & kPrevInuse; }
  bool is_mmapped() const { return size_ & kIsMmapped; }
  bool non_main() const { return size_ & kNonMainArena; }

  Chunk* at(ptrdiff_t off) { return reinterpret_cast<Chunk*>(reinterpret_cast<char*>(this) + off); }
  Chunk* next() { return at(static_cast<ptrdiff_t>(size())); }
  Chunk* prev() { return at(-static_cast<ptrdiff_t>(prev_size_)); }

  // "inuse" in glibc's sense: the successor's P bit.
  bool inuse() { return next()->size_ & kPrevInuse; }
  bool inuse_at(size_t off) { return at(static_cast<ptrdiff_t>(off))->size_ & kPrevInuse; }
  void set_inuse_at(size_t off) { at(static_cast<ptrdiff_t>(off))->size_ |= kPrevInuse; }
  void clear_inuse_at(size_t off) { at(static_cast<ptrdiff_t>(off))->size_ &= ~kPrevInuse; }

  // The writers check, in Debug builds (heapviz/hv_assert.h), what the allocator itself must
  // keep true: I1 (sizes are multiples of 16, chunk starts too) and I2 (a foot repeats its
  // chunk's size). The readers check nothing: the checker reads corrupt heaps to report them.
  void set_head(size_t s) {
    HV_ASSERT_MSG(((s & ~kSizeBits) & kAlignMask) == 0, "I1: a chunk size is not a multiple of 16");
    HV_ASSERT_MSG((reinterpret_cast<uintptr_t>(this) & kAlignMask) == 0, "I1: a chunk start is misaligned");
    size_ = s;
  }
  void set_head_size(size_t s) {
    HV_ASSERT_MSG((s & kAlignMask & ~kSizeBits) == 0, "I1: a chunk size is not a multiple of 16");
    size_ = (size_ & kSizeBits) | s;
  }
  void set_foot(size_t s) {
    HV_ASSERT_MSG(s == size(), "I2: the foot must repeat the size set_head() just wrote");
    at(static_cast<ptrdiff_t>(s))->prev_size_ = s;
  }
  void set_prev_size(size_t s) {
    HV_ASSERT_MSG((s & kAlignMask) == 0, "I1/I2: prev_size is a chunk size or an mmap offset, both aligned");
    prev_size_ = s;
  }
  void set_non_main() { size_ |= kNonMainArena; }
};
static_assert(offsetof(Chunk, fd) == kHdr);
static_assert(sizeof(Chunk) == 6 * kSizeSz);

inline void* chunk2mem(Chunk* p) {
  return reinterpret_cast<char*>(p) + kHdr;
}
inline Chunk* mem2chunk(void* m) {
  return reinterpret_cast<Chunk*>(static_cast<char*>(m) - kHdr);
}
inline bool aligned_ok(uintptr_t v) {
  return (v & kAlignMask) == 0;
}
inline bool misaligned_chunk(Chunk* p) {
  return !aligned_ok(reinterpret_cast<uintptr_t>(chunk2mem(p)));
}

// request2size: user bytes -> chunk size. malloc(0..24) -> 0x20, 25..40 -> 0x30, 1032 -> 0x410.
inline constexpr size_t request2size(size_t req) {
  return (req + kSizeSz + kAlignMask < kMinSize) ? kMinSize : (req + kSizeSz + kAlignMask) & ~kAlignMask;
}
// checked_request2size: 0 means "too large" (the caller sets ENOMEM).
inline constexpr size_t checked_request2size(size_t req) {
  return req > static_cast<size_t>(PTRDIFF_MAX) ? 0 : request2size(req);
}
static_assert(request2size(0) == 0x20 && request2size(24) == 0x20 && request2size(25) == 0x30);
static_assert(request2size(1032) == 0x410);

// Usable bytes of an in-use, non-mmapped chunk (it borrows the next prev_size word).
inline size_t memsize(Chunk* p) {
  return p->is_mmapped() ? p->size() - kHdr : p->size() - kHdr + kSizeSz;
}

// ---- Bins ---------------------------------------------------------------------------------
inline constexpr int kNBins = 128;
inline constexpr int kNSmallBins = 64;
inline constexpr size_t kMinLargeSize = kNSmallBins * kAlign; // 0x400
inline constexpr int kBinmapShift = 5;
inline constexpr int kBitsPerMap = 1 << kBinmapShift;
inline constexpr int kBinmapSize = kNBins / kBitsPerMap; // 4

inline constexpr bool in_smallbin_range(size_t sz) {
  return sz < kMinLargeSize;
}
inline constexpr unsigned smallbin_index(size_t sz) {
  return static_cast<unsigned>(sz) >> 4;
}
inline constexpr unsigned largebin_index(size_t sz) {
  return ((sz >> 6) <= 48)    ? 48 + static_cast<unsigned>(sz >> 6)
         : ((sz >> 9) <= 20)  ? 91 + static_cast<unsigned>(sz >> 9)
         : ((sz >> 12) <= 10) ? 110 + static_cast<unsigned>(sz >> 12)
         : ((sz >> 15) <= 4)  ? 119 + static_cast<unsigned>(sz >> 15)
         : ((sz >> 18) <= 2)  ? 124 + static_cast<unsigned>(sz >> 18)
                              : 126;
}
inline constexpr unsigned bin_index(size_t sz) {
  return in_smallbin_range(sz) ? smallbin_index(sz) : largebin_index(sz);
}
inline constexpr unsigned idx2block(unsigned i) {
  return i >> kBinmapShift;
}
inline constexpr unsigned idx2bit(unsigned i) {
  return 1u << (i & ((1u << kBinmapShift) - 1));
}

// Fastbins: chunks up to global_max_fast (0x80 by default; at most 0xb0 via M_MXFAST).
inline constexpr unsigned fastbin_index(size_t sz) {
  return static_cast<unsigned>(sz >> 4) - 2;
}
inline constexpr size_t kMaxFastSize = 80 * kSizeSz / 4; // 160: largest M_MXFAST value
inline constexpr int kNFastBins = static_cast<int>(fastbin_index(request2size(kMaxFastSize))) + 1;
inline constexpr size_t kDefaultMxFast = 64 * kSizeSz / 4; // 128
// set_max_fast: 0..7 give MIN_CHUNK_SIZE / 2 (no chunk is that small: no fastbins at all).
inline constexpr size_t set_max_fast_value(size_t s) {
  return s <= kAlignMask - kSizeSz ? kMinChunk / 2 : (s + kSizeSz) & ~kAlignMask;
}
static_assert(set_max_fast_value(0) == 0x10 && set_max_fast_value(7) == 0x10 &&
              set_max_fast_value(8) == 0x10);
static_assert(set_max_fast_value(kDefaultMxFast) == 0x80 && set_max_fast_value(160) == 0xa0);
static_assert(kNFastBins == 10);
inline constexpr size_t kFastbinConsolidationThreshold = 65536;

// Tcache: 64 bins of (by default) 7 chunks; chunk sizes 0x20..0x410.
inline constexpr int kTcacheMaxBins = 64;
inline constexpr size_t kTcacheFillCount = 7;
inline constexpr size_t kMaxTcacheCount = UINT16_MAX; // tcache counts are uint16_t (glibc 2.30+)
inline constexpr size_t csize2tidx(size_t x) {
  return (x - kMinSize + kAlign - 1) / kAlign;
}
inline constexpr size_t tidx2usize(size_t i) {
  return i * kAlign + kMinSize - kSizeSz;
}
inline constexpr size_t kMaxTcacheSize = tidx2usize(kTcacheMaxBins - 1); // 1032

// Safe-linking (glibc 2.32+): tcache and fastbin next pointers are stored mangled.
inline uintptr_t protect_ptr(const void* pos, const void* ptr) {
  return (reinterpret_cast<uintptr_t>(pos) >> 12) ^ reinterpret_cast<uintptr_t>(ptr);
}
template <class T> inline T* reveal_ptr(T* const* pos) {
  return reinterpret_cast<T*>((reinterpret_cast<uintptr_t>(pos) >> 12) ^ reinterpret_cast<uintptr_t>(*pos));
}

} // namespace hv::alloc
