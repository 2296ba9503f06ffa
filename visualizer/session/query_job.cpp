// query_job.cpp - see query_job.h.
#include "session/query_job.h"

#include <chrono>
#include <cstdlib>

namespace hv::session {

QueryJob::QueryJob(const EventIndex& ix, const analysis::Filter& f, size_t max_matches)
    : ix_(ix), filter_(f), max_(max_matches) {
  for (auto& r : readers_)
    r = std::make_unique<IndexReader>(ix);
  const uint64_t n = ix.size(), g = EventIndex::kGroup;
  // Two parts (one a thread) when there is enough to share: the split on a group boundary.
  uint64_t half = n >= 8 * g ? n / 2 / g * g : n;
  add_part(0, half);
  if (half < n) add_part(half, n);
  start_threads();
}

QueryJob::~QueryJob() {
  stop(true);
}

void QueryJob::add_part(uint64_t from, uint64_t to) {
  Part& p = parts_.emplace_back();
  p.from = from;
  p.to = to;
  p.reached.store(from, std::memory_order_relaxed);
  p.scan.start(filter_, max_, from, to);
}

void QueryJob::start_threads() {
  cancel_.store(false);
  int open = 0;
  for (const Part& p : parts_)
    open += !p.done;
  if (!open) return;
  int n = open < kThreads ? open : kThreads;
  running_.store(n, std::memory_order_release);
  for (int t = 0; t < n; ++t)
    threads_[t] = std::thread([this, t] { run(t); });
}

void QueryJob::run(int t) {
  // HEAPVIZ_TEST_SEARCH_DELAY_MS: a search that starts late (tests that a shot waits for it).
  static const long delay_ms = [] {
    const char* v = getenv("HEAPVIZ_TEST_SEARCH_DELAY_MS");
    return v ? strtol(v, nullptr, 10) : 0L;
  }();
  if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  IndexReader& reader = *readers_[t];
  while (!cancel_.load(std::memory_order_relaxed)) {
    Part* p = nullptr;
    {
      std::lock_guard<std::mutex> g(mu_);
      for (Part& q : parts_)
        if (!q.claimed && !q.done) {
          p = &q;
          break;
        }
      if (p) p->claimed = true;
    }
    if (!p) break;
    // Slices of about 20 ms: between two, what was found is handed over and a stop is seen.
    bool more = true;
    while (more && !cancel_.load(std::memory_order_relaxed)) {
      more = p->scan.step(reader, 20.0);
      p->reached.store(p->scan.scanned(), std::memory_order_relaxed);
      std::lock_guard<std::mutex> g(mu_);
      if (!more) p->done = true;
      hand_over(more ? p : nullptr);
    }
    std::lock_guard<std::mutex> g(mu_);
    p->claimed = false;
  }
  running_.fetch_sub(1, std::memory_order_acq_rel);
}

void QueryJob::hand_over(const Part* running_part) {
  while (first_open_ < parts_.size() && total_handed_ < max_) {
    Part& p = parts_[first_open_];
    // A part another thread is scanning is handed over by that thread.
    if (!p.done && &p != running_part) return;
    const std::vector<uint64_t>& m = p.scan.matches();
    size_t take = std::min(m.size() - handed_, max_ - total_handed_);
    fresh_.insert(fresh_.end(), m.begin() + ptrdiff_t(handed_), m.begin() + ptrdiff_t(handed_ + take));
    handed_ += take;
    total_handed_ += take;
    if (!p.done) return;
    ++first_open_;
    handed_ = 0;
  }
  if (total_handed_ >= max_) {
    // Full: the later parts are not needed.
    for (Part& p : parts_)
      p.done = true;
    first_open_ = parts_.size();
    cancel_.store(true);
  }
}

const std::vector<uint64_t>& QueryJob::matches() {
  std::lock_guard<std::mutex> g(mu_);
  if (!fresh_.empty()) {
    out_.insert(out_.end(), fresh_.begin(), fresh_.end());
    fresh_.clear();
  }
  return out_;
}

double QueryJob::progress() const {
  if (!running()) return 1;
  uint64_t seen = 0, all = 0;
  for (const Part& p : parts_) {
    seen += p.reached.load(std::memory_order_relaxed) - p.from;
    all += p.to - p.from;
  }
  return all ? double(seen) / double(all) : 1;
}

void QueryJob::wait() {
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void QueryJob::stop(bool forever) {
  if (forever) dead_.store(true);
  cancel_.store(true);
  wait();
  running_.store(0, std::memory_order_release);
}

void QueryJob::resume() {
  stop();
  if (dead_.load()) return;
  for (auto& r : readers_)
    r->refresh_blocks();
  std::lock_guard<std::mutex> g(mu_);
  const uint64_t n = ix_.size();
  if (total_handed_ < max_ && !parts_.empty() && n > parts_.back().to) {
    // The last part takes the new events (a live file grows at every sync: one part, not one
    // per sync). If it was done and handed over, it is open again, its matches so far handed.
    Part& last = parts_.back();
    const bool passed = first_open_ == parts_.size();
    last.to = n;
    last.scan.set_end(n);
    last.scan.extend(n);
    if (last.scan.scanning()) {
      last.done = false;
      if (passed) {
        first_open_ = parts_.size() - 1;
        handed_ = last.scan.matches().size();
      }
    }
  }
  // (start_threads reads the parts: no thread runs yet, so the lock is only for form's sake.)
  start_threads();
}

} // namespace hv::session
