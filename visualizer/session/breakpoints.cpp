// breakpoints.cpp - see breakpoints.h.
#include "session/breakpoints.h"

#include <algorithm>
#include <chrono>

namespace hv::session {

using namespace analysis;

uint32_t Breakpoints::kinds_wanted() const {
  uint32_t k = 0;
  if (on_error) k |= kKindError;
  if (on_kinds) k |= kinds;
  if (on_addr || on_size) k |= kAllKinds;
  if (on_site && !function.empty()) k |= kKindAlloc | kKindFree; // the API events carry stacks
  return k;
}

bool breaks_at(const trace::Event& e, const Breakpoints& b, const StackHasFunction& has_function) {
  const uint32_t k = kind_of(e);
  if (b.on_error && (k & kKindError)) return true;
  if (b.on_kinds && (k & b.kinds)) return true;
  if (b.on_addr && touches(e, b.addr)) return true;
  if (b.on_size && e.type != trace::Ev::Unknown &&
      ((e.size >= b.size_lo && e.size <= b.size_hi) || (e.size2 >= b.size_lo && e.size2 <= b.size_hi)))
    return true;
  if (b.on_site && !b.function.empty() && e.stack && (k & (kKindAlloc | kKindFree)) && has_function &&
      has_function(e.stack, b.function))
    return true;
  return false;
}

void BreakSearch::start(const Breakpoints& b, uint64_t from, uint64_t to, bool forward) {
  b_ = b;
  kinds_ = b.kinds_wanted();
  forward_ = forward;
  from_ = next_ = from;
  to_ = to;
  found_ = 0;
  state_ = !b.any() || (forward ? from > to : to > from) ? State::NotFound : State::Searching;
}

double BreakSearch::progress() const {
  uint64_t span = forward_ ? to_ - from_ + 1 : from_ - to_ + 1;
  uint64_t done = forward_ ? next_ - from_ : from_ - next_;
  return state_ == State::Searching ? double(done) / double(span) : 1.0;
}

BreakSearch::State BreakSearch::step(EventSource& src, const StackHasFunction& has_function,
                                     double budget_ms) {
  if (state_ != State::Searching) return state_;
  auto t0 = std::chrono::steady_clock::now();
  const uint64_t g = src.group_size(), n = src.event_count();
  auto over = [&] {
    return budget_ms > 0 &&
           std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() >
               budget_ms;
  };
  if (forward_) {
    const uint64_t end = std::min(to_ + 1, n); // past the last event to look at
    while (next_ < end) {
      if (!(src.kinds_in_group(next_ / g) & kinds_)) {
        next_ = (next_ / g + 1) * g;
        continue;
      }
      uint64_t count = std::min(g - next_ % g, end - next_);
      src.read_events(next_, count, &buf_);
      if (buf_.empty()) break;
      for (size_t k = 0; k < buf_.size(); ++k)
        if (breaks_at(buf_[k], b_, has_function)) {
          found_ = next_ + k;
          return state_ = State::Found;
        }
      next_ += buf_.size();
      if (over()) return state_;
    }
    return state_ = State::NotFound;
  }
  // Backward: a group at a time, from its start up to next_, keeping the last match.
  if (n == 0) return state_ = State::NotFound;
  next_ = std::min(next_, n - 1);
  for (;;) {
    if (next_ < to_) return state_ = State::NotFound;
    const uint64_t grp = next_ / g, lo = std::max(grp * g, to_);
    if (src.kinds_in_group(grp) & kinds_) {
      src.read_events(lo, next_ - lo + 1, &buf_);
      for (size_t k = buf_.size(); k-- > 0;)
        if (breaks_at(buf_[k], b_, has_function)) {
          found_ = lo + k;
          return state_ = State::Found;
        }
    }
    if (lo == 0 || lo <= to_) return state_ = State::NotFound;
    next_ = lo - 1;
    if (over()) return state_;
  }
}

} // namespace hv::session
