// bins.cpp - the "Bins" window: per arena, the bins of each kind the allocator has (glibc:
// tcachebins, fastbins, unsortedbin, smallbins, largebins; the policy's list, the vocabulary's
// names) as lists with counts and bytes, each list in its order, head first, with the end the
// allocator takes from (model::BinOrder); a click selects the chunk on the map.
#include "views/palette.h"
#include "views/views.h"

#include "imgui.h"

#include <algorithm>
#include <cinttypes>

namespace hv::views {

namespace {

// How glibc 2.36 uses a list of this kind (the rules model::BinOrder keeps).
const char* list_rule(trace::BinKind k) {
  switch (k) {
  case trace::BinKind::Tcache:
    return "One per thread. LIFO: free puts a chunk at the head; malloc of its size takes the head.";
  case trace::BinKind::Fast:
    return "LIFO: free pushes a chunk at the head; malloc of its size pops the head (and moves the rest to "
           "the tcache, which reverses them).";
  case trace::BinKind::Unsorted:
    return "Frees, merged chunks and split remainders go in at the head; malloc's scan takes from the tail "
           "(oldest first), returning an exact fit and sorting the others into their bins.";
  case trace::BinKind::Small:
    return "FIFO: the unsorted scan puts chunks in at the head; malloc of its size takes the tail.";
  case trace::BinKind::Large:
    return "Sorted by size, largest first; a chunk of a size already there goes second among its size. "
           "malloc takes the smallest that fits (of several the same size, the second).";
  default:
    return "";
  }
}

// The end of a list of kind k that the allocator takes next ("" for a largebin: a best fit).
const char* taken_end(trace::BinKind k, bool head) {
  switch (k) {
  case trace::BinKind::Tcache:
  case trace::BinKind::Fast:
    return head ? "  <- head: next out" : "";
  case trace::BinKind::Unsorted:
    return head ? "  <- head: newest" : "  <- tail: scanned first";
  case trace::BinKind::Small:
    return head ? "  <- head: newest" : "  <- tail: next out";
  default:
    return "";
  }
}

void draw_bin_lists(const Frame& f, BinsState& s, Cursor& c);

} // namespace

void draw_bins(const Frame& f, BinsState& s, Cursor& c) {
  // The window scrolls sideways (a list's rows keep their ends); its sentences wrap at its
  // visible right edge, not at the end of its widest row.
  ImGui::PushTextWrapPos(ImGui::GetWindowContentRegionMax().x + ImGui::GetScrollX());
  draw_bin_lists(f, s, c);
  ImGui::PopTextWrapPos();
}

namespace {
void draw_bin_lists(const Frame& f, BinsState& s, Cursor& c) {
  const HeapPicture& pic = f.picture;
  const model::HeapModel& m = f.doc.replay().model();
  const model::PolicyInfo& pol = f.policy();
  uint32_t arenas = std::max<uint32_t>(1, m.arena_count());
  if (arenas > 1) {
    ImGui::SetNextItemWidth(120);
    ImGui::SliderInt("arena", &s.arena, 0, int(arenas - 1));
  }
  s.arena = std::clamp(s.arena, 0, int(arenas - 1));
  if (s.position != pic.position || s.built_arena != s.arena) {
    // Per position: bins hold few chunks next to a whole heap, and the lists are kept in order.
    s.bins.clear();
    for (uint64_t key : m.bin_order().lists()) {
      model::BinList l = model::BinList::of_key(key);
      if (l.kind != trace::BinKind::Tcache && l.owner != uint32_t(s.arena)) continue;
      BinsState::Bin b{uint8_t(l.kind), l.index, l.owner, m.bin_order().chunks_of(key), {}, UINT64_MAX, 0, 0};
      if (!pol.list_order) std::sort(b.chunks.begin(), b.chunks.end());
      for (uint64_t a : b.chunks) {
        const model::Chunk* ch = m.find(a);
        uint64_t size = ch ? ch->size : 0;
        b.sizes.push_back(size);
        b.lo = std::min(b.lo, size);
        b.hi = std::max(b.hi, size);
        b.bytes += size;
      }
      s.bins.push_back(std::move(b));
    }
    s.position = pic.position;
    s.built_arena = s.arena;
  }
  if (pol.bins_about[0]) // a textbook policy (docs/policies.md): its own lists, under glibc's bin kinds
    ImGui::TextWrapped("Head first: %s.", pol.bins_about);
  else if (pol.list_order)
    hint_wrapped("Each list head first, in the allocator's order.");
  else
    hint_wrapped("Listed by address (this allocator's list order is not known).");
  for (uint8_t k = 0; k < pol.nbins; ++k) { // the bin kinds the allocator has, in its order
    const trace::BinKind kind = pol.bins[k];
    const trace::BinKindInfo& info = trace::bin_kind_info(kind);
    size_t n = 0;
    uint64_t bytes = 0;
    for (const BinsState::Bin& b : s.bins)
      if (b.kind == uint8_t(kind)) {
        n += b.chunks.size();
        bytes += b.bytes;
      }
    uint32_t rgb = kPaintRgb[size_t(paint_of_state(uint8_t(info.state)))];
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(im_color(rgb)));
    bool open = ImGui::TreeNodeEx(info.group, n ? ImGuiTreeNodeFlags_DefaultOpen : 0, "%s: %zu chunk%s, %s",
                                  info.group, n, n == 1 ? "" : "s", human_bytes(bytes).c_str());
    ImGui::PopStyleColor();
    if (!open) continue;
    if (pol.list_order && !pol.bins_about[0]) ImGui::TextWrapped("%s", list_rule(kind));
    for (const BinsState::Bin& b : s.bins) {
      if (b.kind != uint8_t(kind)) continue;
      std::string name = trace::bin_text(kind, b.index).c_str();
      if (kind == trace::BinKind::Tcache) name += " (thread " + std::to_string(b.owner) + ")";
      char head[128];
      if (b.lo == b.hi)
        snprintf(head, sizeof head, "%s  %zu x %" PRIu64 " B", name.c_str(), b.chunks.size(), b.lo);
      else
        snprintf(head, sizeof head, "%s  %zu chunks, %" PRIu64 "-%" PRIu64 " B", name.c_str(),
                 b.chunks.size(), b.lo, b.hi);
      if (ImGui::TreeNodeEx(name.c_str(), b.chunks.size() <= 8 ? ImGuiTreeNodeFlags_DefaultOpen : 0, "%s",
                            head)) {
        ImGuiListClipper clip;
        clip.Begin(int(b.chunks.size()));
        while (clip.Step())
          for (int i = clip.DisplayStart; i < clip.DisplayEnd; ++i) {
            size_t j = size_t(i);
            const char* end = !pol.list_order            ? ""
                              : j == 0                   ? taken_end(kind, true)
                              : j + 1 == b.chunks.size() ? taken_end(kind, false)
                                                         : "";
            char label[96];
            snprintf(label, sizeof label, "%2d  0x%" PRIx64 "  %" PRIu64 " B%s##%d", i, b.chunks[j],
                     b.sizes[j], end, i);
            if (ImGui::Selectable(label, c.selected == b.chunks[j])) {
              c.selected = b.chunks[j];
              c.reveal = true;
            }
          }
        ImGui::TreePop();
      }
    }
    ImGui::TreePop();
  }
}
} // namespace

} // namespace hv::views
