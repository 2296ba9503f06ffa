// checks.h - HEAPVIZ_CHECKS: the detectors glibc lacks, run beside glibc's algorithm without moving
// one chunk (docs/checks.md: what each catches, when, its message and cost, what it cannot).
//
// Owns: Checks<P>, a member of MallocCore<P>: the side table (what heapviz knows of each chunk
// start: live with its request, or freed with its size), the canary in each live block's slack,
// the pattern in each freed chunk, the double/invalid free classification, the exit sweep, and
// the reports (hooks_.report, then abort with one `heapviz:` line unless HEAPVIZ_CHECKS_CONTINUE).
// Must not: change any decision of the allocator (no chunk moves, no size changes), allocate from
// the heap it checks (the table is mmapped), take a lock (the tcache path has none), or change
// errno. Included at the end of malloc_core.h: it sees the whole core.
#pragma once

#include "malloc_core.h"

#include <cerrno>
#include <cstring>
#include <sched.h>
#include <sys/mman.h>

namespace hv::alloc {

template <class P> class HeapWalk; // heap_walk.h; complete wherever sweep() is instantiated

// ============================================================================ [table]
// One uint32 per 16-byte granule that starts a chunk, in a two-level table keyed by address:
// level 1 has an entry per 64 MiB of the 47-bit address space, level 2 a word per granule of
// that block. Both are mmapped MAP_NORESERVE and touched lazily; level 2 is installed by CAS.
//   0                                   nothing known (not a chunk start heapviz saw, or top)
//   01 A kk rrr..r (27 bits)            live block: request r (all ones: unknown), A bit, chunk
//                                       size request2size(r) + 16 k (k = 3: size not known)
//   10 E ggg..g (29 bits)               freed chunk of g granules whose bytes from 16 + (E ? 32 :
//                                       16) to its end hold the free pattern (g = 0: a freed chunk
//                                       whose pattern is not known, as after malloc_trim)
class CheckTable {
public:
  static constexpr unsigned kL1Shift = 26, kAddrBits = 47;
  static constexpr size_t kL1Entries = size_t(1) << (kAddrBits - kL1Shift);
  static constexpr size_t kL2Entries = size_t(1) << (kL1Shift - 4);

  bool init() {
    if (l1_) return true;
    void* m = ::mmap(nullptr, kL1Entries * sizeof(uint32_t*), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return false;
    l1_ = static_cast<uint32_t**>(m);
    return true;
  }
  // The simulated heap's instances come and go: they give their table back.
  void release() {
    if (!l1_) return;
    for (size_t i = 0; i < kL1Entries; ++i)
      if (l1_[i]) ::munmap(l1_[i], kL2Entries * sizeof(uint32_t));
    ::munmap(l1_, kL1Entries * sizeof(uint32_t*));
    l1_ = nullptr;
  }
  // The word for chunk c; create: map level 2 if missing (nullptr if that fails).
  __attribute__((always_inline)) uint32_t* slot(const void* c, bool create) {
    uintptr_t a = reinterpret_cast<uintptr_t>(c);
    if (__builtin_expect(!l1_ || (a >> kAddrBits), 0)) return nullptr;
    uint32_t** e = &l1_[a >> kL1Shift];
    uint32_t* l2 = __atomic_load_n(e, __ATOMIC_ACQUIRE);
    if (__builtin_expect(!l2, 0)) {
      if (!create) return nullptr;
      l2 = install(e);
      if (!l2) return nullptr;
    }
    return &l2[(a >> 4) & (kL2Entries - 1)];
  }
  // Maps a level-2 table for *e (nullptr if that fails), or takes the one another thread mapped.
  __attribute__((noinline, cold)) uint32_t* install(uint32_t** e) {
    int saved = errno;
    void* m = ::mmap(nullptr, kL2Entries * sizeof(uint32_t), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    errno = saved;
    if (m == MAP_FAILED) return nullptr;
    uint32_t* want = static_cast<uint32_t*>(m);
    uint32_t* l2 = nullptr;
    if (__atomic_compare_exchange_n(e, &l2, want, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) return want;
    ::munmap(m, kL2Entries * sizeof(uint32_t)); // another thread won
    return l2;
  }
  __attribute__((always_inline)) uint32_t get(const void* c) {
    uint32_t* s = slot(c, false);
    return s ? __atomic_load_n(s, __ATOMIC_ACQUIRE) : 0;
  }
  __attribute__((always_inline)) void set(const void* c, uint32_t v) {
    if (uint32_t* s = slot(c, v != 0)) __atomic_store_n(s, v, __ATOMIC_RELEASE);
  }
  bool block_known(const void* c) { return slot(c, false) != nullptr; }

  // Entry encoding.
  static constexpr uint32_t kLive = 1u << 30, kFreed = 2u << 30, kStateMask = 3u << 30;
  static constexpr uint32_t kReqUnknown = (1u << 27) - 1;
  static bool live(uint32_t e) { return (e & kStateMask) == kLive; }
  static bool freed(uint32_t e) { return (e & kStateMask) == kFreed; }
  static uint32_t make_live(size_t req, size_t size, bool non_main) {
    uint32_t r = req < kReqUnknown ? static_cast<uint32_t>(req) : kReqUnknown;
    size_t base = request2size(req);
    uint32_t k = (r == kReqUnknown || size < base || size - base > 32)
                     ? 3u
                     : static_cast<uint32_t>((size - base) >> 4);
    return kLive | (non_main ? 1u << 29 : 0u) | k << 27 | r;
  }
  static uint32_t busy(uint32_t e) { return e | 3u << 27; } // a live entry whose size may change
  static size_t req(uint32_t e) { return e & kReqUnknown; }
  static bool req_known(uint32_t e) { return (e & kReqUnknown) != kReqUnknown; }
  static bool size_known(uint32_t e) { return ((e >> 27) & 3) != 3 && req_known(e); }
  static size_t live_size(uint32_t e) { return request2size(req(e)) + 16 * ((e >> 27) & 3); }
  static bool live_non_main(uint32_t e) { return e & (1u << 29); }
  // The bytes past the header that the allocator writes into a free chunk of this size: the
  // tcache's next and key, a bin's fd and bk, and a large chunk's fd_nextsize and bk_nextsize.
  static size_t links(size_t size) { return size >= 0x400 ? 32 : 16; }
  static uint32_t make_freed(size_t size) {
    size_t g = size >> 4;
    return kFreed | (size >= 0x400 ? 1u << 29 : 0u) | (g < (1u << 29) ? static_cast<uint32_t>(g) : 0u);
  }
  static size_t freed_size(uint32_t e) { return size_t(e & ((1u << 29) - 1)) << 4; }
  static size_t freed_links(uint32_t e) { return (e & (1u << 29)) ? 32 : 16; }

private:
  uint32_t** l1_ = nullptr;
};

// True if every byte of [from, to) is b. Up to 32 bytes (a canary, a pattern of the default
// fill: the common case of every check) in at most four unaligned loads, overlapping, no loop.
__attribute__((always_inline)) inline bool all_bytes(const uint8_t* from, const uint8_t* to, uint8_t b) {
  size_t n = static_cast<size_t>(to - from);
  const uint64_t w = 0x0101010101010101ull * b;
  auto at = [](const uint8_t* p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
  };
  if (n >= 8) {
    if (n <= 16) return ((at(from) ^ w) | (at(to - 8) ^ w)) == 0;
    if (n <= 32) return ((at(from) ^ w) | (at(from + 8) ^ w) | (at(to - 16) ^ w) | (at(to - 8) ^ w)) == 0;
    for (; n > 8; n -= 8, from += 8)
      if (at(from) != w) return false;
    return at(to - 8) == w;
  }
  if (n >= 4) { // two overlapping loads of 4, 2 or 1 bytes
    uint32_t a, z, w4 = static_cast<uint32_t>(w);
    memcpy(&a, from, 4);
    memcpy(&z, to - 4, 4);
    return a == w4 && z == w4;
  }
  if (n >= 2) {
    uint16_t a, z, w2 = static_cast<uint16_t>(w);
    memcpy(&a, from, 2);
    memcpy(&z, to - 2, 2);
    return a == w2 && z == w2;
  }
  return n == 0 || *from == b;
}

// Sets every byte of [from, to) to b, with the same overlapping stores.
__attribute__((always_inline)) inline void fill_bytes(uint8_t* from, uint8_t* to, uint8_t b) {
  size_t n = static_cast<size_t>(to - from);
  const uint64_t w = 0x0101010101010101ull * b;
  if (n >= 8) {
    memcpy(from, &w, 8);
    memcpy(to - 8, &w, 8);
    if (n <= 16) return;
    memcpy(from + 8, &w, 8);
    memcpy(to - 16, &w, 8);
    if (n <= 32) return;
    if (n > 64) {
      memset(from, b, n);
      return;
    }
    for (from += 16; from < to - 16; from += 8)
      memcpy(from, &w, 8);
    return;
  }
  if (n >= 4) {
    const uint32_t w4 = static_cast<uint32_t>(w);
    memcpy(from, &w4, 4);
    memcpy(to - 4, &w4, 4);
    return;
  }
  for (; from < to; ++from)
    *from = b;
}

// ============================================================================ [checks]
template <class P> class Checks {
public:
  static constexpr uint8_t kCanary = 0xcb;   // the slack of a live block
  static constexpr uint8_t kFree = 0xdf;     // a freed chunk's bytes
  static constexpr size_t kDefaultFill = 32; // HEAPVIZ_CHECKS_FILL: pattern bytes past the links

  constexpr explicit Checks(MallocCore<P>* core) : m_(core) {}
  bool on() const { return on_; }
  bool continue_mode() const { return continue_; }
  // Turns the checks on (before the heap's first call). False if the table cannot be mapped.
  // fill: pattern bytes past a freed chunk's links (0: the whole chunk).
  bool enable(bool cont, size_t fill = kDefaultFill) {
    if (!table_.init()) return false;
    on_ = true;
    continue_ = cont;
    fill_bytes_ = fill ? fill : ~size_t(0) / 2;
    return true;
  }
  void release() { table_.release(); }

  // ---- The API layer (MallocCore's entry points, only when on)
  // A block goes to the program: a chunk straight from the tcache is checked for writes after
  // its free; then its request is noted and its slack gets the canary.
  void allocated(void* mem, size_t req);
  // free(mem) is about to run: false when it must not (a bug was reported, continue mode).
  // free(mem) is coming: its table word starts on its way to the cache (the table is the one
  // line the program has not touched lately) while the call's event and stack are written.
  __attribute__((always_inline)) void prefetch(const void* mem) {
    if (uint32_t* s = table_.slot(static_cast<const char*>(mem) - kHdr, false)) __builtin_prefetch(s, 1);
  }
  // malloc(bytes) is coming: the same for the block the tcache would hand out.
  __attribute__((always_inline)) void prefetch_malloc(ThreadState& ts, size_t bytes) {
    size_t tc_idx = csize2tidx(request2size(bytes));
    if (ts.tcache && bytes < (size_t(1) << 40) && tc_idx < m_->mp_.tcache_bins)
      if (TcacheEntry* e = ts.tcache->entries[tc_idx]) prefetch(e);
  }
  bool before_free(void* mem) { return free_clean(mem2chunk(mem)) || check_release(mem, false); }
  // realloc(mem, n) with mem and n not 0: as free, then the entry waits for the new size.
  bool before_realloc(void* mem) { return check_release(mem, true); }
  void after_realloc(void* old, void* result, size_t req);

  // ---- The algorithm (one call each in malloc_core_impl.h)
  // int_malloc hands c out (any caller: the API, calloc, realloc, memalign, the tcache struct).
  void int_malloc_out(void* mem);
  // int_free frees c for the allocator itself (realloc's old block, a remainder, an old top).
  void internal_free(Chunk* c, size_t size);
  // `gone` is now part of `result` (new size `size`); into_top: result is the new top.
  void merged(Chunk* result, size_t size, Chunk* gone, bool into_top);
  // A free chunk at c was cut: the front (nb bytes) goes out, the rest is a new free chunk.
  void split_free(Chunk* c, size_t nb);
  // malloc_trim gave the whole pages of the free chunk c back (they read as zeros now): its
  // pattern is no longer known (filling it again would take the pages back).
  void released(Chunk* c) {
    if (CheckTable::freed(table_.get(c))) table_.set(c, CheckTable::kFreed);
  }
  // An mmapped chunk went away (munmap, or mremap moved it).
  void forget(Chunk* c) { table_.set(c, 0); }
  // At exit: every live block's canary and every freed chunk's pattern.
  void sweep();
  // malloc_usable_size(mem): the program may use every usable byte now; the canary goes.
  void usable_queried(void* mem) {
    Chunk* c = mem2chunk(mem);
    uint32_t e = table_.get(c);
    if (!CheckTable::live(e)) return;
    size_t size = c->size();
    table_.set(c, c->is_mmapped() ? CheckTable::make_live(size - kHdr, 0, false)
                                  : CheckTable::make_live(size - kSizeSz, size, c->non_main()));
  }

private:
  friend class MallocCore<P>;
  using Kind = trace::HeapErrorKind;
  struct Msg { // a one-line message, built without allocating
    char b[trace::kMaxErrorMessage];
    size_t n = 0;
    Msg& s(const char* t) {
      while (*t && n + 1 < sizeof b)
        b[n++] = *t++;
      b[n] = 0;
      return *this;
    }
    Msg& x(uintptr_t v) {
      char d[20];
      int i = 20;
      do {
        d[--i] = "0123456789abcdef"[v & 15];
        v >>= 4;
      } while (v);
      s("0x");
      while (i < 20 && n + 1 < sizeof b)
        b[n++] = d[i++];
      b[n] = 0;
      return *this;
    }
    Msg& u(uint64_t v) {
      char d[24];
      int i = 24;
      do {
        d[--i] = static_cast<char>('0' + v % 10);
        v /= 10;
      } while (v);
      while (i < 24 && n + 1 < sizeof b)
        b[n++] = d[i++];
      b[n] = 0;
      return *this;
    }
    Msg& bytes(uint64_t v) { return u(v).s(v == 1 ? " byte" : " bytes"); } // "1 byte", "2 bytes"
  };

  bool check_release(void* mem, bool realloc);
  Chunk* live_block_before(Chunk* c, uint32_t* e_out);
  // "; the block before it, 0x... of N bytes, ends there" (before: live_block_before's, entry e).
  static void say_block_before(Msg& msg, Chunk* before, uint32_t e) {
    msg.s("; the block before it, ")
        .x(reinterpret_cast<uintptr_t>(chunk2mem(before)))
        .s(" of ")
        .u(CheckTable::req(e))
        .s(" bytes, ends there");
  }

public:
  // Whether the header of the live block mem was overwritten (the table's size against the word):
  // the word found, the one expected, and the live block that ends at that header (may be null).
  bool header_overwritten(const void* mem, uint64_t* found, uint64_t* expect, Chunk** before, uint32_t* pe);
  // The line after glibc's own message on such a header (header_overwritten's findings), in out:
  // "heapviz: its header was overwritten: ...; the block before it, ... ends there".
  const char* header_note(uint64_t found, uint64_t expect, Chunk* before, uint32_t pe, char* out, size_t cap);

private:
  // The common free, inline: a live block whose own header, canary and next header are as the
  // table says gets its pattern and its freed entry. False: nothing was done, and the full path
  // (check_release, which reports) decides.
  __attribute__((always_inline)) bool free_clean(Chunk* c);
  // A freed chunk's pattern up to end is intact (or not checked): the inline half of check_freed.
  __attribute__((always_inline)) bool freed_clean(Chunk* c, uint32_t e, char* end) const;
  const char* glibc_entry_message(Chunk* c, bool realloc);
  bool glibc_catches_double_free(Chunk* c);
  // (dry: for the exit sweep, *dry says whether it would report, and nothing is reported.)
  // *glibc_sees (may be null): true when the block's header is so bad that glibc's own check
  // rejects this free or realloc (the caller then leaves everything to glibc: no fill).
  bool live_checks(Chunk* c, uint32_t e, const char* when, bool* dry = nullptr, bool* glibc_sees = nullptr);
  void fill(void* from, void* to, uint8_t byte) {
    if (to > from) fill_bytes(static_cast<uint8_t*>(from), static_cast<uint8_t*>(to), byte);
  }
  // A freed chunk's pattern covers [c + 16 + links, c + 32 + fill_bytes_) within the chunk: the
  // end does not move when a merge makes the links longer (HEAPVIZ_CHECKS_FILL; docs/checks.md).
  char* pattern_end(Chunk* c, size_t size) const {
    size_t end = size < kHdr + 16 + fill_bytes_ ? size : kHdr + 16 + fill_bytes_;
    return reinterpret_cast<char*>(c) + end;
  }
  void fill_freed(Chunk* c, size_t size) { // the pattern, and the entry that says so
    fill(c->at(static_cast<ptrdiff_t>(kHdr + CheckTable::links(size))), pattern_end(c, size), kFree);
    table_.set(c, CheckTable::make_freed(size));
  }

  bool pattern_ok() const { return m_->mp_.perturb_byte == 0; } // MALLOC_PERTURB_ rewrites freed bytes
  // Checks the pattern of the freed chunk c (entry e) up to end; reports write after free.
  __attribute__((noinline)) void check_freed(Chunk* c, uint32_t e, char* end, const char* when,
                                             bool* dry = nullptr);
  // Runs of bytes in [from, to) that differ from `want`; at most kMaxErrorRuns. True if none.
  __attribute__((noinline, cold)) size_t diff_runs(Chunk* c, const uint8_t* from, const uint8_t* to,
                                                   uint8_t want, trace::ErrorRun* runs);
  void report(trace::ErrorCode code, Kind kind, const char* msg, const void* ptr, const void* chunk,
              const trace::ErrorRun* runs, size_t nruns, bool glibc_msg, bool* found = nullptr);
  Chunk* container(Chunk* c, uint32_t* e_out);
  __attribute__((always_inline)) inline bool next_header_bad(Chunk* c, size_t size, uint64_t* expect,
                                                             uint64_t* found);
  void sweep_one(Chunk* c, size_t size);
  bool in_some_heap(Chunk* c);

  MallocCore<P>* m_;
  CheckTable table_{};
  bool on_ = false;
  bool continue_ = false;
  size_t fill_bytes_ = kDefaultFill; // pattern bytes per freed chunk, past the links
};

template <class P> inline const uint8_t* repeated(uint8_t b) {
  static constexpr struct Bytes {
    uint8_t canary[64], free[64];
    constexpr Bytes() : canary(), free() {
      for (int i = 0; i < 64; ++i) {
        canary[i] = Checks<P>::kCanary;
        free[i] = Checks<P>::kFree;
      }
    }
  } kBytes{};
  return b == Checks<P>::kCanary ? kBytes.canary : kBytes.free;
}

template <class P>
size_t Checks<P>::diff_runs(Chunk* c, const uint8_t* from, const uint8_t* to, uint8_t want,
                            trace::ErrorRun* runs) {
  size_t n = 0;
  const uint8_t* p = from;
  // Word by word while the bytes agree (the common case), then byte by byte.
  uint64_t w;
  memset(&w, want, sizeof w);
  while (p < to && n < trace::kMaxErrorRuns) {
    if ((reinterpret_cast<uintptr_t>(p) & 7) == 0 && to - p >= 8) {
      uint64_t v;
      memcpy(&v, p, 8);
      if (v == w) {
        p += 8;
        continue;
      }
    }
    if (*p == want) {
      ++p;
      continue;
    }
    const uint8_t* s = p;
    while (p < to && *p != want && static_cast<size_t>(p - s) < trace::kMaxErrorRunBytes)
      ++p;
    runs[n++] = trace::ErrorRun{static_cast<uint64_t>(s - reinterpret_cast<const uint8_t*>(c)),
                                static_cast<size_t>(p - s), repeated<P>(want), s};
  }
  return n;
}

template <class P>
void Checks<P>::report(trace::ErrorCode code, Kind kind, const char* msg, const void* ptr, const void* chunk,
                       const trace::ErrorRun* runs, size_t nruns, bool glibc_msg, bool* found) {
  if (found) {
    *found = true;
    return;
  }
  m_->hooks_.report(code, kind, msg, ptr, chunk, runs, nruns, continue_,
                    glibc_msg ? trace::HeapErrorSource::Glibc : trace::HeapErrorSource::Heapviz);
  if (!continue_) m_->plat_.fatal(msg, glibc_msg ? ptr : nullptr); // glibc's message: its address line too
  raw_write(2, msg);
  raw_write(2, "\n");
}

// ---- Live blocks: the canary, the block's own header and the next one's ------------------------

template <class P> void Checks<P>::allocated(void* mem, size_t req) {
  if (!mem) return;
  Chunk* c = mem2chunk(mem);
  uint32_t* slot = table_.slot(c, true);
  uint32_t e = slot ? __atomic_load_n(slot, __ATOMIC_ACQUIRE) : 0;
  if (CheckTable::freed(e) && !freed_clean(c, e, reinterpret_cast<char*>(c) + c->size()))
    check_freed(c, e, reinterpret_cast<char*>(c) + c->size(), "malloc");
  size_t size = c->size();
  size_t usable = c->is_mmapped() ? size - kHdr : size - kSizeSz;
  if (slot)
    __atomic_store_n(slot,
                     c->is_mmapped() ? CheckTable::make_live(req, 0, false) | 3u << 27
                                     : CheckTable::make_live(req, size, c->non_main()),
                     __ATOMIC_RELEASE);
  if (req < usable)
    fill_bytes(static_cast<uint8_t*>(mem) + req, static_cast<uint8_t*>(mem) + usable, kCanary);
}

// The header after a live block of `size` (its chunk c): false when it is as it should be (see
// live_checks); else *expect and *found say what it should hold and what it holds.
template <class P>
bool Checks<P>::next_header_bad(Chunk* c, size_t size, uint64_t* expect_out, uint64_t* found_out) {
  // The next chunk: in use (P set, since this block is), not mmapped; its size as the table says.
  Chunk* nx = c->at(static_cast<ptrdiff_t>(size));
  Arena* av = c->non_main() ? heap_for_ptr(c)->ar_ptr : &m_->main_arena_;
  if (nx == __atomic_load_n(&av->top, __ATOMIC_RELAXED)) return false; // top: glibc checks its size
  // Its header must be plausible: P set (this block is in use), M clear, a size that is a
  // multiple of 16 (no A test: glibc sets A on in-use chunks only). Its exact size is compared
  // with the table when its word shares a cache line with this block's (a chunk of up to 256
  // bytes before it): an overflow that writes a plausible size over a farther header is caught
  // when that chunk is freed (its own header check).
  const uint64_t found = nx->size_nomask(), sz = found & ~kSizeBits;
  *found_out = found;
  bool bad = (found & (kPrevInuse | kIsMmapped)) != kPrevInuse || (sz & kAlignMask) != 0 || (sz >> 40) != 0;
  uint64_t expect = (sz & ~kAlignMask) | kPrevInuse | (found & kNonMainArena);
  if (bad) { // (a report: what the table says it should hold, when it knows; else the guess above)
    uint32_t en = table_.get(nx);
    if (CheckTable::live(en) && CheckTable::size_known(en))
      expect = CheckTable::live_size(en) | kPrevInuse | (CheckTable::live_non_main(en) ? kNonMainArena : 0);
    else if (CheckTable::freed(en) && CheckTable::freed_size(en))
      expect = CheckTable::freed_size(en) | kPrevInuse | (found & kNonMainArena);
  }
  if (!bad && (reinterpret_cast<uintptr_t>(nx) >> 8) == (reinterpret_cast<uintptr_t>(c) >> 8)) {
    const bool single = m_->plat_.single_threaded();
    uint32_t e1 = table_.get(nx);
    uint32_t e2 = single ? e1 : table_.get(nx); // (threaded: an entry that changes is skipped)
    if (e1 == e2 && CheckTable::live(e1) && CheckTable::size_known(e1)) {
      expect = CheckTable::live_size(e1) | kPrevInuse | (CheckTable::live_non_main(e1) ? kNonMainArena : 0);
      bad = found != expect;
    } else if (e1 == e2 && CheckTable::freed(e1) && single && CheckTable::freed_size(e1)) {
      expect = CheckTable::freed_size(e1) | kPrevInuse | (found & kNonMainArena);
      bad = found != expect; // (threaded: a merge may be between its entry and its header)
    }
  }
  *expect_out = expect;
  return bad;
}

// The live block whose chunk ends at c (at most 4 KiB before it), by the table: a heap chunk's
// start is not written anywhere while it is in use. Null if none (or c is a region's first).
template <class P> Chunk* Checks<P>::live_block_before(Chunk* c, uint32_t* e_out) {
  for (size_t d = kMinSize; d <= 4096; d += kAlignMask + 1) {
    Chunk* p = reinterpret_cast<Chunk*>(reinterpret_cast<char*>(c) - d);
    if (!table_.block_known(p)) break; // (the table has no page there: no block either)
    uint32_t e = table_.get(p);
    if (CheckTable::live(e) && CheckTable::size_known(e) && CheckTable::live_size(e) == d) {
      *e_out = e;
      return p;
    }
  }
  return nullptr;
}

template <class P>
bool Checks<P>::header_overwritten(const void* mem, uint64_t* found, uint64_t* expect, Chunk** before,
                                   uint32_t* pe) {
  if (!mem || (reinterpret_cast<uintptr_t>(mem) & kAlignMask) != 0) return false;
  Chunk* c = mem2chunk(const_cast<void*>(mem));
  const uint32_t e = table_.get(c);
  if (!CheckTable::live(e) || !CheckTable::size_known(e)) return false;
  const size_t want = CheckTable::live_size(e) | (CheckTable::live_non_main(e) ? kNonMainArena : 0);
  if ((c->size_nomask() & ~kPrevInuse) == want) return false;
  *pe = 0;
  *before = live_block_before(c, pe);
  *found = c->size_nomask();
  *expect = want | (*before ? kPrevInuse : *found & kPrevInuse); // (P: unknown without a live block before)
  return true;
}

template <class P>
const char* Checks<P>::header_note(uint64_t found, uint64_t expect, Chunk* before, uint32_t pe, char* out,
                                   size_t cap) {
  Msg msg;
  msg.s("heapviz: its header was overwritten: the size word holds ")
      .x(found)
      .s(", ")
      .x(expect)
      .s(" when it was handed out");
  if (before) say_block_before(msg, before, pe);
  size_t n = msg.n < cap - 1 ? msg.n : cap - 1;
  memcpy(out, msg.b, n);
  out[n] = 0;
  return out;
}

// The canary, the block's own size and flags, and the next chunk's, against what the table says.
// False after a report (continue mode: the block is left alone).
template <class P>
bool Checks<P>::live_checks(Chunk* c, uint32_t e, const char* when, bool* dry, bool* glibc_sees) {
  char* mem = static_cast<char*>(chunk2mem(c));
  // What the block is, from the table when it knows the size (a block from the heap): its header
  // may be the very thing overwritten, M bit included.
  const bool sized = CheckTable::size_known(e);
  const bool mm = !sized && c->is_mmapped();
  const size_t size = sized ? CheckTable::live_size(e) : c->size();
  trace::ErrorRun runs[trace::kMaxErrorRuns];
  // The block's own header first: a size that lies would misplace every other check.
  if (sized) {
    size_t want = size | (CheckTable::live_non_main(e) ? kNonMainArena : 0);
    size_t got = c->size_nomask() & ~kPrevInuse;
    if (got != want) {
      // glibc's own check sees a header this bad at this very call (munmap_chunk(): invalid
      // pointer, free(): invalid size): its verdict and message come first (docs/checks.md).
      const bool releasing = !strcmp(when, "free") || !strcmp(when, "realloc");
      const char* g = releasing && !dry ? glibc_entry_message(c, !strcmp(when, "realloc")) : nullptr;
      if (g && !continue_ && glibc_sees) {
        *glibc_sees = true;
        return true;
      }
      // The likely writer: the live block that ends at this header (then P should be set).
      uint32_t pe = 0;
      Chunk* before = live_block_before(c, &pe);
      uint64_t found = c->size_nomask(), expect = want | (before ? kPrevInuse : found & kPrevInuse);
      runs[0] = {kSizeSz, kSizeSz, reinterpret_cast<const uint8_t*>(&expect),
                 reinterpret_cast<const uint8_t*>(&found)};
      Msg msg;
      if (g) { // continue mode: glibc's verdict at this call, as by default, and the checks' note
        msg.s(g);
      } else {
        msg.s("heapviz: heap buffer overflow: the header of block ")
            .x(reinterpret_cast<uintptr_t>(mem))
            .s(" was overwritten (found at ")
            .s(when)
            .s(")");
        if (before) say_block_before(msg, before, pe);
      }
      report(trace::ErrorCode::CorruptedSize, Kind::HeapBufferOverflow, msg.b, mem, c, runs, 1, g != nullptr,
             dry);
      if (dry) return false;
      if (g) {
        char note[trace::kMaxErrorMessage];
        raw_write(2, header_note(found, expect, before, pe, note, sizeof note));
        raw_write(2, "\n");
      }
      // Continue mode: the header as it was handed out, so that one overflow is one report (the
      // block before it, at its free, and the sweep at exit would find it again); the free is
      // skipped. Only where the whole word is known (a live block before it: P set) and no other
      // thread may be writing it (its P bit, when the block before is freed).
      if (before && m_->plat_.single_threaded()) c->set_head(expect);
      return false;
    }
  }
  if (CheckTable::req_known(e)) {
    size_t req = CheckTable::req(e), usable = mm ? size - kHdr : size - kSizeSz;
    if (req < usable) {
      const uint8_t* from = reinterpret_cast<uint8_t*>(mem + req);
      const uint8_t* to = reinterpret_cast<uint8_t*>(mem + usable);
      size_t n = all_bytes(from, to, kCanary) ? 0 : diff_runs(c, from, to, kCanary, runs);
      if (n) {
        // Where the written bytes lie past the end: "1 byte written past the end" for a write
        // right after it (an off-by-one read "0 bytes after the block", as if nothing was).
        const uint64_t first = runs[0].offset - kHdr - req,
                       last = runs[n - 1].offset + runs[n - 1].len - kHdr - req;
        Msg msg;
        msg.s("heapviz: heap buffer overflow: ");
        if (first == 0)
          msg.bytes(last).s(" written past the end of block ");
        else
          msg.s("bytes ").u(first).s(" to ").u(last - 1).s(" past the end of block ");
        msg.x(reinterpret_cast<uintptr_t>(mem)).s(" of ").bytes(req);
        if (first != 0) msg.s(" written");
        msg.s(" (found at ").s(when).s(")");
        report(trace::ErrorCode::Other, Kind::HeapBufferOverflow, msg.b, mem, c, runs, n, false, dry);
        if (dry) return false;
        // Continue mode: the slack is none of the allocator's, so the call goes on as under glibc
        // (a free that was skipped would leave the block live, to be reported again at exit),
        // with the canary restored; the headers are still checked below.
        for (uint8_t* p = const_cast<uint8_t*>(from); p < to; ++p)
          *p = kCanary;
      }
    }
  }
  if (!sized) return true;
  uint64_t expect = 0, found = 0;
  if (!next_header_bad(c, size, &expect, &found)) return true;
  // Threaded: another thread may be rewriting the next chunk this moment (glibc's malloc moves
  // av->top before it writes the old top's new header; a free or realloc writes a header before
  // the table says what the chunk is). A finding stands only if it still holds a moment later,
  // three times: a real overwrite stays (a clean 4-thread churn failed about 1 run in 7 without).
  if (!m_->plat_.single_threaded())
    for (int round = 0; round < 3; ++round) {
      sched_yield();
      if (!next_header_bad(c, size, &expect, &found)) return true;
    }
  runs[0] = {size + kSizeSz, kSizeSz, reinterpret_cast<const uint8_t*>(&expect),
             reinterpret_cast<const uint8_t*>(&found)};
  report(trace::ErrorCode::CorruptedSize, Kind::HeapBufferOverflow,
         Msg()
             .s("heapviz: heap buffer overflow: the header after block ")
             .x(reinterpret_cast<uintptr_t>(mem))
             .s(" was overwritten (found at ")
             .s(when)
             .s(")")
             .b,
         mem, c, runs, 1, false, dry);
  // Continue mode: the next header as the table knows it, once more (one overflow, one report):
  // its size from the table, P set (this block is in use), its A bit this block's (one heap, one
  // arena; the word found may hold any bits). Left as found when the table does not know that
  // chunk, or when another thread may be merging or handing it out.
  if (!dry && m_->plat_.single_threaded()) {
    Chunk* nx = c->at(static_cast<ptrdiff_t>(size));
    const uint32_t en = table_.get(nx);
    const size_t a_bit = CheckTable::live_non_main(e) ? kNonMainArena : 0;
    if (CheckTable::live(en) && CheckTable::size_known(en))
      nx->set_head(CheckTable::live_size(en) | kPrevInuse | a_bit);
    else if (CheckTable::freed(en) && CheckTable::freed_size(en))
      nx->set_head(CheckTable::freed_size(en) | kPrevInuse | a_bit);
  }
  return false;
}

// ---- Freed chunks: the pattern ------------------------------------------------------------------

template <class P> inline bool Checks<P>::freed_clean(Chunk* c, uint32_t e, char* end) const {
  if (!pattern_ok() || !CheckTable::freed_size(e)) return true;
  char* from = reinterpret_cast<char*>(c) + kHdr + CheckTable::freed_links(e);
  char* lim = pattern_end(c, CheckTable::freed_size(e));
  if (end > lim) end = lim;
  return end <= from || all_bytes(reinterpret_cast<uint8_t*>(from), reinterpret_cast<uint8_t*>(end), kFree);
}

template <class P> void Checks<P>::check_freed(Chunk* c, uint32_t e, char* end, const char* when, bool* dry) {
  if (!pattern_ok() || !CheckTable::freed_size(e)) return;
  char* from = reinterpret_cast<char*>(c) + kHdr + CheckTable::freed_links(e);
  char* lim = pattern_end(c, CheckTable::freed_size(e));
  if (end > lim) end = lim;
  if (end <= from) return;
  trace::ErrorRun runs[trace::kMaxErrorRuns];
  const uint8_t* f8 = reinterpret_cast<uint8_t*>(from);
  const uint8_t* e8 = reinterpret_cast<uint8_t*>(end);
  if (all_bytes(f8, e8, kFree)) return;
  size_t n = diff_runs(c, f8, e8, kFree, runs);
  if (!n) return;
  char* mem = static_cast<char*>(chunk2mem(c));
  report(trace::ErrorCode::Other, Kind::WriteAfterFree,
         Msg()
             .s("heapviz: write after free: ")
             .bytes(runs[0].len)
             .s(" at offset ")
             .u(runs[0].offset - kHdr)
             .s(" of the freed block ")
             .x(reinterpret_cast<uintptr_t>(mem))
             .s(" changed (found at ")
             .s(when)
             .s(")")
             .b,
         mem, c, runs, n, false, dry);
  if (!dry) fill(from, end, kFree); // continue mode: reported once
}

template <class P> void Checks<P>::int_malloc_out(void* mem) {
  if (!mem) return;
  Chunk* c = mem2chunk(mem);
  if (c->is_mmapped()) return;
  uint32_t e = table_.get(c);
  if (CheckTable::freed(e) && !freed_clean(c, e, reinterpret_cast<char*>(c) + c->size()))
    check_freed(c, e, reinterpret_cast<char*>(c) + c->size(), "malloc");
  if (e) table_.set(c, 0); // the API layer (or the allocator) says what it is now
}

template <class P> void Checks<P>::internal_free(Chunk* c, size_t size) {
  if (!c->is_mmapped()) fill_freed(c, size);
}

template <class P> void Checks<P>::merged(Chunk* result, size_t size, Chunk* gone, bool into_top) {
  uint32_t er = table_.get(result), eg = table_.get(gone);
  char* gone_end = reinterpret_cast<char*>(gone) + gone->size();
  if (CheckTable::freed(eg) && !freed_clean(gone, eg, gone_end)) check_freed(gone, eg, gone_end, "a merge");
  if (eg) table_.set(gone, 0);
  if (into_top) {
    char* end = reinterpret_cast<char*>(result) + CheckTable::freed_size(er);
    if (CheckTable::freed(er) && !freed_clean(result, er, end)) check_freed(result, er, end, "a merge");
    if (er) table_.set(result, 0);
    return;
  }
  if (CheckTable::live(er)) return; // realloc grew the block over a free neighbour
  if ((CheckTable::freed(er) && !CheckTable::freed_size(er)) ||
      (CheckTable::freed(eg) && !CheckTable::freed_size(eg))) {
    table_.set(result, CheckTable::kFreed); // part of it holds no pattern (released pages): unknown
    return;
  }
  // A free chunk grew over `gone`: its pattern now reaches further (up to its bound), over what
  // was gone's header and links; a result that held no pattern gets one.
  if (gone < result) { // (never: glibc merges into the lower chunk)
    table_.set(result, 0);
    return;
  }
  char* from = CheckTable::freed(er) ? reinterpret_cast<char*>(result) + CheckTable::freed_size(er)
                                     : reinterpret_cast<char*>(result) + kHdr + CheckTable::links(size);
  char* first = reinterpret_cast<char*>(result) + kHdr + CheckTable::links(size);
  fill(from > first ? from : first, pattern_end(result, size), kFree);
  table_.set(result, CheckTable::make_freed(size));
}

template <class P> void Checks<P>::split_free(Chunk* c, size_t nb) {
  // The rest, a new free chunk whose header and links the allocator just wrote: its pattern.
  Chunk* r = c->at(static_cast<ptrdiff_t>(nb));
  size_t rest = r->size();
  fill(r->at(static_cast<ptrdiff_t>(kHdr + CheckTable::links(rest))), pattern_end(r, rest), kFree);
  table_.set(r, CheckTable::make_freed(rest));
}

// ---- free and realloc: what the pointer is -------------------------------------------------------

// The message glibc's first checks give for this pointer (free_body's and _int_free's entry, or
// realloc's), or nullptr: those checks pass and glibc goes on.
template <class P> const char* Checks<P>::glibc_entry_message(Chunk* c, bool realloc) {
  size_t size = c->size();
  uintptr_t a = reinterpret_cast<uintptr_t>(c);
  // __libc_free and __libc_realloc find the arena before their checks: with the A bit set (and
  // M clear) glibc reads the heap header at heap_for_ptr(c). Where no heap, table page or mapping
  // heapviz knows is there, that read faults (SIGSEGV: a stack block with a word like 0x...55
  // before it): glibc prints none of the lines below, so none is its verdict here.
  if (!c->is_mmapped() && c->non_main()) {
    Chunk* h = reinterpret_cast<Chunk*>(heap_for_ptr(c));
    if (!m_->in_main_range(h) && !table_.block_known(h) &&
        !m_->mmapped_.contains(reinterpret_cast<uintptr_t>(h)))
      return nullptr;
  }
  if (realloc) {
    if (a > static_cast<uintptr_t>(0) - size || misaligned_chunk(c)) return "realloc(): invalid pointer";
    return nullptr;
  }
  if (c->is_mmapped()) {
    const size_t ps = m_->plat_.pagesize();
    uintptr_t block = a - c->prev_size();
    size_t total = c->prev_size() + size;
    uintptr_t mem = a + kHdr;
    if (((block | total) & (ps - 1)) != 0 || ((mem & (ps - 1)) & ((mem & (ps - 1)) - 1)) != 0)
      return "munmap_chunk(): invalid pointer";
    return nullptr;
  }
  if (a > static_cast<uintptr_t>(0) - size || misaligned_chunk(c)) return "free(): invalid pointer";
  if (size < kMinSize || !aligned_ok(size)) return "free(): invalid size";
  return nullptr;
}

// A freed chunk freed again: does glibc's free see it at this call? Its tcache key (the chunk is
// in this thread's tcache), fasttop (it heads its fastbin), or the bins' top and !prev checks.
template <class P> bool Checks<P>::glibc_catches_double_free(Chunk* c) {
  ThreadState& ts = m_->plat_.thread();
  const size_t size = c->size();
  size_t tc_idx = csize2tidx(size);
  if (ts.tcache && tc_idx < m_->mp_.tcache_bins) {
    auto* e = static_cast<TcacheEntry*>(chunk2mem(c));
    if (e->key == m_->tcache_key_) {
      size_t cnt = 0;
      for (TcacheEntry* t = ts.tcache->entries[tc_idx]; t && cnt <= m_->mp_.tcache_count;
           t = reveal_ptr(&t->next), ++cnt)
        if (t == e || !aligned_ok(reinterpret_cast<uintptr_t>(t))) return true;
    }
    if (ts.tcache->counts[tc_idx] < m_->mp_.tcache_count) return false; // the tcache takes it again
  }
  Arena* av = c->non_main() ? heap_for_ptr(c)->ar_ptr : &m_->main_arena_;
  if (size <= m_->global_max_fast_)
    return __atomic_load_n(av->fastbin(fastbin_index(size)), __ATOMIC_RELAXED) == c;
  if (c->is_mmapped()) return false;
  if (c == __atomic_load_n(&av->top, __ATOMIC_RELAXED)) return true;
  return !c->at(static_cast<ptrdiff_t>(size))->prev_inuse();
}

// The live block whose bytes hold c's user pointer (scanning the table back up to 1 MiB), or
// nullptr.
template <class P> Chunk* Checks<P>::container(Chunk* c, uint32_t* e_out) {
  char* mem = static_cast<char*>(chunk2mem(c));
  char* s = reinterpret_cast<char*>(c) - kAlign;
  for (int i = 0; i < (1 << 16) && s > reinterpret_cast<char*>(kAlign); ++i, s -= kAlign) {
    if (!table_.block_known(s)) {
      if ((reinterpret_cast<uintptr_t>(s) & ((size_t(1) << CheckTable::kL1Shift) - 1)) == 0) continue;
      return nullptr;
    }
    uint32_t e = table_.get(s);
    if (!e) continue;
    Chunk* k = reinterpret_cast<Chunk*>(s);
    size_t size = CheckTable::live(e) ? (CheckTable::size_known(e) ? CheckTable::live_size(e) : k->size())
                                      : CheckTable::freed_size(e);
    if (mem < s + size + kSizeSz) {
      *e_out = e;
      return k;
    }
    return nullptr;
  }
  return nullptr;
}

template <class P> bool Checks<P>::in_some_heap(Chunk* c) {
  if (m_->in_main_range(c) || table_.block_known(c)) return true;
  return m_->mmapped_.contains(reinterpret_cast<uintptr_t>(c));
}

template <class P> inline bool Checks<P>::free_clean(Chunk* c) {
  uint32_t* slot = table_.slot(c, false);
  if (!slot) return false;
  const uint32_t e = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
  // (An mmapped block's entry never has a known size: the full path.)
  if (!CheckTable::live(e) || !CheckTable::size_known(e)) return false;
  const size_t size = CheckTable::live_size(e);
  if ((c->size_nomask() & ~kPrevInuse) != (size | (CheckTable::live_non_main(e) ? kNonMainArena : 0)))
    return false;
  const size_t req = CheckTable::req(e), usable = size - kSizeSz;
  uint8_t* mem = static_cast<uint8_t*>(chunk2mem(c));
  if (req < usable && !all_bytes(mem + req, mem + usable, kCanary)) return false;
  uint64_t expect, found;
  if (next_header_bad(c, size, &expect, &found)) return false;
  fill(c->at(static_cast<ptrdiff_t>(kHdr + CheckTable::links(size))), pattern_end(c, size), kFree);
  __atomic_store_n(slot, CheckTable::make_freed(size), __ATOMIC_RELEASE);
  return true;
}

// free(mem) or realloc(mem, n): the table says what mem is. Returns false when the call must not
// go on (reported, continue mode); reports and aborts in the default mode.
template <class P> bool Checks<P>::check_release(void* mem, bool realloc) {
  Chunk* c = mem2chunk(mem);
  const char* call = realloc ? "realloc" : "free";
  uint32_t e = table_.get(c);
  if (CheckTable::live(e)) {
    bool glibc_sees = false;
    if (!live_checks(c, e, call, nullptr, &glibc_sees)) return false;
    if (glibc_sees) return true; // (its header lies: filling by it would write past the chunk)
    if (realloc) {
      table_.set(c, CheckTable::busy(e)); // its size may change before after_realloc says what it is
    } else if (c->is_mmapped()) {
      table_.set(c, 0);
    } else {
      fill_freed(c, c->size());
    }
    return true;
  }
  if (CheckTable::freed(e)) {
    // glibc's own check sees it at this call: its message (and its report) unless going on.
    if (!realloc && !continue_ && glibc_catches_double_free(c)) return true;
    report(trace::ErrorCode::DoubleFree, Kind::DoubleFree,
           realloc ? Msg().s("heapviz: realloc of a freed block ").x(reinterpret_cast<uintptr_t>(mem)).b
                   : Msg()
                         .s("heapviz: double free of ")
                         .x(reinterpret_cast<uintptr_t>(mem))
                         .s(" (the block is already free)")
                         .b,
           mem, c, nullptr, 0, false);
    return false;
  }
  // Not a block heapviz handed out: outside every heap, inside a live block, or (merged away, or
  // top) a free chunk, which glibc's own checks see.
  bool inside = in_some_heap(c);
  uint32_t ce = 0;
  Chunk* k = inside ? container(c, &ce) : nullptr;
  if (inside && !(k && CheckTable::live(ce))) return true;
  const char* g = glibc_entry_message(c, realloc); // (reads the header, as glibc would)
  Msg msg;
  if (g) {
    msg.s(g);
  } else {
    msg.s("heapviz: invalid ").s(call).s(" of ").x(reinterpret_cast<uintptr_t>(mem));
    if (k)
      msg.s(" (")
          .u(static_cast<uint64_t>(static_cast<char*>(mem) - static_cast<char*>(chunk2mem(k))))
          .s(" bytes inside the block ")
          .x(reinterpret_cast<uintptr_t>(chunk2mem(k)))
          .s(")");
    else
      msg.s(" (not in any heap)");
  }
  report(trace::ErrorCode::InvalidPointer, Kind::InvalidFree, msg.b, mem, k, nullptr, 0, g != nullptr);
  return false;
}

template <class P> void Checks<P>::after_realloc(void* old, void* result, size_t req) {
  Chunk* c = mem2chunk(old);
  if (result == old) {
    allocated(result, req);
    return;
  }
  if (!result) { // failed: the old block is as it was
    uint32_t e = table_.get(c);
    if (CheckTable::live(e))
      table_.set(c, CheckTable::make_live(CheckTable::req(e), c->size(), c->non_main()));
    return;
  }
  allocated(result, req); // (the old block was freed inside, or unmapped)
}

// ---- At exit --------------------------------------------------------------------------------------

// One chunk at exit. Other threads may still run (and free, without a lock, through the tcache):
// a finding is checked again after they have had time to finish what they were doing.
template <class P> void Checks<P>::sweep_one(Chunk* c, size_t size) {
  for (int round = 0;; ++round) {
    uint32_t e = table_.get(c);
    bool found = false;
    bool* dry = round < 3 ? &found : nullptr;
    if (CheckTable::live(e))
      live_checks(c, e, "exit", dry);
    else if (CheckTable::freed(e))
      check_freed(c, e, reinterpret_cast<char*>(c) + size, "exit", dry);
    if (!found || !dry) return;
    sched_yield();
  }
}

template <class P> void Checks<P>::sweep() {
  // Outside any call: the reports carry no stack (not the stack of the thread's last call).
  if (TraceThread* t = m_->plat_.thread().trace) t->enc.call_stack = 0;
  void* wmem =
      ::mmap(nullptr, sizeof(HeapWalk<P>), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (wmem == MAP_FAILED) return;
  auto* w = new (wmem) HeapWalk<P>(*m_);
  m_->lock_all();
  w->build_locked();
  w->for_each_chunk([&](const auto& v) {
    if (v.state == trace::ChunkState::Top || v.state == trace::ChunkState::Fence) return true;
    sweep_one(v.chunk, v.size);
    return true;
  });
  m_->unlock_all();
  m_->mmapped_.for_each([&](uintptr_t a) {
    Chunk* c = reinterpret_cast<Chunk*>(a);
    sweep_one(c, c->size());
  });
  w->~HeapWalk<P>();
  ::munmap(wmem, sizeof(HeapWalk<P>));
}

} // namespace hv::alloc
