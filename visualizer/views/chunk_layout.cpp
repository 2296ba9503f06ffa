// chunk_layout.cpp - chunk map geometry (see chunk_layout.h).
#include "views/chunk_layout.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace hv::views {

using model::Chunk;
using trace::ChunkState;
// Chunk sizes and addresses are multiples of this (the trace format's): the compact units below.
constexpr uint64_t kUnit = trace::kChunkGranule;

Paint paint_of_state(uint8_t s) {
  switch (ChunkState(s)) {
  case ChunkState::InUse:
    return Paint::InUse;
  case ChunkState::Tcache:
    return Paint::Tcache;
  case ChunkState::Fast:
    return Paint::Fast;
  case ChunkState::Unsorted:
    return Paint::Unsorted;
  case ChunkState::Small:
    return Paint::Small;
  case ChunkState::Large:
    return Paint::Large;
  case ChunkState::Top:
    return Paint::Top;
  case ChunkState::Fence:
    return Paint::Fence;
  case ChunkState::Mmapped:
    return Paint::Mmapped;
  case ChunkState::InHand:
    return Paint::InHand;
  }
  return Paint::Gap;
}

const char* paint_name(Paint p) {
  switch (p) {
  case Paint::InUse:
    return "in use (requested)";
  case Paint::Header:
    return "header";
  case Paint::Slack:
    return "slack (usable - requested)";
  case Paint::Gap:
    return "not a chunk";
  case Paint::Internal:
    return "allocator's own";
  case Paint::Tcache:
    return trace::state_label(uint8_t(ChunkState::Tcache));
  case Paint::Fast:
    return trace::state_label(uint8_t(ChunkState::Fast));
  case Paint::Unsorted:
    return trace::state_label(uint8_t(ChunkState::Unsorted));
  case Paint::Small:
    return trace::state_label(uint8_t(ChunkState::Small));
  case Paint::Large:
    return trace::state_label(uint8_t(ChunkState::Large));
  case Paint::Top:
    return trace::state_label(uint8_t(ChunkState::Top));
  case Paint::Fence:
    return trace::state_label(uint8_t(ChunkState::Fence));
  case Paint::Mmapped:
    return trace::state_label(uint8_t(ChunkState::Mmapped));
  case Paint::InHand:
    return trace::state_label(uint8_t(ChunkState::InHand));
  case Paint::Before:
    return "in use, from before the trace";
  case Paint::Count:
    break;
  }
  return "?";
}

std::string state_text(uint8_t s, uint8_t bin) {
  return trace::state_label_text(s, bin).c_str();
}

const char* mid_call_text(const HeapPicture::Item& it) {
  if (it.gap()) return nullptr;
  if (it.pending)
    return "In the middle of a call: the allocator has carved this chunk out for the call being\n"
           "made, which has not returned it yet (its malloc, calloc, realloc or memalign event\n"
           "comes next). It is counted neither as in use nor as free until then.";
  if (it.state == uint8_t(ChunkState::InHand))
    return "In the middle of a call: taken out of a bin, split off, merged or just freed, and not\n"
           "placed yet. The next events of the same call decide where it goes (back to the\n"
           "program, into a bin, or into top).";
  return nullptr;
}

Paint item_paint(const HeapPicture::Item& it) {
  return it.gap()                                                      ? Paint::Gap
         : it.pending                                                  ? Paint::InHand
         : it.internal                                                 ? Paint::Internal
         : it.before_trace() && it.state == uint8_t(ChunkState::InUse) ? Paint::Before
                                                                       : paint_of_state(it.state);
}

std::string chunk_text(const HeapPicture::Item& it, const model::PolicyInfo& policy) {
  if (it.gap()) return "not a chunk";
  if (it.pending) return "being allocated (in hand: its call has not returned)";
  if (it.internal)
    return std::string(trace::state_label(it.state)) + ", " + policy.internal_name + " (the allocator's own)";
  return state_text(it.state, it.bin);
}

// ---- the picture ----------------------------------------------------------------------------
static bool shortenable(const HeapPicture::Item& it) {
  return it.gap() || it.state == uint8_t(ChunkState::Top);
}

HeapPicture::Item item_of(const Chunk& c, const model::HeapModel& m) {
  const bool before = m.is_before_trace(c);
  return HeapPicture::Item{c.addr, c.size,     before ? HeapPicture::Item::kUnknownReq : c.req,
                           c.seq,  c.arena,    c.state,
                           c.bin,  c.internal, c.pending};
}

namespace {

HeapPicture::Item gap_item(uint64_t a, uint64_t b, uint32_t arena) {
  return HeapPicture::Item{a, b - a, 0, 0, arena, HeapPicture::Item::kGapState, 0, false, false};
}

} // namespace

std::string human_count(uint64_t v) {
  char buf[32];
  if (v >= 10000000)
    snprintf(buf, sizeof buf, "%.0f M", double(v) / 1e6);
  else if (v >= 1000000)
    snprintf(buf, sizeof buf, "%.1f M", double(v) / 1e6);
  else if (v >= 10000)
    snprintf(buf, sizeof buf, "%.0f k", double(v) / 1e3);
  else
    snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(v));
  return buf;
}

std::string human_bytes(uint64_t v) {
  char b[32];
  if (v >= (1ull << 30))
    snprintf(b, sizeof b, "%.2f GiB", double(v) / double(1ull << 30));
  else if (v >= (1ull << 20))
    snprintf(b, sizeof b, "%.2f MiB", double(v) / double(1ull << 20));
  else if (v >= (1ull << 10))
    snprintf(b, sizeof b, "%.1f KiB", double(v) / 1024.0);
  else
    snprintf(b, sizeof b, "%llu B", (unsigned long long)v);
  return b;
}

uint64_t HeapPicture::released_in(uint64_t a, uint64_t b) const {
  auto it = std::upper_bound(released.begin(), released.end(), a,
                             [](uint64_t x, const std::pair<uint64_t, uint64_t>& r) { return x < r.first; });
  if (it != released.begin() && std::prev(it)->second > a) --it;
  uint64_t n = 0;
  for (; it != released.end() && it->first < b; ++it)
    n += std::min(b, it->second) - std::max(a, it->first);
  return n;
}

int64_t HeapPicture::find(uint64_t addr) const {
  // Items are in address order within each group (groups need not be in order).
  for (const Group& g : groups) {
    auto b = items.begin() + g.first, e = b + g.count;
    auto it = std::upper_bound(b, e, addr, [](uint64_t a, const Item& x) { return a < x.addr; });
    if (it == b) continue;
    --it;
    if (!it->gap() && addr < it->addr + std::max<uint64_t>(it->size, 1)) return it - items.begin();
  }
  return -1;
}

uint32_t item_units(const HeapPicture::Item& it) {
  uint64_t u = std::min<uint64_t>(it.size / kUnit, HeapPicture::kShortenable - 1);
  return uint32_t(u) | (shortenable(it) ? HeapPicture::kShortenable : 0);
}

void build_picture(const model::HeapModel& m, const model::PolicyInfo& policy, HeapPicture* out) {
  out->policy = policy;
  sorted_chunks(m, out->sorted, out->sort); // (kept: update_picture merges changes into them)
  build_picture_items(m, out);
}

void build_picture_items(const model::HeapModel& m, HeapPicture* out) {
  const HugeVector<Chunk>& chunks = out->sorted;
  std::vector<model::Region> regions = m.regions_sorted();

  out->items.clear();
  out->groups.clear();
  out->items.reserve(chunks.size() + regions.size() * 2);
  std::vector<const Chunk*> loose, mmapped;
  size_t ci = 0;
  char title[160];
  for (const model::Region& r : regions) {
    uint64_t end = r.addr + r.size;
    for (; ci < chunks.size() && chunks[ci].addr < r.addr; ++ci)
      (chunks[ci].state == uint8_t(ChunkState::Mmapped) ? mmapped : loose).push_back(&chunks[ci]);
    HeapPicture::Group g{};
    g.start = r.addr;
    g.end = end;
    g.arena = r.arena;
    g.first = uint32_t(out->items.size());
    uint64_t at = r.addr;
    for (; ci < chunks.size() && chunks[ci].addr < end; ++ci) {
      const Chunk& c = chunks[ci];
      if (c.state == uint8_t(ChunkState::Mmapped)) {
        mmapped.push_back(&c);
        continue;
      }
      if (c.addr >= at + kUnit) out->items.push_back(gap_item(at, c.addr, r.arena));
      out->items.push_back(item_of(c, m));
      at = std::max(at, c.addr + c.size);
    }
    if (end >= at + kUnit) out->items.push_back(gap_item(at, end, r.arena));
    g.count = uint32_t(out->items.size()) - g.first;
    snprintf(title, sizeof title, "arena %u  %s  0x%llx - 0x%llx  (%s)", r.arena,
             r.arena == 0 ? "sbrk heap" : "mmapped heap", (unsigned long long)r.addr, (unsigned long long)end,
             human_bytes(r.size).c_str());
    g.title = title;
    out->groups.push_back(std::move(g));
  }
  // Regions were walked in address order (to match chunks to them); show them by arena: arena 0
  // first, each arena's regions by address. Groups only name item ranges, so they can move.
  std::stable_sort(
      out->groups.begin(), out->groups.end(),
      [](const HeapPicture::Group& a, const HeapPicture::Group& b) { return a.arena < b.arena; });
  out->region_groups = uint32_t(out->groups.size());
  for (; ci < chunks.size(); ++ci)
    (chunks[ci].state == uint8_t(ChunkState::Mmapped) ? mmapped : loose).push_back(&chunks[ci]);
  auto add_list = [&](const std::vector<const Chunk*>& list, bool is_mmapped, const char* what) {
    if (list.empty()) return;
    HeapPicture::Group g{};
    g.first = uint32_t(out->items.size());
    g.mmapped = is_mmapped;
    uint64_t bytes = 0;
    for (const Chunk* c : list) {
      out->items.push_back(item_of(*c, m));
      bytes += c->size;
    }
    g.count = uint32_t(list.size());
    g.start = list.front()->addr;
    g.end = list.back()->addr + list.back()->size;
    snprintf(title, sizeof title, "%s: %zu chunk%s, %s", what, list.size(), list.size() == 1 ? "" : "s",
             human_bytes(bytes).c_str());
    g.title = title;
    out->groups.push_back(std::move(g));
  };
  add_list(mmapped, true, "mmapped chunks");
  add_list(loose, false, "chunks outside any known region");
  out->released.clear();
  m.released().for_each_in(0, UINT64_MAX, [&](uint64_t a, uint64_t b) { out->released.emplace_back(a, b); });
  out->released_bytes = m.released_bytes();
  // One pass over the items for the totals and the compact copy (a million items are 40 MB), in
  // two halves on two threads when they are many.
  out->units.resize(out->items.size());
  out->paints.resize(out->items.size());
  auto tail = [out](size_t first, size_t last, uint64_t* totals) {
    uint64_t bytes = 0, requested = 0, before = 0, before_n = 0;
    for (size_t i = first; i < last; ++i) {
      const HeapPicture::Item& it = out->items[i];
      if (!it.gap() && trace::is_in_use(it.state) && !it.internal && !it.pending) {
        if (it.before_trace()) {
          before += it.size;
          ++before_n;
        } else {
          bytes += it.size;
          requested += std::min(it.req, it.size);
        }
      }
      out->units[i] = item_units(it);
      out->paints[i] = item_paint(it);
    }
    totals[0] = bytes;
    totals[1] = requested;
    totals[2] = before;
    totals[3] = before_n;
  };
  size_t n = out->items.size(), half = n < kTwoCores ? n : n / 2;
  uint64_t first[4] = {0, 0, 0, 0}, second[4] = {0, 0, 0, 0};
  if (half < n) {
    std::thread helper(tail, half, n, second);
    tail(0, half, first);
    helper.join();
  } else {
    tail(0, n, first);
  }
  out->in_use_bytes = first[0] + second[0];
  out->in_use_requested = first[1] + second[1];
  out->before_bytes = first[2] + second[2];
  out->before_blocks = first[3] + second[3];
}

void swap_content(HeapPicture& a, HeapPicture& b) {
  a.items.swap(b.items);
  a.groups.swap(b.groups);
  std::swap(a.region_groups, b.region_groups);
  a.sorted.swap(b.sorted);
  std::swap(a.change_log, b.change_log);
  a.units.swap(b.units);
  a.paints.swap(b.paints);
  std::swap(a.position, b.position);
  a.released.swap(b.released);
  std::swap(a.released_bytes, b.released_bytes);
  std::swap(a.in_use_bytes, b.in_use_bytes);
  std::swap(a.in_use_requested, b.in_use_requested);
  std::swap(a.before_bytes, b.before_bytes);
  std::swap(a.before_blocks, b.before_blocks);
  std::swap(a.policy, b.policy);
}

// ---- layout ---------------------------------------------------------------------------------
const char* map_mode_name(MapMode m) {
  switch (m) {
  case MapMode::Exact:
    return "exact";
  case MapMode::MinWidth:
    return "min-width";
  case MapMode::OneCell:
    return "one-cell";
  }
  return "?";
}

bool parse_map_mode(const char* s, MapMode* out) {
  for (MapMode m : {MapMode::Exact, MapMode::MinWidth, MapMode::OneCell})
    if (strcmp(s, map_mode_name(m)) == 0) {
      *out = m;
      return true;
    }
  return false;
}

bool parse_range(const char* s, uint64_t* lo, uint64_t* hi) {
  const char* dash = strchr(s, '-');
  if (!dash) return false;
  auto num = [](const char* a, const char* b, uint64_t* v) {
    std::string t(a, b);
    if (t.empty() || t[0] == '+' || t[0] == ' ') return false;
    char* end = nullptr;
    errno = 0;
    *v = strtoull(t.c_str(), &end, 0);
    return errno == 0 && *end == '\0';
  };
  return num(s, dash, lo) && num(dash + 1, s + strlen(s), hi) && *lo < *hi;
}

double item_width(const HeapPicture::Item& it, const MapView& v) {
  if (v.cells) return v.cell_px;
  double w = double(it.size / kUnit) * double(kUnit) / v.bpp;
  if (v.shorten_rows > 0 && shortenable(it)) w = std::min(w, double(v.shorten_rows) * v.width);
  return w < v.min_px ? v.min_px : w;
}

bool item_shortened(const HeapPicture::Item& it, const MapView& v) {
  return !v.cells && v.shorten_rows > 0 && shortenable(it) &&
         double(it.size) / v.bpp > double(v.shorten_rows) * v.width;
}

bool item_shown(const HeapPicture& p, size_t group, size_t i, const MapView& v) {
  if (v.region >= 0 && size_t(v.region) != group) return false;
  const HeapPicture::Item& it = p.items[i];
  return it.addr < v.range_hi && it.addr + std::max<uint64_t>(it.size, 1) > v.range_lo;
}

// At least one: a group whose chunks are all far narrower than a pixel (a zoom of 2^40 bytes a
// pixel) still has its row. (The slack below rounded such a length to 0 rows, and a fit that had
// to leave room for five arenas' titles chose 219 GiB a pixel: titles, and no chunk.)
static uint32_t rows_for(double length, float width) {
  if (length <= 0) return 1;
  return std::max<uint32_t>(1, uint32_t(std::ceil(length / double(width) - 1e-9)));
}

namespace {

// The strip length of group g, storing each item's start and width when asked. This loop
// touches every chunk on each zoom change, so it reads the picture's compact arrays only
// (and the items' addresses when a range is shown). Items not shown get width 0.
double strip(const HeapPicture& p, size_t gi, const MapView& v, double* start, float* width) {
  const HeapPicture::Group& g = p.groups[gi];
  double s = 0;
  const uint32_t* u = p.units.data();
  const double per_unit = double(kUnit) / v.bpp, min_px = v.min_px;
  const double cap = v.shorten_rows > 0 ? double(v.shorten_rows) * v.width : 1e300;
  const bool filtered = v.filtered();
  for (uint32_t i = g.first; i < g.first + g.count; ++i) {
    double w = v.cell_px;
    if (filtered && !item_shown(p, gi, i, v)) {
      w = 0;
    } else if (!v.cells) {
      w = double(u[i] & ~HeapPicture::kShortenable) * per_unit;
      if (u[i] & HeapPicture::kShortenable) w = std::min(w, cap);
      w = std::max(w, min_px);
    }
    float fw = float(w);
    if (start) {
      start[i] = s;
      width[i] = fw;
    }
    s += double(fw);
  }
  return s;
}

// A group is hidden when no item of it is shown.
bool group_hidden(const HeapPicture& p, size_t gi, const MapView& v) {
  if (!v.filtered()) return false;
  if (v.region >= 0 && size_t(v.region) != gi) return true;
  const HeapPicture::Group& g = p.groups[gi];
  for (uint32_t i = g.first; i < g.first + g.count; ++i)
    if (item_shown(p, gi, i, v)) return false;
  return true;
}

} // namespace

void layout_map(const HeapPicture& p, const MapView& v, MapLayout* out) {
  out->start.resize(p.items.size());
  out->width.resize(p.items.size());
  out->groups.resize(p.groups.size());
  float y = 0;
  for (size_t gi = 0; gi < p.groups.size(); ++gi) {
    double s = strip(p, gi, v, out->start.data(), out->width.data());
    MapLayout::Group& lg = out->groups[gi];
    lg.hidden = group_hidden(p, gi, v);
    lg.y = y;
    lg.rows_y = y + v.title_h;
    lg.length = s;
    lg.rows = lg.hidden ? 0 : rows_for(s, v.width);
    if (!lg.hidden) y = lg.rows_y + float(lg.rows) * (v.row_h + v.row_gap) + v.group_gap;
  }
  out->height = y;
}

float layout_height(const HeapPicture& p, const MapView& v) {
  float y = 0;
  for (size_t gi = 0; gi < p.groups.size(); ++gi)
    if (!group_hidden(p, gi, v))
      y += v.title_h + float(rows_for(strip(p, gi, v, nullptr, nullptr), v.width)) * (v.row_h + v.row_gap) +
           v.group_gap;
  return y;
}

namespace {

// A group's item sizes as a histogram, so that the strip length at any zoom costs O(distinct
// sizes) instead of O(items): exact counts below 64 KiB (sizes are multiples of 16), a list
// above, and the shortenable items (top, gaps) apart.
struct SizeProfile {
  static constexpr size_t kExact = 4096;
  std::vector<uint32_t> count;
  std::vector<uint64_t> big, shorten;
  void add(uint32_t u) { // an entry of HeapPicture::units
    uint64_t size = uint64_t(u & ~HeapPicture::kShortenable) * kUnit;
    if (u & HeapPicture::kShortenable)
      shorten.push_back(size);
    else if (size / kUnit < kExact)
      ++count[size / kUnit];
    else
      big.push_back(size);
  }
  double length(const MapView& v) const {
    auto w = [&](uint64_t size) { return std::max(double(size) / v.bpp, double(v.min_px)); };
    double s = 0;
    for (size_t k = 0; k < kExact; ++k)
      if (count[k]) s += double(count[k]) * w(k * kUnit);
    for (uint64_t b : big)
      s += w(b);
    for (uint64_t b : shorten) {
      double x = double(b) / v.bpp;
      if (v.shorten_rows > 0) x = std::min(x, double(v.shorten_rows) * v.width);
      s += std::max(x, double(v.min_px));
    }
    return s;
  }
};

} // namespace

double fit_bpp(const HeapPicture& p, MapView v, float height) {
  if (v.cells) return v.bpp;
  std::vector<SizeProfile> prof;
  for (size_t g = 0; g < p.groups.size(); ++g) {
    if (group_hidden(p, g, v)) continue;
    SizeProfile& sp = prof.emplace_back();
    sp.count.assign(SizeProfile::kExact, 0);
    for (uint32_t i = p.groups[g].first; i < p.groups[g].first + p.groups[g].count; ++i)
      if (!v.filtered() || item_shown(p, g, i, v)) sp.add(p.units[i]);
  }
  auto fits = [&](double bpp) {
    v.bpp = bpp;
    float y = 0;
    // A hair longer than the profile's sum: the layout adds float widths, which may round up.
    for (const SizeProfile& sp : prof)
      y += v.title_h + float(rows_for(sp.length(v) * (1 + 1e-6), v.width)) * (v.row_h + v.row_gap) +
           v.group_gap;
    return y <= height;
  };
  // Between 1/16 byte per pixel and 2^40.
  double lo = -4, hi = 40; // log2(bpp)
  if (!fits(std::exp2(hi))) {
    // The minimum widths alone do not fit: take the closest zoom whose height stays within 5%
    // of theirs (more detail, hardly more scrolling) rather than an absurd bytes-per-pixel.
    v.bpp = std::exp2(hi);
    double floor_h = 0;
    for (const SizeProfile& sp : prof)
      floor_h += v.title_h + float(rows_for(sp.length(v), v.width)) * (v.row_h + v.row_gap) + v.group_gap;
    height = float(floor_h * 1.05);
  }
  if (fits(1)) return 1; // closer only magnifies a tiny heap into a few giant chunks
  lo = 0;
  for (int it = 0; it < 40; ++it) {
    double mid = (lo + hi) / 2;
    if (fits(std::exp2(mid)))
      hi = mid;
    else
      lo = mid;
  }
  return std::exp2(hi);
}

// ---- rectangles -----------------------------------------------------------------------------
namespace {

// The paints of a program's live bytes (what a tick stands for when they get no pixel).
bool live_paint(Paint p) {
  return p == Paint::InUse || p == Paint::Header || p == Paint::Slack || p == Paint::Mmapped ||
         p == Paint::Before;
}

struct Emitter {
  const MapView& v;
  float rows_y;
  std::vector<MapRect>* out;
  // Pieces of pixels are pooled (true to bytes); else every piece is drawn as it falls.
  bool pool = v.min_px < 1 && !v.cells;
  int rows_px = std::max(1, int(std::lround(v.row_h)));
  // The pending pixel: the share of it each paint covers.
  int64_t pend_row = -1;
  int64_t pend_px = 0;
  double share[size_t(Paint::Count)] = {};
  // What rounding gave each paint more (<0) or less (>0) than its share, carried to the next
  // pixel that paint is in.
  double carry[size_t(Paint::Count)] = {};

  float row_top(uint64_t row) const { return rows_y + float(row) * (v.row_h + v.row_gap); }

  void flush() {
    if (pend_row < 0) return;
    constexpr size_t K = size_t(Paint::Count);
    double total = 0, want[K];
    int got[K], sum = 0;
    for (size_t k = 0; k < K; ++k)
      total += share[k];
    int budget = std::clamp(int(std::lround(total * rows_px)), 0, rows_px);
    for (size_t k = 0; k < K; ++k) {
      want[k] = share[k] > 0 ? share[k] * rows_px + carry[k] : 0;
      got[k] = share[k] > 0 ? std::max(0, int(std::floor(want[k]))) : 0;
      sum += got[k];
    }
    // Largest remainders fill the budget; the smallest give back an excess.
    while (sum < budget) {
      size_t best = K;
      for (size_t k = 0; k < K; ++k)
        if (share[k] > 0 && (best == K || want[k] - got[k] > want[best] - got[best])) best = k;
      if (best == K) break;
      ++got[best];
      ++sum;
    }
    while (sum > budget) {
      size_t worst = K;
      for (size_t k = 0; k < K; ++k)
        if (got[k] > 0 && (worst == K || want[k] - got[k] < want[worst] - got[worst])) worst = k;
      --got[worst];
      --sum;
    }
    float y = row_top(uint64_t(pend_row)), x = float(pend_px);
    bool tick = false;
    for (size_t k = 0; k < K; ++k) {
      if (share[k] <= 0) continue;
      carry[k] = std::clamp(want[k] - got[k], -1.0, 1.0);
      if (got[k] == 0) {
        tick |= live_paint(Paint(k));
        continue;
      }
      out->push_back(MapRect{x, y, x + 1, y + float(got[k]), Paint(k), -1, false});
      y += float(got[k]);
    }
    if (tick) {
      float top = row_top(uint64_t(pend_row));
      out->push_back(MapRect{x, top - std::min(2.0f, v.row_gap), x + 1, top, Paint::InUse, -1, false, true});
    }
    std::fill(std::begin(share), std::end(share), 0);
    pend_row = -1;
  }

  double row0 = 0; // strip position of the row piece() works on
  void add(int64_t row, int64_t px, Paint p, double frac) {
    if (px != pend_px || row != pend_row) {
      flush();
      pend_row = row;
      pend_px = px;
      pend_x0 = row0 + double(px);
    }
    share[size_t(p)] += frac;
  }

  // A piece narrower than a pixel: the common case on a big heap at "fit", so the piece that
  // falls inside the pending pixel costs two compares and an add.
  double pend_x0 = 0; // strip position of the pending pixel's left edge
  void tiny(double a, double b, Paint p) {
    if (pool && pend_row >= 0 && a >= pend_x0 && b <= pend_x0 + 1) {
      share[size_t(p)] += b - a;
      return;
    }
    span(a, b, p, -1, false);
  }

  // [a, b) of the strip in paint p, for item i; first marks the item's own start.
  void span(double a, double b, Paint p, int32_t item, bool first) {
    double W = v.width;
    while (a < b) {
      uint64_t row = uint64_t(a / W);
      if (double(row) * W > a) --row; // the division may round up across a row edge
      double row0 = double(row) * W;
      double e = std::min(b, row0 + W);
      piece(row, a - row0, e - row0, p, item, first);
      first = false;
      a = e;
    }
  }

  // [x0, x1) of one row.
  void piece(uint64_t row, double x0, double x1, Paint p, int32_t item, bool first) {
    row0 = double(row) * double(v.width);
    float y = row_top(row);
    if (!pool) {
      flush();
      out->push_back(MapRect{float(x0), y, float(x1), y + v.row_h, p, item, first});
      return;
    }
    double p0 = std::floor(x0), p1 = std::floor(x1);
    if (p0 == p1) { // within one pixel
      add(int64_t(row), int64_t(p0), p, x1 - x0);
      return;
    }
    double whole0 = p0;
    if (x0 > p0) { // the first pixel, in part
      add(int64_t(row), int64_t(p0), p, p0 + 1 - x0);
      whole0 = p0 + 1;
      first = false;
    }
    if (whole0 < p1) {
      flush();
      out->push_back(MapRect{float(whole0), y, float(p1), y + v.row_h, p, item, first});
    }
    if (x1 > p1) add(int64_t(row), int64_t(p1), p, x1 - p1); // the last pixel, in part
  }
};

// The item's parts as glibc lays a chunk out, as byte counts from its start: the first word
// (prev_size, or the end of the previous chunk's user bytes while that chunk is in use), the
// size word, the user's bytes and the slack; the user's bytes may reach into the next chunk's
// first word, which that chunk draws (as `spill` of its previous chunk).
struct Parts {
  uint64_t lead_req = 0, lead_slack = 0; // the first word, the previous chunk's: requested, slack
  Paint lead_paint = Paint::Header;      // ... or the previous chunk's Internal
  uint64_t header = 0;                   // the header bytes that are this chunk's own
  uint64_t req = 0, slack = 0;           // the user's bytes inside the chunk, then slack
};

Parts parts_of(const HeapPicture::Item& it, const HeapPicture::Item* prev, const model::PolicyInfo& pol) {
  Parts r;
  // The previous chunk's bytes in this chunk's first word (glibc: 8), when that one is in use.
  uint64_t lead = pol.header_bytes > pol.heap_overhead ? pol.header_bytes - pol.heap_overhead : 0;
  bool prev_live = prev && lead && !prev->gap() && trace::is_in_use(prev->state) && !prev->pending &&
                   prev->state != uint8_t(ChunkState::Mmapped) && prev->addr + prev->size == it.addr;
  if (prev_live && it.size >= lead) {
    if (prev->internal) {
      r.lead_paint = Paint::Internal;
      r.lead_slack = lead;
    } else {
      uint64_t own = prev->size > pol.header_bytes ? prev->size - pol.header_bytes : 0;
      r.lead_req = prev->req > own ? std::min(lead, prev->req - own) : 0;
      r.lead_slack = lead - r.lead_req;
      r.lead_paint = prev->before_trace() ? Paint::Before : Paint::InUse;
    }
  }
  uint64_t before = r.lead_req + r.lead_slack;
  r.header = std::min(it.size - before, uint64_t(pol.header_bytes) - before);
  if (!it.gap() && trace::is_in_use(it.state) && !it.internal && !it.pending) {
    uint64_t room = it.size - before - r.header;
    r.req = std::min(it.req, room);
    r.slack = room - r.req;
  }
  return r;
}

void emit_item(Emitter& em, const HeapPicture& p, size_t idx, bool first_of_group, double a, double w) {
  const HeapPicture::Item& it = p.items[idx];
  Paint paint = item_paint(it);
  bool live = !it.gap() && trace::is_in_use(it.state) && !it.internal && !it.pending;
  bool parts = !it.gap() && w >= em.v.parts_min_px && !em.v.cells && it.size >= p.policy.header_bytes &&
               (live || !first_of_group);
  if (!parts) {
    em.span(a, a + w, paint, int32_t(idx), true);
    return;
  }
  Parts pr = parts_of(it, first_of_group ? nullptr : &p.items[idx - 1], p.policy);
  if (!live && pr.lead_req + pr.lead_slack == 0) { // a free chunk with nothing of its neighbour's
    em.span(a, a + w, paint, int32_t(idx), true);
    return;
  }
  double per_byte = w / double(it.size), x = a;
  bool first = true;
  // The first word shows the previous chunk's bytes: it is that chunk's (hover and geometry name
  // it), drawn after the separator at this chunk's start.
  auto part = [&](uint64_t bytes, Paint pt, size_t owner) {
    if (!bytes) return;
    double e = std::min(a + w, x + double(bytes) * per_byte);
    size_t n = em.out->size();
    em.span(x, e, pt, int32_t(owner), first);
    if (owner != idx)
      for (size_t k = n; k < em.out->size(); ++k)
        if ((*em.out)[k].item == int32_t(owner)) (*em.out)[k].lead = true;
    first = false;
    x = e;
  };
  part(pr.lead_req, pr.lead_paint, idx - 1);
  part(pr.lead_slack, pr.lead_paint == Paint::InUse ? Paint::Slack : pr.lead_paint, idx - 1);
  part(pr.header, live ? Paint::Header : paint, idx);
  if (live) {
    part(pr.req, it.before_trace() ? Paint::Before : Paint::InUse, idx);
    part(pr.slack, Paint::Slack, idx);
  }
  if (x < a + w) em.span(x, a + w, paint, int32_t(idx), first); // a free chunk's body
}

} // namespace

void visible_rects(const HeapPicture& p, const MapLayout& l, const MapView& v, float y0, float y1,
                   std::vector<MapRect>* out) {
  out->clear();
  for (size_t gi = 0; gi < p.groups.size(); ++gi) {
    const HeapPicture::Group& g = p.groups[gi];
    const MapLayout::Group& lg = l.groups[gi];
    float gy1 = lg.rows_y + float(lg.rows) * (v.row_h + v.row_gap);
    if (lg.hidden || gy1 < y0 || lg.rows_y > y1 || g.count == 0) continue;
    float pitch = v.row_h + v.row_gap;
    int64_t r0 = std::max<int64_t>(0, int64_t(std::floor((y0 - lg.rows_y) / pitch)));
    int64_t r1 = std::min<int64_t>(int64_t(lg.rows) - 1, int64_t(std::floor((y1 - lg.rows_y) / pitch)));
    if (r1 < r0) continue;
    double s0 = double(r0) * v.width, s1 = double(r1 + 1) * v.width;
    // First item that ends after s0.
    const double* st = l.start.data() + g.first;
    size_t lo = size_t(std::upper_bound(st, st + g.count, s0) - st);
    if (lo > 0) --lo;
    Emitter em{v, lg.rows_y, out};
    for (size_t k = lo; k < g.count; ++k) {
      size_t i = g.first + k;
      double a = l.start[i];
      if (a >= s1) break;
      double w = l.width[i];
      if (w <= 0 || a + w <= s0) continue;
      if (w < 1.0 && a >= s0 && a + w <= s1) { // narrower than a pixel: from the compact arrays only
        em.tiny(a, a + w, p.paints[i]);
        continue;
      }
      // Items wholly in the visible rows get their parts; a huge one that runs past them is
      // clipped to them and drawn plain.
      if (a >= s0 && a + w <= s1) {
        emit_item(em, p, i, k == 0, a, w);
      } else {
        double ca = std::max(a, s0), cw = std::min(a + w, s1) - ca;
        em.span(ca, ca + cw, item_paint(p.items[i]), int32_t(i), ca == a);
      }
    }
    em.flush();
  }
}

void released_rects(const HeapPicture& p, const MapLayout& l, const MapView& v, float y0, float y1,
                    std::vector<ReleasedRect>* out) {
  out->clear();
  if (p.released.empty()) return;
  const double W = v.width;
  const float pitch = v.row_h + v.row_gap;
  using Range = std::pair<uint64_t, uint64_t>;
  for (size_t gi = 0; gi < p.groups.size(); ++gi) {
    const HeapPicture::Group& g = p.groups[gi];
    const MapLayout::Group& lg = l.groups[gi];
    if (lg.hidden || g.mmapped || g.count == 0) continue;
    int64_t r0 = std::max<int64_t>(0, int64_t(std::floor((y0 - lg.rows_y) / pitch)));
    int64_t r1 = std::min<int64_t>(int64_t(lg.rows) - 1, int64_t(std::floor((y1 - lg.rows_y) / pitch)));
    if (r1 < r0) continue;
    double s0 = double(r0) * W, s1 = double(r1 + 1) * W;
    // The items on the visible rows, [lo, hi) of the group, and the bytes they span.
    const double* st = l.start.data() + g.first;
    size_t lo = size_t(std::upper_bound(st, st + g.count, s0) - st);
    if (lo > 0) --lo;
    size_t hi = size_t(std::lower_bound(st, st + g.count, s1) - st);
    if (lo >= hi) continue;
    const HeapPicture::Item* items = p.items.data() + g.first;
    uint64_t a0 = items[lo].addr, a1 = items[hi - 1].addr + items[hi - 1].size;
    auto it = std::upper_bound(p.released.begin(), p.released.end(), a0,
                               [](uint64_t x, const Range& r) { return x < r.first; });
    if (it != p.released.begin() && std::prev(it)->second > a0) --it;
    for (; it != p.released.end() && it->first < a1; ++it) {
      // The items holding [it->first, it->second): from the first that ends past its start.
      size_t k = size_t(std::upper_bound(items + lo, items + hi, it->first,
                                         [](uint64_t x, const HeapPicture::Item& t) { return x < t.addr; }) -
                        items);
      if (k > lo) --k;
      for (; k < hi && items[k].addr < it->second; ++k) {
        const HeapPicture::Item& t = items[k];
        size_t i = g.first + k;
        uint64_t ca = std::max(it->first, t.addr), cb = std::min(it->second, t.addr + t.size);
        if (ca >= cb || l.width[i] <= 0 || t.size == 0) continue;
        double per = double(l.width[i]) / double(t.size);
        double xa = std::max(s0, l.start[i] + double(ca - t.addr) * per);
        double xb = std::min(s1, l.start[i] + double(cb - t.addr) * per);
        while (xa < xb) { // one piece per row
          uint64_t row = uint64_t(xa / W);
          if (double(row) * W > xa) --row;
          double row0 = double(row) * W, e = std::min(xb, row0 + W);
          float y = lg.rows_y + float(row) * pitch;
          out->push_back(
              ReleasedRect{float(xa - row0), y, float(e - row0), y + v.row_h, int32_t(i), ca, cb - ca});
          xa = e;
        }
      }
    }
  }
}

void item_rects(const HeapPicture& p, const MapLayout& l, const MapView& v, size_t item,
                std::vector<MapRect>* out) {
  out->clear();
  if (item >= p.items.size()) return;
  MapView plain = v;
  plain.min_px = 1; // whole rectangles: an outline is not pooled
  for (size_t gi = 0; gi < p.groups.size(); ++gi) {
    const HeapPicture::Group& g = p.groups[gi];
    if (item < g.first || item >= g.first + g.count || l.groups[gi].hidden || l.width[item] <= 0) continue;
    Emitter em{plain, l.groups[gi].rows_y, out};
    em.span(l.start[item], l.start[item] + std::max(1.0, double(l.width[item])), Paint::InUse, int32_t(item),
            true);
  }
}

void byte_rects(const HeapPicture& p, const MapLayout& l, const MapView& v, size_t item, uint64_t a,
                uint64_t b, float min_px, std::vector<MapRect>* out) {
  out->clear();
  if (item >= p.items.size()) return;
  const HeapPicture::Item& t = p.items[item];
  a = std::max(a, t.addr);
  b = std::min(b, t.addr + t.size);
  if (a >= b || t.size == 0 || l.width[item] <= 0) return;
  for (size_t gi = 0; gi < p.groups.size(); ++gi) {
    const HeapPicture::Group& g = p.groups[gi];
    const MapLayout::Group& lg = l.groups[gi];
    if (item < g.first || item >= g.first + g.count || lg.hidden) continue;
    const double W = v.width, per = double(l.width[item]) / double(t.size);
    const double i0 = l.start[item], i1 = i0 + double(l.width[item]);
    double xa = i0 + double(a - t.addr) * per, xb = i0 + double(b - t.addr) * per;
    if (xb - xa < min_px) { // widened about the middle, within the item
      double mid = (xa + xb) / 2, half = std::min(double(min_px), i1 - i0) / 2;
      xa = std::clamp(mid - half, i0, i1 - 2 * half);
      xb = xa + 2 * half;
    }
    const float pitch = v.row_h + v.row_gap;
    while (xa < xb) { // one piece per row
      uint64_t row = uint64_t(xa / W);
      if (double(row) * W > xa) --row;
      double row0 = double(row) * W, e = std::min(xb, row0 + W);
      float y = lg.rows_y + float(row) * pitch;
      out->push_back(
          MapRect{float(xa - row0), y, float(e - row0), y + v.row_h, Paint::InUse, int32_t(item), xa == i0});
      xa = e;
    }
  }
}

namespace {

// The group and strip position under a map point (false: none).
bool strip_at(const MapLayout& l, const MapView& v, float x, float y, size_t* group, double* s) {
  if (x < 0 || x >= v.width) return false;
  float pitch = v.row_h + v.row_gap;
  for (size_t gi = 0; gi < l.groups.size(); ++gi) {
    const MapLayout::Group& lg = l.groups[gi];
    if (lg.hidden || y < lg.rows_y || y >= lg.rows_y + float(lg.rows) * pitch) continue;
    uint64_t row = uint64_t((y - lg.rows_y) / pitch);
    if (y - lg.rows_y - float(row) * pitch >= v.row_h) return false; // in the gap between rows
    *s = double(row) * v.width + x;
    if (*s >= lg.length) return false;
    *group = gi;
    return true;
  }
  return false;
}

} // namespace

int64_t hit_test(const HeapPicture& p, const MapLayout& l, const MapView& v, float x, float y) {
  size_t gi;
  double s;
  if (!strip_at(l, v, x, y, &gi, &s)) return -1;
  const HeapPicture::Group& g = p.groups[gi];
  const double* st = l.start.data() + g.first;
  size_t k = size_t(std::upper_bound(st, st + g.count, s) - st);
  // Items of width 0 (not shown) share their start with the next: step back to one that is.
  while (k > 0 && l.width[g.first + k - 1] <= 0)
    --k;
  if (k == 0) return -1;
  size_t i = g.first + k - 1;
  if (s >= l.start[i] + l.width[i]) return -1;
  return int64_t(i);
}

PixelContents pixel_contents(const HeapPicture& p, const MapLayout& l, const MapView& v, float x, float y) {
  PixelContents r;
  size_t gi;
  double s;
  if (!strip_at(l, v, std::floor(x), y, &gi, &s)) return r;
  const HeapPicture::Group& g = p.groups[gi];
  double px0 = std::floor(s), px1 = px0 + 1;
  const double* st = l.start.data() + g.first;
  size_t k = size_t(std::upper_bound(st, st + g.count, px0) - st);
  if (k > 0) --k;
  for (; k < g.count; ++k) {
    size_t i = g.first + k;
    double a = l.start[i], w = l.width[i];
    if (a >= px1) break;
    if (w <= 0 || a + w <= px0) continue;
    if (r.count == 0) r.first = uint32_t(i);
    r.count = uint32_t(i) - r.first + 1;
    double frac = (std::min(a + w, px1) - std::max(a, px0)) / w;
    r.bytes[size_t(p.paints[i])] += uint64_t(std::llround(frac * double(p.items[i].size)));
  }
  return r;
}

} // namespace hv::views
