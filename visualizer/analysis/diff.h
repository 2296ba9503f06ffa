// diff.h - what changed between two runs, or two positions of one run: per allocation site, and
// in the heap's layout.
//
// Owns: matching the sites of two site tables by their symbolized frames (function, file, line:
// never raw addresses, which ASLR moves between runs), the per-site deltas (allocations, bytes
// allocated, live bytes), and the layout delta of two heaps (chunks born, died, unchanged).
// Must not: print or replay (callers hand it what they replayed).
#pragma once

#include "analysis/sites.h"
#include "model/heap_model.h"

#include <cstdint>
#include <vector>

namespace hv::analysis {

struct SiteDelta {
  int64_t allocs_delta = 0, bytes_delta = 0, live_bytes_delta = 0;
  uint64_t live_bytes_a = 0, live_bytes_b = 0;
  std::vector<symbols::Frame> stack; // B's frames (A's for a site only A has)
  bool only_a = false, only_b = false;
};

// The sites of a and b, matched by frames; the largest change of live bytes first, then of bytes
// allocated. Sites that did not change at all are left out.
std::vector<SiteDelta> diff_sites(const SiteTable& a, symbols::Symbolizer& sym_a, const SiteTable& b,
                                  symbols::Symbolizer& sym_b);
// The same for two states of one trace's sites (a: an earlier copy of b's table).
std::vector<SiteDelta> diff_sites(const std::vector<SiteStats>& a, const SiteTable& b,
                                  symbols::Symbolizer& sym);

struct LayoutDelta {
  uint64_t born = 0, born_bytes = 0;           // chunks at B that A did not have (same address and size)
  uint64_t died = 0, died_bytes = 0;           // chunks at A that B does not have
  uint64_t unchanged = 0, unchanged_bytes = 0; // same address, size and state
  uint64_t changed = 0, changed_bytes = 0;     // same address and size, another state (freed, reused)
};
LayoutDelta diff_layout(const std::vector<model::Chunk>& a, const std::vector<model::Chunk>& b);

} // namespace hv::analysis
