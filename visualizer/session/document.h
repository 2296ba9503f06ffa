// document.h - one opened file in the app: a trace (or a scenario simulated into a trace), its
// replay and event index built on a background thread (and, for a trace with heap errors, their
// log: session/error_list.h), and the error the user must see.
//
// Owns: deciding whether a path is a trace or a scenario (and the policy a scenario runs on), the
// loading thread (progress, cancellation), the allocator's description chosen from the trace
// header (model::PolicyInfo), the banner text for a bad or partial file, and the position seek. The loading
// thread owns the replay until state() is Ready; after that only the UI thread touches it.
// Must not: include ImGui or GL (views read it; the app drives it).
#pragma once

#include "analysis/trace_summary.h"
#include "model/policy_info.h"
#include "model/replay.h"
#include "session/error_list.h"
#include "session/event_index.h"
#include "session/query_job.h"
#include "trace/stack_table.h"
#include "trace/trace_file.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace hv::session {

// The curves of the timeline: the pass summary's series (analysis/trace_summary.h).
using analysis::kSeriesPoints;
using analysis::SeriesPoint;

// A scenario's names at one of its marks (sim::MarkNames): each name bound so far and the last
// pointer it held (live or freed), as addresses in the trace. Lessons outline the blocks they name.
struct ScenarioMark {
  int line = 0;
  std::string label;
  std::vector<std::pair<std::string, uint64_t>> names;
  uint64_t pointer(const std::string& name) const { // 0: no such name (or NULL)
    for (const auto& [n, p] : names)
      if (n == name) return p;
    return 0;
  }
};

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
  // The allocator policy later scenarios are simulated on (sim/policy.h: "glibc", the default).
  // An unknown name makes opening a scenario fail with the list of the known ones.
  void set_scenario_policy(const std::string& name) { scenario_policy_ = name; }
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
  // corrupt block, a scenario error after some operations) or how it is shown (an allocator
  // policy this heapviz does not know), or "" when all is well.
  std::string error() const;
  // Ready: error() says only that the file ends in a torn block (the process died mid-write): a
  // readable prefix, the normal end of a killed program, which readers report and exit 0 on.
  bool only_truncated() const;

  // Ready only:
  const trace::TraceFile& file() const { return file_; }
  // The allocator that wrote the trace, from its header's policy field (also set, on the loading
  // thread, before the replay starts: previews may use it).
  const model::PolicyInfo& policy() const { return policy_; }
  model::Replay& replay() { return *replay_; }
  const model::Replay& replay() const { return *replay_; }
  EventIndex& index() { return *index_; }
  const EventIndex& index() const { return *index_; }
  uint64_t events() const { return replay_ ? replay_->size() : 0; }
  uint64_t position() const { return replay_ ? replay_->position() : 0; }
  // Moves the replay to position n (clamped to [0, events()]). Ready only.
  void seek(uint64_t n);
  // Keeps the trace's resident pages bounded (issue 20): what the readers touch stays mapped
  // (the seeks' replays, the searches' passes over every group), so once the process's
  // file-backed resident memory has grown kTraceResidentBudget past what it was when the trace
  // became ready, every page of the trace is released (the next read takes it back from the
  // page cache). Cheap enough for every frame: it reads /proc/self/status at most every 100 ms.
  // Called by seek() and by the app's frame; nothing while loading (the passes release their own).
  static constexpr uint64_t kTraceResidentBudget = 48ull << 20;
  void trim_pages();
  uint64_t pages_trimmed() const { return trims_; } // how many times trim_pages() released
  // A search of the events on a thread of its own (a chunk's history, the Events filter), kept
  // track of here: close() stops it for good, extend() stops it while the index grows and
  // resumes it over the new events. The caller keeps the job; dropping it stops it. Ready only.
  std::shared_ptr<QueryJob> query(const analysis::Filter& f, size_t max_matches = SIZE_MAX);
  // Whether a job from query() is still searching (`heapviz shot` waits for none).
  bool searching();
  void wait_searches(); // blocks until no job from query() searches
  const std::vector<SeriesPoint>& series() const { return summary_.series(); }
  // What the loading pass counted: events by type, peaks, time span, the timeline's curves.
  const analysis::TraceSummary& summary() const { return summary_; }
  // The trace's call stacks (its STACK and MODULE events), read by the loading pass. Ready only.
  // A malformed record stops the reading of stacks (not of the heap): stacks_error() says where.
  const trace::StackTable& stacks() const { return stacks_; }
  const std::string& stacks_error() const { return stacks_error_; }
  // A scenario's names at each of its marks, in order (the index's marks()). Ready only.
  const std::vector<ScenarioMark>& scenario_marks() const { return scenario_marks_; }
  // The policy a scenario is simulated on ("glibc" unless set_scenario_policy said otherwise).
  const std::string& scenario_policy() const { return scenario_policy_; }
  // The heap errors the trace records (ERROR events and their reports), each with its event.
  // Built by a second pass only when the loading pass counted an ERROR event. Ready only.
  const ErrorList& errors() const { return errors_; }
  // Changes on every open(), unique among all documents: what views keep of a document (its
  // sites) is for one generation.
  uint64_t generation() const { return generation_; }
  // Loading time of the last open, in seconds (file, replay and index), once Ready.
  double load_seconds() const { return load_seconds_; }
  // Ready, a file opened with open_prefix() that has grown (a live capture's next sync): takes
  // its first max_bytes, replaying and indexing only the new events, on the calling thread (the
  // UI's: the replay, index and summary grow in place, so what views hold stays valid). The
  // replay is left at the new end: seek() where the user should be. Grown: done; Same: nothing
  // new; Reopen: the file cannot be extended (it shrank, was replaced, or is a scenario): open it
  // afresh. max_events bounds the work of one call (the UI thread's frame): catching_up() then
  // says that more events are waiting, and the next call goes on with them even if the file has
  // not grown again.
  trace::TraceFile::Growth extend(uint64_t max_bytes, uint64_t max_events = UINT64_MAX);
  bool catching_up() const { return replay_ && replay_->behind(); }
  double extend_seconds() const { return extend_seconds_; } // the last extend()'s time

private:
  void load(); // the loading thread's body
  void fail(const std::string& msg);
  std::string partial_note() const;

  std::string path_;
  uint64_t max_bytes_ = UINT64_MAX;
  // Written by the loading thread, read by progress() and is_scenario() on the UI thread.
  std::atomic<bool> scenario_{false};
  std::atomic<uint64_t> expected_{0}; // events the block index announces
  std::string scenario_policy_ = "glibc";
  std::vector<ScenarioMark> scenario_marks_;
  trace::TraceFile file_;
  model::PolicyInfo policy_;
  std::unique_ptr<model::Replay> replay_;
  std::unique_ptr<EventIndex> index_;
  std::thread thread_;
  std::atomic<State> state_{State::Empty};
  std::atomic<bool> cancel_{false};
  std::atomic<int> phase_{0};     // 0 opening, 1 replaying and indexing
  std::atomic<uint64_t> done_{0}; // events replayed (and indexed)
  mutable std::mutex mu_;         // guards error_
  std::string error_;
  analysis::TraceSummary summary_;
  trace::StackTable stacks_;
  std::string stacks_error_;
  ErrorList errors_;
  uint64_t generation_ = 0;
  long file_rss_base_kb_ = -1; // RssFile when the trace became ready (trim_pages)
  std::chrono::steady_clock::time_point next_trim_{};
  uint64_t trims_ = 0;
  // Feeds a STACK or MODULE event to stacks_ (until one is malformed).
  void add_stack_event(const trace::Event& e) {
    if ((e.type == trace::Ev::Stack || e.type == trace::Ev::Module) && stacks_error_.empty())
      stacks_.add(e, &stacks_error_);
  }
  std::vector<std::weak_ptr<QueryJob>> jobs_; // from query(): the UI thread's
  PreviewFn preview_;
  double preview_interval_ = 0.25;
  double load_seconds_ = 0, extend_seconds_ = 0;
  std::string policy_warning_; // the header's policy is not one this heapviz knows
  std::string scenario_note_;  // a scenario's error after some operations
};

} // namespace hv::session
