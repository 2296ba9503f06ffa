// error_list.h - the heap errors of the open document (analysis::ErrorLog) and the event each
// one is, for the Errors window, the timeline's marks and the map's corrupted bytes.
//
// Owns: the pass that feeds an ErrorLog (its own EventStream, on the loading thread), run only
// for a trace whose loading pass counted an ERROR event, so that a trace without errors loads as
// fast as before. The log needs the heap only at ERROR and ERROR_REPORT events: there the
// document's replay is sought to the event (checkpoints make that cheap), so the pass applies no
// model of its own. Also: the event index (0-based) of each error; feeding the log the events of
// a live file that grows (Document::extend's callback).
// Must not: include ImGui or GL, symbolize (the views do, through SiteView), or tie errors to
// blocks itself (analysis/errors.h does).
#pragma once

#include "analysis/errors.h"
#include "model/replay.h"
#include "trace/trace_file.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace hv::session {

class ErrorList {
public:
  // The log from the trace's first `events` events (a pass of its own; `replay`, the file's, is
  // sought to each error and left where the last one is). False when *cancel became true. A
  // malformed report is kept in problem() (the error stays listed, without it).
  bool build(const trace::TraceFile& file, const model::PolicyInfo& policy, uint64_t events,
             model::Replay& replay, const std::atomic<bool>* cancel = nullptr);
  // One more event (index i, in order) with the model after it: a live file that grew. Only once
  // built (a log needs every block's history from the start).
  void add(const trace::Event& e, uint64_t i, const model::HeapModel& m);
  bool built() const { return log_ != nullptr; }

  size_t size() const { return log_ ? log_->errors().size() : 0; }
  bool empty() const { return size() == 0; }
  const analysis::HeapError& at(size_t k) const { return log_->errors()[k]; }
  // The event index (0-based) of error k: the position that shows it is event(k) + 1.
  uint64_t event(size_t k) const { return events_[k]; }
  // The error whose event is index i, or -1.
  int64_t find_event(uint64_t i) const;
  const std::string& problem() const { return problem_; }
  double build_seconds() const { return build_seconds_; }

private:
  void note(uint64_t i); // error(s) the last add() listed were event i
  std::unique_ptr<analysis::ErrorLog> log_;
  std::vector<uint64_t> events_; // ascending
  std::string problem_;
  double build_seconds_ = 0;
};

} // namespace hv::session
