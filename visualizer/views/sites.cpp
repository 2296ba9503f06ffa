// sites.cpp - the "Sites" window: allocation sites (full call stacks) at the current event, with
// their live bytes and blocks, allocations, bytes allocated, temporary allocations and peak;
// selecting one makes its chunks stand out on the map and lists its stack.
#include "views/views.h"

#include "imgui.h"

#include <algorithm>
#include <cinttypes>

namespace hv::views {

namespace {

// "N B live in M blocks", after the bar's last item or on a line of its own; in a trace attached
// to a running process, also the blocks it had allocated before (in no site).
void live_text(const analysis::SiteTable& t) {
  char text[160];
  int n = snprintf(text, sizeof text, "%" PRIu64 " B live in %" PRIu64 " blocks", t.live_bytes(),
                   t.live_blocks());
  if (t.has_baseline() && n > 0 && size_t(n) < sizeof text)
    snprintf(text + n, sizeof text - size_t(n), " (+%s in %" PRIu64 " blocks from before the trace)",
             human_bytes(t.before_bytes()).c_str(), t.before_blocks());
  same_line_or_wrap(ImGui::CalcTextSize(text).x);
  ImGui::TextDisabled("%s", text);
  if (t.has_baseline() && ImGui::IsItemHovered())
    ImGui::SetTooltip("heapviz attached to a running process: the blocks it had allocated before are\n"
                      "in the heap, but in no site (their call stacks are unknown) and not in the\n"
                      "live bytes (their requests are unknown: their chunk sizes are shown)");
}
// A blame row's or a top's site: a block allocated before the trace began has none.
const char* no_site(const analysis::SiteTable& t) {
  return t.has_baseline() ? "(blocks from before the trace: sites unknown)" : "(no call stack)";
}

void stack_text(const std::vector<symbols::Frame>& frames) {
  if (frames.empty()) ImGui::TextDisabled("(no call stack recorded)");
  for (const symbols::Frame& fr : frames) {
    if (!fr.file.empty() && fr.line)
      ImGui::Text("%s%s  %s:%d", fr.inlined ? "(inlined) " : "", fr.function.c_str(), fr.file.c_str(),
                  fr.line);
    else
      ImGui::Text("%s", fr.function.c_str());
  }
}

void tree_node(const std::vector<session::SiteTreeNode>& t, uint32_t i, int depth) {
  const session::SiteTreeNode& n = t[i];
  char label[600];
  snprintf(label, sizeof label, "%-10s %7" PRIu64 " allocs  %s%s%s##n%u", human_bytes(n.live_bytes).c_str(),
           n.allocs, n.function.c_str(), n.where.empty() ? "" : "  ", n.where.c_str(), i);
  ImGuiTreeNodeFlags fl = n.children.empty() ? ImGuiTreeNodeFlags_Leaf : 0;
  if (depth < 1) fl |= ImGuiTreeNodeFlags_DefaultOpen;
  if (ImGui::TreeNodeEx(label, fl)) {
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("%s\n%" PRIu64 " B live in %" PRIu64 " blocks; %" PRIu64 " allocations, %" PRIu64
                        " bytes; %" PRIu64 " temporary; %u sites",
                        n.function.c_str(), n.live_bytes, n.live, n.allocs, n.bytes, n.temporary, n.sites);
    for (uint32_t k : n.children)
      tree_node(t, k, depth + 1);
    ImGui::TreePop();
  }
}

void draw_site_list(const Frame& f, SitesState& s, Cursor& c) {
  session::SiteView* sv = f.sites;
  bool ready = sv->update(f.doc, 0.008);
  const analysis::SiteTable* t = sv->table();
  if (!sv->problem().empty()) hint_wrapped(sv->problem().c_str());
  if (!t) return;
  if (!ready)
    ImGui::TextDisabled("(reading sites: event %" PRIu64 " of %" PRIu64 ")", t->events(), f.doc.position());
  static const char* const kViews[] = {"list", "bottom-up", "top-down"};
  ImGui::SetNextItemWidth(100);
  ImGui::Combo("##view", &s.view, kViews, 3);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("list: every site (a full stack); bottom-up: by allocating function, then its\n"
                      "callers; top-down: from main in to the allocating functions");
  if (s.view != 0) {
    if (!ready) return;
    if (s.tree_position != t->events() || s.tree_generation != f.doc.generation() || s.tree_view != s.view) {
      s.tree = session::build_site_tree(*sv, s.view == 2);
      s.tree_position = t->events();
      s.tree_generation = f.doc.generation();
      s.tree_view = s.view;
    }
    live_text(*t);
    if (ImGui::BeginChild("##tree", ImVec2(0, 0), false)) tree_node(s.tree, 0, 0);
    ImGui::EndChild();
    return;
  }
  static const char* const kBy[] = {"live bytes", "allocations", "bytes allocated", "temporary"};
  same_line_or_wrap(140 + ImGui::GetStyle().ItemInnerSpacing.x + ImGui::CalcTextSize("sort by").x);
  ImGui::SetNextItemWidth(140);
  ImGui::Combo("sort by", &s.by, kBy, 4);
  live_text(*t);
  if (!c.function.empty()) {
    ImGui::Text("only sites through %s", c.function.c_str());
    ImGui::SameLine();
    if (ImGui::SmallButton("clear")) c.function.clear();
  }
  if (s.order_position != t->events() || s.order_generation != f.doc.generation() || s.order_by != s.by ||
      s.order_function != c.function) {
    s.order.clear();
    for (uint32_t k = 0; k < t->size(); ++k)
      if (t->site(k).allocs && (c.function.empty() || sv->has_function(k, c.function))) s.order.push_back(k);
    s.order_function = c.function;
    auto key = [&](uint32_t k) {
      const analysis::SiteStats& st = t->site(k);
      return s.by == 1 ? st.allocs : s.by == 2 ? st.bytes : s.by == 3 ? st.temporary : st.live_bytes;
    };
    std::stable_sort(s.order.begin(), s.order.end(), [&](uint32_t a, uint32_t b) { return key(a) > key(b); });
    s.order_position = t->events();
    s.order_generation = f.doc.generation();
    s.order_by = s.by;
  }
  float list_h = c.site >= 0 ? ImGui::GetContentRegionAvail().y * 0.6f : 0;
  if (ImGui::BeginTable("##sites", 6,
                        ImGuiTableFlags_ScrollY | ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV |
                            ImGuiTableFlags_Resizable,
                        ImVec2(0, list_h))) {
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("live", ImGuiTableColumnFlags_WidthFixed, 80);
    ImGui::TableSetupColumn("blocks", ImGuiTableColumnFlags_WidthFixed, 55);
    ImGui::TableSetupColumn("allocs", ImGuiTableColumnFlags_WidthFixed, 60);
    ImGui::TableSetupColumn("temp", ImGuiTableColumnFlags_WidthFixed, 50);
    ImGui::TableSetupColumn("peak", ImGuiTableColumnFlags_WidthFixed, 80);
    ImGui::TableSetupColumn("site", ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableHeadersRow();
    ImGuiListClipper clip;
    // The rows' height given, the clipper's first step is every row on screen (not one row to
    // measure), so that rows on screen that would read alike get their callers (distinct_names).
    clip.Begin(int(s.order.size()), ImGui::GetTextLineHeight() + 2 * ImGui::GetStyle().CellPadding.y);
    while (clip.Step()) {
      std::vector<uint32_t> shown(s.order.begin() + clip.DisplayStart, s.order.begin() + clip.DisplayEnd);
      const std::vector<std::string> names = sv->distinct_names(shown);
      for (int r = clip.DisplayStart; r < clip.DisplayEnd; ++r) {
        uint32_t k = s.order[size_t(r)];
        const analysis::SiteStats& st = t->site(k);
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        char label[64];
        snprintf(label, sizeof label, "%s##site%u", human_bytes(st.live_bytes).c_str(), k);
        if (ImGui::Selectable(label, c.site == int64_t(k), ImGuiSelectableFlags_SpanAllColumns))
          c.site = c.site == int64_t(k) ? -1 : int64_t(k);
        ImGui::TableNextColumn();
        ImGui::Text("%" PRIu64, st.live);
        ImGui::TableNextColumn();
        ImGui::Text("%" PRIu64, st.allocs);
        ImGui::TableNextColumn();
        ImGui::Text("%" PRIu64, st.temporary);
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(human_bytes(st.peak_live_bytes).c_str());
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(names[size_t(r - clip.DisplayStart)].c_str());
      }
    }
    ImGui::EndTable();
  }
  if (c.site >= 0) {
    ImGui::Separator();
    ImGui::TextDisabled("site %" PRId64 ": its chunks stand out on the map, the others are dimmed", c.site);
    if (ImGui::BeginChild("##sitestack", ImVec2(0, 0), false)) stack_text(sv->frames(uint32_t(c.site)));
    ImGui::EndChild();
  }
}

void draw_leaks(const Frame& f, SitesState& s) {
  session::SiteView& sv = s.at_end;
  uint64_t end = f.doc.events();
  bool ready = sv.update(f.doc, 0.008, end);
  const analysis::SiteTable* t = sv.table();
  if (!sv.problem().empty()) hint_wrapped(sv.problem().c_str());
  if (!t) return;
  if (!ready) {
    ImGui::TextDisabled("(reading the trace to its end: event %" PRIu64 " of %" PRIu64 ")", t->events(), end);
    return;
  }
  if (s.leaks_generation != f.doc.generation()) {
    // What the C library keeps for itself until exit (a stdio buffer, a thread's TLS) comes last,
    // said what it is, as in `heapviz leaks`.
    s.leaks = analysis::leak_order(*t, [&](uint32_t k) { return analysis::runtime_holder(sv.frames(k)); });
    s.leaks_generation = f.doc.generation();
  }
  ImGui::TextWrapped("%s in %" PRIu64 " blocks still in use when the trace ends, from %zu call stacks",
                     human_bytes(t->live_bytes()).c_str(), t->live_blocks(), s.leaks.size());
  if (t->has_baseline())
    hint_wrapped(("and " + human_bytes(t->before_bytes()) + " in " + std::to_string(t->before_blocks()) +
                  " blocks allocated before heapviz attached: their stacks are unknown, so a leak among "
                  "them cannot be told apart")
                     .c_str());
  if (ImGui::BeginChild("##leaks", ImVec2(0, 0), false)) {
    for (size_t r = 0; r < s.leaks.size() && r < 200; ++r) {
      const analysis::SiteStats& st = t->site(s.leaks[r]);
      char label[96];
      const char* held = analysis::runtime_holder(sv.frames(s.leaks[r]));
      snprintf(label, sizeof label, "%s in %" PRIu64 " block%s%s%s##leak%zu",
               human_bytes(st.live_bytes).c_str(), st.live, st.live == 1 ? "" : "s",
               held ? ": the C library's own, " : "", held ? held : "", r);
      if (ImGui::TreeNodeEx(label, r < 3 && !held ? ImGuiTreeNodeFlags_DefaultOpen : 0)) {
        stack_text(sv.frames(s.leaks[r]));
        ImGui::TreePop();
      }
    }
  }
  ImGui::EndChild();
}

} // namespace

void update_frag(SitesState& s, session::SiteView& sv, const session::Document& doc) {
  s.frag = analysis::fragmentation(doc.replay().model(), *sv.table(), doc.file().header().page_size);
  s.frag_position = doc.position();
  s.frag_generation = doc.generation();
  std::vector<uint32_t> blamed; // the rows shown with a site
  std::vector<size_t> row_of;
  for (size_t k = 0; k < s.frag.blame.size() && k < kBlameRows; ++k)
    if (s.frag.blame[k].site >= 0) {
      blamed.push_back(uint32_t(s.frag.blame[k].site));
      row_of.push_back(k);
    }
  std::vector<std::string> names = sv.distinct_names(blamed);
  s.blame_names.assign(std::min(s.frag.blame.size(), kBlameRows), std::string());
  for (size_t i = 0; i < names.size(); ++i)
    s.blame_names[row_of[i]] = std::move(names[i]);
}

namespace {

void draw_frag(const Frame& f, SitesState& s, Cursor& c) {
  session::SiteView* sv = f.sites;
  bool ready = sv->update(f.doc, 0.008);
  if (!ready || !sv->table()) {
    ImGui::TextDisabled("(reading sites...)");
    return;
  }
  if (s.frag_position != f.doc.position() || s.frag_generation != f.doc.generation()) {
    update_frag(s, *sv, f.doc);
    s.blame_row = -1;
    c.pinning.clear();
    c.pinned.clear();
  }
  const analysis::FragReport& r = s.frag;
  const analysis::SiteTable& st = *sv->table();
  if (st.has_baseline())
    ImGui::TextWrapped("footprint %s, live %s, from before the trace %s, free in bins %s, top %s",
                       human_bytes(r.footprint).c_str(), human_bytes(r.live_bytes).c_str(),
                       human_bytes(st.before_bytes()).c_str(), human_bytes(r.free_bytes).c_str(),
                       human_bytes(r.top_bytes).c_str());
  else
    ImGui::TextWrapped("footprint %s, live %s, free in bins %s, top %s", human_bytes(r.footprint).c_str(),
                       human_bytes(r.live_bytes).c_str(), human_bytes(r.free_bytes).c_str(),
                       human_bytes(r.top_bytes).c_str());
  uint64_t top_trim = 0;
  for (const auto& t : r.tops)
    top_trim += t.trimmable;
  ImGui::TextWrapped(
      "malloc_trim(0) would hand back %s: %s of pages inside %s free chunks, %s of the main top",
      human_bytes(r.trim_free_bytes + top_trim).c_str(), human_bytes(r.trim_free_bytes).c_str(),
      human_count(r.trim_free_chunks).c_str(), human_bytes(top_trim).c_str());
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("glibc 2.36's malloc_trim, in every arena: malloc_consolidate first (fastbin chunks\n"
                      "merge with their free neighbours, and into the top), then madvise(MADV_DONTNEED)\n"
                      "of the whole pages inside each binned free chunk (past its first 48 bytes), then\n"
                      "the main arena's top shrinks to its last page. Pages already handed back are not\n"
                      "counted. Madvised pages stay in the footprint; resident memory falls.");
  auto top_line = [&](const analysis::FragReport::Top& t) {
    ImGui::TextWrapped("arena %u: top %s, %s trimmable", t.arena, human_bytes(t.size).c_str(),
                       human_bytes(t.trimmable).c_str());
    if (t.below && (t.below_site >= 0 || (t.below_chunk.state == uint8_t(trace::ChunkState::InUse) &&
                                          sv->table()->has_baseline()))) {
      std::string why = "(kept from shrinking by " +
                        (t.below_site >= 0 ? sv->short_name(uint32_t(t.below_site))
                                           : std::string("a block allocated before the trace began")) +
                        ")";
      same_line_or_wrap(ImGui::CalcTextSize(why.c_str()).x);
      hint_wrapped(why.c_str());
    }
  };
  // The main arena's top (the one malloc_trim shrinks); a threaded program's other tops folded, so
  // that the blame table keeps its room (a trial's 5 arenas pushed its selected row out of sight).
  size_t others = 0;
  for (const auto& t : r.tops)
    t.arena == 0 ? top_line(t) : void(++others);
  if (others) {
    char label[64];
    snprintf(label, sizeof label, "the other arenas' tops (%zu)##tops", others);
    if (ImGui::TreeNode(label)) {
      for (const auto& t : r.tops)
        if (t.arena != 0) top_line(t);
      ImGui::TreePop();
    }
  }
  hint_wrapped("Sites whose live chunks keep free memory apart (freeing them would merge it):");
  // At least the header and four rows, the window scrolling if it must.
  const float rows_h = ImGui::GetFrameHeightWithSpacing() * 5;
  const float table_h =
      std::max(ImGui::GetContentRegionAvail().y - ImGui::GetTextLineHeightWithSpacing(), rows_h);
  if (ImGui::BeginTable("##blame", 4,
                        ImGuiTableFlags_ScrollY | ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV |
                            ImGuiTableFlags_Resizable,
                        ImVec2(0, table_h))) {
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("pinned free", ImGuiTableColumnFlags_WidthFixed, 90);
    ImGui::TableSetupColumn("runs", ImGuiTableColumnFlags_WidthFixed, 45);
    ImGui::TableSetupColumn("chunks", ImGuiTableColumnFlags_WidthFixed, 55);
    ImGui::TableSetupColumn("site", ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableHeadersRow();
    for (size_t k = 0; k < r.blame.size() && k < kBlameRows; ++k) {
      const auto& b = r.blame[k];
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      char label[64];
      snprintf(label, sizeof label, "%s##blame%zu", human_bytes(b.pinned_bytes).c_str(), k);
      if (s.blame_reveal && s.blame_row == int(k)) { // chosen elsewhere (shot --row): in sight
        ImGui::SetScrollHereY();
        s.blame_reveal = false;
      }
      if (ImGui::Selectable(label, s.blame_row == int(k), ImGuiSelectableFlags_SpanAllColumns)) {
        bool off = s.blame_row == int(k);
        s.blame_row = off ? -1 : int(k);
        c.pinning = off ? std::vector<uint64_t>{} : b.pinning;
        c.pinned = off ? std::vector<uint64_t>{} : b.pinned;
      }
      ImGui::TableNextColumn();
      ImGui::Text("%" PRIu64, b.pinned_runs);
      ImGui::TableNextColumn();
      ImGui::Text("%" PRIu64, b.chunks);
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(b.site >= 0 ? s.blame_names[k].c_str() : no_site(*sv->table()));
    }
    ImGui::EndTable();
  }
  if (s.blame_row >= 0)
    ImGui::TextDisabled("on the map: red, the chunks that pin; green, the free chunks they keep apart");
}

void draw_diff(const Frame& f, Cursor& c) {
  const session::DiffMarks* d = f.diff;
  if (!d) {
    ImGui::TextWrapped(
        "Mark two events with A and B on the timeline: this tab then lists what changed "
        "between them per allocation site, and the map compares the chunks: at A, those that "
        "die by B are outlined red; elsewhere, those born since A green; free memory that changed "
        "yellow; unchanged ones dimmed.");
    return;
  }
  const analysis::LayoutDelta& l = d->layout;
  ImGui::Text("A = event %" PRIu64 ", B = event %" PRIu64, d->a, d->b);
  ImGui::SameLine();
  if (ImGui::SmallButton("clear")) c.mark_a = c.mark_b = -1;
  ImGui::Text("chunks: %" PRIu64 " born (%s), %" PRIu64 " died (%s), %" PRIu64 " unchanged, %" PRIu64
              " reused",
              l.born, human_bytes(l.born_bytes).c_str(), l.died, human_bytes(l.died_bytes).c_str(),
              l.unchanged, l.changed);
  if (ImGui::BeginTable("##diff", 4,
                        ImGuiTableFlags_ScrollY | ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV |
                            ImGuiTableFlags_Resizable)) {
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("live delta", ImGuiTableColumnFlags_WidthFixed, 90);
    ImGui::TableSetupColumn("allocs", ImGuiTableColumnFlags_WidthFixed, 60);
    ImGui::TableSetupColumn("bytes", ImGuiTableColumnFlags_WidthFixed, 90);
    ImGui::TableSetupColumn("site", ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableHeadersRow();
    for (size_t k = 0; k < d->sites.size() && k < 500; ++k) {
      const analysis::SiteDelta& r = d->sites[k];
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::Text("%+" PRId64, r.live_bytes_delta);
      ImGui::TableNextColumn();
      ImGui::Text("%+" PRId64, r.allocs_delta);
      ImGui::TableNextColumn();
      ImGui::Text("%+" PRId64, r.bytes_delta);
      ImGui::TableNextColumn();
      if (r.stack.empty())
        ImGui::TextDisabled("(no call stack)");
      else if (!r.stack[0].file.empty() && r.stack[0].line)
        ImGui::Text("%s (%s:%d)", r.stack[0].function.c_str(),
                    r.stack[0].file.substr(r.stack[0].file.rfind('/') + 1).c_str(), r.stack[0].line);
      else
        ImGui::TextUnformatted(r.stack[0].function.c_str());
    }
    ImGui::EndTable();
  }
}

} // namespace

void draw_sites(const Frame& f, SitesState& s, Cursor& c) {
  if (!f.sites) return;
  if (ImGui::BeginTabBar("##sitetabs")) {
    static const char* const kTabs[] = {"Sites", "Leaks", "Fragmentation", "Diff"};
    for (int k = 0; k < 4; ++k) {
      ImGuiTabItemFlags fl = s.tab_request && s.tab == k ? ImGuiTabItemFlags_SetSelected : 0;
      if (ImGui::BeginTabItem(kTabs[k], nullptr, fl)) {
        if (!s.tab_request) s.tab = k;
        if (k == 0) draw_site_list(f, s, c);
        if (k == 1) draw_leaks(f, s);
        if (k == 2) draw_frag(f, s, c);
        if (k == 3) draw_diff(f, c);
        ImGui::EndTabItem();
      }
    }
    s.tab_request = false;
    ImGui::EndTabBar();
  }
}

} // namespace hv::views
