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
  next_checkpoint_ = pos_ + std::max<uint64_t>(kMinCheckpointEvery, 8 * model_.chunk_count());
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
  if (k) last_ = *sink.last;
  return pos_ == n; // false cannot happen below total_ (the pass read them all)
}

bool Replay::seek(uint64_t n) {
  if (!built_ || n > total_) return false;
  if (n == pos_) return true;
  auto it = std::upper_bound(checkpoints_.begin(), checkpoints_.end(), n,
                             [](uint64_t v, const Checkpoint& c) { return v < c.pos; });
  if (n > pos_ && pos_ >= (it - 1)->pos && stream_at_pos_) return forward_to(n); // no checkpoint nearer
  return reload(n);
}

bool Replay::reload(uint64_t n) {
  auto it = std::upper_bound(checkpoints_.begin(), checkpoints_.end(), n,
                             [](uint64_t v, const Checkpoint& c) { return v < c.pos; });
  const Checkpoint& cp = *(it - 1);
  model_.restore(cp.model);
  stream_->restore(cp.stream);
  pos_ = cp.pos;
  last_ = cp.last;
  stream_at_pos_ = true;
  return forward_to(n);
}

} // namespace hv::model
