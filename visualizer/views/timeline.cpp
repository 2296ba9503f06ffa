// timeline.cpp - the "Timeline" window: step, play, jump by kind, the scrubber, and the curves
// of heap footprint, live bytes, fragmentation and (a trace that released pages) the resident
// estimate over the whole trace with the marks; heap errors as red marks (a click on one goes
// to it, as a click in Errors does).
#include "views/palette.h"
#include "views/views.h"

#include "imgui.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <string>

namespace hv::views {

namespace {

// Resamples the document's series to one value per pixel column (the maximum in it, so peaks
// stay visible); columns without a point carry the previous one.
void resample(const std::vector<session::SeriesPoint>& pts, uint64_t total, int width, TimelineState& s) {
  s.heap.assign(size_t(width), -1);
  s.live.assign(size_t(width), -1);
  s.frag.assign(size_t(width), -1);
  s.resident.assign(size_t(width), -1);
  s.peak = 1;
  if (pts.empty() || total == 0) return;
  for (const session::SeriesPoint& x : pts) {
    size_t px = std::min(size_t(width) - 1, size_t(double(x.pos) / double(total) * (width - 1)));
    s.heap[px] = std::max(s.heap[px], float(x.heap));
    s.live[px] = std::max(s.live[px], float(x.live));
    s.frag[px] = std::max(s.frag[px], x.frag);
    s.resident[px] = std::max(s.resident[px], float(x.resident));
  }
  for (float x : s.heap)
    s.peak = std::max(s.peak, x);
  for (auto* v : {&s.heap, &s.live, &s.frag, &s.resident}) {
    float last = 0;
    for (float& y : *v) {
      if (y < 0) y = last;
      last = y;
    }
  }
}

} // namespace

void draw_timeline(const Frame& f, TimelineState& s, Cursor& c) {
  session::Document& doc = f.doc;
  uint64_t total = doc.events(), pos = doc.position();
  // A trace that released pages (malloc_trim): the resident estimate gets a curve of its own.
  const bool released = doc.summary().count(trace::Ev::Release) != 0;
  // Transport.
  if (ImGui::Button("|<")) c.seek = 0, c.seek_stops = true;
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("first event (Home)");
  ImGui::SameLine();
  if (ImGui::Button("<")) c.seek = pos > 0 ? int64_t(pos - 1) : 0, c.seek_stops = true;
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("step back one event (Left)");
  ImGui::SameLine();
  if (ImGui::Button(c.playing ? "Pause" : "Play ", ImVec2(50, 0))) c.playing = !c.playing;
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("play / pause (Space)");
  ImGui::SameLine();
  if (ImGui::Button(">")) c.seek = int64_t(std::min(total, pos + 1)), c.seek_stops = true;
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("step forward one event (Right)");
  ImGui::SameLine();
  if (ImGui::Button(">|")) c.seek = int64_t(total), c.seek_stops = true;
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("last event (End)");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(140);
  ImGui::SliderFloat("##speed", &c.speed, 1, 1e6, "%.0f events/s", ImGuiSliderFlags_Logarithmic);
  // The groups after the transport wrap as whole groups in a narrow window, never clip.
  const ImGuiStyle& style = ImGui::GetStyle();
  same_line_or_wrap(ImGui::CalcTextSize("jump to").x + 90 + button_width("prev") + button_width("next") +
                        3 * style.ItemSpacing.x,
                    20);
  ImGui::TextUnformatted("jump to");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(90);
  if (ImGui::BeginCombo("##kind", session::kind_name(s.jump_kind))) {
    for (int k = 0; k < session::kKindCount; ++k)
      if (ImGui::Selectable(session::kind_name(k), k == s.jump_kind)) s.jump_kind = k;
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  uint32_t mask = 1u << s.jump_kind;
  if (ImGui::Button("prev")) {
    // The current event is index pos-1; the previous one of the kind is before it.
    int64_t i = pos >= 2 ? doc.index().find_prev(pos - 2, mask) : -1;
    if (i >= 0) c.seek = i + 1;
  }
  ImGui::SameLine();
  if (ImGui::Button("next")) {
    int64_t i = doc.index().find_next(pos, mask);
    if (i >= 0) c.seek = i + 1;
  }
  same_line_or_wrap(button_width("run to..."));
  if (ImGui::Button("run to...")) c.open_breakpoints = true;
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip(
        "Breakpoints: run back or forward to an error, an event kind, a chunk, a size or a function");
  char where[64];
  snprintf(where, sizeof where, "event %" PRIu64 " of %" PRIu64, pos, total);
  same_line_or_wrap(ImGui::CalcTextSize(where).x, 20);
  ImGui::TextUnformatted(where);
  // Diff marks: A and B at the current event; with both, the map compares with A.
  same_line_or_wrap(button_width("A*") + style.ItemSpacing.x + button_width("B*"), 16);
  if (ImGui::SmallButton(c.mark_a >= 0 ? "A*" : "A")) c.mark_a = c.mark_a == int64_t(pos) ? -1 : int64_t(pos);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip(c.mark_a >= 0 ? "mark A at event %" PRId64 " (click at it again to clear)"
                                    : "mark this event as A, the start of a diff",
                      c.mark_a);
  ImGui::SameLine();
  if (ImGui::SmallButton(c.mark_b >= 0 ? "B*" : "B")) c.mark_b = c.mark_b == int64_t(pos) ? -1 : int64_t(pos);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip(c.mark_b >= 0 ? "mark B at event %" PRId64 " (click at it again to clear)"
                                    : "mark this event as B: the map then compares each chunk with A",
                      c.mark_b);
  // The curves' key, on this line so that it never covers them.
  {
    float peak_key = s.peak;
    if (s.curves_samples != doc.series().size() || s.curves_total != total) { // not yet resampled
      peak_key = 1;
      for (const session::SeriesPoint& p : doc.series())
        peak_key = std::max(peak_key, float(p.heap));
    }
    auto key = [](uint32_t rgb, const char* text) {
      same_line_or_wrap(ImGui::CalcTextSize(text).x, 16);
      ImGui::TextColored(
          ImVec4(float(rgb >> 16) / 255, float((rgb >> 8) & 0xff) / 255, float(rgb & 0xff) / 255, 1), "%s",
          text);
    };
    std::string heap_key = "heap (peak " + human_bytes(uint64_t(peak_key)) + ")";
    key(kCurveHeapRgb, heap_key.c_str());
    key(kCurveLiveRgb, "live");
    if (released) key(kCurveResidentRgb, "resident (heap - released)");
    key(kCurveFragRgb, "fragmentation");
    if (c.site >= 0 && f.sites) key(kSiteCurveRgb, "selected site (its own scale)");
  }

  // Scrubber.
  ImGui::SetNextItemWidth(-1);
  uint64_t v = pos, lo = 0, hi = total;
  if (ImGui::SliderScalar("##scrub", ImGuiDataType_U64, &v, &lo, &hi, "%llu") && v != pos) {
    c.seek = int64_t(v);
    c.seek_stops = true;
  }

  // Curves.
  ImVec2 avail = ImGui::GetContentRegionAvail();
  float h = std::max(30.0f, avail.y - 4);
  // The y axis: a gutter left of the curves for their scale (bytes for heap, live and resident;
  // percent for fragmentation), so that no label covers a curve or a mark.
  // (Wide enough for human_bytes' widest, "999.99 MiB": "123.42 MiB" lost its first digit.)
  const float axis_w = ImGui::CalcTextSize("999.99 MiB").x + 8;
  const ImVec2 axis0 = ImGui::GetCursorScreenPos();
  ImGui::Dummy(ImVec2(axis_w, h));
  ImGui::SameLine(0, 0);
  int w = int(std::max(50.0f, avail.x - axis_w));
  ImVec2 p0 = ImGui::GetCursorScreenPos();
  ImGui::InvisibleButton("##curves", ImVec2(float(w), h));
  bool hovered = ImGui::IsItemHovered();
  // Heap errors: the one whose mark is under the pointer (within 4 px), if any.
  const session::ErrorList& errors = doc.errors();
  auto error_x = [&](size_t k) {
    return p0.x + float(double(errors.event(k) + 1) / double(std::max<uint64_t>(total, 1))) * float(w - 1);
  };
  int64_t error_hover = -1;
  if (hovered && total)
    for (size_t k = 0; k < errors.size(); ++k)
      if (std::fabs(ImGui::GetIO().MousePos.x - error_x(k)) <= 4) error_hover = int64_t(k);
  if (ImGui::IsItemClicked(0)) s.on_error_mark = error_hover >= 0;
  if (s.on_error_mark && ImGui::IsItemClicked(0)) { // as a click in Errors: its event, its block
    const analysis::HeapError& h = errors.at(size_t(error_hover));
    c.error = error_hover;
    c.seek = int64_t(errors.event(size_t(error_hover)) + 1);
    c.playing = false;
    if (h.has_block && h.chunk) {
      c.selected = h.chunk;
      c.reveal = true;
    }
  } else if (ImGui::IsItemActive() && total && !s.on_error_mark) {
    float fx = std::clamp((ImGui::GetIO().MousePos.x - p0.x) / float(w), 0.0f, 1.0f);
    c.seek = int64_t(double(fx) * double(total) + 0.5);
    c.seek_stops = true;
  }
  const auto& samples = doc.series();
  if (s.curves_width != float(w) || s.curves_samples != samples.size() || s.curves_total != total) {
    resample(samples, total, w, s);
    s.curves_width = float(w);
    s.curves_samples = samples.size();
    s.curves_total = total;
  }
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(p0, ImVec2(p0.x + float(w), p0.y + h), IM_COL32(25, 25, 28, 255));
  float peak = s.peak;
  {
    // Gridlines at the peak, half of it and zero, each labelled in the gutter (bytes right-aligned,
    // the fragmentation's percent under them in its colour).
    const float lh = ImGui::GetTextLineHeight();
    for (int k = 2; k >= 0; --k) {
      float y = p0.y + h - 2 - float(k) / 2 * (h - 16);
      if (k) dl->AddLine(ImVec2(p0.x, y), ImVec2(p0.x + float(w), y), IM_COL32(255, 255, 255, 28));
      std::string bytes = k ? human_bytes(uint64_t(peak * float(k) / 2)) : "0";
      if (k == 1 && h < 3 * lh + 16) continue; // no room for the middle label
      float ty = std::clamp(y - lh / 2, axis0.y, axis0.y + h - lh);
      dl->AddText(ImVec2(axis0.x + axis_w - 6 - ImGui::CalcTextSize(bytes.c_str()).x, ty),
                  IM_COL32(170, 170, 175, 255), bytes.c_str());
      if (k == 2 && h >= 2 * lh + 16) {
        const char* pct = "100%";
        dl->AddText(ImVec2(axis0.x + axis_w - 6 - ImGui::CalcTextSize(pct).x, ty + lh),
                    im_color(kCurveFragRgb), pct);
      }
    }
  }
  auto plot = [&](const std::vector<float>& ys, float scale, uint32_t rgb) {
    ImVec2 prev;
    for (int x = 0; x < w; ++x) {
      ImVec2 pt(p0.x + float(x), p0.y + h - 2 - ys[size_t(x)] / scale * (h - 16));
      if (x > 0) dl->AddLine(prev, pt, im_color(rgb), 1.5f);
      prev = pt;
    }
  };
  if (!s.heap.empty()) {
    plot(s.frag, 1.0f, kCurveFragRgb);
    plot(s.heap, peak, kCurveHeapRgb);
    if (released) plot(s.resident, peak, kCurveResidentRgb);
    plot(s.live, peak, kCurveLiveRgb);
  }
  // The site selected in Sites: its live bytes over the whole trace, on a scale of its own.
  if (c.site >= 0 && f.sites && total) {
    const std::vector<uint64_t>& sc = f.sites->site_curve(doc, uint32_t(c.site), size_t(w));
    uint64_t top = 1;
    for (uint64_t v : sc)
      top = std::max(top, v);
    ImVec2 prev;
    for (int x = 0; x < w && size_t(x) < sc.size(); ++x) {
      ImVec2 pt(p0.x + float(x), p0.y + h - 2 - float(double(sc[size_t(x)]) / double(top)) * (h - 6));
      if (x > 0) dl->AddLine(prev, pt, im_color(kSiteCurveRgb), 1.5f);
      prev = pt;
    }
  }
  // Marks, their labels staggered over a few lines when they would overlap.
  float line_end[3] = {-1e9f, -1e9f, -1e9f};
  float lh = ImGui::GetTextLineHeight();
  for (const session::MarkInfo& m : doc.index().marks()) {
    float x = p0.x + float(double(m.index + 1) / double(std::max<uint64_t>(total, 1))) * float(w - 1);
    dl->AddLine(ImVec2(x, p0.y), ImVec2(x, p0.y + h), im_color(kMarkRgb, 110));
    float tw = ImGui::CalcTextSize(m.label.c_str()).x;
    float tx = x + 2 + tw > p0.x + float(w) ? x - 2 - tw : x + 2; // near the right edge: to the left
    int line = 0;
    while (line < 2 && line_end[line] > tx)
      ++line;
    if (line_end[line] > tx) continue; // no room: the line alone marks it
    dl->AddText(ImVec2(tx, p0.y + 1 + float(line) * lh), im_color(kMarkRgb), m.label.c_str());
    line_end[line] = tx + tw + 4;
  }
  // Diff marks A and B: a band between them.
  if (total && (c.mark_a >= 0 || c.mark_b >= 0)) {
    auto xat = [&](int64_t m) { return p0.x + float(double(m) / double(total)) * float(w - 1); };
    if (c.mark_a >= 0 && c.mark_b >= 0)
      dl->AddRectFilled(ImVec2(xat(std::min(c.mark_a, c.mark_b)), p0.y),
                        ImVec2(xat(std::max(c.mark_a, c.mark_b)), p0.y + h), IM_COL32(120, 200, 255, 40));
    for (int k = 0; k < 2; ++k) {
      int64_t m = k ? c.mark_b : c.mark_a;
      if (m < 0) continue;
      dl->AddLine(ImVec2(xat(m), p0.y), ImVec2(xat(m), p0.y + h), IM_COL32(120, 200, 255, 255), 1.5f);
      dl->AddText(ImVec2(xat(m) + 3, p0.y + h - lh - 1), IM_COL32(120, 200, 255, 255), k ? "B" : "A");
    }
  }
  // Current position.
  if (total) {
    float x = p0.x + float(double(pos) / double(total)) * float(w - 1);
    dl->AddLine(ImVec2(x, p0.y), ImVec2(x, p0.y + h), IM_COL32(255, 255, 255, 255), 2);
  }
  // Heap errors: a red line each, with a flag at the top that can be clicked (over the
  // position line: at an error, the error shows).
  s.drawn_error_x.clear();
  s.curves_x0 = p0.x;
  s.curves_y0 = p0.y;
  s.curves_x1 = p0.x + float(w);
  s.curves_y1 = p0.y + h;
  for (size_t k = 0; k < errors.size() && total; ++k) {
    float x = std::floor(error_x(k)) + 0.5f;
    bool sel = c.error == int64_t(k);
    dl->AddLine(ImVec2(x, p0.y), ImVec2(x, p0.y + h), im_color(kErrorRgb), sel ? 3.0f : 2.0f);
    dl->AddTriangleFilled(ImVec2(x - 5, p0.y), ImVec2(x + 5, p0.y), ImVec2(x, p0.y + 8), im_color(kErrorRgb));
    s.drawn_error_x.push_back(x);
  }
  // Key, at the bottom right.
  if (hovered && error_hover >= 0) {
    const analysis::HeapError& e = errors.at(size_t(error_hover));
    ImGui::SetTooltip("error %" PRId64 " at event %" PRIu64 ": %s\n%s\nclick: go to it, select its block",
                      error_hover + 1, errors.event(size_t(error_hover)) + 1,
                      trace::error_kind_name(e.report.kind), e.report.message.c_str());
  } else if (hovered && total) {
    float fx = std::clamp((ImGui::GetIO().MousePos.x - p0.x) / float(w), 0.0f, 1.0f);
    size_t px = size_t(fx * float(w - 1));
    std::string resident =
        released ? ", resident " + human_bytes(uint64_t(s.resident[px])) + " (heap - released)" : "";
    ImGui::SetTooltip("event %" PRIu64 "\nheap %s%s, live %s, fragmentation %.0f%%\nclick or drag to seek",
                      uint64_t(double(fx) * double(total)), human_bytes(uint64_t(s.heap[px])).c_str(),
                      resident.c_str(), human_bytes(uint64_t(s.live[px])).c_str(), 100.0 * s.frag[px]);
  }
}

} // namespace hv::views
