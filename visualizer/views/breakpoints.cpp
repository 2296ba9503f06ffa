// breakpoints.cpp - the "Breakpoints" window: the "run to" conditions (an error, event kinds, a
// chunk address touched, a size range, a function in the call stack), Run back / Run forward, and
// whether play and the transport's seeks stop at them.
// Must not: search or seek itself: it writes the conditions into its state and the request into
// Cursor::run; the app steps the search (session/breakpoints.h) a frame's budget at a time.
#include "views/palette.h"
#include "views/views.h"

#include "imgui.h"

#include <cinttypes>

namespace hv::views {

void draw_breakpoints(const Frame& f, BreakpointsState& s, Cursor& c) {
  session::Breakpoints& bp = s.bp;
  ImGui::TextDisabled("Stop at the first event that meets any ticked condition:");
  ImGui::Checkbox("a heap error", &bp.on_error);
  ImGui::Checkbox("an event of kind##k", &bp.on_kinds);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(-1);
  if (ImGui::InputTextWithHint("##kinds", "free,merge", s.kinds_text, sizeof s.kinds_text)) s.error.clear();
  if (ImGui::IsItemHovered()) {
    std::string all;
    for (int b = 0; b < session::kKindCount; ++b)
      all += std::string(b ? ", " : "") + session::kind_name(b);
    ImGui::SetTooltip("comma-separated: %s", all.c_str());
  }
  ImGui::Checkbox("touching the chunk at", &bp.on_addr);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(-70);
  ImGui::InputTextWithHint("##addr", "0x5555555592a0", s.addr_text, sizeof s.addr_text);
  ImGui::SameLine();
  if (ImGui::SmallButton("selected") && c.selected) {
    snprintf(s.addr_text, sizeof s.addr_text, "0x%" PRIx64, c.selected);
    bp.on_addr = true;
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("the chunk selected on the map");
  ImGui::Checkbox("with a size in", &bp.on_size);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(-1);
  ImGui::InputTextWithHint("##size", "N or MIN-MAX", s.size_text, sizeof s.size_text);
  ImGui::Checkbox("called from a function", &bp.on_site);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(-1);
  ImGui::InputTextWithHint("##fn", "a name, or part of one", s.function_text, sizeof s.function_text);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("allocations and frees whose call stack has a frame whose function contains this");
  // The fields, parsed (a wrong one turns its condition off, and says why).
  analysis::Filter fl;
  s.error.clear();
  if (bp.on_kinds) {
    std::string e = analysis::parse_kinds(s.kinds_text, &fl);
    if (e.empty())
      bp.kinds = fl.kinds;
    else
      s.error = e;
  }
  if (bp.on_addr) {
    std::string e = analysis::parse_addr(s.addr_text, &fl);
    if (e.empty() && fl.has_addr)
      bp.addr = fl.addr;
    else
      s.error = e.empty() ? "address: give one" : e;
  }
  if (bp.on_size) {
    std::string e = analysis::parse_size(s.size_text, &fl);
    if (e.empty() && fl.has_size) {
      bp.size_lo = fl.size_lo;
      bp.size_hi = fl.size_hi;
    } else {
      s.error = e.empty() ? "size: give N or MIN-MAX" : e;
    }
  }
  bp.function = s.function_text;
  if (!s.error.empty()) ImGui::TextColored(ImVec4(0.94f, 0.33f, 0.31f, 1), "%s", s.error.c_str());
  bool usable = bp.any() && s.error.empty();
  ImGui::Checkbox("play stops", &bp.stop_play);
  ImGui::SameLine();
  ImGui::Checkbox("seeks stop", &bp.stop_seeks);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip(
        "a seek with the timeline or the keys stops at the first event on the way that meets one");
  ImGui::BeginDisabled(!usable || s.search.searching());
  if (ImGui::Button("< Run back")) c.run = -1;
  ImGui::SameLine();
  if (ImGui::Button("Run forward >")) c.run = 1;
  ImGui::EndDisabled();
  if (s.search.searching() && !s.play) {
    ImGui::SameLine();
    if (ImGui::SmallButton("Stop")) c.run = 2; // the app cancels the search
    ImGui::ProgressBar(float(s.search.progress()), ImVec2(-1, 0), "searching");
  } else if (!s.message.empty()) {
    ImGui::TextWrapped("%s", s.message.c_str());
  }
  (void)f;
}

} // namespace hv::views
