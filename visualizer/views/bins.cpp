// bins.cpp - the "Bins" window: per arena, the bins of each kind the allocator has (glibc:
// tcachebins, fastbins, unsortedbin, smallbins, largebins; the policy's list, the vocabulary's
// names) as lists with counts and bytes; a click selects the chunk on the map.
#include "views/palette.h"
#include "views/views.h"

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
  if (s.position != pic.position || s.built_arena != s.arena) {
    // One pass over the picture per position: bins hold few chunks next to a whole heap.
    std::map<std::pair<uint8_t, uint8_t>, std::vector<uint32_t>> by_bin;
    for (uint32_t i = 0; i < pic.items.size(); ++i) {
      const HeapPicture::Item& it = pic.items[i];
      if (it.gap() || !trace::is_binned(it.state) || it.arena != uint32_t(s.arena)) continue;
      trace::BinKind kind = trace::bin_of(it.state);
      by_bin[{uint8_t(kind), trace::bin_kind_info(kind).indexed ? it.bin : uint8_t(0)}].push_back(i);
    }
    s.bins.clear();
    for (auto& [key, v] : by_bin) {
      BinsState::Bin b{key.first, key.second, std::move(v), UINT64_MAX, 0, 0};
      for (uint32_t i : b.items) {
        b.lo = std::min(b.lo, pic.items[i].size);
        b.hi = std::max(b.hi, pic.items[i].size);
        b.bytes += pic.items[i].size;
      }
      s.bins.push_back(std::move(b));
    }
    s.position = pic.position;
    s.built_arena = s.arena;
  }
  const model::PolicyInfo& pol = f.policy();
  for (uint8_t k = 0; k < pol.nbins; ++k) { // the bin kinds the allocator has, in its order
    const uint8_t kind = uint8_t(pol.bins[k]);
    const trace::BinKindInfo& info = trace::bin_kind_info(kind);
    size_t n = 0;
    uint64_t bytes = 0;
    for (const BinsState::Bin& b : s.bins)
      if (b.kind == kind) {
        n += b.items.size();
        bytes += b.bytes;
      }
    uint32_t rgb = kPaintRgb[size_t(paint_of_state(uint8_t(info.state)))];
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(im_color(rgb)));
    bool open = ImGui::TreeNodeEx(info.group, n ? ImGuiTreeNodeFlags_DefaultOpen : 0, "%s: %zu chunk%s, %s",
                                  info.group, n, n == 1 ? "" : "s", human_bytes(bytes).c_str());
    ImGui::PopStyleColor();
    if (!open) continue;
    for (const BinsState::Bin& b : s.bins) {
      if (b.kind != kind) continue;
      std::string name = trace::bin_text(trace::BinKind(b.kind), b.index).c_str();
      char head[96];
      if (b.lo == b.hi)
        snprintf(head, sizeof head, "%s  %zu x %" PRIu64 " B", name.c_str(), b.items.size(), b.lo);
      else
        snprintf(head, sizeof head, "%s  %zu chunks, %" PRIu64 "-%" PRIu64 " B", name.c_str(), b.items.size(),
                 b.lo, b.hi);
      if (ImGui::TreeNodeEx(name.c_str(), b.items.size() <= 8 ? ImGuiTreeNodeFlags_DefaultOpen : 0, "%s",
                            head)) {
        ImGuiListClipper clip;
        clip.Begin(int(b.items.size()));
        while (clip.Step())
          for (int k = clip.DisplayStart; k < clip.DisplayEnd; ++k) {
            const HeapPicture::Item& it = pic.items[b.items[size_t(k)]];
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
  ImGui::TextDisabled("listed by address (traces do not keep list order)");
}

} // namespace hv::views
