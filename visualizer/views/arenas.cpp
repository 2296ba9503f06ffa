// arenas.cpp - the "Arenas" window: each arena's top chunk and heap regions, in-use and free
// bytes per arena, the program break, and the mmapped chunks.
#include "views.h"

#include "imgui.h"

#include <cinttypes>
#include <vector>

namespace hv::views {

void draw_arenas(const Frame& f, Cursor& c) {
  const model::HeapModel& m = f.doc.replay().model();
  const HeapPicture& pic = f.picture;
  uint32_t n = std::max<uint32_t>(1, m.arena_count());
  struct Sum {
    uint64_t chunks = 0, used = 0, free = 0;
  };
  std::vector<Sum> sums(n);
  uint64_t mm_n = 0, mm_bytes = 0;
  for (const HeapPicture::Item& it : pic.items) {
    if (it.gap()) continue;
    if (it.state == uint8_t(trace::ChunkState::Mmapped)) {
      ++mm_n;
      mm_bytes += it.size;
      continue;
    }
    if (it.arena >= n) continue;
    Sum& s = sums[it.arena];
    ++s.chunks;
    if (it.state == 0)
      s.used += it.size;
    else if (it.state >= 1 && it.state <= 5)
      s.free += it.size;
  }
  ImGui::Text("program break 0x%" PRIx64 "    mmapped chunks: %" PRIu64 " (%s)", m.program_break(), mm_n,
              human_bytes(mm_bytes).c_str());
  if (!ImGui::BeginTable("##arenas", 6,
                         ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_ScrollY))
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
      snprintf(label, sizeof label, "0x%" PRIx64 " %s##top%u", top, t ? human_bytes(t->size).c_str() : "", a);
      if (ImGui::SmallButton(label)) {
        c.selected = top;
        c.reveal = true;
      }
    } else {
      ImGui::TextDisabled("-");
    }
    ImGui::TableNextColumn();
    int heaps = 0;
    uint64_t hb = 0;
    for (const HeapPicture::Group& g : pic.groups)
      if (!g.mmapped && g.arena == a && g.end > g.start && g.title.rfind("arena", 0) == 0)
        ++heaps, hb += g.end - g.start;
    ImGui::Text("%d (%s)", heaps, human_bytes(hb).c_str());
    ImGui::TableNextColumn();
    ImGui::Text("%" PRIu64, sums[a].chunks);
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(human_bytes(sums[a].used).c_str());
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(human_bytes(sums[a].free).c_str());
  }
  ImGui::EndTable();
}

} // namespace hv::views
