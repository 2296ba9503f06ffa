// chunk_words.cpp - a chunk word by word (see chunk_words.h).
#include "views/chunk_words.h"

#include <cinttypes>
#include <cstdio>

namespace hv::views {

using trace::ChunkState;

namespace {

std::string fmt(const char* f, uint64_t a, uint64_t b = 0) {
  char buf[160];
  snprintf(buf, sizeof buf, f, a, b);
  return buf;
}

bool is_state(const HeapPicture::Item& it, ChunkState s) {
  return it.state == uint8_t(s);
}

// In use as glibc's boundary tags see it: anything but a chunk free in a merging bin (tcache and
// fastbin chunks keep the next chunk's P bit set), top or a fencepost.
bool tags_in_use(const HeapPicture::Item& it, const model::PolicyInfo& pol) {
  return !pol.merges_state(it.state) && !is_state(it, ChunkState::Top);
}

// The program's own chunk in use (requested bytes known), not mid-call, not the allocator's.
bool live(const HeapPicture::Item& it) {
  return trace::is_in_use(it.state) && !it.internal && !it.pending;
}

// The neighbour of item i at offset d (-1, +1) when it touches it in the same region.
const HeapPicture::Item* touching(const HeapPicture& p, size_t i, int d) {
  const HeapPicture::Item& it = p.items[i];
  if (is_state(it, ChunkState::Mmapped)) return nullptr;
  for (const HeapPicture::Group& g : p.groups) {
    if (i < g.first || i >= g.first + g.count || g.mmapped) continue;
    int64_t j = int64_t(i) + d;
    if (j < int64_t(g.first) || j >= int64_t(g.first + g.count)) return nullptr;
    const HeapPicture::Item& o = p.items[size_t(j)];
    if (o.gap()) return nullptr;
    bool adjacent = d < 0 ? o.addr + o.size == it.addr : it.addr + it.size == o.addr;
    return adjacent ? &o : nullptr;
  }
  return nullptr;
}

// The user's bytes of a live chunk that fall in the word at [from, from + n) of its usable area
// (usable area = [chunk + 16, chunk + size + 8)): requested, then slack.
// field: "user data" / "slack", or with a prefix ("prev's "); where: said after what it holds.
void usable_words(std::vector<ChunkWord>& out, const HeapPicture::Item& it, uint64_t from, uint64_t n,
                  ChunkWord::Owner owner, const char* prefix, const char* where) {
  // A block from before the trace (its request unknown) is user data throughout.
  uint64_t start = it.addr + 16, req_end = it.before_trace() ? UINT64_MAX : start + it.req;
  uint64_t a = from, e = from + n;
  if (a < req_end) {
    uint64_t k = std::min(e, req_end) - a;
    out.push_back(
        {a, k, owner, std::string(prefix) + "user data",
         (it.before_trace() ? fmt("%" PRIu64 " bytes of a block allocated before the trace began", k)
                            : fmt("%" PRIu64 " requested bytes", k)) +
             where,
         it.before_trace() ? Paint::Before : Paint::InUse, a == start});
    a += k;
  }
  if (a < e)
    out.push_back({a, e - a, owner, std::string(prefix) + "slack",
                   fmt("%" PRIu64 " bytes usable, not requested", e - a) + where, Paint::Slack, a == start});
}

} // namespace

std::vector<ChunkWord> chunk_words(const HeapPicture& p, size_t i) {
  std::vector<ChunkWord> w;
  if (i >= p.items.size()) return w;
  const HeapPicture::Item& it = p.items[i];
  const model::PolicyInfo& pol = p.policy;
  if (it.gap() || !pol.prev_size || pol.header_bytes != 16 || it.size < 16) return w;
  using O = ChunkWord::Owner;
  const uint64_t c = it.addr, end = c + it.size;
  bool mmapped = is_state(it, ChunkState::Mmapped);
  const HeapPicture::Item* prev = touching(p, i, -1);
  const HeapPicture::Item* next = touching(p, i, +1);

  // [c, c + 8): prev_size, or the previous chunk's data.
  if (mmapped) {
    w.push_back(
        {c, 8, O::This, "prev_size", "0 (an mmapped chunk: its offset in its mapping)", Paint::Header});
  } else if (!prev) {
    w.push_back({c, 8, O::This, "prev_size", "unused (the first chunk of its region)", Paint::Header});
  } else if (pol.merges_state(prev->state)) {
    w.push_back({c, 8, O::This, "prev_size",
                 fmt("%" PRIu64 " (the size of the free chunk before)", prev->size), Paint::Header});
  } else if (live(*prev)) {
    usable_words(w, *prev, c, 8, O::Prev, "prev's ", ", the previous chunk's (this chunk's prev_size)");
  } else {
    w.push_back({c, 8, O::Prev, "prev's data",
                 prev->internal ? "the allocator's own data" : "unused while it is free in its bin",
                 item_paint(*prev)});
  }
  // [c + 8, c + 16): the size field.
  uint64_t flags =
      model::flag_bits(pol, model::ChunkFacts{mmapped, it.arena, prev && pol.merges_state(prev->state)});
  w.push_back(
      {c + 8, 8, O::This, "size",
       fmt("0x%" PRIx64 " = %" PRIu64 " | ", it.size | flags, it.size) + model::flag_letters(pol, flags),
       Paint::Header});
  // The body, from c + 16.
  uint64_t at = c + 16;
  auto word = [&](const char* field, const std::string& value, Paint paint, bool user = false) {
    if (at + 8 > end) return;
    w.push_back({at, 8, O::This, field, value, paint, user});
    at += 8;
  };
  auto rest = [&](const char* field, const std::string& value, Paint paint) {
    if (at < end) w.push_back({at, end - at, O::This, field, value, paint, at == c + 16});
    at = end;
  };
  Paint own = item_paint(it);
  if (it.pending) {
    rest("being allocated", "the call has not returned it yet", Paint::InHand);
  } else if (it.internal) {
    // glibc 2.36's tcache_perthread_struct: uint16_t counts[64], then tcache_entry* entries[64].
    uint64_t counts = std::min<uint64_t>(128, end - at);
    w.push_back({at, counts, O::This, "counts[64]", "chunks in each tcache bin (2 bytes each)",
                 Paint::Internal, true});
    at += counts;
    rest("entries[64]", "the head of each tcache bin (8 bytes each)", Paint::Internal);
  } else if (live(it) && !mmapped) {
    // Usable: [c + 16, end + 8); the last word is the next chunk's prev_size.
    usable_words(w, it, at, end - at, O::This, "", "");
    at = end;
  } else if (live(it)) { // mmapped: usable [c + 16, end)
    usable_words(w, it, at, end - at, O::This, "", "");
    at = end;
  } else {
    switch (ChunkState(it.state)) {
    case ChunkState::Tcache:
      word("next", "the next chunk in its tcache bin (safe-linked: (&next >> 12) ^ ptr)", own, true);
      word("key", "tcache_key: marks a chunk in a tcache bin (free's double-free check)", own);
      rest("old data", "left as the program wrote it", own);
      break;
    case ChunkState::Fast:
      word("fd", "the next chunk in its fastbin (safe-linked)", own, true);
      rest("old data", "left as the program wrote it", own);
      break;
    case ChunkState::Unsorted:
    case ChunkState::Small:
      word("fd", "the next chunk in its bin list", own, true);
      word("bk", "the previous chunk in its bin list", own);
      rest("free", "unused bytes of the free chunk", own);
      break;
    case ChunkState::Large:
      word("fd", "the next chunk in its bin list", own, true);
      word("bk", "the previous chunk in its bin list", own);
      word("fd_nextsize", "the next smaller size in this largebin (first of each size only)", own);
      word("bk_nextsize", "the next larger size in this largebin", own);
      rest("free", "unused bytes of the free chunk", own);
      break;
    case ChunkState::Top:
      rest("top", "free memory at the end of the heap: split for requests no bin serves", own);
      break;
    case ChunkState::Fence:
      rest("fencepost", "marks the end of a heap segment; never allocated", own);
      break;
    default:
      rest("in hand", "the call has taken it and not placed it yet", own);
      break;
    }
  }
  // The next chunk's prev_size and size.
  if (next) {
    if (live(it)) {
      usable_words(w, it, end, 8, O::This, "", ", in the next chunk's prev_size");
    } else if (pol.merges_state(it.state)) {
      w.push_back({end, 8, O::Next, "next's prev_size",
                   fmt("%" PRIu64 " (this chunk's size: its boundary tag)", it.size), Paint::Header});
    } else {
      w.push_back({end, 8, O::This, "next's prev_size",
                   it.internal ? "the allocator's own data" : "unused: this chunk counts as in use", own});
    }
    bool next_mm = is_state(*next, ChunkState::Mmapped);
    uint64_t nf = model::flag_bits(pol, model::ChunkFacts{next_mm, next->arena, pol.merges_state(it.state)});
    w.push_back(
        {end + 8, 8, O::Next, "next's size",
         fmt("0x%" PRIx64 " = %" PRIu64 " | ", next->size | nf, next->size) + model::flag_letters(pol, nf) +
             (tags_in_use(it, pol) ? "  (P set: this chunk is in use)" : "  (P clear: this chunk is free)"),
         Paint::Header});
  }
  return w;
}

} // namespace hv::views
