// chunk_layout_update.cpp - the map's picture moved with the model by the records that changed
// (update_picture, see chunk_layout.h), instead of built again from the whole table.
//
// Owns: the in-place update (chunks whose state changed, each found by a binary search) and the
// merge of changed records into the picture's address-ordered chunks, followed by the item pass
// build_picture ends with.
// Must not: decide whether the change list is complete (the caller asks the model's change log),
// or give a picture that differs from build_picture's in anything (tests compare them whole).
#include "views/chunk_layout.h"

#include <algorithm>
#include <cstring>

namespace hv::views {

using model::Chunk;
using trace::ChunkState;

namespace {

bool is_mmapped(const Chunk& c) {
  return c.state == uint8_t(ChunkState::Mmapped);
}

// Whether the model's regions are the ones the picture's region groups show.
bool same_regions(const model::HeapModel& m, const HeapPicture& p) {
  std::vector<model::Region> regions = m.regions_sorted();
  if (regions.size() != p.region_groups) return false;
  std::stable_sort(regions.begin(), regions.end(),
                   [](const model::Region& a, const model::Region& b) { return a.arena < b.arena; });
  for (size_t i = 0; i < regions.size(); ++i) {
    const HeapPicture::Group& g = p.groups[i];
    if (g.start != regions[i].addr || g.end != regions[i].addr + regions[i].size ||
        g.arena != regions[i].arena)
      return false;
  }
  return true;
}

// The chunk's contribution to the picture's totals (as build_picture_items counts them).
void count_in_use(HeapPicture& p, const HeapPicture::Item& it, int sign) {
  if (it.gap() || !trace::is_in_use(it.state) || it.internal || it.pending) return;
  if (it.before_trace()) {
    p.before_bytes += uint64_t(sign) * it.size;
    p.before_blocks += uint64_t(sign);
    return;
  }
  p.in_use_bytes += uint64_t(sign) * it.size;
  p.in_use_requested += uint64_t(sign) * std::min(it.req, it.size);
}

// Each changed chunk kept its address, size and group: its item, compact copy and place in the
// totals change where they are. False (nothing changed) when one did not.
bool update_in_place(const model::HeapModel& m, const std::vector<uint64_t>& changed, HeapPicture& p) {
  auto by_addr = [](const Chunk& c, uint64_t a) { return c.addr < a; };
  std::vector<uint32_t>& where = p.sort_idx; // the items of the changed chunks (scratch space)
  where.clear();
  for (uint64_t a : changed) {
    auto it = std::lower_bound(p.sorted.begin(), p.sorted.end(), a, by_addr);
    const Chunk* now = m.find(a);
    if (it == p.sorted.end() || it->addr != a || !now || now->size != it->size ||
        is_mmapped(*now) != is_mmapped(*it))
      return false;
    int64_t i = p.find(a);
    if (i < 0 || p.items[size_t(i)].addr != a) return false; // (overlapping records: a bad trace)
    where.push_back(uint32_t(i));
  }
  for (size_t k = 0; k < changed.size(); ++k) {
    const Chunk& now = *m.find(changed[k]);
    *std::lower_bound(p.sorted.begin(), p.sorted.end(), now.addr, by_addr) = now;
    size_t i = where[k];
    HeapPicture::Item& item = p.items[i];
    count_in_use(p, item, -1);
    item = item_of(now, m);
    count_in_use(p, item, 1);
    p.units[i] = item_units(item);
    p.paints[i] = item_paint(item);
  }
  return true;
}

} // namespace

PictureUpdate update_picture(const model::HeapModel& m, const std::vector<uint64_t>& changed,
                             HeapPicture* out) {
  std::vector<uint64_t>& ch = out->changed;
  ch.assign(changed.begin(), changed.end());
  // Past half the chunks, the merge's finds cost about what a whole build does.
  if (ch.size() > out->sorted.size() / 2 + 4096) return PictureUpdate::None;
  std::sort(ch.begin(), ch.end());
  ch.erase(std::unique(ch.begin(), ch.end()), ch.end());

  if (same_regions(m, *out) && update_in_place(m, ch, *out)) {
    out->released.clear();
    m.released().for_each_in(0, UINT64_MAX,
                             [&](uint64_t a, uint64_t b) { out->released.emplace_back(a, b); });
    out->released_bytes = m.released_bytes();
    return PictureUpdate::InPlace;
  }
  // The chunks in address order again, in place: a second buffer of the heap's records held
  // 53 MiB more at 1.3 M chunks, and its first merge faulted it in fresh (384 k changes merged in
  // 134 ms instead of 33):
  // the records of changed addresses taken out (the runs between them moved down), then each
  // changed address's record as the model has it now (if any) merged in from the end.
  HugeVector<Chunk>& sorted = out->sorted;
  std::vector<Chunk>& now = out->added;
  now.clear();
  size_t w = 0, r = 0, n = sorted.size();
  auto move_run = [&](size_t from, size_t count, size_t to) {
    if (count && from != to) std::memmove(&sorted[to], &sorted[from], count * sizeof(Chunk));
  };
  for (uint64_t a : ch) {
    size_t end = size_t(std::lower_bound(sorted.begin() + long(r), sorted.end(), a,
                                         [](const Chunk& c, uint64_t x) { return c.addr < x; }) -
                        sorted.begin());
    move_run(r, end - r, w);
    w += end - r;
    r = end < n && sorted[end].addr == a ? end + 1 : end;
    if (const Chunk* c = m.find(a)) now.push_back(*c);
  }
  move_run(r, n - r, w);
  w += n - r;
  size_t total = w + now.size();
  reserve_with_headroom(sorted, total);
  sorted.resize(total);
  for (size_t j = now.size(), i = w; j-- > 0;) { // from the end: each added record above its place
    size_t at = size_t(std::lower_bound(sorted.begin(), sorted.begin() + long(i), now[j].addr,
                                        [](const Chunk& c, uint64_t x) { return c.addr < x; }) -
                       sorted.begin());
    move_run(at, i - at, at + j + 1);
    sorted[at + j] = now[j];
    i = at;
  }
  build_picture_items(m, out);
  return PictureUpdate::Merged;
}

} // namespace hv::views
