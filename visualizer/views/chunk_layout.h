// chunk_layout.h - the chunk map as geometry: which rectangle each chunk gets, with no drawing.
//
// Owns: the heap "picture" at one position (chunks in address order, grouped by region, gaps
// between them), the strip layout (each region is a strip of items, as wide as their bytes
// at the zoom, never narrower than the minimum width, wrapped into rows), the visible
// rectangles with level-of-detail aggregation (items narrower than a pixel are merged into
// pixels painted by the state holding most bytes), hit testing, the zoom that fits, and the
// app's words for a chunk (state_text, chunk_text: the vocabulary's labels, the policy's names).
// Must not: include ImGui or GL. views/chunk_map.cpp draws what this computes; tests check it.
#pragma once

#include "model/heap_model.h"
#include "model/policy_info.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hv::views {

// What a piece of the map shows; views/palette.h gives each one its colour.
enum class Paint : uint8_t {
  InUse,  // requested bytes of a chunk in use
  Header, // a chunk's header (glibc: its prev_size and size fields, 16 bytes)
  Slack,  // usable but not requested bytes of a chunk in use
  Tcache,
  Fast,
  Unsorted,
  Small,
  Large,
  Top,
  Fence,
  Mmapped,  // requested bytes of an mmapped chunk
  InHand,   // taken out of a bin or freed, not placed yet (inside one allocator call)
  Gap,      // bytes of a region that are not a chunk (heap_info, the arena, alignment)
  Internal, // the allocator's own chunk (glibc: the tcache_perthread_struct)
  Count
};
Paint paint_of_state(uint8_t model_state);
std::string human_bytes(uint64_t v); // "1.5 KiB"
std::string human_count(uint64_t v); // "3.2 M", "845 k", "17"
const char* paint_name(Paint p);     // the legend: a state's paint is named by its label
// A chunk's state in the app's words (heapviz/chunk_states.h, trace::state_label_text): its bin
// when it is in one ("tcache[1]", "unsorted", "smallbin[5]"), else its label ("in use", "top").
std::string state_text(uint8_t model_state, uint8_t bin);

// The heap at one position: items in address order, grouped. Built once per position.
struct HeapPicture {
  struct Item {
    uint64_t addr, size;
    uint64_t req; // requested bytes (in use / mmapped)
    uint64_t seq; // the allocating event
    uint32_t arena;
    uint8_t state; // model state; for gaps kGapState
    uint8_t bin;
    bool internal; // the allocator's own chunk, as the trace says (model::Chunk::internal)
    static constexpr uint8_t kGapState = 0xff; // no chunk state: bytes of a region that are no chunk
    bool gap() const { return state == kGapState; }
  };
  struct Group {
    std::string title;
    uint64_t start, end; // the region (mmapped group: first to last chunk)
    uint32_t arena;
    bool mmapped;
    uint32_t first, count; // items [first, first + count)
  };
  std::vector<Item> items;
  std::vector<Group> groups;
  // The same items, compact, for the loops that touch every item (layout, fit, aggregation):
  // size / trace::kChunkGranule (saturated) with kShortenable set for top and gaps, and the paint.
  static constexpr uint32_t kShortenable = 1u << 31;
  // Chunks in use (not the allocator's own): their bytes and the bytes requested in them.
  uint64_t in_use_bytes = 0, in_use_requested = 0;
  std::vector<uint32_t> units;
  std::vector<Paint> paints;
  uint64_t position = UINT64_MAX; // the replay position it was built at
  model::PolicyInfo policy;       // the allocator it shows (header sizes, flags, bins, own chunks)
  // Scratch space kept between builds: fresh pages are slow to fault in (tens of MB with 1 M
  // chunks), reused ones are not.
  std::vector<model::Chunk> scratch, scratch2;
  // The item holding addr (a chunk start or any byte of it), or -1.
  int64_t find(uint64_t addr) const;
};
void build_picture(const model::HeapModel& m, const model::PolicyInfo& policy, HeapPicture* out);
// An item in the app's words (tooltip, inspector): state_text, or for the allocator's own chunk
// its state and what it is ("in use, tcache_perthread_struct (the allocator's own)").
std::string chunk_text(const HeapPicture::Item& it, const model::PolicyInfo& policy);
// Swaps what two pictures show (items, groups, position, totals, policy), not their scratch space.
void swap_content(HeapPicture& a, HeapPicture& b);

// How the map is drawn: zoom and sizes, in pixels.
struct MapView {
  float width = 800;   // row width
  float row_h = 18;    // one row of chunks
  float row_gap = 2;   // between rows
  float title_h = 20;  // a group's title line
  float group_gap = 8; // after a group's last row
  double bpp = 16;     // bytes per pixel
  float min_px = 3;    // minimum item width (0: exact proportions, sub-pixel items aggregate)
  bool cells = false;  // one fixed cell per chunk instead of proportional widths
  float cell_px = 14;
  // Parts (header, requested, slack) are drawn inside chunks at least this wide.
  float parts_min_px = 8;
  // The top chunk and non-chunk gaps are drawn at most this many rows long (0: true length),
  // so that a fresh 132 KiB top does not squeeze the chunks a student is looking at.
  float shorten_rows = 1;
};

struct MapLayout {
  struct Group {
    float y;       // top of the title line
    float rows_y;  // top of the first row
    double length; // strip length in pixels
    uint32_t rows;
  };
  std::vector<double> start; // strip start of each item, within its group
  std::vector<float> width;  // item width in pixels
  std::vector<Group> groups;
  float height = 0;
};
double item_width(const HeapPicture::Item& it, const MapView& v);
// True when item_width() drew the item shorter than its bytes (shorten_rows).
bool item_shortened(const HeapPicture::Item& it, const MapView& v);
void layout_map(const HeapPicture& p, const MapView& v, MapLayout* out);
// The layout's height only (what fit_bpp searches over).
float layout_height(const HeapPicture& p, const MapView& v);

struct MapRect {
  float x0, y0, x1, y1;
  Paint paint;
  int32_t item; // the item it shows, or -1 for an aggregated pixel
  bool first;   // the segment holding the item's start (a separator line goes there)
};
// Rectangles of everything visible between map y0 and y1 (0 = top of the map), in map
// coordinates, in drawing order.
void visible_rects(const HeapPicture& p, const MapLayout& l, const MapView& v, float y0, float y1,
                   std::vector<MapRect>* out);
// The segments of one item (whole rows it spans; no parts), for outlines.
void item_rects(const HeapPicture& p, const MapLayout& l, const MapView& v, size_t item,
                std::vector<MapRect>* out);
// The item under a map point, or -1.
int64_t hit_test(const HeapPicture& p, const MapLayout& l, const MapView& v, float x, float y);
// The bytes-per-pixel that makes the whole picture fit in `height` (as close as the minimum
// width allows), between 1/16 and 2^40.
double fit_bpp(const HeapPicture& p, MapView v, float height);

} // namespace hv::views
