// seq_scatter.cpp - the scatter decoder (see seq_scatter.h).
#include "trace/seq_scatter.h"

#include <algorithm>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HV_PAUSE() _mm_pause()
#else
#define HV_PAUSE() ((void)0)
#endif

namespace hv::trace {

namespace {
// Waiting for the other side, which is normally busy and about to publish: spin (about a
// millisecond), then sleep until woken.
void backoff(int spin, std::atomic<uint32_t>& epoch, uint32_t seen) {
  if (spin < 100000)
    HV_PAUSE();
  else
    epoch.wait(seen, std::memory_order_acquire);
}
} // namespace

bool SeqScatter::usable(const TraceFile& file) {
  if (file.blocks().empty()) return false;
  for (const BlockInfo& b : file.blocks()) // compressed, or numbered by a threaded process's clocks
    if (b.flags & (kBlockZstd | kBlockClocked)) return false;
  return true;
}

SeqScatter::SeqScatter(const TraceFile& file, bool threaded, uint32_t round)
    : file_(file), threaded_(threaded) {
  round_ = kRound;
  round_shift_ = uint32_t(__builtin_ctz(kRound));
  while (round_ > 1 && round_ / 2 >= round) {
    round_ /= 2;
    --round_shift_;
  }
  capacity_ = uint64_t(round_) * kRoundsInRing;
  // Zeroed (1 MiB, once): the worker writes or marks every slot of a round before it publishes
  // it, but chunk_key() may read a gap's slot on the first lap, whose other fields it leaves.
  ring_.reset(new Slot[capacity_]());
  ext_.reset(new uint64_t[capacity_]);
  side_.reset(new Event[capacity_]);
  if (!setup()) {
    publish(s0_, kStopped);
    return;
  }
  x_ = s0_;
  ready_.store(s0_, std::memory_order_relaxed);
  released_.store(s0_, std::memory_order_relaxed);
  if (threaded_) worker_ = std::thread([this] { work(); });
}

SeqScatter::~SeqScatter() {
  if (worker_.joinable()) {
    stop_.store(true, std::memory_order_release);
    rel_epoch_.fetch_add(1, std::memory_order_release);
    rel_epoch_.notify_one();
    worker_.join();
  }
}

bool SeqScatter::load_block(Thread& t, uint32_t k) {
  const BlockInfo& b = file_.blocks()[t.blocks[k]];
  if (b.flags & (kBlockZstd | kBlockClocked)) return false;
  t.k = k;
  t.dec.start(file_.data() + b.offset + sizeof(BlockHeader), b.raw_size, b.nevents, b.tid, b.first_seq,
              b.base_ns, b.base_addr, b.arena, b.offset + sizeof(BlockHeader), false,
              api_stack_for(file_.header().version));
  release_behind();
  return true;
}

// As EventStream::release_behind: the file's pages well before the lowest block a thread still
// decodes go (a later read of a mark's or snapshot's bytes there takes them back from the cache).
void SeqScatter::release_behind() {
  uint64_t low = UINT64_MAX;
  for (const Thread& t : threads_)
    if (!t.done && t.k < t.blocks.size()) low = std::min(low, file_.blocks()[t.blocks[t.k]].offset);
  if (low == UINT64_MAX || low < file_released_ + kKeepBehind + kReleaseStep) return;
  file_.release(file_released_, low - kKeepBehind);
  file_released_ = low - kKeepBehind;
}

// After t's decoder has no event left: checks the block's end and loads the next block. False
// on an error; true with t.done set after the last block.
bool SeqScatter::next_block(Thread& t) {
  if (t.dec.failed() || !t.dec.check_end()) return false;
  if (t.k + 1 < t.blocks.size()) return load_block(t, t.k + 1);
  t.done = true;
  ++done_threads_;
  return true;
}

// As EventStream::advance: the next event of t into t.head, across block ends.
bool SeqScatter::next_event(Thread& t) {
  while (!t.dec.next(t.head)) {
    if (!next_block(t)) return false;
    if (t.done) return true;
  }
  if (t.any && t.head.seq <= t.last) return false;
  t.has_head = true;
  return true;
}

bool SeqScatter::setup() {
  for (auto& blocks : file_.blocks_by_thread()) {
    threads_.emplace_back();
    threads_.back().blocks = std::move(blocks);
  }
  if (threads_.empty()) return false;
  uint64_t low = UINT64_MAX;
  for (Thread& t : threads_) {
    if (!load_block(t, 0) || !next_event(t)) return false;
    if (t.has_head) low = std::min(low, t.head.seq);
  }
  if (low == UINT64_MAX) return false; // no events, or one numbered UINT64_MAX: EventStream's case
  s0_ = low;
  return true;
}

namespace {
// Puts a thread's events below x into the ring as the decoder decodes them (BlockDecoder::next's
// sink); holds the first one at or after x, and stops at one out of order or already there.
struct Put {
  Slot* ring;
  uint64_t* ext;
  Event* side;
  uint64_t* seen; // a bit per event of the round
  const RoundBase& base;
  uint32_t thread;
  uint64_t s0, x, mask, round;
  uint64_t& last;
  bool& any;
  bool held = false, bad = false;
  template <Ev T> void apply(const Event& e) { on<T>(e); } // for dispatch()
  template <Ev T> bool on(const Event& e) {
    if (e.seq >= x) {
      held = true;
      return false;
    }
    if ((any && e.seq <= last) || e.seq < s0) {
      bad = true;
      return false;
    }
    uint64_t i = (e.seq - s0) & mask;
    Slot* p = &ring[i];
    // The lines ahead, for writing (the caller's core has them).
    __builtin_prefetch(&ring[(i + 256) & mask], 1, 3);
    uint64_t k = (e.seq - x) & (round - 1); // the event's place in the round (x - round <= seq < x)
    uint64_t bit = uint64_t(1) << (k & 63), &word = seen[k / 64];
    if (word & bit) { // the same number twice in this round
      bad = true;
      return false;
    }
    word |= bit;
    if (__builtin_expect(!pack(e, p, &ext[i], base, thread), 0)) {
      side[i] = e;
      p->type = e.type;
      p->flags = kSlotFull;
      p->addr_thread = e.addr & kLow48; // for chunk_key()
    }
    p->tag = uint32_t(e.seq);
    last = e.seq;
    any = true;
    return true;
  }
};
} // namespace

bool SeqScatter::fill(uint32_t index, const RoundBase& base) {
  Thread& t = threads_[index];
  if (!t.has_head) return true; // done
  if (t.head.seq >= x_) return true;
  Put put{ring_.get(), ext_.get(), side_.get(),   seen_,  base,   index,
          s0_,         x_,         capacity_ - 1, round_, t.last, t.any};
  dispatch(t.head, put);
  if (put.bad) return false;
  t.has_head = false;
  for (;;) {
    put.held = false;
    if (t.dec.next(t.head, put)) {
      if (put.bad) return false;
      if (put.held) {
        t.has_head = true;
        return true;
      }
      continue; // the run ended at the end of its fast path; go on
    }
    if (!next_block(t)) return false;
    if (t.done) return true;
  }
}

void SeqScatter::save_position() {
  saved_.threads.clear();
  for (const Thread& t : threads_)
    saved_.threads.push_back(EventStream::Position::Thread{t.k, t.dec.state(), t.has_head, t.head});
  saved_.x.store(x_, std::memory_order_release);
}

bool SeqScatter::position_at(uint64_t x, EventStream::Position& out) const {
  if (saved_.x.load(std::memory_order_acquire) != x) return false;
  out.threads = saved_.threads;
  out.cur = -1;
  return true;
}

void SeqScatter::publish(uint64_t ready, int status) {
  ready_.store(ready, std::memory_order_release);
  if (status != kRunning) status_.store(status, std::memory_order_release);
  pub_epoch_.fetch_add(1, std::memory_order_release);
  if (threaded_) pub_epoch_.notify_one();
}

bool SeqScatter::round() {
  uint64_t start = x_;
  if (start > UINT64_MAX - round_) {
    publish(start, kStopped);
    return false;
  }
  uint64_t x = start + round_;
  // The slots of [start, x) must be free: the caller is past x - capacity_.
  for (int spin = 0;; ++spin) {
    if (stop_.load(std::memory_order_acquire)) return false;
    uint32_t ep = rel_epoch_.load(std::memory_order_acquire);
    if (released_.load(std::memory_order_acquire) + capacity_ >= x) break;
    if (!threaded_) return false; // inline: wait() released what it could
    backoff(spin, rel_epoch_, ep);
  }
  x_ = x;
  std::fill(std::begin(seen_), std::end(seen_), 0);
  uint64_t part = (start - s0_) / round_ % kRoundsInRing;
  // The round's base for ts and offset deltas: the first thread's first event in the round.
  for (const Thread& t : threads_)
    if (t.has_head && t.head.seq < x) {
      base_[part] = RoundBase{t.head.ts, t.head.offset};
      break;
    }
  for (uint32_t i = 0; i < threads_.size(); ++i)
    if (!fill(i, base_[part])) { // everything below start is still exactly what EventStream emits first
      publish(start, kStopped);
      return false;
    }
  // The numbers of the round with no event (gaps, or past the end): a tag that is not theirs.
  // (A slot on a later lap holds ~ the tag of the number a lap before, never this one's; on the
  // first lap it holds 0, which is a number's own once every 2^32.)
  for (uint32_t k = 0; k < round_; k += 64) {
    uint64_t missing = ~seen_[k / 64];
    if (round_ < 64) missing &= (uint64_t(1) << round_) - 1;
    for (; missing; missing &= missing - 1) {
      uint64_t seq = start + k + uint32_t(__builtin_ctzll(missing));
      ring_[(seq - s0_) & (capacity_ - 1)].tag = ~uint32_t(seq);
    }
  }
  uint64_t want = want_pos_.load(std::memory_order_acquire);
  if (want <= x && saved_.x.load(std::memory_order_relaxed) < want) save_position();
  if (done_threads_ == threads_.size()) {
    uint64_t end = start;
    for (const Thread& t : threads_)
      if (t.any) end = std::max(end, t.last + 1);
    publish(end, kDone);
    return false;
  }
  publish(x, kRunning);
  return true;
}

void SeqScatter::work() {
  while (round()) {
  }
}

uint64_t SeqScatter::wait(uint64_t have) {
  released_.store(have, std::memory_order_release);
  if (!threaded_) {
    while (ready_.load(std::memory_order_relaxed) <= have &&
           status_.load(std::memory_order_relaxed) == kRunning)
      if (!round()) break;
    return std::max(ready_.load(std::memory_order_relaxed), have);
  }
  rel_epoch_.fetch_add(1, std::memory_order_release);
  rel_epoch_.notify_one();
  for (int spin = 0;; ++spin) {
    uint32_t ep = pub_epoch_.load(std::memory_order_acquire);
    // The status before ready_: publish() stores them in the other order, so a final status
    // seen here comes with the final ready_ (read the other way round, the last round could
    // be published between the two loads and its events lost).
    int status = status_.load(std::memory_order_acquire);
    uint64_t r = ready_.load(std::memory_order_acquire);
    if (r > have) return r;
    if (status != kRunning) return have;
    backoff(spin, pub_epoch_, ep);
  }
}

} // namespace hv::trace
