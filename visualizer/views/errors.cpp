// errors.cpp - the "Errors" window: every heap error the trace records (session::ErrorList), one
// row each; a click goes to its event, selects its block (the map draws the block's corrupted
// bytes in the error colour) and shows its report: the kind and the check's message, where the
// pointer lies in its block, the bytes that differ (expected -> found), and the stacks of the
// faulting call, the block's allocation and its earlier free.
// Must not: tie errors to blocks or stacks (analysis/errors.h does), or seek except through Cursor.
#include "views/palette.h"
#include "views/views.h"

#include "imgui.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>

namespace hv::views {

namespace {

std::string bytes_hex(const std::vector<uint8_t>& v, size_t max = 16) {
  std::string s;
  char b[4];
  for (size_t i = 0; i < v.size() && i < max; ++i) {
    snprintf(b, sizeof b, i ? " %02x" : "%02x", v[i]);
    s += b;
  }
  if (v.size() > max) s += " ...";
  return s;
}

void stack(const char* title, uint32_t id, session::SiteView* sv, Cursor& c) {
  ImGui::TextDisabled("%s", title);
  if (!id || !sv) {
    ImGui::TextDisabled("    (no call stack recorded)");
    return;
  }
  const std::vector<symbols::Frame>& frames = sv->stack_frames(id);
  if (frames.empty()) ImGui::TextDisabled("    (no call stack recorded)");
  for (size_t k = 0; k < frames.size() && k < 12; ++k) {
    const symbols::Frame& fr = frames[k];
    std::string file = fr.file;
    if (size_t p = file.rfind('/'); p != std::string::npos) file = file.substr(p + 1);
    char label[512];
    if (!file.empty() && fr.line)
      snprintf(label, sizeof label, "    %s%s  %s:%d##%s%zu", fr.inlined ? "(inlined) " : "",
               fr.function.c_str(), file.c_str(), fr.line, title, k);
    else
      snprintf(label, sizeof label, "    %s##%s%zu", fr.function.c_str(), title, k);
    if (ImGui::Selectable(label, c.function == fr.function))
      c.function = c.function == fr.function ? std::string() : fr.function;
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("%s:%d\n%s\nclick: show only the sites with %s", fr.file.c_str(), fr.line,
                        fr.module.c_str(), fr.function.c_str());
  }
  if (frames.size() > 12)
    ImGui::TextDisabled("    ... %zu more frame%s", frames.size() - 12, frames.size() == 13 ? "" : "s");
}

// event: the error's event number as the app counts them (1 = the first: the position showing it).
void report(const Frame& f, const analysis::HeapError& h, uint64_t event, Cursor& c) {
  const ImVec4 red(float(kErrorRgb >> 16) / 255, float((kErrorRgb >> 8) & 0xff) / 255,
                   float(kErrorRgb & 0xff) / 255, 1);
  ImGui::TextColored(red, "%s", trace::error_kind_name(h.report.kind));
  ImGui::SameLine();
  ImGui::TextWrapped("%s", h.report.message.empty() ? "(no message)" : h.report.message.c_str());
  ImGui::Text("event %" PRIu64 ", thread %u, %s check", event, h.tid,
              h.report.source == trace::HeapErrorSource::Heapviz ? "heapviz's" : "glibc's");
  ImGui::TextWrapped("%s", analysis::where_text(h).c_str());
  if (h.has_block && h.chunk) {
    char label[96];
    snprintf(label, sizeof label, "select block 0x%" PRIx64 " (%" PRIu64 " B)", h.chunk, h.chunk_size);
    if (ImGui::SmallButton(label)) {
      c.selected = h.chunk;
      c.reveal = true;
    }
  }
  if (!h.report.bytes.empty()) {
    ImGui::TextColored(red, "bytes that differ (offset from the block's start: expected -> found)");
    for (const trace::ErrorBytes& b : h.report.bytes)
      ImGui::Text("  %+" PRId64 " (%zu B): %s -> %s", int64_t(h.chunk + b.offset - h.user), b.found.size(),
                  bytes_hex(b.expected).c_str(), bytes_hex(b.found).c_str());
  }
  session::SiteView* sv = f.sites;
  stack("at", h.stack, sv, c);
  if (h.has_block) {
    std::string t = h.alloc_seq ? "allocated at seq " + std::to_string(h.alloc_seq) + " by"
                                : std::string("allocated (not in the trace)");
    if (h.alloc_seq)
      stack(t.c_str(), h.alloc_stack, sv, c);
    else
      ImGui::TextDisabled("%s", t.c_str());
    if (h.free_seq)
      stack(("freed at seq " + std::to_string(h.free_seq) + " by").c_str(), h.free_stack, sv, c);
  }
  if (h.has_writer) { // an overflow into this block's header: the block before it wrote it
    char label[160];
    snprintf(label, sizeof label,
             "its header was overwritten past the end of the block before it, 0x%" PRIx64 " of %" PRIu64
             " B, allocated %s",
             h.writer_user, h.writer_requested, h.writer_alloc_seq ? "by" : "before the trace");
    if (h.writer_alloc_seq)
      stack(label, h.writer_alloc_stack, sv, c);
    else
      ImGui::TextDisabled("%s", label);
  }
}

} // namespace

// Going to error k: its event, its block selected and revealed.
static void go_to(const session::ErrorList& el, size_t k, Cursor& c) {
  const analysis::HeapError& h = el.at(k);
  c.error = int64_t(k);
  c.seek = int64_t(el.event(k) + 1);
  c.playing = false;
  if (h.has_block && h.chunk) {
    c.selected = h.chunk;
    c.reveal = true;
  }
}

void draw_errors(const Frame& f, ErrorsState& s, Cursor& c) {
  ImVec2 wp = ImGui::GetWindowPos(), ws = ImGui::GetWindowSize();
  s.x0 = wp.x;
  s.y0 = wp.y;
  s.x1 = wp.x + ws.x;
  s.y1 = wp.y + ws.y;
  const session::ErrorList& el = f.doc.errors();
  if (el.empty()) {
    ImGui::TextDisabled("No heap errors in this trace.");
    ImGui::TextDisabled("Record with `heapviz record --checks` for heapviz's own checks (overflows,\n"
                        "writes after free) besides glibc's.");
    return;
  }
  if (c.error >= int64_t(el.size())) c.error = -1;
  if (!el.problem().empty()) ImGui::TextColored(ImVec4(0.94f, 0.33f, 0.31f, 1), "%s", el.problem().c_str());
  // The list on the left, the selected error's report on the right.
  float list_w = std::max(200.0f, std::floor(ImGui::GetContentRegionAvail().x * 0.40f));
  ImGui::BeginChild("##errlist", ImVec2(list_w, 0), true);
  ImGui::Text("%zu error%s", el.size(), el.size() == 1 ? "" : "s");
  if (f.doc.position() > 0) {
    ImGui::SameLine();
    if (ImGui::SmallButton("prev")) { // the last error before the current event
      int64_t k = -1;
      for (size_t i = 0; i < el.size() && el.event(i) + 1 < f.doc.position(); ++i)
        k = int64_t(i);
      if (k >= 0) go_to(el, size_t(k), c);
    }
  }
  ImGui::SameLine();
  if (ImGui::SmallButton("next")) {
    for (size_t i = 0; i < el.size(); ++i)
      if (el.event(i) + 1 > f.doc.position()) {
        go_to(el, i, c);
        break;
      }
  }
  ImGuiListClipper clip;
  clip.Begin(int(el.size()));
  if (s.scroll_to_selected && c.error >= 0) clip.ForceDisplayRangeByIndices(int(c.error), int(c.error) + 1);
  while (clip.Step()) {
    for (int r = clip.DisplayStart; r < clip.DisplayEnd; ++r) {
      const analysis::HeapError& h = el.at(size_t(r));
      char label[320];
      // "#N": the event, as `heapviz dump` names it.
      snprintf(label, sizeof label, "%d  %s  #%" PRIu64 "  %.120s##e%d", r + 1,
               trace::error_kind_name(h.report.kind), el.event(size_t(r)) + 1, h.report.message.c_str(), r);
      bool sel = c.error == r;
      ImGui::PushStyleColor(ImGuiCol_Text, im_color(kErrorRgb));
      if (ImGui::Selectable(label, sel)) go_to(el, size_t(r), c);
      ImGui::PopStyleColor();
      if (sel && s.scroll_to_selected) {
        ImGui::SetScrollHereY(0.3f);
        s.scroll_to_selected = false;
      }
    }
  }
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("##errreport", ImVec2(0, 0), true);
  // None selected: the error at the current event (its error or error_report event), if any, as
  // where a live program stopped at its error (run --break-on-error) or a step landed.
  int64_t shown = c.error;
  if (shown < 0 && f.doc.position() > 0) { // (errors are in event order: the last at or before)
    size_t lo = 0, hi = el.size();
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (el.event(mid) + 1 <= f.doc.position())
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo > 0 && el.event(lo - 1) + 2 >= f.doc.position()) shown = int64_t(lo - 1);
  }
  s.shown = shown;
  if (shown >= 0)
    report(f, el.at(size_t(shown)), el.event(size_t(shown)) + 1, c);
  else
    ImGui::TextDisabled("Click an error to go to its event, select its block and see its stacks.");
  ImGui::EndChild();
}

} // namespace hv::views
