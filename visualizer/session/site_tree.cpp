// site_tree.cpp - see site_tree.h.
#include "session/site_tree.h"

#include <algorithm>
#include <map>

namespace hv::session {

std::vector<SiteTreeNode> build_site_tree(SiteView& sv, bool top_down, size_t max_sites) {
  std::vector<SiteTreeNode> nodes(1);
  nodes[0].function = "all sites";
  const analysis::SiteTable* t = sv.table();
  if (!t) return nodes;
  std::vector<uint32_t> order;
  for (uint32_t k = 0; k < t->size(); ++k)
    if (t->site(k).allocs) order.push_back(k);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const analysis::SiteStats &x = t->site(a), &y = t->site(b);
    return x.live_bytes != y.live_bytes ? x.live_bytes > y.live_bytes : x.bytes > y.bytes;
  });
  if (order.size() > max_sites) order.resize(max_sites);
  std::map<std::pair<uint32_t, std::string>, uint32_t> child; // (parent, function) -> node
  auto add = [](SiteTreeNode& n, const analysis::SiteStats& st) {
    n.live_bytes += st.live_bytes;
    n.live += st.live;
    n.allocs += st.allocs;
    n.bytes += st.bytes;
    n.temporary += st.temporary;
    ++n.sites;
  };
  for (uint32_t site : order) {
    const analysis::SiteStats& st = t->site(site);
    std::vector<symbols::Frame> frames = sv.frames(site);
    if (top_down) std::reverse(frames.begin(), frames.end());
    add(nodes[0], st);
    uint32_t at = 0;
    if (frames.empty()) frames.push_back(symbols::Frame{"(no call stack)", "", 0, "", 0, false, false});
    for (const symbols::Frame& f : frames) {
      auto [it, fresh] = child.try_emplace({at, f.function}, uint32_t(nodes.size()));
      if (fresh) {
        SiteTreeNode n;
        n.function = f.function;
        if (!f.file.empty() && f.line)
          n.where = f.file.substr(f.file.rfind('/') + 1) + ":" + std::to_string(f.line);
        nodes.push_back(std::move(n));
        nodes[at].children.push_back(it->second);
      }
      at = it->second;
      add(nodes[at], st);
    }
  }
  for (SiteTreeNode& n : nodes)
    std::stable_sort(n.children.begin(), n.children.end(), [&](uint32_t a, uint32_t b) {
      return nodes[a].live_bytes != nodes[b].live_bytes ? nodes[a].live_bytes > nodes[b].live_bytes
                                                        : nodes[a].bytes > nodes[b].bytes;
    });
  return nodes;
}

} // namespace hv::session
