// query_job.h - a search of a trace's events on threads of its own: a chunk's history or the
// Events window's filter runs at full speed, not a slice per frame, and the UI polls it.
//
// Owns: the threads (two: the events are split in parts, each read through a reader of its own,
// session::IndexReader, and scanned by an analysis::QueryScan), the progress, and handing the
// matches over to the UI thread in order (matches(), appended as the parts before them finish).
// Document::query starts one and keeps track of it: Document::close stops it before the file
// goes, Document::extend stops it while the index grows and resumes it over the new events.
// Must not: include ImGui or GL, touch the replay, or read the index while it grows.
#pragma once

#include "analysis/event_query.h"
#include "session/event_index.h"

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace hv::session {

class QueryJob {
public:
  static constexpr int kThreads = 2;
  // Starts searching ix for f at once; keeps at most max_matches positions.
  QueryJob(const EventIndex& ix, const analysis::Filter& f, size_t max_matches = SIZE_MAX);
  ~QueryJob();
  QueryJob(const QueryJob&) = delete;
  QueryJob& operator=(const QueryJob&) = delete;

  // UI thread. The matching positions found so far (ascending), complete once !running().
  const std::vector<uint64_t>& matches();
  bool running() const { return running_.load(std::memory_order_acquire) > 0; }
  // The share of the events looked at so far, 0..1 (1 when done).
  double progress() const;
  // Blocks until the search is done (or stopped). For `heapviz shot`, tests and benchmarks.
  void wait();
  const analysis::Filter& filter() const { return filter_; }

  // Document only. stop(): the threads end at their next slice (each part keeps its place; a job
  // stopped `forever` never starts again). resume(): after the index grew, goes on with the parts
  // not finished, the last one taking the new events.
  void stop(bool forever = false);
  void resume();

private:
  struct Part {
    uint64_t from = 0, to = 0;
    analysis::QueryScan scan; // its owner thread's while claimed
    std::atomic<uint64_t> reached{0};
    bool claimed = false, done = false; // guarded by mu_
  };
  void add_part(uint64_t from, uint64_t to);
  void start_threads();
  void run(int t);
  // Under mu_: hands over the matches of the parts in order, from the first not handed over,
  // up to the first part still running (whose matches its owner hands over as it goes).
  void hand_over(const Part* running_part);

  const EventIndex& ix_;
  analysis::Filter filter_;
  size_t max_;
  std::unique_ptr<IndexReader> readers_[kThreads]; // one per thread
  std::thread threads_[kThreads];
  std::deque<Part> parts_; // in event order; changed only while no thread runs
  std::atomic<bool> cancel_{false}, dead_{false};
  std::atomic<int> running_{0};
  std::mutex mu_;               // guards the parts' claimed/done, the hand-over and fresh_
  size_t first_open_ = 0;       // the first part not wholly handed over
  size_t handed_ = 0;           // of its matches, already handed over
  size_t total_handed_ = 0;     // matches handed over in all
  std::vector<uint64_t> fresh_; // handed over, not yet taken by the UI
  std::vector<uint64_t> out_;   // the UI's
};

} // namespace hv::session
