// document.h - one opened file in the app: a trace (or a scenario simulated into a trace), its
// replay and event index built on a background thread, and the error the user must see.
//
// Owns: deciding whether a path is a trace or a scenario, the loading thread (progress,
// cancellation), the banner text for a bad or partial file, and the position seek. The loading
// thread owns the replay until state() is Ready; after that only the UI thread touches it.
// Must not: include ImGui or GL (views read it; the app drives it).
#pragma once

#include "model/replay.h"
#include "session/event_index.h"
#include "trace/trace_file.h"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace hv::session {

// The curves of the timeline: one point every step() events (about kSeriesPoints over the
// trace, every event for short ones), with the peaks in between.
struct SeriesPoint {
  uint64_t pos;        // events applied
  uint64_t heap, live; // the highest footprint and live bytes since the previous point
  float frag;          // external fragmentation at pos
};
inline constexpr uint64_t kSeriesPoints = 8192;

class Document {
public:
  enum class State { Empty, Loading, Ready, Failed };

  Document() = default;
  ~Document();
  Document(const Document&) = delete;
  Document& operator=(const Document&) = delete;

  // Starts opening path (a .hvt trace, or a scenario it simulates first) in the background.
  // Any previous file is closed (its loading cancelled).
  void open(const std::string& path);
  // A trace file of which only the first max_bytes are complete (a live capture).
  void open_prefix(const std::string& path, uint64_t max_bytes);
  void close();
  // Called on the loading thread about every preview_interval seconds with the heap replayed so
  // far (a consistent state, between two events) and its position: lets the app show the heap
  // long before a big trace has loaded. Set before open(); must not keep `m`.
  using PreviewFn = std::function<void(const model::HeapModel& m, uint64_t position)>;
  void set_preview(PreviewFn fn, double interval = 0.25) {
    preview_ = std::move(fn);
    preview_interval_ = interval;
  }
  // Blocks until loading has finished (Ready or Failed). For `heapviz shot` and tests.
  State wait();

  State state() const { return state_.load(std::memory_order_acquire); }
  const std::string& path() const { return path_; }
  bool is_scenario() const { return scenario_.load(std::memory_order_relaxed); }
  // Loading: the fraction done (0..1) and a line saying what is going on.
  double progress(std::string* what) const;
  // Failed: why nothing can be shown. Ready: why only part of the file is shown (a torn tail, a
  // corrupt block, a scenario error after some operations), or "" when all is well.
  std::string error() const;

  // Ready only:
  const trace::TraceFile& file() const { return file_; }
  model::Replay& replay() { return *replay_; }
  const model::Replay& replay() const { return *replay_; }
  EventIndex& index() { return *index_; }
  const EventIndex& index() const { return *index_; }
  uint64_t events() const { return replay_ ? replay_->size() : 0; }
  uint64_t position() const { return replay_ ? replay_->position() : 0; }
  // Moves the replay to position n (clamped to [0, events()]). Ready only.
  void seek(uint64_t n);
  const std::vector<SeriesPoint>& series() const { return series_; }
  // Loading time of the last open, in seconds (file, replay and index), once Ready.
  double load_seconds() const { return load_seconds_; }

private:
  void load(); // the loading thread's body
  void fail(const std::string& msg);

  std::string path_;
  uint64_t max_bytes_ = UINT64_MAX;
  // Written by the loading thread, read by progress() and is_scenario() on the UI thread.
  std::atomic<bool> scenario_{false};
  std::atomic<uint64_t> expected_{0}; // events the block index announces
  trace::TraceFile file_;
  std::unique_ptr<model::Replay> replay_;
  std::unique_ptr<EventIndex> index_;
  std::thread thread_;
  std::atomic<State> state_{State::Empty};
  std::atomic<bool> cancel_{false};
  std::atomic<int> phase_{0};        // 0 opening, 1 replaying and indexing
  std::atomic<uint64_t> done_{0};    // events replayed
  std::atomic<uint64_t> indexed_{0}; // events indexed
  mutable std::mutex mu_;            // guards error_
  std::string error_;
  std::vector<SeriesPoint> series_;
  PreviewFn preview_;
  double preview_interval_ = 0.25;
  double load_seconds_ = 0;
};

} // namespace hv::session
