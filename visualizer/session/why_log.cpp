// why_log.cpp - the stories of a document's allocations, built in the background (see why_log.h).
#include "session/why_log.h"

namespace hv::session {

void WhyLog::stop() {
  cancel_.store(true);
  if (worker_.joinable()) worker_.join();
  cancel_.store(false);
}

void WhyLog::start(const Document& doc) {
  if (doc.state() != Document::State::Ready) return;
  if (doc_ == &doc && generation_ == doc.generation() && events_ == doc.events() &&
      (worker_.joinable() || ready()))
    return;
  stop();
  doc_ = &doc;
  generation_ = doc.generation();
  events_ = doc.events();
  done_.store(false);
  stories_.clear();
  note_.clear();
  if (events_ > kMaxEvents) {
    note_ = "no \"why\" for a trace of more than " + std::to_string(kMaxEvents >> 20) + " M events";
    done_.store(true, std::memory_order_release);
    return;
  }
  worker_ = std::thread([this, &doc] {
    std::vector<analysis::CallStory> out;
    std::string err;
    if (analysis::explain_trace(doc.file(), events_, &out, &err, &cancel_))
      stories_ = std::move(out);
    else
      note_ = err;
    done_.store(true, std::memory_order_release);
  });
}

const analysis::CallStory* WhyLog::at_event(uint64_t event) const {
  return ready() ? analysis::find_story(stories_, event) : nullptr;
}
const analysis::CallStory* WhyLog::at_seq(uint64_t seq) const {
  return ready() ? analysis::find_story_by_seq(stories_, seq) : nullptr;
}

} // namespace hv::session
