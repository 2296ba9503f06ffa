// event_stream.cpp - the k-way merge of the threads' blocks (see event_stream.h).
#include "trace/event_stream.h"

#include <algorithm>
#include <cstdio>
#include <zstd.h>

namespace hv::trace {

EventStream::Thread::~Thread() {
  if (dctx) ZSTD_freeDCtx(dctx);
}

EventStream::EventStream(const TraceFile& file) : file_(file) {
  stop_at_gap_ = file.error().has_value();
  for (auto& blocks : file.blocks_by_thread()) {
    threads_.push_back(std::make_unique<Thread>());
    threads_.back()->tid = file.blocks()[blocks[0]].tid;
    threads_.back()->blocks = std::move(blocks);
  }
  heads_.assign(threads_.size(), UINT64_MAX);
  clocked_ = any_clocked();
  for (size_t t = 0; t < threads_.size(); ++t)
    if (!start_thread(int(t))) return;
}

bool EventStream::start_thread(int t) {
  Thread& th = *threads_[size_t(t)];
  if (!load_block(th, 0)) return false;
  th.head.seq = 0;
  th.has_head = false;
  if (!advance(t)) return false;
  sync_head(t);
  return true;
}

void EventStream::refresh_blocks() {
  Position p = save();
  auto lists = file_.blocks_by_thread();
  for (size_t t = 0; t < lists.size(); ++t) {
    if (t == threads_.size()) {
      threads_.push_back(std::make_unique<Thread>());
      threads_.back()->tid = file_.blocks()[lists[t][0]].tid;
    }
    threads_[t]->blocks = std::move(lists[t]);
  }
  heads_.resize(threads_.size(), UINT64_MAX);
  stop_at_gap_ = file_.error().has_value();
  if (!clocked_ && any_clocked()) { // a live process became threaded: from here on, the clocked merge
    clocked_ = true;
    p.last_raw = p.last_seq;
    p.last_clocked = false;
  }
  restore(p);
}

EventStream::~EventStream() = default;

bool EventStream::load_block(Thread& th, uint32_t k) {
  const BlockInfo& b = file_.blocks()[th.blocks[k]];
  const uint8_t* payload = file_.data() + b.offset + sizeof(BlockHeader);
  bool zstd = b.flags & kBlockZstd;
  if (zstd && th.zloaded != int64_t(th.blocks[k])) {
    if (!th.zbuf) th.zbuf.reset(new uint8_t[kMaxBlockPayload]);
    if (!th.dctx) {
      th.dctx = ZSTD_createDCtx();
      ZSTD_DCtx_setParameter(th.dctx, ZSTD_d_windowLogMax, 21);
    }
    size_t r = ZSTD_decompressDCtx(th.dctx, th.zbuf.get(), b.raw_size, payload, b.stored_size);
    if (ZSTD_isError(r) || r != b.raw_size) {
      th.zloaded = -1;
      std::string msg = ZSTD_isError(r)
                            ? std::string("zstd block does not decompress: ") + ZSTD_getErrorName(r)
                            : "zstd block decompresses to " + std::to_string(r) + " bytes, raw_size says " +
                                  std::to_string(b.raw_size);
      error_ = TraceError{ErrorKind::CorruptBlock, b.offset, msg};
      done_ = true;
      return false;
    }
    th.zloaded = th.blocks[k];
  }
  th.k = k;
  th.dec.start(zstd ? th.zbuf.get() : payload, b.raw_size, b.nevents, b.tid, b.first_seq, b.base_ns,
               b.base_addr, b.arena, zstd ? b.offset : b.offset + sizeof(BlockHeader), zstd,
               api_stack_for(file_.header().version));
  release_behind();
  return true;
}

bool EventStream::fail_from(Thread& th) {
  ErrorKind k = ErrorKind::BadEvent;
  if (th.dec.error().find("sequence number") != std::string::npos) k = ErrorKind::BadSequence;
  error_ = TraceError{k, th.dec.error_offset(), th.dec.error()};
  done_ = true;
  return false;
}

// Decodes thread t's next event into its head (has_head = false when the thread is done).
bool EventStream::advance(int t) {
  Thread& th = *threads_[t];
  uint64_t prev = th.head.seq;
  bool had = th.has_head;
  for (;;) {
    if (th.dec.next(th.head)) {
      if (had && th.head.seq <= prev) {
        char buf[160];
        snprintf(buf, sizeof buf, "sequence number %llu of thread %u is not after %llu, its previous event",
                 static_cast<unsigned long long>(th.head.seq), th.tid, static_cast<unsigned long long>(prev));
        error_ = TraceError{ErrorKind::BadSequence, th.head.offset, buf};
        done_ = true;
        return false;
      }
      th.has_head = true;
      return true;
    }
    if (th.dec.failed() || !th.dec.check_end()) return fail_from(th);
    if (th.k + 1 >= th.blocks.size()) {
      th.has_head = false;
      return true;
    }
    if (!load_block(th, th.k + 1)) return false;
  }
}

const Event* EventStream::pick() {
  if (done_) return nullptr;
  // Unclocked sequence numbers are one counter per process, so the next event is almost always the one
  // numbered last + 1: the current thread's head (a run), or the lowest head. Only the current
  // thread moved since the last call, so heads_ needs one update; the scan has no
  // data-dependent branches (which thread comes next is unpredictable).
  int n = int(threads_.size());
  if (cur_ >= 0) sync_head(cur_);
  // The usual case: the lowest head is numbered last + 1 and no other head has that number.
  // Then the scan below would pick it and find no duplicate, so take it without the scan.
  uint64_t want = last_seq_ + 1, low = UINT64_MAX;
  int match = -1, matches = 0;
  for (int t = 0; t < n; ++t) {
    uint64_t s = heads_[size_t(t)];
    low = s < low ? s : low;
    bool m = s == want;
    matches += m;
    match = m ? t : match;
  }
  if (low == want && matches == 1 && want != UINT64_MAX) {
    cur_ = match;
    last_seq_ = want;
    ++emitted_;
    return &threads_[size_t(match)]->head;
  }
  if (!(cur_ >= 0 && threads_[cur_]->has_head && heads_[cur_] == last_seq_ + 1)) {
    int best = 0;
    uint64_t best_seq = n ? heads_[0] : UINT64_MAX;
    for (int t = 1; t < n; ++t) {
      uint64_t s = heads_[t];
      bool lower = s < best_seq;
      best = lower ? t : best;
      best_seq = lower ? s : best_seq;
    }
    if (best_seq == UINT64_MAX) { // no heads left, or only heads numbered UINT64_MAX
      best = -1;
      for (int t = 0; t < n && best < 0; ++t)
        if (threads_[t]->has_head) best = t;
      if (best < 0) {
        finish();
        return nullptr;
      }
    }
    // Two heads with the same seq: report it rather than pick one silently.
    for (int t = 0; t < n; ++t)
      if (heads_[t] == best_seq && t != best && threads_[t]->has_head) {
        char buf[160];
        snprintf(buf, sizeof buf, "sequence number %llu appears in threads %u and %u",
                 static_cast<unsigned long long>(best_seq), threads_[best]->tid, threads_[t]->tid);
        error_ = TraceError{ErrorKind::BadSequence, threads_[t]->head.offset, buf};
        done_ = true;
        return nullptr;
      }
    cur_ = best;
  }
  const Event* e = &threads_[cur_]->head;
  if (emitted_ > 0 && e->seq != last_seq_ + 1 && !jump(e->seq, last_seq_, e->tid, e->offset)) return nullptr;
  last_seq_ = e->seq;
  ++emitted_;
  return e;
}

bool EventStream::any_clocked() const {
  for (const BlockInfo& b : file_.blocks())
    if (b.flags & kBlockClocked) return true;
  return false;
}

const Event* EventStream::next_clocked() {
  if (done_) return nullptr;
  if (cur_ >= 0) { // its head is the event returned last
    if (!advance(cur_)) return nullptr;
    sync_head(cur_);
  }
  int best = -1;
  uint64_t low = UINT64_MAX;
  for (int t = 0, n = int(threads_.size()); t < n; ++t)
    if (threads_[size_t(t)]->has_head && (best < 0 || heads_[size_t(t)] < low)) {
      best = t;
      low = heads_[size_t(t)];
    }
  if (best < 0) {
    finish();
    return nullptr;
  }
  const Thread& th = *threads_[size_t(best)];
  const bool clocked = file_.blocks()[th.blocks[th.k]].flags & kBlockClocked;
  const uint64_t raw = th.head.seq;
  // Between two unclocked events the numbers are one counter's, as in the merge of next().
  if (emitted_ > 0 && !clocked && !last_clocked_ && raw != last_raw_ + 1 &&
      !jump(raw, last_raw_, th.tid, th.head.offset))
    return nullptr;
  cur_ = best;
  out_ = th.head;
  out_.seq = !clocked && raw > last_seq_ ? raw : last_seq_ + 1;
  last_seq_ = out_.seq;
  last_raw_ = raw;
  last_clocked_ = clocked;
  ++emitted_;
  return &out_;
}

// A number that is not last + 1 in one counter's order: one that repeats or goes back is an
// error; a jump is a gap (events lost), or the end when the file itself is damaged. False when
// the stream stops there.
bool EventStream::jump(uint64_t seq, uint64_t last, uint32_t tid, uint64_t offset) {
  if (seq <= last) {
    char buf[160];
    snprintf(buf, sizeof buf, "sequence number %llu (thread %u) repeats or goes back (previous: %llu)",
             static_cast<unsigned long long>(seq), tid, static_cast<unsigned long long>(last));
    error_ = TraceError{ErrorKind::BadSequence, offset, buf};
    done_ = true;
    return false;
  }
  if (stop_at_gap_) {
    finish();
    return false;
  }
  ++gaps_;
  return true;
}

void EventStream::finish() {
  done_ = true;
  if (!error_ && file_.error()) error_ = file_.error();
}

EventStream::Position EventStream::save() const {
  Position p;
  p.threads.reserve(threads_.size());
  for (const auto& th : threads_)
    p.threads.push_back(Position::Thread{th->k, th->dec.state(), th->has_head, th->head});
  p.cur = cur_;
  p.emitted = emitted_;
  p.last_seq = last_seq_;
  p.gaps = gaps_;
  p.last_raw = last_raw_;
  p.last_clocked = last_clocked_;
  return p;
}

uint64_t EventStream::lowest_block() const {
  uint64_t low = UINT64_MAX;
  for (const auto& th : threads_)
    if (th->k < th->blocks.size()) low = std::min(low, file_.blocks()[th->blocks[th->k]].offset);
  return low;
}

void EventStream::release_behind() {
  // The lowest block a thread still reads: every page well before it is done with.
  if (released_ == UINT64_MAX) return; // in the middle of restore()
  uint64_t low = lowest_block();
  if (low == UINT64_MAX || low < released_ + kKeepBehind + kReleaseStep) return;
  file_.release(released_, low - kKeepBehind);
  released_ = low - kKeepBehind;
}

void EventStream::restore(const Position& p) {
  released_ = UINT64_MAX; // no release while the threads jump (their blocks load one by one)
  done_ = false;
  error_.reset();
  for (size_t t = 0; t < threads_.size(); ++t) {
    Thread& th = *threads_[t];
    if (t >= p.threads.size()) { // a thread the file gained after the position was saved
      if (!start_thread(int(t))) return;
      continue;
    }
    const Position::Thread& s = p.threads[t];
    if (!load_block(th, s.k)) return;
    th.dec.set_state(s.dec);
    th.has_head = s.has_head;
    th.head = s.head;
    // Out of events there: blocks the file gained since go on (none: it stays out). Not the
    // current thread: its head is the event returned last, and next() advances it itself.
    if (!th.has_head && int(t) != p.cur && th.k + 1 < th.blocks.size() && !advance(int(t))) return;
    sync_head(int(t));
  }
  cur_ = p.cur;
  emitted_ = p.emitted;
  last_seq_ = p.last_seq;
  gaps_ = p.gaps;
  last_raw_ = p.last_raw;
  last_clocked_ = p.last_clocked;
  if (clocked_ && cur_ >= 0 && threads_[size_t(cur_)]->has_head) {
    out_ = threads_[size_t(cur_)]->head;
    out_.seq = last_seq_;
  }
  // A jump releases nothing (a seek stays cheap); reading on from here releases what it passes.
  uint64_t low = lowest_block();
  released_ = low == UINT64_MAX ? 0 : low - std::min(low, kKeepBehind);
}

} // namespace hv::trace
