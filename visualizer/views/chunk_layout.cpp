// chunk_layout.cpp - chunk map geometry (see chunk_layout.h).
#include "views/chunk_layout.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

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
  case Paint::Count:
    break;
  }
  return "?";
}

std::string state_text(uint8_t s, uint8_t bin) {
  return trace::state_label_text(s, bin).c_str();
}

std::string chunk_text(const HeapPicture::Item& it, const model::PolicyInfo& policy) {
  if (it.gap()) return "not a chunk";
  if (it.internal)
    return std::string(trace::state_label(it.state)) + ", " + policy.internal_name + " (the allocator's own)";
  return state_text(it.state, it.bin);
}

// ---- the picture ----------------------------------------------------------------------------
static bool shortenable(const HeapPicture::Item& it) {
  return it.gap() || it.state == uint8_t(ChunkState::Top);
}

namespace {

// LSD radix sort of chunks by address. Only the bits that vary are sorted on (chunk addresses
// are 16-aligned, and a heap spans far less than 2^64), in digits of at most 12 bits: few
// enough buckets for the scatter to stay cache-friendly.
void sort_by_addr(std::vector<Chunk>& v, std::vector<Chunk>& tmp) {
  if (v.size() < 2048) {
    std::sort(v.begin(), v.end(), [](const Chunk& a, const Chunk& b) { return a.addr < b.addr; });
    return;
  }
  uint64_t lo = UINT64_MAX, hi = 0, any = 0;
  for (const Chunk& c : v) {
    lo = std::min(lo, c.addr);
    hi = std::max(hi, c.addr);
  }
  for (const Chunk& c : v)
    any |= c.addr - lo;
  if (!any) return;
  unsigned low = unsigned(__builtin_ctzll(any));
  unsigned bits = 64 - unsigned(__builtin_clzll((hi - lo) >> low));
  unsigned passes = (bits + 11) / 12, digit = (bits + passes - 1) / passes;
  uint64_t mask = (1ull << digit) - 1;
  tmp.resize(v.size());
  std::vector<uint32_t> count(size_t(1) << digit);
  for (unsigned p = 0; p < passes; ++p) {
    unsigned shift = low + p * digit;
    std::fill(count.begin(), count.end(), 0);
    for (const Chunk& c : v)
      ++count[((c.addr - lo) >> shift) & mask];
    uint32_t sum = 0;
    for (uint32_t& n : count) {
      uint32_t k = n;
      n = sum;
      sum += k;
    }
    for (const Chunk& c : v)
      tmp[count[((c.addr - lo) >> shift) & mask]++] = c;
    v.swap(tmp);
  }
}

HeapPicture::Item item_of(const Chunk& c) {
  return HeapPicture::Item{c.addr, c.size, c.req, c.seq, c.arena, c.state, c.bin, c.internal};
}

HeapPicture::Item gap_item(uint64_t a, uint64_t b, uint32_t arena) {
  return HeapPicture::Item{a, b - a, 0, 0, arena, HeapPicture::Item::kGapState, 0, false};
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

void build_picture(const model::HeapModel& m, const model::PolicyInfo& policy, HeapPicture* out) {
  out->policy = policy;
  std::vector<Chunk>& chunks = out->scratch;
  chunks.clear();
  chunks.reserve(m.chunk_count());
  m.for_each_chunk([&](const Chunk& c) { chunks.push_back(c); });
  sort_by_addr(chunks, out->scratch2);
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
      out->items.push_back(item_of(c));
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
  for (; ci < chunks.size(); ++ci)
    (chunks[ci].state == uint8_t(ChunkState::Mmapped) ? mmapped : loose).push_back(&chunks[ci]);
  auto add_list = [&](const std::vector<const Chunk*>& list, bool is_mmapped, const char* what) {
    if (list.empty()) return;
    HeapPicture::Group g{};
    g.first = uint32_t(out->items.size());
    g.mmapped = is_mmapped;
    uint64_t bytes = 0;
    for (const Chunk* c : list) {
      out->items.push_back(item_of(*c));
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
  out->in_use_bytes = out->in_use_requested = 0;
  for (const HeapPicture::Item& it : out->items)
    if (!it.gap() && trace::is_in_use(it.state) && !it.internal) {
      out->in_use_bytes += it.size;
      out->in_use_requested += std::min(it.req, it.size);
    }
  out->units.resize(out->items.size());
  out->paints.resize(out->items.size());
  for (size_t i = 0; i < out->items.size(); ++i) {
    const HeapPicture::Item& it = out->items[i];
    uint64_t u = std::min<uint64_t>(it.size / kUnit, HeapPicture::kShortenable - 1);
    out->units[i] = uint32_t(u) | (shortenable(it) ? HeapPicture::kShortenable : 0);
    out->paints[i] = it.gap() ? Paint::Gap : it.internal ? Paint::Internal : paint_of_state(it.state);
  }
}

void swap_content(HeapPicture& a, HeapPicture& b) {
  a.items.swap(b.items);
  a.groups.swap(b.groups);
  a.units.swap(b.units);
  a.paints.swap(b.paints);
  std::swap(a.position, b.position);
  std::swap(a.in_use_bytes, b.in_use_bytes);
  std::swap(a.in_use_requested, b.in_use_requested);
  std::swap(a.policy, b.policy);
}

// ---- layout ---------------------------------------------------------------------------------
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

static uint32_t rows_for(double length, float width) {
  if (length <= 0) return 1;
  return uint32_t(std::ceil(length / double(width) - 1e-9));
}

namespace {

// The strip length of group g, storing each item's start and width when asked. This loop
// touches every chunk on each zoom change, so it reads the picture's compact arrays only.
double strip(const HeapPicture& p, const HeapPicture::Group& g, const MapView& v, double* start,
             float* width) {
  double s = 0;
  const uint32_t* u = p.units.data();
  const double per_unit = double(kUnit) / v.bpp, min_px = v.min_px;
  const double cap = v.shorten_rows > 0 ? double(v.shorten_rows) * v.width : 1e300;
  for (uint32_t i = g.first; i < g.first + g.count; ++i) {
    double w = v.cell_px;
    if (!v.cells) {
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

} // namespace

void layout_map(const HeapPicture& p, const MapView& v, MapLayout* out) {
  out->start.resize(p.items.size());
  out->width.resize(p.items.size());
  out->groups.resize(p.groups.size());
  float y = 0;
  for (size_t gi = 0; gi < p.groups.size(); ++gi) {
    double s = strip(p, p.groups[gi], v, out->start.data(), out->width.data());
    MapLayout::Group& lg = out->groups[gi];
    lg.y = y;
    lg.rows_y = y + v.title_h;
    lg.length = s;
    lg.rows = rows_for(s, v.width);
    y = lg.rows_y + float(lg.rows) * (v.row_h + v.row_gap) + v.group_gap;
  }
  out->height = y;
}

float layout_height(const HeapPicture& p, const MapView& v) {
  float y = 0;
  for (const HeapPicture::Group& g : p.groups)
    y += v.title_h + float(rows_for(strip(p, g, v, nullptr, nullptr), v.width)) * (v.row_h + v.row_gap) +
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
  std::vector<SizeProfile> prof(p.groups.size());
  for (size_t g = 0; g < p.groups.size(); ++g) {
    prof[g].count.assign(SizeProfile::kExact, 0);
    for (uint32_t i = p.groups[g].first; i < p.groups[g].first + p.groups[g].count; ++i)
      prof[g].add(p.units[i]);
  }
  auto fits = [&](double bpp) {
    v.bpp = bpp;
    float y = 0;
    for (const SizeProfile& sp : prof)
      y += v.title_h + float(rows_for(sp.length(v), v.width)) * (v.row_h + v.row_gap) + v.group_gap;
    return y <= height;
  };
  // Between 1 byte per pixel (closer only magnifies a tiny heap into a few giant chunks) and 2^40.
  double lo = 0, hi = 40; // log2(bpp)
  if (!fits(std::exp2(hi))) {
    // The minimum widths alone do not fit: take the closest zoom whose height stays within 5%
    // of theirs (more detail, hardly more scrolling) rather than an absurd bytes-per-pixel.
    v.bpp = std::exp2(hi);
    double floor_h = 0;
    for (const SizeProfile& sp : prof)
      floor_h += v.title_h + float(rows_for(sp.length(v), v.width)) * (v.row_h + v.row_gap) + v.group_gap;
    height = float(floor_h * 1.05);
  }
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

struct Emitter {
  const MapView& v;
  float rows_y;
  std::vector<MapRect>* out;
  uint64_t header; // a chunk's header bytes (the policy's)
  double inv_width = 1.0 / double(v.width);
  // Sub-pixel aggregation: bytes per paint in the pending pixel.
  int64_t pend_row = -1;
  int64_t pend_px = 0;
  uint64_t bytes[size_t(Paint::Count)] = {};

  float row_top(uint64_t row) const { return rows_y + float(row) * (v.row_h + v.row_gap); }

  void flush() {
    if (pend_row < 0) return;
    size_t best = 0;
    for (size_t k = 1; k < size_t(Paint::Count); ++k)
      if (bytes[k] > bytes[best]) best = k;
    float y = row_top(uint64_t(pend_row));
    out->push_back(MapRect{float(pend_px), y, float(pend_px + 1), y + v.row_h, Paint(best), -1, false});
    std::fill(std::begin(bytes), std::end(bytes), 0);
    pend_row = -1;
  }

  // [a, b) of the strip in paint p, for item i; first marks the item's own start.
  void span(double a, double b, Paint p, int32_t item, bool first) {
    double W = v.width;
    while (a < b) {
      uint64_t row = uint64_t(a / W);
      double row_end = double(row + 1) * W;
      double e = std::min(b, row_end);
      float x0 = float(a - double(row) * W), x1 = float(e - double(row) * W);
      float y = row_top(row);
      out->push_back(MapRect{x0, y, x1, y + v.row_h, p, item, first});
      first = false;
      a = e;
    }
  }

  void tiny(double a, uint64_t nbytes, Paint p) {
    uint64_t row = uint64_t(a * inv_width);
    if (double(row) * v.width > a) --row; // the reciprocal may round up across a row edge
    int64_t px = int64_t(a - double(row) * v.width);
    if (px == pend_px && int64_t(row) == pend_row) { // the common case: same pixel as before
      bytes[size_t(p)] += nbytes;
      return;
    }
    if (pend_row != int64_t(row) || pend_px != px) {
      flush();
      pend_row = int64_t(row);
      pend_px = px;
    }
    bytes[size_t(p)] += nbytes;
  }
};

void emit_item(Emitter& em, const HeapPicture::Item& it, int32_t idx, double a, double w) {
  Paint p = it.gap() ? Paint::Gap : it.internal ? Paint::Internal : paint_of_state(it.state);
  if (w < 1.0) {
    em.tiny(a, it.size, p);
    return;
  }
  em.flush();
  bool parts = !it.gap() && trace::is_in_use(it.state) && !it.internal && w >= em.v.parts_min_px &&
               it.size > em.header && !em.v.cells;
  if (!parts) {
    em.span(a, a + w, p, idx, true);
    return;
  }
  double per_byte = w / double(it.size);
  double hdr = std::max(1.0, double(em.header) * per_byte);
  uint64_t req = std::min<uint64_t>(it.req, it.size - em.header);
  double body = double(req) * per_byte;
  if (req > 0 && body < 1.0) body = 1.0;
  if (hdr + body > w) body = w - hdr;
  em.span(a, a + hdr, Paint::Header, idx, true);
  if (body > 0) em.span(a + hdr, a + hdr + body, p, idx, false);
  if (hdr + body < w) em.span(a + hdr + body, a + w, Paint::Slack, idx, false);
}

} // namespace

void visible_rects(const HeapPicture& p, const MapLayout& l, const MapView& v, float y0, float y1,
                   std::vector<MapRect>* out) {
  out->clear();
  for (size_t gi = 0; gi < p.groups.size(); ++gi) {
    const HeapPicture::Group& g = p.groups[gi];
    const MapLayout::Group& lg = l.groups[gi];
    float gy1 = lg.rows_y + float(lg.rows) * (v.row_h + v.row_gap);
    if (gy1 < y0 || lg.rows_y > y1 || g.count == 0) continue;
    float pitch = v.row_h + v.row_gap;
    int64_t r0 = std::max<int64_t>(0, int64_t(std::floor((y0 - lg.rows_y) / pitch)));
    int64_t r1 = std::min<int64_t>(int64_t(lg.rows) - 1, int64_t(std::floor((y1 - lg.rows_y) / pitch)));
    if (r1 < r0) continue;
    double s0 = double(r0) * v.width, s1 = double(r1 + 1) * v.width;
    // First item that ends after s0.
    const double* st = l.start.data() + g.first;
    size_t lo = size_t(std::upper_bound(st, st + g.count, s0) - st);
    if (lo > 0) --lo;
    Emitter em{v, lg.rows_y, out, p.policy.header_bytes};
    for (size_t k = lo; k < g.count; ++k) {
      size_t i = g.first + k;
      double a = l.start[i];
      if (a >= s1) break;
      double w = l.width[i];
      if (a + w <= s0) continue;
      if (w < 1.0 && a >= s0) { // sub-pixel: aggregated, from the compact arrays only
        em.tiny(a, uint64_t(p.units[i] & ~HeapPicture::kShortenable) * kUnit, p.paints[i]);
        continue;
      }
      // Items wholly in the visible rows get their parts; a huge one that runs past them is
      // clipped to them and drawn plain.
      if (a >= s0 && a + w <= s1) {
        emit_item(em, p.items[i], int32_t(i), a, w);
      } else {
        double ca = std::max(a, s0), cw = std::min(a + w, s1) - ca;
        em.flush();
        Paint pt = p.items[i].gap() ? Paint::Gap : paint_of_state(p.items[i].state);
        em.span(ca, ca + cw, pt, int32_t(i), ca == a);
      }
    }
    em.flush();
  }
}

void item_rects(const HeapPicture& p, const MapLayout& l, const MapView& v, size_t item,
                std::vector<MapRect>* out) {
  out->clear();
  if (item >= p.items.size()) return;
  for (size_t gi = 0; gi < p.groups.size(); ++gi) {
    const HeapPicture::Group& g = p.groups[gi];
    if (item < g.first || item >= g.first + g.count) continue;
    Emitter em{v, l.groups[gi].rows_y, out, p.policy.header_bytes};
    em.span(l.start[item], l.start[item] + std::max(1.0, double(l.width[item])), Paint::InUse, int32_t(item),
            true);
  }
}

int64_t hit_test(const HeapPicture& p, const MapLayout& l, const MapView& v, float x, float y) {
  if (x < 0 || x >= v.width) return -1;
  float pitch = v.row_h + v.row_gap;
  for (size_t gi = 0; gi < p.groups.size(); ++gi) {
    const HeapPicture::Group& g = p.groups[gi];
    const MapLayout::Group& lg = l.groups[gi];
    if (y < lg.rows_y || y >= lg.rows_y + float(lg.rows) * pitch) continue;
    uint64_t row = uint64_t((y - lg.rows_y) / pitch);
    if (y - lg.rows_y - float(row) * pitch >= v.row_h) return -1; // in the gap between rows
    double s = double(row) * v.width + x;
    if (s >= lg.length) return -1;
    const double* st = l.start.data() + g.first;
    size_t k = size_t(std::upper_bound(st, st + g.count, s) - st);
    if (k == 0) return -1;
    size_t i = g.first + k - 1;
    if (s >= l.start[i] + l.width[i]) return -1;
    return int64_t(i);
  }
  return -1;
}

} // namespace hv::views
