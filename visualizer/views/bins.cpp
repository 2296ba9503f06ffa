// bins.cpp - the "Bins" window: per arena, the tcache, fastbins, unsorted, small and large bins
// as lists with counts and bytes; a click selects the chunk on the map.
#include "palette.h"
#include "views.h"

#include "imgui.h"

#include <algorithm>
#include <cinttypes>
#include <map>

namespace hv::views {

void draw_bins(const Frame& f, BinsState& s, Cursor& c) {
  const HeapPicture& pic = f.picture;
  // (kind, index) -> items, for the chosen arena. Built per frame: bins hold few chunks compared
  // with the heap, and the walk is linear.
  uint32_t arenas = std::max<uint32_t>(1, f.doc.replay().model().arena_count());
  if (arenas > 1) {
    ImGui::SetNextItemWidth(120);
    ImGui::SliderInt("arena", &s.arena, 0, int(arenas - 1));
  }
  s.arena = std::clamp(s.arena, 0, int(arenas - 1));
  std::map<std::pair<uint8_t, uint8_t>, std::vector<uint32_t>> bins;
  for (uint32_t i = 0; i < pic.items.size(); ++i) {
    const HeapPicture::Item& it = pic.items[i];
    if (it.gap() || it.state < 1 || it.state > 5 || it.arena != uint32_t(s.arena)) continue;
    bins[{it.state, it.state == 3 ? uint8_t(0) : it.bin}].push_back(i);
  }
  static const char* const kTitles[] = {"", "tcache", "fastbins", "unsorted", "small bins", "large bins"};
  for (uint8_t kind = 1; kind <= 5; ++kind) {
    size_t n = 0;
    uint64_t bytes = 0;
    for (auto& [key, v] : bins)
      if (key.first == kind) {
        n += v.size();
        for (uint32_t i : v)
          bytes += pic.items[i].size;
      }
    ImVec4 colr =
        ImGui::ColorConvertU32ToFloat4(IM_COL32((kPaintRgb[size_t(paint_of_state(kind))] >> 16) & 0xff,
                                                (kPaintRgb[size_t(paint_of_state(kind))] >> 8) & 0xff,
                                                kPaintRgb[size_t(paint_of_state(kind))] & 0xff, 255));
    ImGui::PushStyleColor(ImGuiCol_Text, colr);
    bool open =
        ImGui::TreeNodeEx(kTitles[kind], n ? ImGuiTreeNodeFlags_DefaultOpen : 0, "%s: %zu chunk%s, %s",
                          kTitles[kind], n, n == 1 ? "" : "s", human_bytes(bytes).c_str());
    ImGui::PopStyleColor();
    if (!open) continue;
    for (auto& [key, v] : bins) {
      if (key.first != kind) continue;
      std::string name = bin_text(key.first, key.second);
      uint64_t lo = UINT64_MAX, hi = 0;
      for (uint32_t i : v)
        lo = std::min(lo, pic.items[i].size), hi = std::max(hi, pic.items[i].size);
      char head[96];
      if (lo == hi)
        snprintf(head, sizeof head, "%s  %zu x %" PRIu64 " B", name.c_str(), v.size(), lo);
      else
        snprintf(head, sizeof head, "%s  %zu chunks, %" PRIu64 "-%" PRIu64 " B", name.c_str(), v.size(), lo,
                 hi);
      if (ImGui::TreeNodeEx(name.c_str(), v.size() <= 8 ? ImGuiTreeNodeFlags_DefaultOpen : 0, "%s", head)) {
        ImGuiListClipper clip;
        clip.Begin(int(v.size()));
        while (clip.Step())
          for (int k = clip.DisplayStart; k < clip.DisplayEnd; ++k) {
            const HeapPicture::Item& it = pic.items[v[size_t(k)]];
            char label[64];
            snprintf(label, sizeof label, "0x%" PRIx64 "  %" PRIu64 " B", it.addr, it.size);
            if (ImGui::Selectable(label, c.selected == it.addr)) {
              c.selected = it.addr;
              c.reveal = true;
            }
          }
        ImGui::TreePop();
      }
    }
    ImGui::TreePop();
  }
  ImGui::TextDisabled("chunks are listed by address (the trace does not record list order)");
}

} // namespace hv::views
