// event_list.cpp - the "Events" window: every event in order (rows paged by index: only the
// window on screen is decoded), filterable by kind, address, size and thread (the filter
// `heapviz dump` takes), searched by a session::QueryJob on a thread of its own with a progress
// bar; a click moves the replay to that event.
#include "views/palette.h"
#include "views/views.h"

#include "trace/event_text.h"

#include "imgui.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdlib>
#include <string>

namespace hv::views {

namespace {

// The filter the bar's texts say: "" when they parse; else what is wrong.
std::string make_filter(const EventListState& s, analysis::Filter* f) {
  f->kinds = s.kinds;
  std::string err = analysis::parse_addr(s.addr_text, f);
  if (err.empty()) err = analysis::parse_size(s.size_text, f);
  if (err.empty() && f->size_of == analysis::SizeOf::Any)
    f->size_of = analysis::SizeOf(s.size_of); // (no req:/chunk:)
  if (err.empty()) err = analysis::parse_tid(s.tid_text, f);
  return err;
}

} // namespace

void draw_event_list(const Frame& f, EventListState& s, Cursor& c) {
  session::Document& doc = f.doc;
  session::EventIndex& ix = doc.index();
  bool changed = false;
  // Filter bar.
  if (ImGui::Button("Kinds...")) ImGui::OpenPopup("kinds");
  if (ImGui::BeginPopup("kinds")) {
    if (ImGui::SmallButton("all")) s.kinds = session::kAllKinds, changed = true;
    ImGui::SameLine();
    if (ImGui::SmallButton("none")) s.kinds = 0, changed = true;
    ImGui::SameLine();
    if (ImGui::SmallButton("API calls")) s.kinds = session::kKindAlloc | session::kKindFree, changed = true;
    for (int k = 0; k < session::kKindCount; ++k) {
      bool on = s.kinds & (1u << k);
      if (ImGui::Checkbox(session::kind_name(k), &on)) {
        s.kinds = on ? (s.kinds | (1u << k)) : (s.kinds & ~(1u << k));
        changed = true;
      }
    }
    ImGui::EndPopup();
  }
  same_line_or_wrap(150);
  ImGui::SetNextItemWidth(150);
  changed |= ImGui::InputTextWithHint("##addr", "address", s.addr_text, sizeof s.addr_text);
  // The size and the menu that says which size: one group.
  const float sizeof_w = ImGui::CalcTextSize("requested").x + ImGui::GetFrameHeight() + 8;
  same_line_or_wrap(100 + 2 + sizeof_w);
  ImGui::SetNextItemWidth(100);
  changed |= ImGui::InputTextWithHint("##size", "size or a-b", s.size_text, sizeof s.size_text);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("a size or a range a-b; the menu beside it says which size: either, the size the\n"
                      "program requested (malloc's argument; calloc's n x size), or the chunk's size\n"
                      "(header and alignment included). req:N and chunk:N say it in the text too.");
  ImGui::SameLine(0, 2);
  static const char* const kSizeOf[] = {"either", "requested", "chunk"};
  ImGui::SetNextItemWidth(sizeof_w);
  changed |= ImGui::Combo("##sizeof", &s.size_of, kSizeOf, 3);
  same_line_or_wrap(80);
  ImGui::SetNextItemWidth(80);
  changed |= ImGui::InputTextWithHint("##tid", "thread", s.tid_text, sizeof s.tid_text);
  same_line_or_wrap(button_width("Clear"));
  if (ImGui::Button("Clear")) {
    s.kinds = session::kAllKinds;
    s.addr_text[0] = s.size_text[0] = s.tid_text[0] = '\0';
    s.size_of = 0;
    changed = true;
  }
  analysis::Filter flt;
  s.error = make_filter(s, &flt);
  bool want_filter = s.error.empty() && flt.any();
  if (changed || want_filter != s.filtered) {
    s.filtered = want_filter;
    // The search runs on a thread of its own (session::QueryJob); this frame shows what it found.
    s.query = want_filter ? doc.query(flt) : nullptr;
    s.window_first = UINT64_MAX;
  }
  static const std::vector<uint64_t> kNone;
  const std::vector<uint64_t>& matches = s.query ? s.query->matches() : kNone;
  const bool searching = s.query && s.query->running();
  // What the filter found (or the error in it): after the bar, on a line of its own when the
  // window is too narrow for it there.
  char status[96];
  if (s.filtered)
    snprintf(status, sizeof status, "%zu match%s%s", matches.size(), matches.size() == 1 ? "" : "es",
             searching ? " so far" : "");
  else
    snprintf(status, sizeof status, "%" PRIu64 " events", ix.size());
  same_line_or_wrap(!s.error.empty()
                        ? ImGui::CalcTextSize(s.error.c_str()).x
                        : ImGui::CalcTextSize(status).x +
                              (s.filtered && searching ? 120 + ImGui::GetStyle().ItemSpacing.x : 0));
  if (!s.error.empty()) {
    ImGui::TextColored(ImVec4(0.94f, 0.33f, 0.31f, 1), "%s", s.error.c_str());
  } else if (s.filtered) {
    ImGui::TextDisabled("%s", status);
    if (searching) {
      ImGui::SameLine();
      // (A sliver of it filled from the start: the search has begun.)
      ImGui::ProgressBar(std::max(0.05f, float(s.query->progress())), ImVec2(120, 0), "searching...");
    }
  } else {
    ImGui::TextDisabled("%s", status);
  }

  uint64_t rows = s.filtered ? matches.size() : ix.size();
  uint64_t current = doc.position() ? doc.position() - 1 : UINT64_MAX; // the last applied event
  // Rows are paged by index (uint64), not scrolled in pixels: ImGui positions are floats, which
  // cannot address row 3,000,000 of a 21-pixel-row list exactly. The wheel moves the page; the
  // slider at the right jumps anywhere.
  float row_h = ImGui::GetTextLineHeightWithSpacing();
  ImVec2 avail = ImGui::GetContentRegionAvail();
  float slider_w = ImGui::GetStyle().ScrollbarSize + 4;
  uint64_t page = uint64_t(std::max(1.0f, std::floor((avail.y - row_h - 6) / row_h)));
  uint64_t max_top = rows > page ? rows - page : 0;
  if (s.follow_position != doc.position()) {
    // Keep the current event in view when the position moves (not while the user scrolls).
    if (current != UINT64_MAX) {
      uint64_t row = current;
      if (s.filtered)
        row = uint64_t(std::lower_bound(matches.begin(), matches.end(), current) - matches.begin());
      if (row < s.top || row >= s.top + page) s.top = row > page / 3 ? row - page / 3 : 0;
    }
    s.follow_position = doc.position();
  }
  ImGuiTableFlags tf = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_Resizable |
                       ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_NoPadOuterX;
  ImVec2 table_size(avail.x - slider_w, avail.y);
  bool hovered_list = ImGui::IsWindowHovered(ImGuiHoveredFlags_ChildWindows) &&
                      ImGui::IsMouseHoveringRect(ImGui::GetCursorScreenPos(),
                                                 ImVec2(ImGui::GetCursorScreenPos().x + avail.x,
                                                        ImGui::GetCursorScreenPos().y + avail.y));
  if (hovered_list && ImGui::GetIO().MouseWheel != 0) {
    int64_t d = int64_t(-ImGui::GetIO().MouseWheel * 3);
    s.top = uint64_t(std::clamp<int64_t>(int64_t(s.top) + d, 0, int64_t(max_top)));
  }
  s.top = std::min(s.top, max_top);
  ImVec2 at = ImGui::GetCursorPos();
  if (ImGui::BeginTable("##events", 6, tf, table_size)) {
    float digits = ImGui::CalcTextSize("0").x;
    // Numbers as wide as this trace's need (so that "what" keeps the room at 1400 px wide).
    const float numbers = digits * float(std::max<size_t>(5, std::to_string(ix.size()).size() + 1));
    const float pad = ImGui::GetStyle().CellPadding.x * 2;
    ImGui::TableSetupColumn("event", ImGuiTableColumnFlags_WidthFixed, numbers);
    ImGui::TableSetupColumn("seq", ImGuiTableColumnFlags_WidthFixed, numbers);
    ImGui::TableSetupColumn("time", ImGuiTableColumnFlags_WidthFixed,
                            ImGui::CalcTextSize("+00000.000 ms").x + pad);
    ImGui::TableSetupColumn("thread", ImGuiTableColumnFlags_WidthFixed, digits * 7 + pad);
    ImGui::TableSetupColumn("arena", ImGuiTableColumnFlags_WidthFixed, ImGui::CalcTextSize("arena").x + pad);
    ImGui::TableSetupColumn("what", ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableHeadersRow();
    uint64_t n = std::min(page, rows - std::min(rows, s.top));
    if (s.window_first != s.top || s.window.size() != n) {
      s.window.clear();
      if (!s.filtered)
        ix.read(s.top, n, &s.window);
      else
        for (uint64_t k = s.top; k < s.top + n && k < matches.size(); ++k)
          s.window.push_back(ix.at(matches[k]));
      s.window_first = s.top;
    }
    uint64_t t0 = doc.file().header().start_mono_ns; // as `heapviz dump`: from the trace's start
    if (!t0) t0 = ix.first_ts();
    for (uint64_t k = 0; k < s.window.size(); ++k) {
      uint64_t i = s.filtered ? matches[s.top + k] : s.top + k;
      const session::Event& e = s.window[k];
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      char label[32];
      // Event numbers count from 1, as the timeline's "event N of M" (the heap after event N).
      snprintf(label, sizeof label, "%" PRIu64, i + 1);
      if (ImGui::Selectable(label, i == current, ImGuiSelectableFlags_SpanAllColumns))
        c.seek = int64_t(i + 1);
      ImGui::TableNextColumn();
      ImGui::Text("%" PRIu64, e.seq);
      ImGui::TableNextColumn();
      int64_t rel = int64_t(e.ts - t0);
      ImGui::Text("%+.3f ms", double(rel) / 1e6);
      ImGui::TableNextColumn();
      ImGui::Text("%u", e.tid);
      ImGui::TableNextColumn();
      ImGui::Text("%u", e.arena);
      ImGui::TableNextColumn();
      bool err = e.type == trace::Ev::Error;
      if (err) ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.94f, 0.33f, 0.31f, 1));
      if (i >= f.hide_from) {
        ImGui::TextDisabled("(not shown while you predict)");
      } else if (e.type == trace::Ev::Mark) {
        // Labels are not kept in the row copies; the index has them.
        const auto& marks = ix.marks();
        auto it = std::lower_bound(marks.begin(), marks.end(), i,
                                   [](const session::MarkInfo& m, uint64_t v) { return m.index < v; });
        ImGui::Text("mark \"%s\"", it != marks.end() && it->index == i ? it->label.c_str() : "?");
      } else {
        ImGui::TextUnformatted(trace::event_fields_text(e).c_str());
        if (const analysis::CallStory* st = f.why ? f.why->at_event(i) : nullptr) {
          ImGui::SameLine();
          ImGui::TextColored(ImVec4(0.62f, 0.80f, 0.62f, 1), "  %s", st->why.c_str()); // why it landed there
          if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", st->why.c_str());
        }
      }
      if (err) ImGui::PopStyleColor();
    }
    ImGui::EndTable();
  }
  // The page slider: top at the top.
  ImGui::SetCursorPos(ImVec2(at.x + avail.x - slider_w + 2, at.y));
  uint64_t inv = max_top - s.top, lo = 0;
  if (max_top > 0 && ImGui::VSliderScalar("##page", ImVec2(slider_w - 2, avail.y), ImGuiDataType_U64, &inv,
                                          &lo, &max_top, ""))
    s.top = max_top - std::min(inv, max_top);
}

} // namespace hv::views
