// policies.cpp - the Policies window: one scenario on several allocator policies side by side
// (docs/app.md, "Side by side"). One map per policy, all at the same operation of the scenario;
// the block selected in any map is outlined in every map (the block the same operation
// allocated); and the comparison table at the current operation.
//
// Must not: seek or select through anything but Cursor (a click selects the first policy's block
// of the same operation; the app's timeline drives the moment), or change a document.
#include "views/views.h"

#include "views/palette.h"

#include "imgui.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace hv::views {
namespace {

// The item of `pic` allocated by the event with sequence number seq (a map's selection), or -1.
int64_t item_of_seq(const HeapPicture& pic, uint64_t seq) {
  if (!seq) return -1;
  for (size_t i = 0; i < pic.items.size(); ++i)
    if (!pic.items[i].gap() && pic.items[i].seq == seq) return int64_t(i);
  return -1;
}

std::string pct(double v) {
  char b[16];
  snprintf(b, sizeof b, "%.1f%%", 100 * v);
  return b;
}

} // namespace

void draw_policies(const Frame& f, PoliciesState& s, session::SideBySide& side, Cursor& c) {
  const size_t n = side.size();
  if (n == 0) {
    ImGui::TextDisabled(
        "No comparison: open a scenario with View > Compare policies, or heapviz view --policies.");
    return;
  }
  s.pictures.resize(n);
  s.drawn.clear();
  const size_t done = side.ops_done();
  const auto& runs = side.runs();
  // The pictures of the other policies at their documents' positions.
  for (size_t i = 1; i < n; ++i) {
    session::Document* d = side.doc(i);
    if (!d || d->state() != session::Document::State::Ready) continue;
    if (s.pictures[i].position != d->position()) {
      build_picture(d->replay().model(), d->policy(), &s.pictures[i]);
      s.pictures[i].position = d->position();
    }
  }
  // The selected block: its allocating operation, found in every picture.
  const int64_t sel = c.selected ? f.picture.find(c.selected) : -1;
  const uint64_t sel_seq = sel >= 0 ? f.picture.items[size_t(sel)].seq : 0;

  ImGui::Text("%s: operation %zu of %zu", side.scenario().c_str(), done, runs[0].ops.size());
  if (done > 0 && done <= runs[0].ops.size()) {
    ImGui::SameLine();
    ImGui::TextDisabled("(line %d)", runs[0].ops[done - 1].line);
  }
  ImGui::SameLine();
  ImGui::Checkbox("Same scale", &s.same_scale);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("Every map at the same bytes per pixel, so that widths compare footprints.\n"
                      "Off: each map fits its own heap.");
  // The legend: the paints of every map (a textbook policy's free list wears a glibc bin's colour,
  // docs/policies.md).
  {
    ImDrawList* ldl = ImGui::GetWindowDrawList();
    const Paint shown[] = {Paint::InUse, Paint::Header,   Paint::Slack, Paint::Tcache,
                           Paint::Fast,  Paint::Unsorted, Paint::Small, Paint::Large,
                           Paint::Top,   Paint::Mmapped,  Paint::Gap};
    for (Paint p : shown) {
      ImGui::SameLine();
      ImVec2 at = ImGui::GetCursorScreenPos();
      float h = ImGui::GetTextLineHeight();
      ldl->AddRectFilled(ImVec2(at.x, at.y + 2), ImVec2(at.x + h - 4, at.y + h - 2),
                         im_color(kPaintRgb[size_t(p)]));
      ImGui::Dummy(ImVec2(h - 2, h));
      ImGui::SameLine(0, 2);
      ImGui::TextDisabled("%s", paint_name(p));
    }
  }

  const float table_h = ImGui::GetTextLineHeightWithSpacing() * float(n + 2) + 8;
  const float avail = std::max(60.0f, ImGui::GetContentRegionAvail().y - table_h);
  const float label_h = ImGui::GetTextLineHeightWithSpacing();
  const float map_h = std::max(24.0f, std::floor(avail / float(n)) - label_h - 6);
  const float width = std::max(50.0f, std::floor(ImGui::GetContentRegionAvail().x));

  MapView v;
  v.width = width;
  v.row_h = 12;
  v.row_gap = 2;
  v.title_h = 0;
  v.group_gap = 4;
  v.shorten_rows = 1; // a fresh top (glibc's 132 KiB) takes one row, not the map
  v.parts_min_px = 1e9f;
  double common_bpp = 0;
  if (s.same_scale)
    for (size_t i = 0; i < n; ++i) {
      const HeapPicture& pic = i == 0 ? f.picture : s.pictures[i];
      if (!pic.items.empty()) common_bpp = std::max(common_bpp, fit_bpp(pic, v, map_h));
    }

  ImDrawList* dl = ImGui::GetWindowDrawList();
  for (size_t i = 0; i < n; ++i) {
    const session::PolicyRun& run = runs[i];
    const HeapPicture& pic = i == 0 ? f.picture : s.pictures[i];
    const session::Figures g = run.figures(done);
    ImGui::PushID(int(i));
    ImGui::TextColored(ImVec4(0.95f, 0.95f, 0.6f, 1), "%s", run.policy.c_str());
    ImGui::SameLine();
    ImGui::TextDisabled("footprint %s, live %s, utilization %s, %.2f blocks searched per malloc",
                        human_bytes(g.footprint).c_str(), human_bytes(g.live).c_str(),
                        pct(g.utilization).c_str(), g.searched_per_malloc);
    if (!run.error.empty() && done > run.ops.size()) {
      ImGui::SameLine();
      ImGui::TextColored(ImVec4(0.94f, 0.33f, 0.31f, 1), "stopped: %s", run.error.c_str());
    }
    ImVec2 origin = ImGui::GetCursorScreenPos();
    ImGui::InvisibleButton("map", ImVec2(width, map_h));
    const bool hovered = ImGui::IsItemHovered(), clicked = ImGui::IsItemClicked();
    dl->AddRectFilled(origin, ImVec2(origin.x + width, origin.y + map_h), IM_COL32(28, 28, 32, 255));
    session::Document* d = side.doc(i);
    const bool ready = i == 0 || (d && d->state() == session::Document::State::Ready);
    if (!ready || pic.items.empty()) {
      dl->AddText(ImVec2(origin.x + 6, origin.y + 4), IM_COL32(160, 160, 160, 255),
                  ready ? "(no heap yet)" : "(loading)");
      ImGui::PopID();
      continue;
    }
    v.bpp = s.same_scale ? common_bpp : fit_bpp(pic, v, map_h);
    layout_map(pic, v, &s.layout);
    visible_rects(pic, s.layout, v, 0, map_h, &s.rects);
    dl->PushClipRect(origin, ImVec2(origin.x + width, origin.y + map_h), true);
    int32_t prev = -1;
    for (const MapRect& r : s.rects) {
      ImVec2 a(origin.x + r.x0, origin.y + r.y0), b(origin.x + r.x1, origin.y + r.y1);
      dl->AddRectFilled(a, b, im_color(kPaintRgb[size_t(r.paint)]));
      // A separator where a block at least 6 pixels wide starts (its first whole pixel).
      if (r.item >= 0 && r.item != prev && s.layout.width[size_t(r.item)] >= 6)
        dl->AddLine(a, ImVec2(a.x, b.y), IM_COL32(20, 20, 20, 255));
      if (r.item >= 0) prev = r.item;
    }
    // The same block in every map.
    const int64_t mine = item_of_seq(pic, side.same_block_seq(i, sel_seq));
    if (mine >= 0) {
      item_rects(pic, s.layout, v, size_t(mine), &s.outline);
      for (const MapRect& r : s.outline)
        dl->AddRect(ImVec2(origin.x + r.x0 - 1, origin.y + r.y0 - 1),
                    ImVec2(origin.x + r.x1 + 1, origin.y + r.y1 + 1), im_color(kSelectRgb), 0, 0, 2);
    }
    dl->PopClipRect();
    if (s.record_geometry) {
      s.drawn.push_back({run.policy, origin.x, origin.y, origin.x + width, origin.y + map_h, -1, 0, 0, 0, 0});
      if (mine >= 0 && !s.outline.empty()) {
        auto& m = s.drawn.back();
        m.sel_item = mine;
        m.sx0 = origin.x + s.outline[0].x0, m.sy0 = origin.y + s.outline[0].y0;
        m.sx1 = origin.x + s.outline[0].x1, m.sy1 = origin.y + s.outline[0].y1;
      }
    }
    if (hovered || clicked) {
      ImVec2 mp = ImGui::GetMousePos();
      int64_t it = hit_test(pic, s.layout, v, mp.x - origin.x, mp.y - origin.y);
      if (it >= 0) {
        const HeapPicture::Item& item = pic.items[size_t(it)];
        const int64_t k = run.op_of_seq(item.seq);
        if (hovered)
          ImGui::SetTooltip(
              "%s\n%s at +0x%llx, %s%s", run.policy.c_str(), chunk_text(item, pic.policy).c_str(),
              (unsigned long long)(item.addr - (pic.groups.empty() ? 0 : pic.groups[0].start)),
              human_bytes(item.size).c_str(),
              k >= 0 ? (", allocated at line " + std::to_string(run.ops[size_t(k)].line)).c_str() : "");
        if (clicked && k >= 0 && size_t(k) < runs[0].ops.size()) {
          // Select the first policy's block of the same operation (the app's inspector shows it).
          int64_t main_item = item_of_seq(f.picture, runs[0].ops[size_t(k)].end);
          if (main_item >= 0) c.selected = f.picture.items[size_t(main_item)].addr;
        }
      }
    }
    ImGui::PopID();
  }

  // The comparison table, at this operation.
  if (ImGui::BeginTable("compare", 7,
                        ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg |
                            ImGuiTableFlags_SizingStretchProp)) {
    // (Fragmentation at this operation: `sim --policies` gives it at the live peak, hence "now".)
    const char* heads[] = {"policy",       "footprint",    "peak footprint", "utilization",
                           "ext frag now", "int frag now", "searched/malloc"};
    for (const char* h : heads)
      ImGui::TableSetupColumn(h);
    ImGui::TableHeadersRow();
    for (size_t i = 0; i < n; ++i) {
      const session::Figures g = runs[i].figures(done);
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(runs[i].policy.c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(human_bytes(g.footprint).c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(human_bytes(g.peak_footprint).c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(pct(g.utilization).c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(pct(g.external).c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(pct(g.internal).c_str());
      ImGui::TableNextColumn();
      ImGui::Text("%.2f", g.searched_per_malloc);
    }
    ImGui::EndTable();
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip(
          "utilization: peak live requested / peak footprint (malloclab's)\n"
          "ext frag now: 1 - largest free block / free bytes, int frag now: in-use bytes not requested,\n"
          "at this operation (sim --policies gives both when the live bytes peak)\n"
          "searched: blocks malloc looked at, per malloc (docs/policies.md)");
  }
}

} // namespace hv::views
