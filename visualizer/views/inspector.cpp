// inspector.cpp - the "Chunk" window: the selected chunk's header fields and flags, prev_size,
// usable versus requested bytes, its released pages, its bin and neighbours, its words as glibc
// lays them out (views/chunk_words), and every event that touched it.
#include "views/chunk_words.h"
#include "views/palette.h"
#include "views/views.h"

#include "trace/event_text.h"

#include "imgui.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>

namespace hv::views {

namespace {

// The size field's flag bits and when each is set, from the policy: "A: non-main arena ...".
std::string flags_help(const model::PolicyInfo& pol) {
  std::string s, merging, not_merging;
  for (uint8_t i = 0; i < pol.nflags; ++i)
    s += std::string(i ? "   " : "") + pol.flags[i].letter + ": " + pol.flags[i].meaning;
  for (uint8_t i = 0; i < pol.nbins; ++i) {
    std::string& to =
        pol.merges_state(uint8_t(trace::bin_kind_info(pol.bins[i]).state)) ? merging : not_merging;
    to += std::string(to.empty() ? "" : ", ") + trace::bin_kind_info(pol.bins[i]).label;
  }
  if (!merging.empty())
    s += "\n(P is clear only when the previous chunk is free in the " + merging + " bins" +
         (not_merging.empty() ? "" : ";\n" + not_merging + " chunks count as in use") + ")";
  return s;
}

void neighbour(const char* what, const HeapPicture& pic, int64_t i, Cursor& c) {
  ImGui::TextDisabled("%s", what);
  ImGui::SameLine(90);
  if (i < 0 || size_t(i) >= pic.items.size()) {
    ImGui::TextDisabled("none (edge of its region or mapping)");
    return;
  }
  const HeapPicture::Item& it = pic.items[size_t(i)];
  if (it.gap()) {
    ImGui::TextDisabled("not a chunk (%s)", human_bytes(it.size).c_str());
    return;
  }
  char label[96];
  snprintf(label, sizeof label, "0x%" PRIx64 "  %" PRIu64 " B  %s##%s", it.addr, it.size,
           state_text(it.state, it.bin).c_str(), what);
  if (ImGui::SmallButton(label)) {
    c.selected = it.addr;
    c.reveal = true;
  }
}

// A call stack, one line per frame: "function  file:line" (inlined frames marked). A click on a
// frame filters Sites (and the map) by its function; another click clears it.
void stack_lines(const std::vector<symbols::Frame>& frames, size_t max, Cursor& c) {
  if (frames.empty()) {
    ImGui::TextDisabled("  (no call stack recorded)");
    return;
  }
  for (size_t k = 0; k < frames.size() && k < max; ++k) {
    const symbols::Frame& fr = frames[k];
    std::string file = fr.file;
    if (size_t p = file.rfind('/'); p != std::string::npos) file = file.substr(p + 1);
    char label[512];
    if (!file.empty() && fr.line)
      snprintf(label, sizeof label, "  %s%s  %s:%d##f%zu", fr.inlined ? "(inlined) " : "",
               fr.function.c_str(), file.c_str(), fr.line, k);
    else
      snprintf(label, sizeof label, "  %s##f%zu", fr.function.c_str(), k);
    if (ImGui::Selectable(label, c.function == fr.function))
      c.function = c.function == fr.function ? std::string() : fr.function;
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("%s:%d\n%s\n0x%" PRIx64 "\nclick: show only the sites with %s", fr.file.c_str(),
                        fr.line, fr.module.c_str(), fr.address, fr.function.c_str());
  }
  if (frames.size() > max)
    ImGui::TextDisabled("  ... %zu more frame%s", frames.size() - max, frames.size() - max == 1 ? "" : "s");
}

// The chunk as glibc lays it out, word by word, with its neighbours' boundary words: offset from
// the chunk, bytes, field, what it holds; the user pointer marked, other chunks' words dimmed.
// Returns false when the policy has no such layout (the caller shows the fields instead).
bool word_diagram(const HeapPicture& pic, size_t i) {
  std::vector<ChunkWord> words = chunk_words(pic, i);
  if (words.empty()) return false;
  if (!ImGui::CollapsingHeader("layout, word by word", ImGuiTreeNodeFlags_DefaultOpen)) return true;
  const uint64_t c = pic.items[i].addr;
  ImGuiTableFlags tf = ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_BordersInnerV;
  if (!ImGui::BeginTable("##words", 4, tf)) return true;
  ImGui::TableSetupColumn("offset");
  ImGui::TableSetupColumn("bytes");
  ImGui::TableSetupColumn("field");
  ImGui::TableSetupColumn("holds", ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableHeadersRow();
  for (const ChunkWord& w : words) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    bool other = w.owner != ChunkWord::Owner::This;
    // The word's colour as a chip, then its offset from the chunk (the previous chunk's word is at
    // +0: the chunk pointer points at the previous chunk's last word).
    ImDrawList* dl = ImGui::GetWindowDrawList();
    ImVec2 at = ImGui::GetCursorScreenPos();
    float h = ImGui::GetTextLineHeight();
    dl->AddRectFilled(ImVec2(at.x, at.y + 2), ImVec2(at.x + 8, at.y + h - 2),
                      im_color(kPaintRgb[size_t(w.paint)]));
    ImGui::Dummy(ImVec2(10, h));
    ImGui::SameLine();
    ImGui::Text("+0x%" PRIx64, w.addr - c);
    ImGui::TableNextColumn();
    ImGui::Text("%" PRIu64, w.bytes);
    ImGui::TableNextColumn();
    if (other)
      ImGui::TextDisabled("%s", w.field.c_str());
    else
      ImGui::TextUnformatted(w.field.c_str());
    ImGui::TableNextColumn();
    if (other) ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    ImGui::TextWrapped("%s", w.value.c_str());
    if (other) ImGui::PopStyleColor();
    if (w.user_pointer) { // wrapped, as the value above: a narrow window cut it at its edge
      ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1, 0.92f, 0.23f, 1));
      ImGui::TextWrapped("^ the user pointer (0x%" PRIx64 ")", w.addr);
      ImGui::PopStyleColor();
    }
  }
  ImGui::EndTable();
  return true;
}

} // namespace

void draw_inspector(const Frame& f, InspectorState& s, Cursor& c) {
  ImVec2 wp = ImGui::GetWindowPos(), ws = ImGui::GetWindowSize();
  s.x0 = wp.x;
  s.y0 = wp.y;
  s.x1 = wp.x + ws.x;
  s.y1 = wp.y + ws.y;
  const HeapPicture& pic = f.picture;
  if (!c.selected) {
    hint_wrapped("Click a chunk on the map, in the bins, or in the events to inspect it.");
    return;
  }
  int64_t i = pic.find(c.selected);
  if (i < 0) {
    ImGui::Text("0x%" PRIx64 ": no chunk starts here at this event", c.selected);
    ImGui::TextDisabled("(it was merged, unmapped or not yet allocated)");
  } else {
    const HeapPicture::Item& it = pic.items[size_t(i)];
    bool mmapped = it.state == uint8_t(trace::ChunkState::Mmapped);
    // Neighbours in memory: within the same region only (an mmapped chunk has its own mapping).
    int64_t first = 0, last = -1;
    for (const HeapPicture::Group& g : pic.groups)
      if (uint64_t(i) >= g.first && uint64_t(i) < uint64_t(g.first) + g.count) {
        first = g.first;
        last = int64_t(g.first + g.count) - 1;
      }
    int64_t pi = mmapped || i <= first ? -1 : i - 1, ni = mmapped || i >= last ? -1 : i + 1;
    const HeapPicture::Item* prev = pi >= 0 ? &pic.items[size_t(pi)] : nullptr;
    if (prev && (prev->gap() || prev->addr + prev->size != it.addr)) prev = nullptr;
    // The first chunk of a region has no previous chunk: its P bit is set.
    const model::PolicyInfo& pol = f.policy();
    bool prev_free = prev && pol.merges_state(prev->state);
    uint64_t flags = model::flag_bits(pol, model::ChunkFacts{mmapped, it.arena, prev_free});
    ImGui::Text("chunk 0x%" PRIx64, it.addr);
    char user[48];
    snprintf(user, sizeof user, "user pointer 0x%" PRIx64, pol.user_pointer(it.addr));
    same_line_or_wrap(ImGui::CalcTextSize(user).x);
    ImGui::TextDisabled("%s", user);
    ImGui::Separator();
    ImGui::Text("state      %s", chunk_text(it, pol).c_str());
    if (const char* mid = mid_call_text(it)) {
      ImGui::SameLine();
      ImGui::TextColored(ImVec4(0.96f, 0.56f, 0.69f, 1), "(mid-call)");
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", mid);
    }
    // Its place in its bin's list, counted from the head (model::BinOrder; the Bins window).
    if (auto at = pol.list_order ? f.doc.replay().model().bin_order().place(it.addr) : std::nullopt) {
      model::BinList l = model::BinList::of_key(at->list);
      const char* ends = l.kind == trace::BinKind::Large      ? "sorted, largest first"
                         : l.kind == trace::BinKind::Small    ? "head = newest, tail = next out"
                         : l.kind == trace::BinKind::Unsorted ? "head = newest, the scan starts at the tail"
                                                              : "head = next out";
      ImGui::TextWrapped(
          "list       position %" PRIu64 " of %" PRIu64 " in %s%s (%s)", at->index + 1, at->count,
          trace::bin_text(l.kind, l.index).c_str(),
          l.kind == trace::BinKind::Tcache ? (" of thread " + std::to_string(l.owner)).c_str() : "", ends);
    }
    if (pol.nflags) {
      ImGui::Text("size field 0x%" PRIx64 " = %" PRIu64 " | %s", it.size | flags, it.size,
                  model::flag_letters(pol, flags).c_str());
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", flags_help(pol).c_str());
    } else {
      ImGui::Text("size       %" PRIu64 " (0x%" PRIx64 ")", it.size, it.size);
    }
    if (!word_diagram(pic, size_t(i)) && pol.prev_size) {
      if (mmapped)
        ImGui::TextDisabled("prev_size  0 (for an mmapped chunk: the offset of the chunk in its mapping)");
      else if (prev_free)
        ImGui::Text("prev_size  %" PRIu64 " (the free chunk before)", prev->size);
      else
        ImGui::TextDisabled("prev_size  unused (belongs to the previous chunk's data)");
    }
    if (it.internal) {
      ImGui::TextWrapped("%s", pol.internal_about);
    } else if (it.before_trace()) {
      ImGui::Text("usable     %" PRIu64 " B", pol.usable(it.size, mmapped));
      ImGui::TextDisabled("requested  unknown");
    } else if (trace::is_in_use(it.state) && !it.pending) {
      uint64_t usable = pol.usable(it.size, mmapped);
      ImGui::Text("requested  %" PRIu64 " B", it.req);
      ImGui::Text("usable     %" PRIu64 " B  (slack %" PRIu64 " B, overhead %.0f%%)", usable,
                  usable > it.req ? usable - it.req : 0,
                  it.size ? 100.0 * double(it.size - it.req) / double(it.size) : 0.0);
    }
    if (it.before_trace())
      ImGui::TextWrapped("allocated before the trace began: heapviz attached at the event with seq %" PRIu64
                         ", so its request and call stack are unknown",
                         it.seq);
    else if (it.seq)
      ImGui::Text("%s by the event with seq %" PRIu64,
                  trace::is_in_use(it.state) ? "allocated " : "last changed", it.seq);
    if (const analysis::CallStory* st =
            f.why && trace::is_in_use(it.state) ? f.why->at_seq(it.seq) : nullptr) {
      ImGui::TextColored(ImVec4(0.62f, 0.80f, 0.62f, 1), "why");
      ImGui::SameLine();
      ImGui::TextWrapped("%s", st->why.c_str());
    }
    ImGui::Text("arena      %u", it.arena);
    if (uint64_t rel = pic.released_in(it.addr, it.addr + it.size)) {
      ImGui::Text("released   %" PRIu64 " B (%" PRIu64 " pages) handed back to the OS", rel,
                  rel / std::max<uint64_t>(1, f.doc.file().header().page_size));
      if (ImGui::IsItemHovered())
        ImGui::SetTooltip("madvise(MADV_DONTNEED), as malloc_trim does: not resident until this chunk, or\n"
                          "the part of it over those pages, is used again (hatched on the map)");
    }
    // Who allocated it (a live block: its site at this event), and who freed it (the latest free
    // of its user pointer in its history, before this event).
    if (session::SiteView* sv = f.sites; sv && !it.internal) {
      uint64_t user = pol.user_pointer(it.addr);
      if (trace::is_in_use(it.state)) {
        if (sv->update(f.doc, 0.004) && sv->at(f.doc)) {
          int64_t site = sv->site_of(user);
          if (!it.before_trace()) // (a block from before the trace: said above)
            ImGui::Text("allocated at%s", site >= 0 ? "" : " (not by a call this trace recorded)");
          if (site >= 0) stack_lines(sv->frames(uint32_t(site)), 8, c);
        } else {
          ImGui::TextDisabled("allocated at (reading stacks...)");
        }
      } else if (s.history && !s.history->running()) {
        const std::vector<uint64_t>& h = s.history->matches();
        uint64_t pos = f.doc.position();
        for (size_t k = h.size(), looked = 0; k-- > 0 && looked < 32;) {
          if (h[k] >= pos) continue;
          ++looked;
          session::Event e = f.doc.index().at(h[k]);
          if ((e.type == trace::Ev::Free || e.type == trace::Ev::FreeTcache) && e.ptr() == user) {
            ImGui::Text("freed at (event %" PRIu64 ")", h[k] + 1);
            stack_lines(sv->stack_frames(e.stack), 8, c);
            break;
          }
        }
      }
    }
    ImGui::Separator();
    neighbour("previous", pic, pi, c);
    neighbour("next", pic, ni, c);
  }
  ImGui::Separator();
  if (s.history_addr != c.selected) {
    s.history_addr = c.selected;
    analysis::Filter flt;
    flt.has_addr = true;
    flt.addr = c.selected;
    s.history = f.doc.query(flt, 5000); // on a thread of its own (session::QueryJob)
    s.rows_first = -1;
  }
  const bool searching = s.history && s.history->running();
  static const std::vector<uint64_t> kNone;
  const std::vector<uint64_t>& history = s.history ? s.history->matches() : kNone;
  ImGui::Text("History of 0x%" PRIx64 ": %zu event%s%s", s.history_addr, history.size(),
              history.size() == 1 ? "" : "s", searching ? " so far" : "");
  if (searching) {
    ImGui::SameLine();
    // (A sliver of it filled from the start: the search has begun.)
    ImGui::ProgressBar(std::max(0.05f, float(s.history->progress())), ImVec2(120, 0), "searching...");
  }
  uint64_t current = f.doc.position() ? f.doc.position() - 1 : UINT64_MAX;
  if (ImGui::BeginChild("##history", ImVec2(0, 0), true)) {
    ImGuiListClipper clip;
    clip.Begin(int(history.size()));
    while (clip.Step())
      for (int k = clip.DisplayStart; k < clip.DisplayEnd; ++k) {
        uint64_t ev = history[size_t(k)];
        // Decoded once and kept while it stays on screen (an event costs a seek in the index).
        if (s.rows_first != clip.DisplayStart ||
            s.rows.size() != size_t(clip.DisplayEnd - clip.DisplayStart)) {
          s.rows.clear();
          for (int r = clip.DisplayStart; r < clip.DisplayEnd; ++r)
            s.rows.push_back(f.doc.index().at(history[size_t(r)]));
          s.rows_first = clip.DisplayStart;
        }
        const session::Event& e = s.rows[size_t(k - clip.DisplayStart)];
        char label[200];
        snprintf(label, sizeof label, "event %" PRIu64 "  %s", ev + 1, trace::event_fields_text(e).c_str());
        if (ImGui::Selectable(label, ev == current)) c.seek = int64_t(ev + 1);
      }
  }
  ImGui::EndChild();
}

} // namespace hv::views
