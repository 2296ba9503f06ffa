// why.cpp - why each block landed where it did (see why.h).
#include "analysis/why.h"

#include "heapviz/chunk_states.h"
#include "trace/event_stream.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace hv::analysis {
namespace {

using trace::BinKind;
using trace::ChunkState;
using trace::Ev;

constexpr uint8_t kNew = 0xfe; // a chunk the model did not have before the call (a grown block)

bool allocating(Ev t) {
  return t == Ev::Malloc || t == Ev::Calloc || t == Ev::Realloc || t == Ev::Memalign;
}

std::string bytes(uint64_t v) {
  return std::to_string(v) + " B";
}

bool is_glibc(const model::PolicyInfo& p) {
  return strncmp(p.name, "glibc", 5) == 0;
}

// glibc's request2size (malloc.c): the chunk a request needs.
uint64_t glibc_need(uint64_t req) {
  uint64_t n = (req + 8 + 15) & ~uint64_t(15);
  return std::max<uint64_t>(n, 32);
}

} // namespace

std::string WhyBuilder::off(uint64_t addr) const {
  char b[64];
  constexpr uint64_t kHeapMax = uint64_t(64) << 20; // a non-main heap: HEAP_MAX_SIZE, aligned to it
  if (addr >= base_ && addr - base_ < kHeapMax)
    snprintf(b, sizeof b, "+0x%llx", static_cast<unsigned long long>(addr - base_));
  else
    snprintf(b, sizeof b, "+0x%llx in the heap at 0x%llx",
             static_cast<unsigned long long>(addr & (kHeapMax - 1)),
             static_cast<unsigned long long>(addr & ~(kHeapMax - 1)));
  return b;
}

namespace {
// An event a free writes after its API event, for the chunks it freed (touched: the chunk and
// what it merged into; a merge adds its result). A neighbour taken out of its bin to merge with
// one of them (its bin_out comes before the merge that names both) is the free's too.
// Once the freed chunk is in a bin or top (*settled), the free is done with its neighbours: a
// bin_out beside it is the next call's (malloc taking the chunk after it from a bin).
// glibc's _int_free: a chunk that settles at FASTBIN_CONSOLIDATION_THRESHOLD (64 KiB) or more
// (merged, or into top) runs malloc_consolidate then and there (*consolidates): its fastbin chunks'
// bin_out, merges and bins, before any trim, are the free's, not the next malloc's.
bool free_effect(const trace::Event& e, std::vector<uint64_t>* touched, const model::HeapModel& m,
                 bool* settled, bool glibc, bool* consolidates) {
  auto settle = [&](uint64_t c) {
    *settled = true;
    const model::Chunk* x = m.find(c);
    *consolidates = glibc && x && x->size >= 0x10000;
  };
  auto in = [&](uint64_t c) { return std::find(touched->begin(), touched->end(), c) != touched->end(); };
  auto beside = [&](uint64_t c) {
    const model::Chunk* x = m.find(c);
    if (!x) return false;
    for (uint64_t t : *touched) {
      const model::Chunk* y = m.find(t);
      if (y && (x->addr + x->size == y->addr || y->addr + y->size == x->addr)) return true;
    }
    return false;
  };
  if (*consolidates) // malloc_consolidate's own events
    switch (e.type) {
    case Ev::BinOut:
      if (e.bin_kind() == BinKind::Fast) return true;
      break;
    case Ev::Merge:
    case Ev::BinIn:
    case Ev::Top:
      return true;
    default:
      break;
    }
  switch (e.type) {
  case Ev::BinOut:
    return !*settled && beside(e.chunk());
  case Ev::BinIn: // (once in its bin, a move to another is the next malloc's sorting)
    if (!in(e.chunk()) || *settled) return false;
    settle(e.chunk());
    return true;
  case Ev::Top: // (a trim writes top again, shrunk: still the free's)
    if (!in(e.chunk())) return false;
    settle(e.chunk());
    return true;
  case Ev::ChunkFree:
  case Ev::MunmapChunk:
    return in(e.chunk());
  case Ev::Merge:
    if (!in(e.chunk()) && !in(e.absorbed())) return false;
    touched->push_back(e.chunk());
    return true;
  case Ev::Trim:
  case Ev::HeapResize:
  case Ev::HeapFree:
  case Ev::Munmap:
  case Ev::Release:
    return true;
  case Ev::Sbrk:
    return e.delta < 0;
  default:
    return false;
  }
}
} // namespace

void WhyBuilder::before(uint64_t index, const trace::Event& e, const model::HeapModel& m) {
  if (base_ == 0 && (e.type == Ev::HeapNew || e.type == Ev::Sbrk)) base_ = e.addr;
  if (!trace::is_api_event(e.type)) {
    if (free_tail_ && !free_effect(e, &touched_, m, &free_settled_, is_glibc(policy_), &free_consolidates_))
      free_tail_ = false;
    if (!free_tail_ && call_start_ == UINT64_MAX) call_start_ = index;
    if (free_tail_) return; // the previous free's, not this call's: nothing of it is noted
  }
  auto note = [&](uint64_t c) -> Origin& {
    auto it = origin_.find(c);
    if (it != origin_.end()) return it->second;
    const model::Chunk* ch = m.find(c);
    Origin o{ch ? ch->state : kNew, ch ? ch->bin : uint8_t(0), ch ? ch->size : 0};
    return origin_.emplace(c, o).first->second;
  };
  switch (e.type) {
  case Ev::Sbrk:
    if (e.delta > 0) grew_ += uint64_t(e.delta);
    break;
  case Ev::MmapChunk:
    mmapped_ = e.size;
    break;
  case Ev::ArenaNew:
    new_arena_ = int64_t(e.arena_index());
    break;
  case Ev::Split: {
    Origin& o = note(e.chunk());
    if (o.allocated) break; // cut after this call took it (memalign trims its larger chunk)
    ++o.halvings;
    o.rest = e.rest();
    break;
  }
  case Ev::BinOut:
    if (is_glibc(policy_) && e.bin_kind() == BinKind::Fast)
      ++consolidated_; // glibc writes bin_out only when malloc_consolidate takes a fastbin chunk
    else
      note(e.chunk());
    break;
  case Ev::BinIn:
    if (const model::Chunk* ch = m.find(e.chunk()); ch && ch->state == uint8_t(ChunkState::Unsorted))
      ++sorted_;
    else if (is_glibc(policy_) && e.bin_kind() == BinKind::Tcache && ch && trace::is_binned(ch->state) &&
             ch->state != uint8_t(ChunkState::Tcache))
      ++stashed_, stash_bin_ = e.bin_index(); // malloc moved more of a bin's chunks to the tcache
    break;
  case Ev::MunmapChunk:
    if (const model::Chunk* ch = m.find(e.chunk())) unmapped_ = ch->size;
    break;
  case Ev::ChunkAlloc:
    note(e.chunk()).allocated = true;
    if (!first_alloc_) first_alloc_ = e.chunk(), first_alloc_size_ = e.size;
    break;
  case Ev::ChunkFree:
    freed_ += e.size; // (memalign: the pieces around the aligned block)
    break;
  case Ev::Merge:
    // A block in use that merges: realloc growing it into the free block after it (a textbook
    // policy writes no realloc_in_place). Noted as it was, in use and its old size.
    if (const model::Chunk* ch = m.find(e.chunk()); ch && ch->state == uint8_t(ChunkState::InUse))
      note(e.chunk());
    break;
  case Ev::ReallocInPlace:
    in_place_ = true;
    in_place_old_ = e.old_size();
    in_place_new_ = e.new_size();
    break;
  case Ev::ReallocMoved:
    moved_to_ = e.to();
    break;
  default:
    break;
  }
  if (allocating(e.type)) finish(index, e, m);
  if (trace::is_api_event(e.type)) { // the next call's window starts
    call_start_ = UINT64_MAX;
    free_tail_ = e.type == Ev::Free;
    free_settled_ = free_consolidates_ = false;
    touched_.assign(1, e.ptr() - policy_.header_bytes);
    origin_.clear();
    grew_ = mmapped_ = sorted_ = consolidated_ = moved_to_ = unmapped_ = stashed_ = 0;
    first_alloc_ = first_alloc_size_ = freed_ = 0;
    new_arena_ = -1;
    in_place_ = false;
  }
}

void WhyBuilder::finish(uint64_t index, const trace::Event& e, const model::HeapModel& m) {
  CallStory s;
  s.event = index;
  s.seq = e.seq;
  s.type = e.type;
  s.first = call_start_ == UINT64_MAX ? index : call_start_;
  s.request = e.type == Ev::Calloc ? e.count() * e.size : e.size;
  s.grew = grew_;
  s.new_arena = new_arena_ > 0;
  if (e.ptr() == 0) {
    s.why = wording(s, e);
    stories_.push_back(std::move(s));
    return;
  }
  const uint64_t c = e.ptr() - policy_.header_bytes;
  s.chunk = c;
  // memalign (glibc) takes a larger chunk and cuts the aligned block out of it: where that chunk
  // came from is the story.
  const bool cut = e.type == Ev::Memalign && first_alloc_ != 0 && first_alloc_ != c;
  auto it = origin_.find(cut ? first_alloc_ : c);
  const model::Chunk* now = m.find(c);
  if (mmapped_ && (!now || now->state == uint8_t(ChunkState::Mmapped) || it == origin_.end())) {
    s.source = BlockSource::Mmapped;
    s.size = mmapped_;
  } else if (it == origin_.end()) {
    // Nothing happened to the chunk in the call but its hand-over: a tcache chunk (glibc), or a
    // realloc that kept its block.
    s.size = now ? now->size : 0;
    if (now && trace::is_binned(now->state)) {
      s.source = BlockSource::Bin;
      s.bin_kind = trace::bin_of(now->state);
      s.bin_index = now->bin;
      s.from_chunk = c;
      s.from_size = now->size;
    } else if (e.type == Ev::Realloc) {
      s.source = BlockSource::InPlace;
    }
  } else {
    const Origin& o = it->second;
    s.from_chunk = c;
    s.from_size = o.size;
    s.size = o.halvings ? 0 : o.size;
    if (o.state == kNew) {
      s.source = BlockSource::Grown;
    } else if (o.state == uint8_t(ChunkState::Top)) {
      s.source = BlockSource::Top;
    } else if (trace::is_binned(o.state)) {
      s.source = o.halvings ? BlockSource::Split : BlockSource::Bin;
      s.bin_kind = trace::bin_of(o.state);
      s.bin_index = o.bin;
    } else if (e.type == Ev::Realloc && (o.state == uint8_t(ChunkState::InUse) || in_place_)) {
      s.source = BlockSource::InPlace;
    }
    if (o.halvings) s.size = o.size - o.rest * (o.halvings == 1 ? 1 : 0);
    if (o.halvings && s.source == BlockSource::Split && o.halvings > 1) s.size = o.size >> o.halvings;
  }
  if (e.type == Ev::Realloc && !moved_to_ && e.ptr() == e.old_ptr()) {
    s.source = BlockSource::InPlace; // the same pointer: in place, whatever the chunk went through
    if (!in_place_ && now && it != origin_.end() && it->second.state == uint8_t(ChunkState::InUse) &&
        it->second.size != now->size) {
      in_place_ = true; // a textbook policy's: sizes from the model (glibc writes realloc_in_place)
      in_place_old_ = it->second.size;
      in_place_new_ = now->size;
    }
  }
  if (cut) {
    s.size = now ? now->size : 0;
    s.from_chunk = first_alloc_;
    s.from_size = first_alloc_size_;
  }
  s.why = wording(s, e);
  stories_.push_back(std::move(s));
}

std::string WhyBuilder::wording(const CallStory& s, const trace::Event& e) const {
  const bool glibc = is_glibc(policy_);
  const std::string policy = policy_.name;
  std::string pre;
  if (new_arena_ > 0)
    pre += "this thread had no arena: glibc made arena " + std::to_string(new_arena_) +
           " in a heap of its own, and the thread's tcache there; ";
  if (consolidated_)
    pre += std::to_string(consolidated_) + " fastbin chunk" + (consolidated_ == 1 ? " was" : "s were") +
           " consolidated first; ";
  if (sorted_)
    pre += "the unsorted scan sorted " + std::to_string(sorted_) +
           (sorted_ == 1 ? " chunk into its bin; " : " chunks into their bins; ");
  std::string post = moved_to_ ? "; the old block was copied there and freed" : "";
  if (e.type == Ev::Realloc && moved_to_) pre = "realloc moved the block: " + pre;
  if (s.source == BlockSource::None) {
    if (e.type == Ev::Realloc && s.request == 0) return "realloc(p, 0) frees the block and returns NULL";
    uint64_t product = 0;
    if (e.type == Ev::Calloc && __builtin_mul_overflow(e.n, e.size, &product))
      return "calloc(" + std::to_string(e.n) + ", " + std::to_string(e.size) +
             "): count x size overflows 64 bits: NULL (ENOMEM)";
    if (s.request > uint64_t(PTRDIFF_MAX))
      return bytes(s.request) + " is more than any heap can hold: NULL (ENOMEM)";
    return pre + (glibc ? "NULL: no chunk could be found or made" : policy + ": no block fits: NULL");
  }
  // A mapped block realloc'ed: glibc's mremap_chunk (the trace has its unmap and map).
  if (glibc && e.type == Ev::Realloc && unmapped_ && mmapped_)
    return "realloc of a mapped block: mremap made its mapping " + bytes(mmapped_) + " (from " +
           bytes(unmapped_) + ")";
  if (s.source == BlockSource::InPlace) {
    if (in_place_ && in_place_new_ != in_place_old_)
      return "realloc in place: the block " +
             std::string(in_place_new_ >= in_place_old_ ? "grew" : "shrank") + " from " +
             bytes(in_place_old_) + " to " + bytes(in_place_new_);
    return "realloc in place: the block already had room for " + bytes(s.request);
  }
  if (s.source == BlockSource::Mmapped) // (glibc compares the chunk the request needs)
    return pre +
           (glibc ? bytes(s.request) + " needs a " + bytes(glibc_need(s.request)) +
                        " chunk, at least the mmap threshold"
                  : bytes(s.request)) +
           ": a mapping of its own (" + bytes(s.size) + ")" + post;
  // glibc's stash: the bin that served it gave the tcache its other chunks too.
  if (stashed_)
    post += "; " + std::to_string(stashed_) + " more of its chunk" + (stashed_ == 1 ? "" : "s") +
            " went to tcache[" + std::to_string(stash_bin_) + "]";
  const std::string bin = trace::bin_text(s.bin_kind, s.bin_index).c_str();
  if (glibc && e.type == Ev::Memalign && first_alloc_ && first_alloc_ != s.chunk) {
    // _int_memalign: a chunk of request + alignment + MINSIZE, cut at the aligned address.
    std::string from = s.source == BlockSource::Top
                           ? (s.grew ? "cut from top (the heap grew by " + bytes(s.grew) + " first)"
                                     : std::string("cut from top"))
                       : s.source == BlockSource::Bin   ? "taken from " + bin
                       : s.source == BlockSource::Split ? "split from a chunk in " + bin
                                                        : std::string("taken");
    return pre + bytes(s.request) + " aligned to " + std::to_string(e.alignment()) + " B: a " +
           bytes(first_alloc_size_) + " chunk was " + from + ", then split at the aligned address " +
           off(s.chunk) + "; " + bytes(freed_) + " around the block went back free";
  }
  // memalign whose larger chunk was aligned already: only its end went back.
  const std::string gave_back = glibc && e.type == Ev::Memalign && freed_
                                    ? "; the " + bytes(freed_) + " after the aligned block went back free"
                                    : std::string();
  post += gave_back;
  if (glibc) {
    const std::string need = e.type == Ev::Memalign ? pre
                                                    : pre + bytes(s.request) + " needs a " +
                                                          bytes(glibc_need(s.request)) + " chunk; ";
    switch (s.source) {
    case BlockSource::Bin:
      if (s.bin_kind == BinKind::Unsorted)
        return need + "the unsorted scan found one of exactly that size" + post;
      if (s.bin_kind == BinKind::Large)
        return need + bin + " had one that fits (" + bytes(s.from_size) + ")" + post;
      return need + bin + " had one" + post;
    case BlockSource::Split:
      return need + "no bin had one that size, so the " + bytes(s.from_size) + " chunk from " + bin +
             " was split: " + bytes(s.from_size - s.size) + " stay free" + post;
    case BlockSource::Top:
      if (s.grew)
        return need + "no free chunk fits and top was too small: the heap grew by " + bytes(s.grew) +
               ", then cut from top" + post;
      return need + "no free chunk fits: cut from top at " + off(s.chunk) + post;
    default:
      return need + "a chunk at " + off(s.chunk) + post;
    }
  }
  // The textbook policies (docs/policies.md).
  const std::string p = policy + ": ";
  const bool family =
      policy == "first-fit" || policy == "next-fit" || policy == "best-fit" || policy == "worst-fit";
  std::string which = policy == "first-fit"  ? "the first free block that fits"
                      : policy == "next-fit" ? "going on from the rover, the next free block that fits"
                      : policy == "best-fit" ? "the smallest free block that fits"
                                             : "the largest free block";
  switch (s.source) {
  case BlockSource::Grown:
    if (policy == "linear" || policy == "stack")
      return p + "bumped: the block starts where the last one ended; the heap grew by " + bytes(s.grew);
    if (policy == "segregated")
      return p + "the " + bytes(s.size ? s.size : s.grew) + " class's list was empty: the heap grew by " +
             bytes(s.grew);
    return p + "no free block fits " + bytes(s.request) + ": the heap grew by " + bytes(s.grew) + post;
  case BlockSource::Bin:
    if (family)
      return p + which + " is at " + off(s.chunk) + " (" + bytes(s.from_size) +
             "): taken whole, too little would be left to split" + post;
    if (policy == "buddy")
      return p + "a " + bytes(s.size) + " block (the smallest power of two for " + bytes(s.request) +
             " + 16 B): its list had one at " + off(s.chunk) + post;
    if (policy == "segregated") return p + "the " + bytes(s.size) + " class's list had a block" + post;
    if (policy == "pool") return p + "the free list's head block, at " + off(s.chunk) + post;
    return p + "a free block at " + off(s.chunk) + post;
  case BlockSource::Split:
    if (family)
      return p + which + " is at " + off(s.chunk) + " (" + bytes(s.from_size) + "): split, " +
             bytes(s.from_size - s.size) + " stay free" + post;
    if (policy == "buddy")
      return p + "no free " + bytes(s.size) + " block: the " + bytes(s.from_size) + " block at " +
             off(s.chunk) + " was halved " +
             (s.from_size / std::max<uint64_t>(s.size, 1) == 2 ? std::string("once")
                                                               : "until a half had " + bytes(s.size)) +
             post;
    return p + "the free block at " + off(s.chunk) + " (" + bytes(s.from_size) + ") was split" + post;
  default:
    return p + "a block at " + off(s.chunk) + post;
  }
}

bool explain_trace(const trace::TraceFile& f, uint64_t max_events, std::vector<CallStory>* out,
                   std::string* error, const std::atomic<bool>* cancel) {
  std::string warning;
  model::PolicyInfo policy = model::policy_from_header(f.header().policy, &warning);
  WhyBuilder b(policy, f.header().heap_base);
  trace::EventStream s(f);
  model::HeapModel m;
  m.set_page_size(f.header().page_size);
  uint64_t i = 0;
  while (const trace::Event* e = s.next()) {
    if (max_events && i >= max_events) break;
    if (cancel && (i & 4095) == 0 && cancel->load(std::memory_order_relaxed)) return false;
    b.before(i, *e, m);
    m.apply(*e);
    ++i;
  }
  if (i == 0 && s.error() && s.error()->kind != trace::ErrorKind::Truncated) {
    *error = s.error()->describe();
    return false;
  }
  *out = b.take();
  return true;
}

const CallStory* find_story_by_seq(const std::vector<CallStory>& stories, uint64_t seq) {
  auto it = std::lower_bound(stories.begin(), stories.end(), seq,
                             [](const CallStory& s, uint64_t q) { return s.seq < q; });
  return it != stories.end() && it->seq == seq ? &*it : nullptr;
}

const CallStory* find_story(const std::vector<CallStory>& stories, uint64_t event) {
  auto it = std::lower_bound(stories.begin(), stories.end(), event,
                             [](const CallStory& s, uint64_t ev) { return s.event < ev; });
  return it != stories.end() && it->event == event ? &*it : nullptr;
}

} // namespace hv::analysis
