// site_tree.h - the allocation sites as a call tree, heaptrack's two views of them: bottom-up
// (from the function that allocated, out to its callers) and top-down (from main, in to the
// allocating functions). Each node sums the sites below it.
//
// Owns: building the tree from a site table and the sites' symbolized frames (by function name:
// the same function at the same place in the path is one node). Must not: include ImGui or GL.
#pragma once

#include "session/site_view.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hv::session {

struct SiteTreeNode {
  std::string function, where; // where: "file:line" of the first frame seen here ("" if unknown)
  uint64_t live_bytes = 0, live = 0, allocs = 0, bytes = 0, temporary = 0;
  std::vector<uint32_t> children; // indices into the tree's nodes, the most live bytes first
  uint32_t sites = 0;             // sites below
};

// nodes[0] is the root (all sites). top_down: paths from the outermost frame in. At most
// max_sites sites, those with the most live bytes, then the most bytes allocated.
std::vector<SiteTreeNode> build_site_tree(SiteView& sv, bool top_down, size_t max_sites = 5000);

} // namespace hv::session
