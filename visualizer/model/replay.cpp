// replay.cpp - checkpoints and seeking (see replay.h).
#include "model/replay.h"

#include <algorithm>
#include <thread>

namespace hv::model {

Replay::Replay(const trace::TraceFile& file)
    : file_(file), stream_(std::make_unique<trace::EventStream>(file)) {
  model_.set_page_size(file.header().page_size);
}

Replay::~Replay() = default;

void Replay::take_checkpoint() {
  take_checkpoint(stream_->save());
}

void Replay::take_checkpoint(trace::EventStream::Position p) {
  size_t records = model_.chunk_count();
  // A delta needs the dirty log kept since the checkpoint before (a restore, a baseline, or more
  // changes than it holds stop it).
  bool delta = model_.dirty_log_on() && pos_ < next_full_ && !checkpoints_.empty();
  checkpoints_.push_back(
      Checkpoint{pos_, delta ? model_.save_delta(arena_) : model_.save(arena_), std::move(p), last_});
  deltas_ += delta;
  if (!delta) next_full_ = pos_ + std::max<uint64_t>(checkpoint_every_, kEventsPerRecord * records);
  next_checkpoint_ = next_full_;
  if (records >= delta_from_) {
    uint64_t every = std::max<uint64_t>(checkpoint_every_, records / kRecordsPerDeltaEvent);
    next_checkpoint_ = std::min(next_full_, pos_ + every);
    // Most events change one to three records; past the cap (a heap freed whole changes all of
    // its records) the log stops and the next checkpoint is a full one.
    model_.start_dirty_log(4 * every + 4096);
  } else {
    model_.stop_dirty_log();
  }
}

Replay::Decode Replay::choose() const {
  if (decode_ == Decode::Stream || !trace::SeqScatter::usable(file_)) return Decode::Stream;
  if (decode_ != Decode::Auto) return decode_;
  if (file_.indexed_events() < kScatterMinEvents || std::thread::hardware_concurrency() < 2)
    return Decode::Stream;
  return Decode::Scatter;
}

namespace {
// Applies each event as it is decoded (a heap whose chunk table fits in the caches).
struct SeekSink {
  HeapModel& m;
  const Event* last = nullptr;
  template <trace::Ev T> void apply(const Event& e) {
    m.apply_as<T>(e);
    last = &e;
  }
  template <trace::Ev T> void ahead(const Event& e) { m.prefetch_as<T>(e); }
  void drain() {}
};

// Applies the events a seek replays kAhead events after it gets them, and starts loading the chunk
// records each one will touch as it arrives: a heap of a million chunks is a table far larger than
// the caches, and applied at once nearly every event waits for memory (a replay there ran 2-3x
// slower than on a heap of thousands). Marks, stacks, snapshots and bin lists point into the
// decoder's buffers: everything before them is applied first, and they at once.
struct DelayedSeekSink {
  static constexpr unsigned kAhead = 16; // a power of two
  explicit DelayedSeekSink(HeapModel& model) : m(model) {}
  HeapModel& m;
  Event ring[kAhead];
  unsigned head = 0, count = 0; // pending: ring[(head + i) % kAhead] for i < count
  Event direct{};               // the last event applied at once
  const Event* last = nullptr;  // the last event applied (in ring or direct)

  template <trace::Ev T> void apply(const Event& e) {
    using trace::Ev;
    if constexpr (trace::event_info(T).variable) {
      drain();
      m.apply_as<T>(e);
      direct = e;
      last = &direct;
    } else {
      if (count == kAhead) pop();
      m.prefetch_as<T>(e);
      if constexpr (T == Ev::Split) m.prefetch_key(e.addr + e.size);
      if constexpr (T == Ev::Merge) m.prefetch_key(e.addr2);
      ring[(head + count++) % kAhead] = e;
    }
  }
  template <trace::Ev T> void ahead(const Event& e) { m.prefetch_as<T>(e); }
  void pop() {
    const Event& e = ring[head];
    m.apply(e);
    last = &e;
    head = (head + 1) % kAhead;
    --count;
  }
  void drain() {
    while (count)
      pop();
  }
};
} // namespace

template <class Sink> bool Replay::forward_with(Sink& sink, uint64_t n) {
  uint64_t k = stream_->run(sink, n - pos_);
  sink.drain();
  pos_ += k;
  replayed_ += k;
  if (k) last_ = *sink.last;
  return pos_ == n; // false cannot happen below total_ (the pass read them all)
}

bool Replay::forward_to(uint64_t n) {
  if (pos_ >= n) return true;
  // Delaying costs a copy of each event and the model's switch: 25% slower seeks on a heap of
  // 4096 chunks; 1.6x faster ones on 1.4 M.
  if (model_.chunk_count() >= delayed_from_) {
    DelayedSeekSink sink(model_);
    return forward_with(sink, n);
  }
  SeekSink sink{model_};
  return forward_with(sink, n);
}

Replay::Nearest Replay::nearest(uint64_t n) {
  auto it = std::upper_bound(checkpoints_.begin(), checkpoints_.end(), n,
                             [](uint64_t v, const Checkpoint& c) { return v < c.pos; });
  Nearest best{&*(it - 1), nullptr};
  for (Local& l : local_)
    if (l.cp.pos <= n && l.cp.pos > best.cp->pos) best = Nearest{&l.cp, &l};
  if (light_ && light_->pos <= n && light_->pos > best.cp->pos && model_.can_undo_to(light_->model))
    best = Nearest{&*light_, nullptr};
  return best;
}

void Replay::restore(Nearest at) {
  if (at.local) at.local->used = ++tick_;
  const Checkpoint& cp = *at.cp;
  if (cp.model.delta && !model_.can_undo_to(cp.model)) {
    // The full checkpoint before it (or a later one of its chain that the undo reaches), then the
    // deltas after that.
    size_t i = size_t(&cp - checkpoints_.data()), j = i;
    while (checkpoints_[j].model.delta && !(j < i && model_.can_undo_to(checkpoints_[j].model)))
      --j;
    chain_undos_ += checkpoints_[j].model.delta;
    model_.restore(checkpoints_[j].model);
    for (size_t k = j + 1; k <= i; ++k)
      model_.apply_delta(checkpoints_[k].model);
  } else {
    model_.restore(cp.model);
  }
  stream_->restore(cp.stream);
  pos_ = cp.pos;
  last_ = cp.last;
  stream_at_pos_ = true;
}

size_t Replay::Local::cost() const {
  // The records (in an arena of their own they touch whole 2 MiB pages; the rest of its slab is
  // mapped but never touched), the regions copied with the state, and the rest.
  return (arena ? round_to_huge_pages(cp.model.bytes) : cp.model.own.capacity()) +
         cp.model.state.regions_.capacity() * sizeof(Region) + sizeof(Local);
}

void Replay::keep_local() {
  // A heap that cannot fit the budget even at the fewest bytes a record takes is not saved; one
  // that does not fit once saved is dropped, and heaps as large are not saved again.
  size_t chunks = model_.chunk_count();
  if (chunks >= light_from_) {
    light_.emplace(Checkpoint{pos_, model_.save_light(), stream_->save(), last_});
    model_.undo_from(light_->model);
    return;
  }
  if (chunks * HeapModel::kMinSavedChunk > local_bytes_max_ || chunks >= too_large_chunks_) return;
  Local l{Checkpoint{pos_, {}, stream_->save(), last_}, ++tick_, nullptr};
  if (chunks >= local_arena_chunks_) {
    if (spare_arena_) {
      l.arena = std::move(spare_arena_);
      l.arena->clear();
    } else {
      l.arena = std::make_unique<ByteArena>();
    }
    l.cp.model = model_.save(*l.arena);
  } else {
    l.cp.model = model_.save();
  }
  size_t cost = l.cost();
  if (cost > local_bytes_max_) {
    too_large_chunks_ = chunks;
    if (l.arena) spare_arena_ = std::move(l.arena);
    return;
  }
  while (!local_.empty() && (local_.size() >= local_max_ || local_bytes_ + cost > local_bytes_max_)) {
    auto lru = std::min_element(local_.begin(), local_.end(),
                                [](const Local& a, const Local& b) { return a.used < b.used; });
    local_bytes_ -= lru->cost();
    if (lru->arena && !spare_arena_) spare_arena_ = std::move(lru->arena);
    local_.erase(lru);
  }
  local_bytes_ += cost;
  model_.undo_from(l.cp.model); // a step back to it puts back only what changed since
  local_.push_back(std::move(l));
}

bool Replay::seek(uint64_t n) {
  replayed_ = 0;
  if (!built_ || n > total_) return false;
  if (n == pos_) return true;
  Nearest at = nearest(n);
  if (n > pos_ && pos_ >= at.cp->pos && stream_at_pos_) { // no checkpoint nearer
    // A light local checkpoint costs nothing: leave one on the way, as a seek that restores does
    // (a step back from n then replays less than kLocalEvery events, not the way from a pass
    // checkpoint: 2.7 M events, 274 ms, on the benchmark heap).
    if (n - pos_ >= kLocalEvery && model_.chunk_count() >= light_from_) {
      if (!forward_to(n / kLocalEvery * kLocalEvery)) return false;
      keep_local();
    }
    return forward_to(n);
  }
  restore(at);                   // before keep_local(), which may move or drop local checkpoints
  if (n - pos_ >= kLocalEvery) { // then mark > n - kLocalEvery >= pos_
    uint64_t mark = n / kLocalEvery * kLocalEvery;
    if (!forward_to(mark)) return false;
    keep_local(); // (and the model's undo starts there)
  } else {
    model_.undo_from(at.cp->model); // a step back from n restores the same checkpoint
  }
  return forward_to(n);
}

bool Replay::reload(uint64_t n) {
  restore(nearest(n));
  return forward_to(n);
}

} // namespace hv::model
