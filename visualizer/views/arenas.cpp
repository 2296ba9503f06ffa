// arenas.cpp - the "Arenas" window: each arena's top chunk and heap regions, in-use and free
// bytes per arena, the program break, and the mmapped chunks.
#include "views/views.h"

#include "imgui.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <vector>

namespace hv::views {

void draw_arenas(const Frame& f, ArenasState& s, Cursor& c) {
  const model::HeapModel& m = f.doc.replay().model();
  const HeapPicture& pic = f.picture;
  uint32_t n = std::max<uint32_t>(1, m.arena_count());
  if (s.position != pic.position || s.sums.size() != n) { // one pass per position
    s.sums.assign(n, {});
    s.mm_n = s.mm_bytes = 0;
    for (const HeapPicture::Item& it : pic.items) {
      if (it.gap()) continue;
      if (it.state == uint8_t(trace::ChunkState::Mmapped)) {
        ++s.mm_n;
        s.mm_bytes += it.size;
        continue;
      }
      if (it.arena >= n) continue;
      ArenasState::Sum& x = s.sums[it.arena];
      ++x.chunks;
      if (it.state == uint8_t(trace::ChunkState::InUse))
        x.used += it.size;
      else if (trace::is_binned(it.state))
        x.free += it.size;
    }
    for (const HeapPicture::Group& g : pic.groups)
      if (!g.mmapped && g.arena < n && g.title.rfind("arena", 0) == 0) {
        ++s.sums[g.arena].heaps;
        s.sums[g.arena].heap_bytes += g.end - g.start;
      }
    s.position = pic.position;
  }
  const uint64_t mm_n = s.mm_n, mm_bytes = s.mm_bytes;
  if (m.program_break())
    ImGui::TextWrapped("program break 0x%" PRIx64 ", mmapped chunks: %" PRIu64 " (%s)", m.program_break(),
                       mm_n, human_bytes(mm_bytes).c_str());
  else // a trace that starts mid-run (a live attach) has not seen the break move yet
    ImGui::TextWrapped("program break not seen yet, mmapped chunks: %" PRIu64 " (%s)", mm_n,
                       human_bytes(mm_bytes).c_str());
  // Columns as wide as their contents (a stretched "top" cut its button's "125.0 KiB" to "KiE"),
  // scrolling sideways when the window is narrower.
  if (!ImGui::BeginTable("##arenas", 6,
                         ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV |
                             ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_ScrollX |
                             ImGuiTableFlags_ScrollY))
    return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn("arena");
  ImGui::TableSetupColumn("top");
  ImGui::TableSetupColumn("heaps");
  ImGui::TableSetupColumn("chunks");
  ImGui::TableSetupColumn("in use");
  ImGui::TableSetupColumn("free");
  ImGui::TableHeadersRow();
  for (uint32_t a = 0; a < n; ++a) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::Text("%u%s", a, a == 0 ? " (main)" : "");
    ImGui::TableNextColumn();
    uint64_t top = m.top(a);
    if (top) {
      const model::Chunk* t = m.find(top);
      char label[64];
      snprintf(label, sizeof label, "%s##top%u", t ? human_bytes(t->size).c_str() : "?", a);
      if (ImGui::SmallButton(label)) {
        c.selected = top;
        c.reveal = true;
      }
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("top chunk at 0x%" PRIx64 ": click to select it", top);
    } else {
      ImGui::TextDisabled("-");
    }
    ImGui::TableNextColumn();
    ImGui::Text("%" PRIu64, s.sums[a].heaps);
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("%s of heap regions", human_bytes(s.sums[a].heap_bytes).c_str());
    ImGui::TableNextColumn();
    ImGui::Text("%" PRIu64, s.sums[a].chunks);
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(human_bytes(s.sums[a].used).c_str());
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(human_bytes(s.sums[a].free).c_str());
  }
  ImGui::EndTable();
}

float arenas_height(const Frame& f) {
  const ImGuiStyle& st = ImGui::GetStyle();
  const uint32_t n = std::max<uint32_t>(1, f.doc.replay().model().arena_count());
  // The title, two lines of the program break (it wraps in the narrow column), the header and a
  // row per arena (a small button's height), and the sideways scrollbar.
  const float row = ImGui::GetFrameHeight() + 2 * st.CellPadding.y;
  return std::ceil(ImGui::GetFrameHeight() + 2 * st.WindowPadding.y +
                   2 * ImGui::GetTextLineHeightWithSpacing() + float(n + 1) * row + st.ScrollbarSize +
                   st.ItemSpacing.y);
}

} // namespace hv::views
