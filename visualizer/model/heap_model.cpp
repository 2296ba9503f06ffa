// heap_model.cpp - applying events to the replayed heap, metrics, snapshots (see heap_model.h).
#include "model/heap_model.h"

#include "heapviz/hv_assert.h"
#include "model/saved_codec.h"

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <memory>

namespace hv::model {

using trace::Ev;

static constexpr uint8_t kInUse = uint8_t(ChunkState::InUse), kMmapped = uint8_t(ChunkState::Mmapped),
                         kTop = uint8_t(ChunkState::Top), kFence = uint8_t(ChunkState::Fence);
static_assert(trace::kNumChunkStates <= 16, "checkpoints keep a state in 4 bits");

// Free: in a bin of any kind (tcache, fastbin, unsorted, smallbin, largebin); top is not free.
static bool is_free_state(uint8_t s) {
  return trace::is_binned(s);
}

// ---- FreeSizes ------------------------------------------------------------------------------
void FreeSizes::add(uint64_t size) {
  uint64_t i = size >> 4;
  if (i < kExact) {
    if (count_[i]++ == 0) {
      bits_[i / 64] |= 1ull << (i % 64);
      summary_ |= 1ull << (i / 64);
    }
  } else {
    large_.insert(std::upper_bound(large_.begin(), large_.end(), size), size);
  }
}

void FreeSizes::remove(uint64_t size) {
  uint64_t i = size >> 4;
  if (i < kExact) {
    HV_ASSERT_MSG(count_[i] > 0, "remove() of a free size that was never add()ed");
    if (count_[i] == 0) return;
    if (--count_[i] == 0) {
      bits_[i / 64] &= ~(1ull << (i % 64));
      if (!bits_[i / 64]) summary_ &= ~(1ull << (i / 64));
    }
  } else {
    auto it = std::lower_bound(large_.begin(), large_.end(), size);
    HV_ASSERT_MSG(it != large_.end() && *it == size, "remove() of a free size that was never add()ed");
    if (it != large_.end() && *it == size) large_.erase(it);
  }
}

uint64_t FreeSizes::largest() const {
  if (!large_.empty()) return large_.back();
  if (!summary_) return 0;
  unsigned w = 63 - unsigned(__builtin_clzll(summary_));
  unsigned b = 63 - unsigned(__builtin_clzll(bits_[w]));
  return uint64_t(w * 64 + b) << 4;
}

// ---- Snapshots ------------------------------------------------------------------------------
bool SnapshotAssembler::feed(const Event& e) {
  if (!open_) {
    snap_.entries.clear();
    snap_.flags = e.b0 & ~uint8_t(trace::kSnapshotMore);
    snap_.tid = e.tid;
    open_ = true;
  }
  trace::SnapshotReader r(e);
  trace::SnapshotEntry en;
  while (r.next(en))
    snap_.entries.push_back(en);
  snap_.seq = e.seq;
  snap_.offset = e.offset;
  if (e.b0 & trace::kSnapshotMore) return false;
  open_ = false;
  return true;
}

std::string Mismatch::describe() const {
  char buf[64];
  snprintf(buf, sizeof buf, "chunk 0x%llx: ", static_cast<unsigned long long>(addr));
  return buf + ("snapshot has " + expected + ", model has " + got);
}

// "size 48 smallbin[3]", "size 32 in_use" (the CLI's words: trace::state_text).
static std::string chunk_desc(uint64_t size, uint8_t state, uint8_t bin) {
  char buf[96];
  snprintf(buf, sizeof buf, "size %llu %s", static_cast<unsigned long long>(size),
           trace::state_text(state, bin).c_str());
  return buf;
}

std::optional<Mismatch> verify_snapshot(const HeapModel& m, const Snapshot& s) {
  bool coarse = s.flags & trace::kSnapshotCoarse;
  auto norm = [coarse](uint8_t st) -> uint8_t {
    if (coarse && (st == uint8_t(ChunkState::Tcache) || st == uint8_t(ChunkState::Fast) || st == kInHand))
      return kInUse;
    return st;
  };
  std::vector<Chunk> mine;
  mine.reserve(m.chunk_count());
  m.for_each_chunk([&](const Chunk& c) {
    if (c.state != kMmapped) mine.push_back(c);
  });
  std::sort(mine.begin(), mine.end(), [](const Chunk& a, const Chunk& b) { return a.addr < b.addr; });
  size_t i = 0, j = 0;
  const auto& want = s.entries;
  while (i < want.size() || j < mine.size()) {
    if (j == mine.size() || (i < want.size() && want[i].addr < mine[j].addr)) {
      const auto& w = want[i];
      return Mismatch{w.addr, chunk_desc(w.size, w.state, w.bin), "no chunk"};
    }
    if (i == want.size() || mine[j].addr < want[i].addr) {
      const Chunk& c = mine[j];
      return Mismatch{c.addr, "no chunk", chunk_desc(c.size, c.state, c.bin)};
    }
    const auto& w = want[i];
    const Chunk& c = mine[j];
    uint8_t ws = norm(w.state), cs = norm(c.state);
    bool bins = is_free_state(ws);
    if (w.size != c.size || ws != cs || (bins && w.bin != c.bin)) {
      Mismatch d{w.addr, chunk_desc(w.size, ws, w.bin), chunk_desc(c.size, cs, c.bin)};
      if (d.expected == d.got) { // bins told apart by nothing but their index (unsorted)
        d.expected += " (bin index " + std::to_string(w.bin) + ")";
        d.got += " (bin index " + std::to_string(c.bin) + ")";
      }
      return d;
    }
    ++i;
    ++j;
  }
  return std::nullopt;
}

// ---- HeapModel ------------------------------------------------------------------------------
HeapModel::HeapModel() = default;

void HeapModel::anomaly(const Event& e, const char* fmt, ...) {
  if (anomalies_++ > 0) return;
  char msg[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  char buf[300];
  snprintf(buf, sizeof buf, "offset %llu: seq %llu: %s", static_cast<unsigned long long>(e.offset),
           static_cast<unsigned long long>(e.seq), msg);
  first_anomaly_ = buf;
}

// leave() takes out exactly what enter() put in for the same record (the callers change a record
// only between the two), so the counts never go below zero, and the byte sums (modulo 2^64:
// requests in a bad trace may be huge) are zero whenever nothing is counted.
inline void HeapModel::leave(const Chunk& c) {
  note(c);
  if (c.pending) [[unlikely]] { // a call's chunk not yet handed out: in hand (its mapping counts)
    HV_ASSERT_MSG(in_hand_ > 0, "leave() of a record that was never enter()ed");
    --in_hand_;
    if (c.state == kMmapped) heap_bytes_ -= c.size;
    return;
  }
  switch (ChunkState(c.state)) {
  case ChunkState::InUse:
    HV_ASSERT_MSG(in_use_ > 0, "leave() of a record that was never enter()ed");
    live_bytes_ -= c.req, --in_use_;
    HV_ASSERT(in_use_ > 0 || live_bytes_ == 0);
    break;
  case ChunkState::Tcache:
  case ChunkState::Fast:
  case ChunkState::Unsorted:
  case ChunkState::Small:
  case ChunkState::Large:
    free_bytes_ -= c.size, free_sizes_.remove(c.size);
    order_.remove(c.addr, list_of(c)); // out of its list, wherever it was in it
    break;
  case ChunkState::Mmapped:
    HV_ASSERT_MSG(in_use_ > 0, "leave() of a record that was never enter()ed");
    live_bytes_ -= c.req, heap_bytes_ -= c.size, --in_use_;
    HV_ASSERT(in_use_ > 0 || live_bytes_ == 0);
    break;
  case ChunkState::InHand:
    HV_ASSERT_MSG(in_hand_ > 0, "leave() of a record that was never enter()ed");
    --in_hand_;
    break;
  default:
    break;
  }
}

inline void HeapModel::enter(const Chunk& c) {
  if (c.pending) [[unlikely]] {
    ++in_hand_;
    if (c.state == kMmapped) heap_bytes_ += c.size;
    return;
  }
  switch (ChunkState(c.state)) {
  case ChunkState::InUse:
    live_bytes_ += c.req, ++in_use_;
    break;
  case ChunkState::Tcache:
  case ChunkState::Fast:
  case ChunkState::Unsorted:
  case ChunkState::Small:
  case ChunkState::Large:
    free_bytes_ += c.size, free_sizes_.add(c.size);
    break;
  case ChunkState::Mmapped:
    live_bytes_ += c.req, heap_bytes_ += c.size, ++in_use_;
    break;
  case ChunkState::InHand:
    ++in_hand_;
    break;
  default:
    break;
  }
  if (__builtin_expect(!released_.empty(), 0)) resident_again(c);
}

// The record at addr, taken out of the metrics (the caller modifies it, then enter()s it).
inline Chunk* HeapModel::upsert(uint64_t addr, const Event& e, bool& created) {
  Chunk& c = chunks_.insert(addr, created);
  if (created) {
    if (undo_on_) [[unlikely]] { // before leave(): there was no record here
      bool fresh;
      Chunk& u = undo_.insert(addr, fresh);
      if (fresh) u.state = kNoRecord;
    }
    c.arena = e.arena;
    c.state = kInHand;
    c.pending = false;
    ++in_hand_;
  }
  leave(c);
  c.internal = false; // the allocator's own chunk no longer once it changes
  c.pending = false;  // nor a call's chunk not yet handed out
  return &c;
}

inline void HeapModel::erase(Chunk* c) {
  leave(*c);
  chunks_.erase(c);
}

// Rare (a heap of a non-main arena unmapped), so a scan of the whole map is fine.
void HeapModel::erase_range(uint64_t start, uint64_t end) {
  std::vector<uint64_t> inside;
  chunks_.for_each([&](const Chunk& c) {
    if (c.addr >= start && c.addr < end) inside.push_back(c.addr);
  });
  for (uint64_t a : inside)
    erase(chunks_.find(a));
  for (uint64_t& t : tops_)
    if (t >= start && t < end) t = 0;
  std::erase_if(unowned_tops_, [&](uint64_t t) { return t >= start && t < end; });
}

void HeapModel::note_arena(uint32_t a) {
  if (a < kMaxArenas && a >= arenas_) arenas_ = a + 1;
}

void HeapModel::api_result(const Event& e, uint64_t req) {
  if (e.addr == 0) return; // NULL: nothing was allocated
  Chunk* c = chunks_.find(e.addr - 16);
  if (!c) {
    anomaly(e, "%s returned 0x%llx, which is not a known chunk", trace::event_name(e.type),
            static_cast<unsigned long long>(e.addr));
    return;
  }
  leave(*c);
  if (c->state != kMmapped) c->state = kInUse;
  c->internal = false;
  c->pending = false;
  c->req = req;
  c->seq = e.seq;
  c->bin = 0;
  enter(*c);
}

void HeapModel::set_top(const Event& e) {
  uint32_t a = e.arena;
  uint64_t prev = 0;
  if (a < kMaxArenas) {
    if (a >= tops_.size()) tops_.resize(a + 1, 0);
    prev = tops_[a];
    note_arena(a);
  } else {
    anomaly(e, "arena index %u is out of range", a);
  }
  if (prev == 0 && !unowned_tops_.empty()) { // claim a top from a baseline snapshot
    for (size_t i = 0; i < unowned_tops_.size(); ++i) {
      const Chunk* t = chunks_.find(unowned_tops_[i]);
      if (t && ((t->addr <= e.addr && e.addr < t->addr + t->size) || t->addr + t->size == e.addr + e.size)) {
        prev = t->addr;
        unowned_tops_.erase(unowned_tops_.begin() + long(i));
        break;
      }
    }
  }
  if (prev && prev != e.addr) {
    Chunk* p = chunks_.find(prev);
    if (p && p->state == kTop) erase(p);
  }
  bool created;
  Chunk* c = upsert(e.addr, e, created);
  c->size = e.size;
  c->state = kTop;
  c->req = 0;
  c->bin = 0;
  c->arena = a;
  enter(*c);
  if (a < kMaxArenas) tops_[a] = e.addr;
}

void HeapModel::load_baseline(const Snapshot& s) {
  // A later baseline (a second viewer attached to the process this trace follows): the blocks
  // the trace already knows keep their request and allocating event; only the first baseline's
  // blocks are from before the trace.
  std::vector<Chunk> known;
  baseline_known_mmaps_.clear();
  if (baseline_seq_ != 0)
    chunks_.for_each([&](const Chunk& c) {
      if (!trace::is_in_use(c.state) || c.pending) return;
      (c.state == kMmapped ? baseline_known_mmaps_ : known).push_back(c);
    });
  std::sort(known.begin(), known.end(), [](const Chunk& a, const Chunk& b) { return a.addr < b.addr; });
  std::sort(baseline_known_mmaps_.begin(), baseline_known_mmaps_.end(),
            [](const Chunk& a, const Chunk& b) { return a.addr < b.addr; });
  if (baseline_seq_ == 0) baseline_seq_ = s.seq;
  baseline_mmaps_ = true;
  chunks_.clear();
  log_.on = false; // every record changed
  undo_give_up();
  stop_dirty_log();
  order_.clear();
  free_sizes_ = FreeSizes();
  live_bytes_ = free_bytes_ = in_use_ = in_hand_ = 0;
  heap_bytes_ = 0;
  released_.clear(); // a baseline starts the trace: what was released before is unknown
  regions_.for_each([&](const Region& r) { heap_bytes_ += r.size; });
  std::fill(tops_.begin(), tops_.end(), 0);
  unowned_tops_.clear();
  for (const auto& en : s.entries) {
    if (en.addr == 0) continue;
    bool created;
    Chunk& c = chunks_.insert(en.addr, created);
    if (!created) leave(c);
    c.pending = c.internal = false;
    c.size = en.size;
    c.state = en.state;
    c.bin = is_free_state(en.state) ? en.bin : 0;
    c.req = 0;
    c.seq = trace::is_in_use(en.state) ? baseline_seq_ : s.seq;
    if (trace::is_in_use(en.state) && !known.empty()) {
      auto k = std::lower_bound(known.begin(), known.end(), en.addr,
                                [](const Chunk& a, uint64_t x) { return a.addr < x; });
      if (k != known.end() && k->addr == en.addr && k->size == en.size) {
        c.req = k->req;
        c.seq = k->seq;
        c.internal = k->internal;
      }
    }
    enter(c);
    if (en.state == kTop) unowned_tops_.push_back(en.addr);
  }
  load_baseline_order(s);
}

// ---- Applying events ------------------------------------------------------------------------
// One handler per kind of event; apply() and apply_as<T>() (heap_model.h) call them.
template <> void HeapModel::on<Ev::Calloc>(const Event& e) {
  uint64_t req;
  if (__builtin_mul_overflow(e.n, e.size, &req)) req = UINT64_MAX;
  api_result(e, req);
}

// A free of an unknown chunk: outside every region, a fake chunk glibc let through (fake_frees()).
void HeapModel::unknown_free(const Event& e) {
  // A trace with chunks but no regions (yet) says nothing about where heaps are; with neither
  // (a program whose first call frees a fake chunk: glibc makes its heap only in that free, for
  // the tcache), no heap exists and the pointer is outside all of them.
  bool inside = regions_.size() == 0 && chunks_.size() != 0;
  regions_.for_each(
      [&](const Region& r) { inside = inside || (e.addr >= r.addr && e.addr - r.addr < r.size); });
  if (inside)
    return anomaly(e, "free of 0x%llx, which is not a known chunk", static_cast<unsigned long long>(e.addr));
  ++fake_frees_;
  anomaly(e,
          "free of 0x%llx, which is not a known chunk: outside every heap, a fake chunk (glibc takes "
          "one whose header passes its checks, or crashes reading it; HEAPVIZ_CHECKS reports it)",
          static_cast<unsigned long long>(e.addr));
}

template <> void HeapModel::on<Ev::FreeTcache>(const Event& e) {
  Chunk* c = e.addr ? chunks_.find(e.addr - 16) : nullptr;
  if (!c) return unknown_free(e);
  leave(*c);
  c->state = uint8_t(ChunkState::Tcache);
  c->internal = false;
  c->req = 0;
  c->bin = e.b1;
  enter(*c);
  enter_list(*c);
}

template <> void HeapModel::on<Ev::Free>(const Event& e) {
  if (e.addr == 0) return;
  Chunk* c = chunks_.find(e.addr - 16);
  if (!c) return unknown_free(e);
  leave(*c);
  c->state = kInHand;
  c->internal = false;
  c->req = 0;
  c->bin = 0;
  enter(*c);
}

void HeapModel::on_chunk(const Event& e) { // chunk_alloc, chunk_free, fence
  if (e.addr == 0) return anomaly(e, "chunk at address 0");
  bool created;
  Chunk* c = upsert(e.addr, e, created);
  if (created && e.type == Ev::ChunkFree)
    anomaly(e, "chunk_free of 0x%llx, which is not a known chunk", static_cast<unsigned long long>(e.addr));
  c->size = e.size;
  c->req = 0;
  c->bin = 0;
  if (e.type == Ev::ChunkAlloc) {
    c->state = kInUse;
    c->seq = e.seq;
    c->arena = e.arena;
    c->pending = true; // until the call returns it (api_result) or marks it the allocator's own
  } else {
    c->state = e.type == Ev::Fence ? kFence : kInHand;
  }
  enter(*c);
}

template <> void HeapModel::on<Ev::BinIn>(const Event& e) {
  if (e.addr == 0) return anomaly(e, "chunk at address 0");
  bool created;
  Chunk* c = upsert(e.addr, e, created);
  c->size = e.size;
  c->state = trace::state_in_bin(e.bin_kind());
  c->bin = e.b1;
  c->req = 0;
  if (e.bin_kind() != trace::BinKind::Tcache) c->arena = e.arena; // an arena's bin: that arena's chunk
  enter(*c);
  if (is_free_state(c->state)) enter_list(*c);
}

template <> void HeapModel::on<Ev::BinOut>(const Event& e) {
  Chunk* c = chunks_.find(e.addr);
  if (!c)
    return anomaly(e, "bin_out of 0x%llx, which is not a known chunk",
                   static_cast<unsigned long long>(e.addr));
  if (trace::bin_of(c->state) != e.bin_kind())
    anomaly(e, "bin_out of 0x%llx from a %s, but it is %s", static_cast<unsigned long long>(e.addr),
            trace::bin_kind_name(e.b0), trace::state_text(c->state, c->bin).c_str());
  leave(*c);
  c->state = kInHand;
  c->internal = false;
  c->bin = 0;
  enter(*c);
}

template <> void HeapModel::on<Ev::Split>(const Event& e) {
  if (e.addr == 0 || e.size == 0) return anomaly(e, "split of a chunk at 0 or into an empty part");
  bool created;
  Chunk* c = upsert(e.addr, e, created);
  if (created)
    anomaly(e, "split of 0x%llx, which is not a known chunk", static_cast<unsigned long long>(e.addr));
  else if (c->size != e.size + e.size2)
    anomaly(e, "split of 0x%llx (size %llu) into %llu + %llu", static_cast<unsigned long long>(e.addr),
            static_cast<unsigned long long>(c->size), static_cast<unsigned long long>(e.size),
            static_cast<unsigned long long>(e.size2));
  uint32_t arena = c->arena;
  c->size = e.size;
  c->state = kInHand;
  c->req = 0;
  c->bin = 0;
  enter(*c);
  Chunk* r = upsert(e.addr + e.size, e, created); // may move c
  r->size = e.size2;
  r->state = kInHand;
  r->req = 0;
  r->bin = 0;
  r->arena = arena;
  enter(*r);
}

template <> void HeapModel::on<Ev::Merge>(const Event& e) {
  if (e.addr2 != e.addr) {
    if (Chunk* a = chunks_.find(e.addr2))
      erase(a);
    else
      anomaly(e, "merge absorbs 0x%llx, which is not a known chunk",
              static_cast<unsigned long long>(e.addr2));
  }
  if (e.addr == 0) return anomaly(e, "chunk at address 0");
  bool created;
  Chunk* c = upsert(e.addr, e, created);
  c->size = e.size;
  c->state = kInHand;
  c->req = 0;
  c->bin = 0;
  enter(*c);
}

template <> void HeapModel::on<Ev::Top>(const Event& e) {
  if (e.addr == 0) return anomaly(e, "chunk at address 0");
  set_top(e);
}

template <> void HeapModel::on<Ev::ReallocInPlace>(const Event& e) {
  Chunk* c = chunks_.find(e.addr);
  if (!c)
    return anomaly(e, "realloc_in_place of 0x%llx, which is not a known chunk",
                   static_cast<unsigned long long>(e.addr));
  leave(*c);
  c->size = e.size2;
  enter(*c);
  uint64_t end = e.addr + e.size2;
  for (uint64_t p = e.addr + e.size; p < end && p > e.addr;) { // records inside the new extent
    Chunk* r = chunks_.find(p);
    if (!r) break;
    uint64_t next = p + r->size;
    erase(r);
    if (next <= p) break;
    p = next;
  }
}

template <> void HeapModel::on<Ev::MmapChunk>(const Event& e) {
  if (e.addr == 0) return anomaly(e, "chunk at address 0");
  bool created;
  Chunk* c = upsert(e.addr, e, created);
  c->size = e.size;
  c->state = kMmapped;
  c->req = 0;
  c->bin = 0;
  c->seq = e.seq;
  c->pending = true;
  if (baseline_mmaps_) { // a baseline's: in use since before the trace, or as the trace says it
    c->pending = false;
    c->seq = baseline_seq_;
    auto k = std::lower_bound(baseline_known_mmaps_.begin(), baseline_known_mmaps_.end(), e.addr,
                              [](const Chunk& a, uint64_t x) { return a.addr < x; });
    if (k != baseline_known_mmaps_.end() && k->addr == e.addr && k->size == e.size) {
      c->req = k->req;
      c->seq = k->seq;
    }
  }
  enter(*c);
}

// The chunk is the allocator's own (glibc's tcache struct, right after its chunk_alloc): marked
// until it changes again. Neither a state nor the metrics change.
template <> void HeapModel::on<Ev::Internal>(const Event& e) {
  Chunk* c = chunks_.find(e.addr);
  if (!c)
    return anomaly(e, "internal 0x%llx, which is not a known chunk", static_cast<unsigned long long>(e.addr));
  if (!trace::is_in_use(c->state) || (e.size && c->size != e.size))
    return anomaly(e, "internal 0x%llx (size %llu), but it is %s, size %llu",
                   static_cast<unsigned long long>(e.addr), static_cast<unsigned long long>(e.size),
                   trace::state_text(c->state, c->bin).c_str(), static_cast<unsigned long long>(c->size));
  leave(*c);
  c->internal = true;
  c->pending = false;
  enter(*c);
}

template <> void HeapModel::on<Ev::MunmapChunk>(const Event& e) {
  Chunk* c = chunks_.find(e.addr);
  if (!c)
    return anomaly(e, "munmap_chunk of 0x%llx, which is not a known chunk",
                   static_cast<unsigned long long>(e.addr));
  erase(c);
}

// Events the table marks Apply, each by its handler (on<T> above); annotations are not applied.
namespace {
struct ApplyAs {
  HeapModel& m;
  template <Ev T> void apply(const Event& ev) { m.apply_as<T>(ev); }
};
} // namespace

void HeapModel::apply(const Event& e) {
  ApplyAs a{*this};
  trace::dispatch(e, a);
}

template <> void HeapModel::on<Ev::Malloc>(const Event& e) {
  api_result(e, e.size);
}
template <> void HeapModel::on<Ev::Realloc>(const Event& e) {
  api_result(e, e.size);
}
template <> void HeapModel::on<Ev::Memalign>(const Event& e) {
  api_result(e, e.size);
}
template <> void HeapModel::on<Ev::ChunkAlloc>(const Event& e) {
  on_chunk(e);
}
template <> void HeapModel::on<Ev::ChunkFree>(const Event& e) {
  on_chunk(e);
}
template <> void HeapModel::on<Ev::Fence>(const Event& e) {
  on_chunk(e);
}

template <> void HeapModel::on<Ev::ArenaNew>(const Event& e) {
  if (e.arena_index() >= kMaxArenas)
    return anomaly(e, "arena index %llu is out of range", static_cast<unsigned long long>(e.arena_index()));
  note_arena(uint32_t(e.arena_index()));
  if (e.arena_index() >= tops_.size()) tops_.resize(e.arena_index() + 1, 0);
}

template <> void HeapModel::on<Ev::HeapNew>(const Event& e) {
  if (e.addr == 0) return anomaly(e, "region at address 0");
  bool created;
  Region& r = regions_.insert(e.addr, created);
  heap_bytes_ -= r.size;
  r.size = e.size;
  if (created) r.arena = e.arena;
  heap_bytes_ += r.size;
}

template <> void HeapModel::on<Ev::HeapResize>(const Event& e) {
  if (e.addr == 0) return anomaly(e, "region at address 0");
  bool created;
  Region& r = regions_.insert(e.addr, created);
  if (created)
    anomaly(e, "heap_resize of 0x%llx, which is not a known region", static_cast<unsigned long long>(e.addr));
  if (e.size < r.size) { // past the new end: no pages, and no chunks (a textbook policy's trimmed block)
    released_.forget(r.addr + e.size, r.addr + r.size);
    erase_range(r.addr + e.size, r.addr + r.size);
  }
  heap_bytes_ -= r.size;
  r.size = e.size;
  if (created) r.arena = e.arena;
  heap_bytes_ += r.size;
}

template <> void HeapModel::on<Ev::HeapFree>(const Event& e) {
  Region* r = regions_.find(e.addr);
  if (!r)
    return anomaly(e, "heap_free of 0x%llx, which is not a known region",
                   static_cast<unsigned long long>(e.addr));
  uint64_t start = r->addr, size = r->size;
  heap_bytes_ -= size;
  regions_.erase(r);
  released_.forget(start, start + size < start ? UINT64_MAX : start + size);
  erase_range(start, start + size < start ? UINT64_MAX : start + size);
}

template <> void HeapModel::on<Ev::Sbrk>(const Event& e) {
  brk_ = e.addr + uint64_t(e.delta);
}
template <> void HeapModel::on<Ev::Error>(const Event&) {
  ++errors_;
}
template <> void HeapModel::on<Ev::Arena>(const Event& e) {
  note_arena(e.arena);
}

template <> void HeapModel::on<Ev::Snapshot>(const Event& e) {
  if ((e.snapshot_flags() & trace::kSnapshotBaseline) && baseline_.feed(e)) {
    load_baseline(baseline_.snapshot());
    baseline_ = SnapshotAssembler(); // loaded: every checkpoint would copy its entries
  }
}

// ---- Checkpoints -----------------------------------------------------------------------------
// (The records' codec: saved_codec.h.)
using saved::kMaxRecord;
using saved::kSlack;

// Encodes the records at out (room for count x kMaxRecord + kSlack bytes); returns the end.
static uint8_t* encode_chunks(const FlatMap<Chunk>& chunks, uint8_t* p) {
  uint64_t prev_seq = 0;
  chunks.for_each_in_probe_order([&](const Chunk& c) {
    __builtin_memcpy(p, &c.addr, 8);
    p = saved::put_fields(p + 8, c, prev_seq);
  });
  return p;
}

HeapModel::Saved HeapModel::save(ByteArena& arena) const {
  Saved s{static_cast<const HeapModelState&>(*this), chunks_.capacity(), chunks_.size(), nullptr, 0, {}};
  s.id = saved::next_id();
  uint8_t* p = arena.reserve(s.count * kMaxRecord + kSlack + order_.max_saved_bytes());
  uint8_t* order = encode_chunks(chunks_, p);
  s.order_at = size_t(order - p);
  s.bytes = size_t(order_.save(order) - p);
  HV_ASSERT(s.bytes <= s.count * kMaxRecord + order_.max_saved_bytes());
  s.chunks = p;
  arena.commit(s.bytes);
  return s;
}

HeapModel::Saved HeapModel::save() const {
  Saved s{static_cast<const HeapModelState&>(*this), chunks_.capacity(), chunks_.size(), nullptr, 0, {}};
  // Not a vector: its zero fill would touch all of the worst case (62 bytes a record; about 16
  // are written), 87 MB for a heap of 1.4 M chunks.
  auto buf =
      std::make_unique_for_overwrite<uint8_t[]>(s.count * kMaxRecord + kSlack + order_.max_saved_bytes());
  s.id = saved::next_id();
  uint8_t* order = encode_chunks(chunks_, buf.get());
  s.order_at = size_t(order - buf.get());
  s.bytes = size_t(order_.save(order) - buf.get());
  HV_ASSERT(s.bytes <= s.count * kMaxRecord + order_.max_saved_bytes());
  s.own.assign(buf.get(), buf.get() + s.bytes);
  return s;
}

HeapModel::Saved HeapModel::save_light() const {
  Saved s{static_cast<const HeapModelState&>(*this), chunks_.capacity(), chunks_.size(), nullptr, 0, {}};
  s.id = saved::next_id();
  s.light = true;
  s.own.resize(order_.max_saved_bytes() + kSlack);
  s.order_at = 0;
  s.bytes = size_t(order_.save(s.own.data()) - s.own.data());
  s.own.resize(s.bytes);
  s.own.shrink_to_fit();
  return s;
}

void HeapModel::note_undo(const Chunk& c) {
  bool created;
  Chunk& u = undo_.insert(c.addr, created);
  if (created) u = c;
  if (undo_.size() > kUndoMax) [[unlikely]]
    undo_give_up();
}

uint64_t HeapModel::start_change_log() const {
  static std::atomic<uint64_t> next_id{1};
  log_.on = true;
  log_.id = next_id++;
  log_.addrs.clear();
  return log_.id;
}

void HeapModel::restore(const Saved& s) {
  stop_dirty_log();     // every record may change
  if (can_undo_to(s)) { // the records changed since this save, put back
    undo_.for_each([&](const Chunk& u) {
      Chunk* live = chunks_.find(u.addr);
      if (live && is_free_state(live->state)) free_sizes_.remove(live->size);
      if (u.state == kNoRecord) {
        if (live) chunks_.erase(live);
      } else {
        bool created;
        chunks_.insert(u.addr, created) = u;
        if (is_free_state(u.state)) free_sizes_.add(u.size);
      }
      if (log_.on) log_.note(u.addr, chunks_.size());
    });
    undo_.reset(16);
    static_cast<HeapModelState&>(*this) = s.state;
    const uint8_t* p = order_.restore(s.data() + s.order_at, [this](uint64_t a) {
      const Chunk* c = chunks_.find(a);
      return c ? c->size : 0;
    });
    HV_ASSERT(size_t(p - s.data()) == s.bytes);
    HV_ASSERT(chunks_.size() == s.count);
    return;
  }
  HV_ASSERT_MSG(!s.light, "restore() of a light save that the undo no longer reaches (can_undo_to)");
  HV_ASSERT_MSG(!s.delta, "restore() of a delta save that the undo does not reach (apply_delta)");
  log_.on = false; // every record may have changed
  undo_give_up();  // (until undo_from(): a replay from here to a local checkpoint pays nothing)
  static_cast<HeapModelState&>(*this) = s.state;
  chunks_.reset(s.capacity);
  free_sizes_ = FreeSizes();
  const uint8_t* p = s.data();
  uint64_t seq = 0;
  for (size_t i = 0; i < s.count; ++i) {
    Chunk c;
    __builtin_memcpy(&c.addr, p, 8);
    p = saved::get_fields(p + 8, c, seq);
    bool created;
    chunks_.insert(c.addr, created) = c;
    HV_ASSERT_MSG(created, "a saved table holds the same address twice");
    if (is_free_state(c.state)) free_sizes_.add(c.size);
  }
  p = order_.restore(p, [this](uint64_t a) {
    const Chunk* c = chunks_.find(a);
    return c ? c->size : 0;
  });
  // The records decode to exactly the bytes save() wrote, into a table the same as the saved one.
  HV_ASSERT(size_t(p - s.data()) == s.bytes);
  HV_ASSERT(chunks_.size() == s.count && chunks_.capacity() == s.capacity);
}

Metrics HeapModel::metrics() const {
  return Metrics{heap_bytes_,    live_bytes_, free_bytes_,      free_sizes_.largest(),
                 chunks_.size(), in_use_,     released_.bytes()};
}

HeapModel::BeforeTrace HeapModel::before_trace() const {
  BeforeTrace b;
  if (baseline_seq_ == 0) return b;
  chunks_.for_each([&](const Chunk& c) {
    if (is_before_trace(c)) {
      ++b.blocks;
      b.bytes += c.size;
    }
  });
  return b;
}

std::vector<Chunk> HeapModel::chunks_sorted() const {
  std::vector<Chunk> v;
  v.reserve(chunks_.size());
  chunks_.for_each([&](const Chunk& c) { v.push_back(c); });
  std::sort(v.begin(), v.end(), [](const Chunk& a, const Chunk& b) { return a.addr < b.addr; });
  return v;
}

std::vector<Region> HeapModel::regions_sorted() const {
  std::vector<Region> v;
  regions_.for_each([&](const Region& r) { v.push_back(r); });
  std::sort(v.begin(), v.end(), [](const Region& a, const Region& b) { return a.addr < b.addr; });
  return v;
}

} // namespace hv::model
