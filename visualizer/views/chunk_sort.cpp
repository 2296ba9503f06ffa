// chunk_sort.cpp - a model's chunks in address order (see chunk_sort.h).
#include "views/chunk_sort.h"
#include "views/addr_sort.h"

#include <algorithm>
#include <thread>

namespace hv::views {

using model::Chunk;

namespace {

// Half h of the table: its records, sorted by address in s.order[h].
// The vectors are filled as locals of the thread, moved in and out: s.all[0] and s.all[1] share a
// cache line, and two threads appending to them at once (each append writes its vector's end)
// made this 3-8x slower.
void sort_half(const model::HeapModel& m, size_t h, size_t halves, ChunkSortScratch& s) {
  HugeVector<Chunk> all = std::move(s.all[h]);
  HugeVector<uint64_t> addr = std::move(s.addr[h]);
  all.clear();
  addr.clear();
  // (an eighth more: the halves differ a little, and the heap may grow by the next call)
  size_t expect = m.chunk_count() / halves * 9 / 8 + 1024;
  all.reserve(expect);
  addr.reserve(expect);
  m.for_each_chunk_in(h, halves, [&](const Chunk& c) {
    all.push_back(c);
    addr.push_back(c.addr);
  });
  size_t n = addr.size();
  for (HugeVector<uint64_t>* v : {&s.keys[h], &s.tmp[h]}) {
    v->reserve(expect);
    v->resize(n);
  }
  s.order[h].reserve(expect);
  s.order[h].resize(n);
  sort_by_address(addr.data(), n, s.order[h].data(), s.keys[h].data(), s.tmp[h].data());
  s.all[h] = std::move(all);
  s.addr[h] = std::move(addr);
}

// The halves' records, merged by address: out[k, k + count), starting from the i-th of half 0
// and the j-th of half 1 (a split found by merge_split).
void merge_into(const ChunkSortScratch& s, size_t i, size_t j, Chunk* out, size_t count) {
  const Chunk *a = s.all[0].data(), *b = s.all[1].data();
  const uint32_t *oa = s.order[0].data(), *ob = s.order[1].data();
  const uint64_t *xa = s.addr[0].data(), *xb = s.addr[1].data();
  size_t na = s.order[0].size(), nb = s.order[1].size();
  constexpr size_t kAhead = 16; // records are gathered out of order: start loading them early
  for (size_t k = 0; k < count; ++k) {
    if (i + kAhead < na) __builtin_prefetch(&a[oa[i + kAhead]]);
    if (j + kAhead < nb) __builtin_prefetch(&b[ob[j + kAhead]]);
    if (j >= nb || (i < na && xa[oa[i]] < xb[ob[j]]))
      out[k] = a[oa[i++]];
    else
      out[k] = b[ob[j++]];
  }
}

// How many of the first k merged records come from half 0 (addresses are distinct).
size_t merge_split(const ChunkSortScratch& s, size_t k) {
  const uint32_t *oa = s.order[0].data(), *ob = s.order[1].data();
  const uint64_t *xa = s.addr[0].data(), *xb = s.addr[1].data();
  size_t na = s.order[0].size(), nb = s.order[1].size();
  size_t lo = k > nb ? k - nb : 0, hi = std::min(k, na);
  while (lo < hi) { // the least i whose record comes after the (k - i)-th of half 1
    size_t mid = lo + (hi - lo) / 2;
    if (xa[oa[mid]] < xb[ob[k - mid - 1]])
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

} // namespace

void sorted_chunks(const model::HeapModel& m, HugeVector<Chunk>& out, ChunkSortScratch& s) {
  if (m.chunk_count() < kTwoCores) {
    sort_half(m, 0, 1, s);
    size_t n = s.order[0].size();
    reserve_with_headroom(out, n);
    out.resize(n);
    const Chunk* all = s.all[0].data();
    const uint32_t* order = s.order[0].data();
    for (size_t i = 0; i < n; ++i) {
      if (i + 16 < n) __builtin_prefetch(&all[order[i + 16]]);
      out[i] = all[order[i]];
    }
    return;
  }
  // Each thread sorts half the table, then writes half the result (the other thread's records
  // included: a merge needs both halves sorted first).
  std::thread helper([&] { sort_half(m, 1, 2, s); });
  sort_half(m, 0, 2, s);
  helper.join();
  size_t n = s.order[0].size() + s.order[1].size(), k = n / 2;
  reserve_with_headroom(out, n);
  out.resize(n);
  size_t i = merge_split(s, k);
  std::thread second([&] { merge_into(s, i, k - i, out.data() + k, n - k); });
  merge_into(s, 0, 0, out.data(), k);
  second.join();
}

} // namespace hv::views
