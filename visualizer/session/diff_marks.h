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
  std::unordered_map<uint64_t, Was> at_b; // and at B
  analysis::LayoutDelta layout;
  std::vector<analysis::SiteDelta> sites;
  // How a chunk of the current picture compares with A: 0 unchanged (the same chunk, state and
  // allocation at A); 1 an allocation born since A (in use now, and not the same at A); 2 free
  // memory that changed (a free chunk, top included, not the same at A).
  int compare(uint64_t addr, uint64_t size, uint64_t seq, uint8_t state) const {
    return compare_with(at_a, addr, size, seq, state);
  }
  // How a chunk of the picture at A compares with B: 0 unchanged, 1 an allocation that dies by B
  // (freed, or reallocated elsewhere), 2 free memory that changes.
  int compare_at_a(uint64_t addr, uint64_t size, uint64_t seq, uint8_t state) const {
    return compare_with(at_b, addr, size, seq, state);
  }
  static int compare_with(const std::unordered_map<uint64_t, Was>& m, uint64_t addr, uint64_t size,
                          uint64_t seq, uint8_t state) {
    auto it = m.find(addr);
    if (it != m.end() && it->second.size == size && it->second.seq == seq && it->second.state == state)
      return 0;
    return trace::is_in_use(state) ? 1 : 2;
  }
};

// The diff of doc's positions a and b (in either order). Leaves doc at the position it was at.
void compute_diff(Document& doc, uint64_t a, uint64_t b, DiffMarks* out);

} // namespace hv::session
