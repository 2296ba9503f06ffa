// replay.cpp - checkpoints and seeking (see replay.h).
#include "replay.h"

#include <algorithm>
#include <thread>

namespace hv::model {

Replay::Replay(const trace::TraceFile& file)
    : file_(file), stream_(std::make_unique<trace::EventStream>(file)) {}

Replay::~Replay() = default;

void Replay::take_checkpoint() {
  take_checkpoint(stream_->save());
}

void Replay::take_checkpoint(trace::EventStream::Position p) {
  checkpoints_.push_back(Checkpoint{pos_, model_.save(arena_), std::move(p), last_});
  next_checkpoint_ = pos_ + std::max<uint64_t>(checkpoint_every_, 8 * model_.chunk_count());
}

Replay::Decode Replay::choose() const {
  if (decode_ == Decode::Stream || !trace::SeqScatter::usable(file_)) return Decode::Stream;
  if (decode_ != Decode::Auto) return decode_;
  if (file_.indexed_events() < kScatterMinEvents || std::thread::hardware_concurrency() < 2)
    return Decode::Stream;
  return Decode::Scatter;
}

namespace {
struct SeekSink {
  HeapModel& m;
  const Event* last = nullptr;
  template <trace::Ev T> void apply(const Event& e) {
    m.apply_as<T>(e);
    last = &e;
  }
  template <trace::Ev T> void ahead(const Event& e) { m.prefetch_as<T>(e); }
};
} // namespace

bool Replay::forward_to(uint64_t n) {
  SeekSink sink{model_};
  if (pos_ >= n) return true;
  uint64_t k = stream_->run(sink, n - pos_);
  pos_ += k;
  replayed_ += k;
  if (k) last_ = *sink.last;
  return pos_ == n; // false cannot happen below total_ (the pass read them all)
}

const Replay::Checkpoint& Replay::nearest(uint64_t n) {
  auto it = std::upper_bound(checkpoints_.begin(), checkpoints_.end(), n,
                             [](uint64_t v, const Checkpoint& c) { return v < c.pos; });
  const Checkpoint* best = &*(it - 1);
  Local* hit = nullptr;
  for (Local& l : local_)
    if (l.cp.pos <= n && l.cp.pos > best->pos) {
      best = &l.cp;
      hit = &l;
    }
  if (hit) hit->used = ++tick_;
  return *best;
}

void Replay::restore(const Checkpoint& cp) {
  model_.restore(cp.model);
  stream_->restore(cp.stream);
  pos_ = cp.pos;
  last_ = cp.last;
  stream_at_pos_ = true;
}

void Replay::keep_local() {
  if (model_.chunk_count() * 13 > kLocalBytes) return; // too large to keep one (13: addr + 5 varints)
  Local l{Checkpoint{pos_, {}, stream_->save(), last_}, ++tick_, nullptr};
  if (model_.chunk_count() >= kLocalArenaChunks) {
    l.arena = std::make_unique<ByteArena>();
    l.cp.model = model_.save(*l.arena);
  } else {
    l.cp.model = model_.save();
  }
  size_t bytes = l.cp.model.bytes;
  while (local_.size() >= kLocalMax || local_bytes_ + bytes > kLocalBytes) {
    auto lru = std::min_element(local_.begin(), local_.end(),
                                [](const Local& a, const Local& b) { return a.used < b.used; });
    local_bytes_ -= lru->cp.model.bytes;
    local_.erase(lru);
  }
  local_bytes_ += bytes;
  local_.push_back(std::move(l));
}

bool Replay::seek(uint64_t n) {
  replayed_ = 0;
  if (!built_ || n > total_) return false;
  if (n == pos_) return true;
  const Checkpoint& cp = nearest(n);
  if (n > pos_ && pos_ >= cp.pos && stream_at_pos_) return forward_to(n); // no checkpoint nearer
  restore(cp);
  if (n - pos_ >= kLocalEvery) { // then at > n - kLocalEvery >= pos_
    uint64_t at = n / kLocalEvery * kLocalEvery;
    if (!forward_to(at)) return false;
    keep_local();
  }
  return forward_to(n);
}

bool Replay::reload(uint64_t n) {
  restore(nearest(n));
  return forward_to(n);
}

} // namespace hv::model
