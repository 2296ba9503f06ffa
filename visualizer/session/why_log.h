// why_log.h - the "why" of every allocation of the document's trace (analysis/why.h), built on a
// thread of its own after the document loads, for the event list, the inspector and predict mode.
//
// Owns: that thread and the stories once built. Must not: draw, or touch the document's replay
// (it reads the trace file with a stream and a model of its own).
#pragma once

#include "analysis/why.h"
#include "session/document.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace hv::session {

class WhyLog {
public:
  // Traces longer than this get no stories (one pass over every event: about 100 ns an event).
  static constexpr uint64_t kMaxEvents = uint64_t(8) << 20;
  WhyLog() = default;
  ~WhyLog() { stop(); }
  WhyLog(const WhyLog&) = delete;
  WhyLog& operator=(const WhyLog&) = delete;

  // Starts building for a ready document (again, if it is another one or it grew). The document
  // must outlive the build (stop() before it goes).
  void start(const Document& doc);
  void stop();
  void wait() {
    if (worker_.joinable()) worker_.join();
  } // until built (shot)
  bool ready() const { return done_.load(std::memory_order_acquire); }
  // Why the allocation at event index `event` (or with allocating sequence number `seq`) landed
  // where it did; nullptr while building, past kMaxEvents, or for an event that allocates nothing.
  const analysis::CallStory* at_event(uint64_t event) const;
  const analysis::CallStory* at_seq(uint64_t seq) const;
  const std::vector<analysis::CallStory>& stories() const { return ready() ? stories_ : empty_; }
  // "" or why there are none (a trace too long).
  const std::string& note() const { return note_; }

private:
  std::thread worker_;
  std::atomic<bool> done_{false}, cancel_{false};
  const Document* doc_ = nullptr;
  uint64_t generation_ = 0, events_ = 0;
  std::vector<analysis::CallStory> stories_, empty_;
  std::string note_;
};

} // namespace hv::session
