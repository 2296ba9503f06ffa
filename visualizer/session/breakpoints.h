// breakpoints.h - "run to" conditions: where play, a seek or a run stops, forward or backward.
//
// Owns: the conditions (on an error; on event kinds; on a chunk address being touched, by
// analysis::touches; on a size range; on a site: a function name in the event's call stack) and
// BreakSearch, which finds the first event on the way that meets any of them, a time budget at
// a time (as analysis::QueryScan does), so that a search over a big trace never stalls a frame.
// Groups of events with none of the kinds a condition can match are skipped unread.
// Must not: include ImGui or GL, seek the document (the app seeks where the search stopped), or
// symbolize (the caller says whether a stack has the function: SiteView's frames in the app).
#pragma once

#include "analysis/event_query.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace hv::session {

struct Breakpoints {
  bool on_error = true;  // an ERROR event (a heap error the allocator detected)
  bool on_kinds = false; // an event of one of `kinds` (analysis::Kind bits)
  uint32_t kinds = analysis::kKindFree;
  bool on_addr = false; // an event that touches the chunk holding `addr` (analysis::touches)
  uint64_t addr = 0;
  bool on_size = false; // an event whose size (or second size) is in [size_lo, size_hi]
  uint64_t size_lo = 0, size_hi = 0;
  bool on_site = false; // an API event whose call stack has a frame whose function contains `function`
  std::string function;
  // Where they apply: play stops at the first event that meets one; a seek (timeline, keys)
  // stops on the way there.
  bool stop_play = true, stop_seeks = false;

  bool any() const { return on_error || on_kinds || on_addr || on_size || (on_site && !function.empty()); }
  // The kinds of event any condition can match (a group without them is skipped).
  uint32_t kinds_wanted() const;
};

// Whether stack `stack` has a frame whose function contains the name (the caller symbolizes and
// caches: SiteView::stack_frames in the app).
using StackHasFunction = std::function<bool(uint32_t stack, const std::string& function)>;

// Whether e meets one of the conditions (has_function: for on_site; nullptr: never a site match).
bool breaks_at(const trace::Event& e, const Breakpoints& b, const StackHasFunction& has_function);

class BreakSearch {
public:
  enum class State { Idle, Searching, Found, NotFound };
  // Looks at events `from`, from + 1, ... up to `to` (forward: from <= to) or from, from - 1,
  // ... down to `to` (backward: to <= from), both ends included, for the first that meets b.
  void start(const Breakpoints& b, uint64_t from, uint64_t to, bool forward);
  void clear() { state_ = State::Idle; }
  // Searches on for about budget_ms (0: to the end). Returns state().
  State step(analysis::EventSource& src, const StackHasFunction& has_function, double budget_ms);
  State state() const { return state_; }
  bool searching() const { return state_ == State::Searching; }
  bool forward() const { return forward_; }
  uint64_t found() const { return found_; } // Found: the event's index
  // How far it has looked: the next event it will read (forward) or the last one it read.
  uint64_t reached() const { return next_; }
  uint64_t from() const { return from_; }
  uint64_t to() const { return to_; }
  // The share of the range looked at, 0..1.
  double progress() const;

private:
  Breakpoints b_;
  uint32_t kinds_ = 0;
  bool forward_ = true;
  uint64_t from_ = 0, to_ = 0, next_ = 0, found_ = 0;
  State state_ = State::Idle;
  std::vector<trace::Event> buf_;
};

} // namespace hv::session
