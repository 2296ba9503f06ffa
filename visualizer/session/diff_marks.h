// diff_marks.h - the app's diff of two positions of the open trace (marks A and B): the chunks at
// A, to compare the map with, the layout delta, and the per-site deltas.
//
// Owns: computing them from the document (it seeks the replay to A and B and back) and a site
// pass over the trace. Must not: include ImGui or GL.
#pragma once

#include "analysis/diff.h"
#include "session/document.h"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace hv::session {

struct DiffMarks {
  uint64_t a = UINT64_MAX, b = UINT64_MAX; // positions, a <= b (UINT64_MAX: not set)
  bool ready = false;
  struct Was {
    uint64_t size, seq;
    uint8_t state;
  };
  std::unordered_map<uint64_t, Was> at_a; // chunk address -> what it was at A
  analysis::LayoutDelta layout;
  std::vector<analysis::SiteDelta> sites;
  // How a chunk of the current picture compares with A: 0 unchanged (same size, state and
  // allocation), 1 born since A (no chunk of that size started there), 2 reused or rebinned.
  int compare(uint64_t addr, uint64_t size, uint64_t seq, uint8_t state) const {
    auto it = at_a.find(addr);
    if (it == at_a.end() || it->second.size != size) return 1;
    return it->second.seq == seq && it->second.state == state ? 0 : 2;
  }
};

// The diff of doc's positions a and b (in either order). Leaves doc at the position it was at.
void compute_diff(Document& doc, uint64_t a, uint64_t b, DiffMarks* out);

} // namespace hv::session
