// chunk_layout.h - the chunk map as geometry: which rectangle each chunk gets, with no drawing.
//
// Owns: the heap "picture" at one position (chunks in address order, grouped by region, gaps
// between them), the strip layout (each region is a strip of items wrapped into rows: true to
// bytes by default, or with a minimum width, or one cell per chunk), the visible rectangles
// with level-of-detail pooling (the pieces of chunks that share a pixel are drawn in that pixel
// as a column split by their bytes, so the map's area per state is the heap's bytes per state),
// each chunk's parts as glibc lays them out (prev_size, size, the user's bytes from chunk + 16
// reaching into the next chunk's prev_size, the slack), the released pages over them (hatched),
// hit testing, the zoom that fits, and the app's words for a chunk (state_text, chunk_text: the
// vocabulary's labels, the policy's names).
// Must not: include ImGui or GL. views/chunk_map.cpp draws what this computes; tests check it.
#pragma once

#include "model/heap_model.h"
#include "model/policy_info.h"
#include "views/chunk_sort.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace hv::views {

// What a piece of the map shows; views/palette.h gives each one its colour.
enum class Paint : uint8_t {
  InUse,  // requested bytes of a chunk in use
  Header, // a chunk's header (glibc: its size field, and prev_size unless the chunk before is in use)
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
  Before,   // a block in use since before the trace (heapviz attached later): its request unknown
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
    uint64_t req; // requested bytes (in use / mmapped); kUnknownReq: allocated before the trace
    static constexpr uint64_t kUnknownReq = UINT64_MAX;
    // A block in use that was allocated before the trace began (heapviz attached: the baseline
    // snapshot's, never freed since): its request is unknown, so it is drawn in use whole (no
    // slack) and counted apart from the requested bytes (HeapPicture::before_bytes).
    bool before_trace() const { return req == kUnknownReq; }
    uint64_t seq; // the allocating event
    uint32_t arena;
    uint8_t state; // model state; for gaps kGapState
    uint8_t bin;
    bool internal; // the allocator's own chunk, as the trace says (model::Chunk::internal)
    bool pending;  // allocated by a call that has not returned yet (model::Chunk::pending)
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
  uint32_t region_groups = 0; // groups[0, region_groups) show the model's regions (by arena, address)
  // The same items, compact, for the loops that touch every item (layout, fit, aggregation):
  // size / trace::kChunkGranule (saturated) with kShortenable set for top and gaps, and the paint.
  static constexpr uint32_t kShortenable = 1u << 31;
  // Chunks in use (not the allocator's own): their bytes and the bytes requested in them.
  uint64_t in_use_bytes = 0, in_use_requested = 0;
  // Chunks in use from before the trace (Item::before_trace): not in the two above.
  uint64_t before_bytes = 0, before_blocks = 0;
  std::vector<uint32_t> units;
  std::vector<Paint> paints;
  uint64_t position = UINT64_MAX; // the replay position it was built at
  uint64_t change_log = 0;        // the model's change log started when it was (HeapModel)
  // Pages handed back to the system inside the regions (model::ReleasedPages): [start, end) in
  // address order, and their bytes.
  std::vector<std::pair<uint64_t, uint64_t>> released;
  uint64_t released_bytes = 0;
  uint64_t released_in(uint64_t a, uint64_t b) const; // released bytes within [a, b)
  model::PolicyInfo policy; // the allocator it shows (header sizes, flags, bins, own chunks)
  // Scratch space kept between builds: fresh pages are slow to fault in (tens of MB with 1 M
  // chunks), reused ones are not.
  std::vector<model::Chunk> added; // update_picture's records to merge into `sorted`
  std::vector<uint32_t> sort_idx;  // update_picture's: the items of the changed chunks
  ChunkSortScratch sort;           // build_picture's (chunk_sort.h)
  HugeVector<model::Chunk> sorted; // the model's chunks in address order
  std::vector<uint64_t> changed;   // update_picture's
  // The item holding addr (a chunk start or any byte of it), or -1.
  int64_t find(uint64_t addr) const;
};
void build_picture(const model::HeapModel& m, const model::PolicyInfo& policy, HeapPicture* out);
// The picture again after the model changed only at the addresses in `changed` (repeats allowed)
// since out was built or updated from it (HeapModel's change log says so): the same picture
// build_picture would make, at a cost in proportion to the changes (a chunk whose state changed in
// place: a binary search) or to one pass over the items (chunks added, removed or resized, a region
// changed). None when the changes are so many that a whole build is cheaper (out unchanged).
enum class PictureUpdate : uint8_t { None, InPlace, Merged };
PictureUpdate update_picture(const model::HeapModel& m, const std::vector<uint64_t>& changed,
                             HeapPicture* out);
// (build_picture's second half: items, groups and totals from out->sorted and the model's regions.)
void build_picture_items(const model::HeapModel& m, HeapPicture* out);
// An item in the app's words (tooltip, inspector): state_text, or for the allocator's own chunk
// its state and what it is ("in use, tcache_perthread_struct (the allocator's own)"), or for a
// chunk in the middle of a call what the call is doing with it.
std::string chunk_text(const HeapPicture::Item& it, const model::PolicyInfo& policy);
// For a chunk in the middle of an allocator call (in hand, or allocated but not yet returned):
// what that means, in a sentence or two; nullptr for any other chunk.
const char* mid_call_text(const HeapPicture::Item& it);
// The paint of a whole item (no parts): its state's, or Internal, Gap, InHand while pending.
Paint item_paint(const HeapPicture::Item& it);
// A chunk record's item (its fields as the picture keeps them; a block from before the trace,
// model::HeapModel::is_before_trace, has kUnknownReq).
HeapPicture::Item item_of(const model::Chunk& c, const model::HeapModel& m);
// Its compact size (HeapPicture::units): size / granule, saturated, with kShortenable.
uint32_t item_units(const HeapPicture::Item& it);
// Swaps what two pictures show (items, groups, position, totals, policy, the chunks in order and
// the change log they follow), not their scratch space.
void swap_content(HeapPicture& a, HeapPicture& b);

// How widths follow bytes.
enum class MapMode : uint8_t {
  Exact,    // true to bytes: every byte the same width; pieces of pixels pooled (the default)
  MinWidth, // every chunk at least min_width_px wide (small chunks take more than their bytes)
  OneCell,  // one fixed cell per chunk, whatever its size
};
const char* map_mode_name(MapMode m); // "exact", "min-width", "one-cell" (the shot flag's words)
bool parse_map_mode(const char* s, MapMode* out);
// "LO-HI", two addresses (0x hex or decimal), LO < HI: the range [LO, HI).
bool parse_range(const char* s, uint64_t* lo, uint64_t* hi);

// How the map is drawn: zoom and sizes, in pixels.
struct MapView {
  float width = 800;   // row width (whole pixels)
  float row_h = 18;    // one row of chunks (whole pixels)
  float row_gap = 2;   // between rows
  float title_h = 20;  // a group's title line
  float group_gap = 8; // after a group's last row
  double bpp = 16;     // bytes per pixel
  float min_px = 0;    // minimum item width (0: true to bytes; pieces of pixels are pooled)
  bool cells = false;  // one fixed cell per chunk instead of proportional widths
  float cell_px = 14;
  static constexpr float kMinWidthPx = 3; // min_px in MapMode::MinWidth
  // Parts (header, requested, slack) are drawn inside chunks at least this wide.
  float parts_min_px = 8;
  // The top chunk and non-chunk gaps are drawn at most this many rows long (0: true length, the
  // default), so that a fresh 132 KiB top does not squeeze the chunks a student is looking at.
  float shorten_rows = 0;
  // What is shown: one group (index into HeapPicture::groups; -1: all) and the items that
  // overlap [range_lo, range_hi).
  int32_t region = -1;
  uint64_t range_lo = 0, range_hi = UINT64_MAX;

  MapMode mode() const { return cells ? MapMode::OneCell : min_px > 0 ? MapMode::MinWidth : MapMode::Exact; }
  void set_mode(MapMode m) {
    cells = m == MapMode::OneCell;
    min_px = m == MapMode::MinWidth ? kMinWidthPx : 0;
  }
  // Widths are proportional to bytes everywhere (Exact mode, nothing shortened).
  bool to_scale() const { return mode() == MapMode::Exact && shorten_rows == 0; }
  bool filtered() const { return region >= 0 || range_lo != 0 || range_hi != UINT64_MAX; }
};

struct MapLayout {
  struct Group {
    float y;       // top of the title line
    float rows_y;  // top of the first row
    double length; // strip length in pixels
    uint32_t rows;
    bool hidden; // outside MapView::region / range: no title, no rows
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
  int32_t item; // the item it shows, or -1 for a pooled pixel
  bool first;   // the segment holding the item's start (a separator line goes there)
  // A mark in the gap above a row, not heap bytes: the pixel below holds live (in-use) bytes too
  // few to get a pixel of their own at this zoom (in a true-to-bytes map).
  bool tick = false;
  // The previous chunk's bytes in the first word of the chunk that starts here (item + 1).
  bool lead = false;
};
// Rectangles of everything visible between map y0 and y1 (0 = top of the map), in map
// coordinates, in drawing order. In a true-to-bytes map the pieces of items that share a pixel
// are pooled: the pixel becomes a column split top-down by each paint's bytes (rounded with the
// remainder carried to the next pixel, so no paint is lost to rounding), and a tick marks a
// pixel whose live bytes got no share of it.
void visible_rects(const HeapPicture& p, const MapLayout& l, const MapView& v, float y0, float y1,
                   std::vector<MapRect>* out);
// A piece of released pages as the map hatches it: a rectangle in map coordinates over the item
// that holds the bytes, within one row.
struct ReleasedRect {
  float x0, y0, x1, y1;
  int32_t item;       // the item holding the bytes
  uint64_t addr, len; // the released bytes of that item the piece belongs to (all its rows)
};
// The released pages among everything visible between map y0 and y1, in address order. Where
// widths are true to bytes they are too; elsewhere (minimum width, cells, a shortened top) an
// item's released bytes are spread over its width in proportion.
void released_rects(const HeapPicture& p, const MapLayout& l, const MapView& v, float y0, float y1,
                    std::vector<ReleasedRect>* out);
// The segments of one item (whole rows it spans; no parts), for outlines.
void item_rects(const HeapPicture& p, const MapLayout& l, const MapView& v, size_t item,
                std::vector<MapRect>* out);
// The bytes [a, b) of item `item` (addresses; clipped to it), in map coordinates, one rectangle
// per row: where they lie in its width, widened about their middle to at least min_px (within the
// item) so that a few bytes stay visible at any zoom. Paint InUse, `item` set (the caller paints).
void byte_rects(const HeapPicture& p, const MapLayout& l, const MapView& v, size_t item, uint64_t a,
                uint64_t b, float min_px, std::vector<MapRect>* out);
// The item under a map point, or -1.
int64_t hit_test(const HeapPicture& p, const MapLayout& l, const MapView& v, float x, float y);
// What one pixel of the map holds (the hover's magnifier where chunks are narrower than a pixel):
// the items [first, first + count) that overlap it and their bytes by paint.
struct PixelContents {
  uint32_t first = 0, count = 0;
  uint64_t bytes[size_t(Paint::Count)] = {};
};
PixelContents pixel_contents(const HeapPicture& p, const MapLayout& l, const MapView& v, float x, float y);
// Whether item i is shown under v's region and range.
bool item_shown(const HeapPicture& p, size_t group, size_t i, const MapView& v);
// The bytes-per-pixel that makes the whole picture fit in `height` (as close as the minimum
// width allows), between 1/16 and 2^40.
double fit_bpp(const HeapPicture& p, MapView v, float height);

} // namespace hv::views
