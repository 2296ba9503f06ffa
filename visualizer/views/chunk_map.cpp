// chunk_map.cpp - the "Chunk map" window: every heap region as rows of chunks (chunk_layout.h
// computes the rectangles; this file draws them, hatches released pages, draws a heap error's
// corrupted bytes in the error colour, zooms, pans, hovers and selects).
#include "views/palette.h"
#include "views/views.h"

#include "imgui.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>

namespace hv::views {

namespace {

bool same_view(const MapView& a, const MapView& b) {
  return a.width == b.width && a.bpp == b.bpp && a.min_px == b.min_px && a.cells == b.cells &&
         a.row_h == b.row_h && a.shorten_rows == b.shorten_rows && a.region == b.region &&
         a.range_lo == b.range_lo && a.range_hi == b.range_hi;
}

void legend_entry(Paint p) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  ImVec2 at = ImGui::GetCursorScreenPos();
  float h = ImGui::GetTextLineHeight();
  dl->AddRectFilled(at, ImVec2(at.x + h, at.y + h), im_color(kPaintRgb[size_t(p)]));
  dl->AddRect(at, ImVec2(at.x + h, at.y + h), IM_COL32(0, 0, 0, 255));
  ImGui::Dummy(ImVec2(h, h));
  ImGui::SameLine(0, 4);
  ImGui::TextUnformatted(paint_name(p));
}

// Diagonal lines over [a, b) (screen pixels), on the lines x + y = k * kPitch of the whole
// screen, so that neighbouring pieces continue one another's hatching.
void hatch(ImDrawList* dl, ImVec2 a, ImVec2 b) {
  constexpr float kPitch = 6;
  for (float c = std::ceil((a.x + a.y) / kPitch) * kPitch; c < b.x + b.y; c += kPitch) {
    float xs = std::max(a.x, c - b.y), xe = std::min(b.x, c - a.y);
    if (xs < xe) dl->AddLine(ImVec2(xs, c - xs), ImVec2(xe, c - xe), im_color(kReleasedRgb), 1.0f);
  }
}

// before: the picture has blocks from before the trace (their entry is shown only then).
void draw_legend(bool before) {
  static const Paint kOrder[] = {Paint::InUse,  Paint::Before, Paint::Header,   Paint::Slack,
                                 Paint::Tcache, Paint::Fast,   Paint::Unsorted, Paint::Small,
                                 Paint::Large,  Paint::Top,    Paint::Mmapped,  Paint::Fence,
                                 Paint::InHand, Paint::Gap,    Paint::Internal};
  float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
  for (size_t i = 0; i < std::size(kOrder); ++i) {
    if (kOrder[i] == Paint::Before && !before) continue;
    if (i > 0) {
      float next = ImGui::GetItemRectMax().x + 14 + ImGui::GetTextLineHeight() + 4 +
                   ImGui::CalcTextSize(paint_name(kOrder[i])).x;
      if (next < right) ImGui::SameLine(0, 14);
    }
    legend_entry(kOrder[i]);
  }
  ImGui::SameLine(0, 14);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  ImVec2 at = ImGui::GetCursorScreenPos();
  float h = ImGui::GetTextLineHeight();
  dl->AddRectFilled(at, ImVec2(at.x + h, at.y + 2), im_color(kPaintRgb[size_t(Paint::InUse)]));
  dl->AddRect(ImVec2(at.x, at.y + 4), ImVec2(at.x + h, at.y + h), IM_COL32(110, 110, 110, 255));
  ImGui::Dummy(ImVec2(h, h));
  ImGui::SameLine(0, 4);
  ImGui::TextUnformatted("tick: live bytes too few for a pixel");
  const char* hatched = "hatched: released to the OS (not resident)";
  if (ImGui::GetItemRectMax().x + 14 + h + 4 + ImGui::CalcTextSize(hatched).x < right) ImGui::SameLine(0, 14);
  at = ImGui::GetCursorScreenPos();
  dl->AddRectFilled(at, ImVec2(at.x + h, at.y + h), im_color(kPaintRgb[size_t(Paint::Large)]));
  hatch(dl, at, ImVec2(at.x + h, at.y + h));
  dl->AddRect(at, ImVec2(at.x + h, at.y + h), IM_COL32(0, 0, 0, 255));
  ImGui::Dummy(ImVec2(h, h));
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("Pages of free chunks handed back to the system with madvise(MADV_DONTNEED)\n"
                      "(malloc_trim): in the footprint, but not resident until a chunk over them\n"
                      "is used again");
  ImGui::SameLine(0, 4);
  ImGui::TextUnformatted(hatched);
}

// The scale as the toolbar states it: true bytes per pixel, or what makes the map not to scale.
void scale_text(const MapView& v, char* buf, size_t n) {
  std::string per = v.bpp >= 1 ? human_bytes(uint64_t(v.bpp)) : "< 1 byte";
  switch (v.mode()) {
  case MapMode::OneCell:
    snprintf(buf, n, "not to scale: one cell per chunk");
    return;
  case MapMode::MinWidth:
    snprintf(buf, n, "not to scale: %s per pixel, chunks at least %.0f px", per.c_str(), double(v.min_px));
    return;
  case MapMode::Exact:
    break;
  }
  if (v.shorten_rows > 0)
    snprintf(buf, n, "not to scale: %s per pixel, top shortened", per.c_str());
  else
    snprintf(buf, n, "to scale: %s per pixel", per.c_str());
}

// The map's settings: how widths follow bytes, what is shown, how it is coloured.
void view_menu(const HeapPicture& pic, ChunkMapState& s) {
  if (ImGui::Button("View...")) ImGui::OpenPopup("##mapview");
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Scale, regions, address range, colours");
  if (!ImGui::BeginPopup("##mapview")) return;
  static const char* kModes[] = {"true to bytes", "minimum width (3 px a chunk)", "one cell per chunk"};
  static const char* kAbout[] = {
      ("Every byte the same width: the area of each colour is the heap's bytes in that state.\n"
       "Chunks narrower than a pixel share it: the pixel is split by their bytes, and a tick above\n"
       "it marks live bytes too few for a pixel of their own."),
      ("Tiny chunks get at least 3 pixels: easy to point at, but small chunks then take far more\n"
       "of the map than their bytes. Not to scale."),
      "Every chunk one cell, whatever its size: counts, not bytes. Not to scale."};
  MapMode mode = s.view.mode();
  for (int m = 0; m < 3; ++m) {
    if (ImGui::RadioButton(kModes[m], mode == MapMode(m))) {
      s.view.set_mode(MapMode(m));
      s.fit_pending = true;
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", kAbout[m]);
  }
  bool shorten = s.view.shorten_rows > 0;
  if (ImGui::Checkbox("shorten top (not to scale)", &shorten)) {
    s.view.shorten_rows = shorten ? 1.0f : 0.0f;
    s.fit_pending = true;
  }
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip(
        "Draw the top chunk and non-chunk gaps at most one row long\n(their label gives the true size).");
  ImGui::Separator();
  std::string current = s.view.region < 0 || size_t(s.view.region) >= pic.groups.size()
                            ? std::string("every region")
                            : pic.groups[size_t(s.view.region)].title;
  ImGui::SetNextItemWidth(420);
  if (ImGui::BeginCombo("region", current.c_str())) {
    if (ImGui::Selectable("every region", s.view.region < 0)) {
      s.view.region = -1;
      s.fit_pending = true;
    }
    for (size_t g = 0; g < pic.groups.size(); ++g)
      if (ImGui::Selectable(pic.groups[g].title.c_str(), s.view.region == int32_t(g))) {
        s.view.region = int32_t(g);
        s.fit_pending = true;
      }
    ImGui::EndCombo();
  }
  ImGui::SetNextItemWidth(300);
  if (ImGui::InputTextWithHint("address range", "0x555555559000-0x55555557a000", s.range_text,
                               sizeof s.range_text, ImGuiInputTextFlags_EnterReturnsTrue)) {
    uint64_t lo = 0, hi = UINT64_MAX;
    if (!s.range_text[0] || parse_range(s.range_text, &lo, &hi)) {
      s.view.range_lo = lo;
      s.view.range_hi = hi;
      s.fit_pending = true;
      s.range_error = false;
    } else {
      s.range_error = true;
    }
  }
  if (s.range_error)
    ImGui::TextColored(ImVec4(0.94f, 0.33f, 0.31f, 1), "expected ADDR-ADDR (hex with 0x)");
  else
    ImGui::TextDisabled("Enter applies; empty shows every address");
  ImGui::Separator();
  ImGui::Checkbox("legend", &s.legend);
  ImGui::Checkbox("colour by allocation site", &s.by_site);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("Colour chunks in use by the call stack that allocated them (a colour per site)");
  ImGui::EndPopup();
}

// A stable colour per allocation site: a hue from the site's number, never one of the state
// colours' greys.
uint32_t site_rgb(uint32_t site) {
  uint32_t h = site * 2654435761u;
  float hue = float(h >> 8) / float(1u << 24), sat = 0.55f + float((h >> 4) & 7) / 28.0f, val = 0.85f;
  float r, g, b;
  ImGui::ColorConvertHSVtoRGB(hue, sat, val, r, g, b);
  return uint32_t(r * 255) << 16 | uint32_t(g * 255) << 8 | uint32_t(b * 255);
}

void tooltip(const HeapPicture::Item& it, const model::PolicyInfo& policy, session::SiteView* sv,
             const PixelContents* px, uint64_t released) {
  ImGui::BeginTooltip();
  if (px && px->count > 1) {
    // Several chunks share this pixel: what it holds, by bytes, then the one under the pointer.
    uint64_t total = 0;
    for (uint64_t b : px->bytes)
      total += b;
    ImGui::Text("this pixel: %u chunks, %s", px->count, human_bytes(total).c_str());
    for (size_t k = 0; k < size_t(Paint::Count); ++k) {
      if (!px->bytes[k]) continue;
      ImDrawList* dl = ImGui::GetWindowDrawList();
      ImVec2 at = ImGui::GetCursorScreenPos();
      float h = ImGui::GetTextLineHeight();
      dl->AddRectFilled(ImVec2(at.x + 8, at.y + 2), ImVec2(at.x + 8 + h - 4, at.y + h - 2),
                        im_color(kPaintRgb[k]));
      ImGui::Dummy(ImVec2(h + 8, h));
      ImGui::SameLine(0, 2);
      ImGui::Text("%s  %.1f%%  %s", human_bytes(px->bytes[k]).c_str(),
                  100.0 * double(px->bytes[k]) / double(total), paint_name(Paint(k)));
    }
    ImGui::TextDisabled("zoom in (wheel) to tell them apart; under the pointer:");
    ImGui::Separator();
  }
  if (it.gap()) {
    ImGui::Text("0x%" PRIx64 " - 0x%" PRIx64 ": not a chunk", it.addr, it.addr + it.size);
    ImGui::TextDisabled("%s of heap metadata (heap_info, the arena) or alignment",
                        human_bytes(it.size).c_str());
  } else {
    ImGui::Text("chunk 0x%" PRIx64 "  (user pointer 0x%" PRIx64 ")", it.addr, policy.user_pointer(it.addr));
    ImGui::Text("size %" PRIu64 " (0x%" PRIx64 ")   %s", it.size, it.size, chunk_text(it, policy).c_str());
    if (const char* mid = mid_call_text(it)) {
      ImGui::TextColored(ImVec4(0.96f, 0.56f, 0.69f, 1), "in the middle of a call");
      ImGui::TextDisabled("%s", mid);
    } else if (it.before_trace()) {
      ImGui::TextDisabled("allocated before the trace began (heapviz attached later): request unknown");
    } else if (trace::is_in_use(it.state) && !it.internal) {
      ImGui::Text("requested %" PRIu64 " bytes", it.req);
    }
    if (it.seq && !it.before_trace())
      ImGui::Text("%s by event seq %" PRIu64, trace::is_in_use(it.state) ? "allocated" : "last changed",
                  it.seq);
    ImGui::Text("arena %u", it.arena);
    if (released)
      ImGui::Text("%s of it released to the OS (madvise): not resident until reused",
                  human_bytes(released).c_str());
    if (sv && it.state == uint8_t(trace::ChunkState::InUse) && !it.internal) {
      int64_t site = sv->site_of(policy.user_pointer(it.addr));
      if (site >= 0) ImGui::Text("allocated at %s", sv->short_name(uint32_t(site)).c_str());
    }
    ImGui::TextDisabled("click to inspect");
  }
  ImGui::EndTooltip();
}

} // namespace

void draw_chunk_map(const Frame& f, ChunkMapState& s, Cursor& c) {
  const HeapPicture& pic = f.picture;
  // Toolbar.
  if (ImGui::Button("Fit")) s.fit_pending = s.fit_each = true;
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("Zoom so that the whole heap fits, at this and every later event");
  ImGui::SameLine();
  if (ImGui::Button("-")) {
    s.view.bpp *= 2;
    s.fit_each = false;
  }
  ImGui::SameLine();
  if (ImGui::Button("+")) {
    s.view.bpp = std::max(1.0 / 16, s.view.bpp / 2);
    s.fit_each = false;
  }
  ImGui::SameLine();
  ImGui::Checkbox("fit each event", &s.fit_each);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("Zoom to fit whenever the event changes (the wheel, + and - turn this off)");
  ImGui::SameLine();
  view_menu(pic, s);
  ImGui::SameLine();
  char scale[128];
  scale_text(s.view, scale, sizeof scale);
  if (s.view.to_scale())
    ImGui::TextDisabled("%s", scale);
  else
    ImGui::TextColored(ImVec4(0.96f, 0.75f, 0.35f, 1), "%s", scale);
  if (s.view.filtered()) {
    ImGui::SameLine();
    ImGui::TextColored(ImVec4(0.96f, 0.75f, 0.35f, 1), "(part of the heap: View...)");
  }
  if (s.legend) draw_legend(f.picture.before_blocks > 0);

  ImVec2 avail = ImGui::GetContentRegionAvail();
  if (avail.x < 50 || avail.y < 30) return;
  ImGui::BeginChild("##map", avail, false, ImGuiWindowFlags_NoScrollWithMouse | ImGuiWindowFlags_NoMove);
  float scrollbar = ImGui::GetStyle().ScrollbarSize;
  MapView want = s.view;
  want.width = std::max(40.0f, std::floor(avail.x - scrollbar - 2));
  // Titles and rows with the UI scale (their text is the font's size: at 1.5 a title ran into
  // the row below it); whole pixels, the sizes of MapView's defaults at scale 1.
  const float em = ImGui::GetFontSize() / 15.0f;
  want.title_h = std::round(MapView{}.title_h * std::max(1.0f, em));
  want.row_h = std::round(MapView{}.row_h * std::max(1.0f, em));
  if (s.fit_each && s.layout_position != pic.position) s.fit_pending = true;
  if (s.fit_pending && pic.position != UINT64_MAX) {
    want.bpp = fit_bpp(pic, want, avail.y - 4);
    s.fit_pending = false;
  }
  s.view = want;
  if (s.layout_position != pic.position || !same_view(s.layout_view, s.view)) {
    layout_map(pic, s.view, &s.layout);
    s.layout_position = pic.position;
    s.layout_view = s.view;
    s.rects_y0 = -1;
  }
  ImVec2 origin = ImGui::GetCursorScreenPos(); // map y=0 at scroll 0
  ImGui::Dummy(ImVec2(s.view.width, std::max(s.layout.height, 1.0f)));
  float scroll = ImGui::GetScrollY();
  ImGuiIO& io = ImGui::GetIO();
  bool hovered = ImGui::IsWindowHovered();
  float mx = io.MousePos.x - origin.x, my = io.MousePos.y - origin.y; // map coordinates

  // Zoom with the wheel, keeping the point under the cursor at the same height.
  if (hovered && io.MouseWheel != 0 && !s.view.cells) {
    int64_t under = hit_test(pic, s.layout, s.view, mx, my);
    double frac = 0; // where in that item the cursor is, as a fraction of its width
    if (under >= 0) {
      size_t gi = 0;
      for (; gi < pic.groups.size(); ++gi)
        if (size_t(under) < pic.groups[gi].first + pic.groups[gi].count) break;
      const MapLayout::Group& lg = s.layout.groups[gi];
      float pitch = s.view.row_h + s.view.row_gap;
      double sp = double(uint64_t((my - lg.rows_y) / pitch)) * s.view.width + mx;
      double w = s.layout.width[size_t(under)];
      frac = w > 0 ? (sp - s.layout.start[size_t(under)]) / w : 0;
    }
    double factor = io.MouseWheel > 0 ? 1.0 / 1.25 : 1.25;
    s.fit_each = false;
    s.view.bpp = std::clamp(s.view.bpp * factor, 1.0 / 16, double(1ull << 40));
    float screen_y = my - scroll;
    layout_map(pic, s.view, &s.layout);
    s.layout_view = s.view;
    s.rects_y0 = -1;
    if (under >= 0) {
      size_t gi = 0;
      for (; gi < pic.groups.size(); ++gi)
        if (size_t(under) < pic.groups[gi].first + pic.groups[gi].count) break;
      const MapLayout::Group& lg = s.layout.groups[gi];
      double sp = s.layout.start[size_t(under)] + frac * s.layout.width[size_t(under)];
      float pitch = s.view.row_h + s.view.row_gap;
      float y = lg.rows_y + float(uint64_t(sp / s.view.width)) * pitch + s.view.row_h / 2;
      ImGui::SetScrollY(std::max(0.0f, y - screen_y));
    }
  }
  // Pan: drag with any button (a left click without a drag selects).
  for (int b = 0; b < 3; ++b)
    if (hovered && ImGui::IsMouseDragging(b, 3.0f)) {
      ImGui::SetScrollY(std::max(0.0f, scroll - io.MouseDelta.y));
    }

  ImDrawList* dl = ImGui::GetWindowDrawList();
  float view_h = ImGui::GetWindowHeight();
  // The rectangles change only with the layout (position, zoom, width) or the scroll.
  if (s.rects_y0 != scroll || s.rects_y1 != scroll + view_h) {
    visible_rects(pic, s.layout, s.view, scroll, scroll + view_h, &s.rects);
    released_rects(pic, s.layout, s.view, scroll, scroll + view_h, &s.released);
    s.rects_y0 = scroll;
    s.rects_y1 = scroll + view_h;
    ++s.rects_gen;
  }
  if (s.record_geometry) {
    s.drawn.clear();
    s.drawn_rows.clear();
    s.drawn_released.clear();
    ImVec2 w0 = ImGui::GetWindowPos();
    s.map_x0 = w0.x;
    s.map_y0 = w0.y;
    s.map_x1 = w0.x + ImGui::GetWindowWidth();
    s.map_y1 = w0.y + view_h;
    for (const MapLayout::Group& lg : s.layout.groups)
      if (!lg.hidden)
        s.drawn_rows.push_back({origin.y + lg.rows_y, s.view.row_h + s.view.row_gap, s.view.row_h, lg.rows});
  }
  for (const MapRect& r : s.rects) {
    ImVec2 a(origin.x + r.x0, origin.y + r.y0), b(origin.x + r.x1, origin.y + r.y1);
    dl->AddRectFilled(a, b, im_color(kPaintRgb[size_t(r.paint)]));
    // A separator at a chunk's start, where it costs little of the chunk's area.
    if (r.first && r.item >= 0 && s.layout.width[size_t(r.item) + (r.lead ? 1 : 0)] >= 10)
      dl->AddLine(a, ImVec2(a.x, b.y), IM_COL32(20, 20, 20, 255));
    if (s.record_geometry && r.item >= 0) s.drawn.push_back({r.item, r.paint, a.x, a.y, b.x, b.y});
  }
  // Sites: in-use chunks in a colour per allocation site, and the selected site's chunks standing
  // out (the others dimmed). Both need the site table at this event.
  session::SiteView* sv = f.sites;
  bool filtering = c.site >= 0 || !c.function.empty();
  bool sites_here = sv && (s.by_site || filtering) && sv->update(f.doc, 0.008) && sv->at(f.doc);
  if (sites_here) {
    for (const MapRect& r : s.rects) {
      ImVec2 a(origin.x + r.x0, origin.y + r.y0), b(origin.x + r.x1, origin.y + r.y1);
      if (r.item < 0) { // pixels of several chunks: not one site's (zoom in to tell them apart)
        if (filtering) dl->AddRectFilled(a, b, IM_COL32(0, 0, 0, 150));
        continue;
      }
      const HeapPicture::Item& it = pic.items[size_t(r.item)];
      int64_t site = !it.gap() && it.state == uint8_t(trace::ChunkState::InUse) && !it.internal
                         ? sv->site_of(f.policy().user_pointer(it.addr))
                         : -1;
      if (s.by_site && site >= 0 && r.paint != Paint::Header)
        dl->AddRectFilled(a, b, im_color(site_rgb(uint32_t(site))));
      // By site, what no site holds (free chunks, top, the allocator's own) is muted.
      if (s.by_site && site < 0 && !filtering) dl->AddRectFilled(a, b, IM_COL32(0, 0, 0, 140));
      bool shown = c.site >= 0 ? site == c.site : site >= 0 && sv->has_function(uint32_t(site), c.function);
      if (filtering && !shown) dl->AddRectFilled(a, b, IM_COL32(0, 0, 0, 150));
    }
  }
  // Diff marks. At A: each chunk compared with B, the ones that die by B outlined in red. Anywhere
  // else: compared with A, born since A in green. Both: reused or rebinned yellow, unchanged dimmed.
  // A pixel that pools chunks narrower than itself takes the strongest mark of its chunks (born or
  // died, then reused, else dimmed), filled: a full view of thousands of small chunks freed since
  // A showed none of them (pooled pixels were skipped).
  if (f.diff) {
    bool at_a = f.doc.position() == f.diff->a;
    // Each rect's mark, computed when the rects, the position or the marks change (not at every
    // frame: a full view pools hundreds of thousands of chunks).
    if (s.diff_gen != s.rects_gen || s.diff_pos != pic.position || s.diff_a != f.diff->a ||
        s.diff_b != f.diff->b) {
      auto compare = [&](const HeapPicture::Item& it) {
        return at_a ? f.diff->compare_at_a(it.addr, it.size, it.seq, it.state)
                    : f.diff->compare(it.addr, it.size, it.seq, it.state);
      };
      s.diff_k.assign(s.rects.size(), -1);
      PixelContents pooled;   // the pixel of the latest pooled rect
      int pooled_k = -1;      // its mark: 1 born or died, 2 reused, 0 unchanged (-1: none yet)
      float pooled_x = -1e9f; // its x (a pooled pixel is a column of rects, one per paint)
      for (size_t n = 0; n < s.rects.size(); ++n) {
        const MapRect& r = s.rects[n];
        if (r.tick) continue;
        if (r.item < 0) {
          PixelContents px = pixel_contents(pic, s.layout, s.view, r.x0 + 0.5f, (r.y0 + r.y1) / 2);
          if (r.x0 != pooled_x || px.first != pooled.first || px.count != pooled.count) {
            pooled = px;
            pooled_x = r.x0;
            pooled_k = 0;
            size_t g = 0; // the pixel's region (its items are of one row)
            while (g + 1 < pic.groups.size() && pic.groups[g + 1].first <= px.first)
              ++g;
            for (uint32_t i = px.first; i < px.first + px.count && pooled_k != 1; ++i) {
              const HeapPicture::Item& it = pic.items[i];
              if (it.gap() || (s.view.filtered() && !item_shown(pic, g, i, s.view))) continue;
              const int k = compare(it);
              if (k == 1 || (k == 2 && pooled_k == 0)) pooled_k = k;
            }
          }
          s.diff_k[n] = int8_t(pooled_k + 8); // (+8: a pooled pixel's, filled)
          continue;
        }
        const HeapPicture::Item& it = pic.items[size_t(r.item)];
        if (!it.gap()) s.diff_k[n] = int8_t(compare(it));
      }
      s.diff_gen = s.rects_gen;
      s.diff_pos = pic.position;
      s.diff_a = f.diff->a;
      s.diff_b = f.diff->b;
    }
    const ImU32 changed = at_a ? IM_COL32(239, 83, 80, 255) : IM_COL32(102, 187, 106, 255);
    const ImU32 reused = IM_COL32(255, 213, 79, 255);
    for (size_t n = 0; n < s.rects.size(); ++n) {
      const MapRect& r = s.rects[n];
      const int k = s.diff_k[n];
      if (k < 0) continue;
      ImVec2 a(origin.x + r.x0, origin.y + r.y0), b(origin.x + r.x1, origin.y + r.y1);
      if (k == 0 || k == 8)
        dl->AddRectFilled(a, b, IM_COL32(0, 0, 0, 150));
      else if (k > 8)
        dl->AddRectFilled(a, b, k == 9 ? changed : reused);
      else
        dl->AddRect(a, b, k == 1 ? changed : reused, 0, 0, 2);
    }
  }
  // Released pages: hatched over their chunks (the fill beneath still says the chunk's state).
  for (const ReleasedRect& r : s.released) {
    ImVec2 a(origin.x + r.x0, origin.y + r.y0), b(origin.x + r.x1, origin.y + r.y1);
    hatch(dl, a, b);
    if (s.record_geometry) s.drawn_released.push_back({a.x, a.y, b.x, b.y, r.item, r.addr, r.len});
  }
  // A heap error (the one selected in Errors, else the current event's): the bytes of its block
  // that differ (canary, free pattern) filled with the error colour, at least 3 px wide so that a
  // few bytes show at any zoom (under the labels; the block is outlined with the others below).
  s.drawn_error_bytes.clear();
  s.drawn_error = -1;
  const session::ErrorList& errors = f.doc.errors();
  int64_t ek = c.error >= 0 && uint64_t(c.error) < errors.size() ? c.error
               : f.doc.position() > 0                            ? errors.find_event(f.doc.position() - 1)
                                                                 : -1;
  if (ek >= 0) {
    const analysis::HeapError& h = errors.at(size_t(ek));
    if (h.has_block && h.chunk && pic.find(h.chunk) >= 0) {
      s.drawn_error = ek;
      for (const trace::ErrorBytes& b : h.report.bytes) {
        uint64_t a0 = h.chunk + b.offset, a1 = a0 + std::max<size_t>(1, b.found.size());
        for (int64_t i = pic.find(a0);
             i >= 0 && size_t(i) < pic.items.size() && pic.items[size_t(i)].addr < a1; ++i) {
          byte_rects(pic, s.layout, s.view, size_t(i), a0, a1, 3, &s.scratch);
          for (const MapRect& r : s.scratch) {
            ImVec2 a(origin.x + r.x0, origin.y + r.y0), e(origin.x + r.x1, origin.y + r.y1);
            dl->AddRectFilled(a, e, im_color(kErrorRgb));
            s.drawn_error_bytes.push_back({a0, a1 - a0, a.x, a.y, e.x, e.y});
          }
        }
      }
    }
  }
  // Labels inside chunks wide enough for one: the state and size (top: "shortened" when it is).
  int32_t labelled = -1;
  for (const MapRect& r : s.rects) {
    if (r.item < 0 || r.lead || r.item == labelled || r.paint == Paint::Header || r.x1 - r.x0 < 70) continue;
    labelled = r.item; // one label per item, on its first wide segment
    const HeapPicture::Item& it = pic.items[size_t(r.item)];
    char label[96];
    const char* what = it.gap()      ? "not a chunk"
                       : it.internal ? f.policy().internal_short
                                     : trace::state_label(it.state);
    snprintf(label, sizeof label, "%s %s%s", what, human_bytes(it.size).c_str(),
             item_shortened(it, s.view) ? " (shortened)" : "");
    ImVec2 ts = ImGui::CalcTextSize(label);
    float x1 = r.x1;
    if (x1 - r.x0 < ts.x + 8) continue;
    dl->AddText(ImVec2(origin.x + r.x0 + 5, origin.y + r.y0 + (s.view.row_h - ts.y) / 2),
                IM_COL32(0, 0, 0, 230), label);
  }
  // Group titles.
  for (size_t gi = 0; gi < pic.groups.size(); ++gi) {
    const MapLayout::Group& lg = s.layout.groups[gi];
    if (lg.hidden || lg.y + s.view.title_h < scroll || lg.y > scroll + view_h) continue;
    dl->AddText(ImVec2(origin.x + 2, origin.y + lg.y + 3), ImGui::GetColorU32(ImGuiCol_Text),
                pic.groups[gi].title.c_str());
  }
  // Outlines: the chunks the current event changed, then the selection.
  auto outline = [&](uint64_t addr, uint32_t rgb, float thick) {
    int64_t i = pic.find(addr);
    if (i < 0) return;
    item_rects(pic, s.layout, s.view, size_t(i), &s.scratch);
    for (const MapRect& r : s.scratch)
      dl->AddRect(ImVec2(origin.x + r.x0 - 1, origin.y + r.y0 - 1),
                  ImVec2(origin.x + r.x1 + 1, origin.y + r.y1 + 1), im_color(rgb), 0, 0, thick);
  };
  for (uint64_t a : f.changed)
    if (a) outline(a, kHighlightRgb, 2);
  // A blame row of the Fragmentation tab: the free chunks kept apart, and the live ones that do.
  // Thousands of chunks narrower than a few pixels each: an outline (a 1-pixel margin and 2-pixel
  // lines) would draw each 4 pixels wide or more, and a run of 64-byte strings in an 8 MiB arena
  // painted the whole arena red. So a narrow one is a tick of its own width (at least a pixel)
  // at its place, and only a chunk wide enough for it gets an outline.
  auto mark = [&](uint64_t addr, uint32_t rgb) {
    int64_t i = pic.find(addr);
    if (i < 0) return;
    item_rects(pic, s.layout, s.view, size_t(i), &s.scratch);
    float w = 0;
    for (const MapRect& r : s.scratch)
      w += r.x1 - r.x0;
    if (w >= 3) return outline(addr, rgb, 2);
    for (const MapRect& r : s.scratch)
      dl->AddRectFilled(ImVec2(origin.x + r.x0, origin.y + r.y0),
                        ImVec2(origin.x + std::max(r.x1, r.x0 + 1), origin.y + r.y1), im_color(rgb));
  };
  for (uint64_t a : c.pinned)
    mark(a, kPinnedRgb);
  for (uint64_t a : c.pinning)
    mark(a, kPinningRgb);
  // A lesson step's blocks: outlined, each with its name in a tag (names in one chunk side by
  // side: a merged chunk holds the pointers of the blocks it swallowed).
  std::vector<std::pair<int64_t, float>> tagged; // item, the x where its next tag goes (right to left)
  for (const Cursor::Callout& co : c.callouts) {
    int64_t i = pic.find(co.addr);
    if (i < 0) continue;
    // Two pixels outside the selection's outline (which the first named block has), so both show.
    item_rects(pic, s.layout, s.view, size_t(i), &s.scratch);
    for (const MapRect& r : s.scratch)
      dl->AddRect(ImVec2(origin.x + r.x0 - 3, origin.y + r.y0 - 3),
                  ImVec2(origin.x + r.x1 + 3, origin.y + r.y1 + 3), im_color(kLessonRgb), 0, 0, 2);
    if (s.scratch.empty()) continue;
    const MapRect& r = s.scratch.front();
    ImVec2 ts = ImGui::CalcTextSize(co.name.c_str());
    float right = r.x1;
    for (auto& [item, x] : tagged)
      if (item == i) right = x;
    float x0 = std::max(r.x0, right - ts.x - 8), y0 = r.y0 + 1;
    if (right - r.x0 < ts.x + 8) y0 = r.y0 - ts.y - 3; // too narrow: above it
    ImVec2 a(origin.x + x0, origin.y + y0), b(a.x + ts.x + 6, a.y + ts.y + 1);
    dl->AddRectFilled(a, b, im_color(kLessonRgb));
    dl->AddText(ImVec2(a.x + 3, a.y), IM_COL32(0, 0, 0, 255), co.name.c_str());
    bool found = false;
    for (auto& [item, x] : tagged)
      if (item == i) x = x0 - 2, found = true;
    if (!found) tagged.emplace_back(i, x0 - 2);
  }
  if (s.drawn_error >= 0) outline(errors.at(size_t(s.drawn_error)).chunk, kErrorRgb, 2);
  if (c.selected) outline(c.selected, kSelectRgb, 2);
  if (c.reveal && c.selected) {
    int64_t i = pic.find(c.selected);
    if (i >= 0) {
      item_rects(pic, s.layout, s.view, size_t(i), &s.scratch);
      if (!s.scratch.empty() && (s.scratch[0].y0 < scroll || s.scratch[0].y1 > scroll + view_h))
        ImGui::SetScrollY(std::max(0.0f, s.scratch[0].y0 - view_h / 3));
    }
    c.reveal = false;
  }

  // Hover and click.
  if (hovered) {
    int64_t i = hit_test(pic, s.layout, s.view, mx, my);
    if (i >= 0) {
      PixelContents px;
      if (s.layout.width[size_t(i)] < 1.0f) px = pixel_contents(pic, s.layout, s.view, mx, my);
      const HeapPicture::Item& it = pic.items[size_t(i)];
      tooltip(it, f.policy(), sv && sv->at(f.doc) ? sv : nullptr, &px,
              it.gap() ? 0 : pic.released_in(it.addr, it.addr + it.size));
      if (ImGui::IsMouseReleased(0) && io.MouseDragMaxDistanceSqr[0] < 9.0f && !pic.items[size_t(i)].gap())
        c.selected = pic.items[size_t(i)].addr;
    }
  }
  if (pic.items.empty())
    dl->AddText(ImVec2(origin.x + 8, origin.y + 8), ImGui::GetColorU32(ImGuiCol_TextDisabled),
                "The heap is empty at this position: step forward (Right arrow) or press End.");
  ImGui::EndChild();
}

} // namespace hv::views
