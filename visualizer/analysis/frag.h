// frag.h - why a heap's footprint is larger than what is live: the top and what keeps it from
// shrinking, free memory by bin, and the blame: which allocation sites keep free memory apart.
//
// Owns: FragReport, computed from the replayed heap (model) and the live blocks' sites
// (sites.h) at one position. The blame's rule (docs/cli.md, `heapviz frag`): walking each heap
// region in address order, free chunks (any bin, and top) form free runs and in-use chunks form
// used runs; a used run whose chunks all belong to one site S, with a free run on each side (or
// top on one), keeps those free runs apart: freeing S's chunks would merge them into one larger
// run, or into the top. S's pinned bytes are the free runs' bytes (top's own excluded), each
// counted once per site.
// Must not: print, symbolize, or replay (callers hand it the model and the site table).
#pragma once

#include "analysis/sites.h"
#include "model/heap_model.h"

#include <cstdint>
#include <vector>

namespace hv::analysis {

struct FragReport {
  uint64_t footprint = 0, live_bytes = 0, free_bytes = 0, top_bytes = 0;
  uint64_t free_by_state[trace::kNumChunkStates] = {}; // bytes per state: tcache ... largebin
  uint64_t chunks_by_state[trace::kNumChunkStates] = {};
  struct Top { // per arena with a top
    uint32_t arena = 0;
    uint64_t addr = 0, size = 0;
    // What malloc_trim(0) gives back from the top: the main arena's only (glibc's systrim: whole
    // pages of size - MINSIZE - 1, the size after malloc_consolidate merged fastbin chunks into
    // it); other arenas' tops shrink in free(), never in malloc_trim.
    uint64_t trimmable = 0;
    // The chunk right below the top (what keeps it from growing downwards), if any.
    bool below = false;
    model::Chunk below_chunk{};
    int64_t below_site = -1; // its site if it is a live block (-1: none known)
  };
  std::vector<Top> tops;
  // What malloc_trim(0) would hand back from free chunks (glibc 2.36's mtrim: in every arena,
  // malloc_consolidate first, so a run of free chunks with a fastbin chunk in it is one chunk, or
  // part of the top; then for each chunk of the bins, madvise of the whole pages from the first
  // page boundary at or past chunk + 48 to its end), not counting pages already handed back; and
  // in how many chunks. Tcache chunks are in use for the arena: they stay, and keep runs apart.
  uint64_t trim_free_bytes = 0, trim_free_chunks = 0;
  uint64_t released_bytes = 0; // already handed back (model/released.h)
  struct Blame {
    int64_t site = -1; // -1: blocks without a known site (allocated before the trace began)
    uint64_t pinned_bytes = 0, pinned_runs = 0, chunks = 0;
    std::vector<uint64_t> pinning; // the site's chunks that keep free runs apart
    std::vector<uint64_t> pinned;  // the free chunks they keep apart
  };
  std::vector<Blame> blame; // the most pinned bytes first
};

// page: the trace's page size (the trimmable tail is counted in whole pages).
FragReport fragmentation(const model::HeapModel& m, const SiteTable& sites, uint64_t page);

} // namespace hv::analysis
