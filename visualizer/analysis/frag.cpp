// frag.cpp - see frag.h.
#include "analysis/frag.h"

#include <algorithm>
#include <map>

namespace hv::analysis {

namespace {
using trace::ChunkState;
bool is_free(uint8_t s) {
  return trace::is_binned(s) || s == uint8_t(ChunkState::Top);
}

// mtrim's madvise for one free chunk: its whole pages from the first boundary at or past its
// list words to its end, less the pages already handed back.
void mtrim_chunk(const model::HeapModel& m, uint64_t addr, uint64_t size, uint64_t page, FragReport& r) {
  uint64_t from = (addr + model::ReleasedPages::kListBytes + page - 1) & ~(page - 1);
  uint64_t end = addr + size;
  if (end <= from || (end - from) / page == 0) return;
  uint64_t to = from + (end - from) / page * page;
  uint64_t fresh = (to - from) - m.released().bytes_in(from, to);
  r.trim_free_bytes += fresh;
  r.trim_free_chunks += fresh > 0;
}

// What malloc_trim(0) would hand back, as glibc 2.36's mtrim does it in each arena:
// malloc_consolidate first (every fastbin chunk merges with its free neighbours, and into the
// top), then madvise of the whole pages inside each chunk of the bins, then (the main arena's)
// systrim of the top. So a run of contiguous free chunks (fastbin, bins, top; a tcache chunk is
// in use for its arena) with a fastbin chunk in it is one chunk by then: the top if it ends in
// the top. Sets r.trim_free_* and each top's trimmable.
void malloc_trim_estimate(const model::HeapModel& m, const std::vector<model::Chunk>& chunks, uint64_t page,
                          FragReport& r) {
  enum Kind { Other, Fast, Binned, Top };
  auto kind = [](const model::Chunk& c) {
    switch (ChunkState(c.state)) {
    case ChunkState::Fast:
      return Fast;
    case ChunkState::Unsorted:
    case ChunkState::Small:
    case ChunkState::Large:
      return Binned;
    case ChunkState::Top:
      return Top;
    default:
      return Other;
    }
  };
  for (size_t i = 0; i < chunks.size();) {
    if (kind(chunks[i]) == Other) {
      ++i;
      continue;
    }
    size_t j = i + 1; // the run [i, j): contiguous free chunks of one arena
    while (j < chunks.size() && kind(chunks[j]) != Other && chunks[j].arena == chunks[i].arena &&
           chunks[j].addr == chunks[j - 1].addr + chunks[j - 1].size)
      ++j;
    bool fast = false, top = false;
    for (size_t k = i; k < j; ++k) {
      fast |= kind(chunks[k]) == Fast;
      top |= kind(chunks[k]) == Top;
    }
    const uint64_t lo = chunks[i].addr, hi = chunks[j - 1].addr + chunks[j - 1].size;
    uint64_t top_size = 0;
    if (fast && !top) {
      mtrim_chunk(m, lo, hi - lo, page, r); // consolidated into one chunk, in the unsorted bin
    } else if (fast) {
      top_size = hi - lo; // consolidated into the top
    } else {
      for (size_t k = i; k < j; ++k)
        if (kind(chunks[k]) == Binned)
          mtrim_chunk(m, chunks[k].addr, chunks[k].size, page, r);
        else if (kind(chunks[k]) == Top)
          top_size = chunks[k].size;
    }
    // systrim: extra = ALIGN_DOWN(top_size - pad - MINSIZE - 1, pagesize), the main arena only.
    if (top && chunks[i].arena == 0)
      for (FragReport::Top& t : r.tops)
        if (t.arena == 0) t.trimmable = top_size > 33 ? (top_size - 33) / page * page : 0;
    i = j;
  }
}
} // namespace

FragReport fragmentation(const model::HeapModel& m, const SiteTable& sites, uint64_t page) {
  FragReport r;
  model::Metrics mt = m.metrics();
  r.footprint = mt.heap_bytes;
  r.live_bytes = mt.live_bytes;
  r.free_bytes = mt.free_bytes;
  if (page == 0) page = 4096;
  std::vector<model::Chunk> chunks = m.chunks_sorted();
  std::vector<model::Region> regions = m.regions_sorted();
  auto site_of = [&](const model::Chunk& c) -> int64_t {
    return c.state == uint8_t(ChunkState::InUse) && !c.internal ? sites.live_site(c.addr + 16) : -1;
  };
  for (const model::Chunk& c : chunks) {
    r.chunks_by_state[c.state < trace::kNumChunkStates ? c.state : 0]++;
    if (trace::is_binned(c.state)) r.free_by_state[c.state] += c.size;
    if (c.state == uint8_t(ChunkState::Top)) {
      r.top_bytes += c.size;
      FragReport::Top t;
      t.arena = c.arena;
      t.addr = c.addr;
      t.size = c.size;
      t.trimmable = 0; // (malloc_trim_estimate)
      r.tops.push_back(t);
    }
  }
  malloc_trim_estimate(m, chunks, page, r);
  r.released_bytes = m.released_bytes();
  // By arena (chunks come in address order: a later arena's heap may sit below an earlier one's).
  std::stable_sort(r.tops.begin(), r.tops.end(),
                   [](const FragReport::Top& a, const FragReport::Top& b) { return a.arena < b.arena; });
  // The chunk right below each top.
  for (FragReport::Top& t : r.tops) {
    auto it = std::lower_bound(chunks.begin(), chunks.end(), t.addr,
                               [](const model::Chunk& c, uint64_t a) { return c.addr < a; });
    if (it != chunks.begin()) {
      const model::Chunk& b = *(it - 1);
      if (b.addr + b.size == t.addr) {
        t.below = true;
        t.below_chunk = b;
        t.below_site = site_of(b);
      }
    }
  }
  // Runs of contiguous chunks (a gap between two chunks, such as between two heaps, ends every
  // run: nothing merges across it).
  struct Run {
    bool free;
    int64_t site; // used runs: the one site of all its chunks (-1: unknown), or -2 for a gap
    uint64_t free_bytes;
    size_t first, last; // chunk indices
  };
  std::vector<Run> runs;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const model::Chunk& c = chunks[i];
    if (c.state == uint8_t(ChunkState::Mmapped)) continue;
    bool f = is_free(c.state);
    uint64_t fb = f && c.state != uint8_t(ChunkState::Top) ? c.size : 0;
    int64_t s = f ? 0 : site_of(c);
    bool contiguous = !runs.empty() && runs.back().site != -2 &&
                      chunks[runs.back().last].addr + chunks[runs.back().last].size == c.addr;
    if (contiguous && runs.back().free == f && (f || runs.back().site == s)) {
      runs.back().last = i;
      runs.back().free_bytes += fb;
      continue;
    }
    if (!contiguous && !runs.empty()) runs.push_back(Run{false, -2, 0, i, i}); // a gap
    runs.push_back(Run{f, s, fb, i, i});
  }
  // Used runs of one site between two free runs (or a free run and the top) pin them.
  std::map<int64_t, FragReport::Blame> blame;
  std::map<int64_t, std::vector<size_t>> counted; // free runs already counted, per site
  for (size_t k = 1; k + 1 < runs.size(); ++k) {
    const Run& u = runs[k];
    if (u.free || u.site == -2) continue;
    const Run &a = runs[k - 1], &b = runs[k + 1];
    if (!a.free || !b.free) continue;
    if (!(a.free_bytes || b.free_bytes)) continue;
    FragReport::Blame& bl = blame[u.site];
    bl.site = u.site;
    auto& seen = counted[u.site];
    for (size_t fk : {k - 1, k + 1}) {
      const Run& fr = runs[fk];
      if (std::find(seen.begin(), seen.end(), fk) != seen.end() || fr.free_bytes == 0) continue;
      seen.push_back(fk);
      bl.pinned_bytes += fr.free_bytes;
      ++bl.pinned_runs;
      for (size_t i = fr.first; i <= fr.last; ++i)
        if (chunks[i].state != uint8_t(ChunkState::Top)) bl.pinned.push_back(chunks[i].addr);
    }
    for (size_t i = u.first; i <= u.last; ++i) {
      bl.pinning.push_back(chunks[i].addr);
      ++bl.chunks;
    }
  }
  for (auto& [site, b] : blame)
    r.blame.push_back(std::move(b));
  std::stable_sort(
      r.blame.begin(), r.blame.end(),
      [](const FragReport::Blame& a, const FragReport::Blame& b) { return a.pinned_bytes > b.pinned_bytes; });
  return r;
}

} // namespace hv::analysis
