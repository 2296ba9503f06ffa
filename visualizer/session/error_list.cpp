// error_list.cpp - see error_list.h.
#include "session/error_list.h"

#include "model/heap_model.h"
#include "trace/event_stream.h"

#include <algorithm>
#include <chrono>

namespace hv::session {

bool ErrorList::build(const trace::TraceFile& file, const model::PolicyInfo& policy, uint64_t events,
                      model::Replay& replay, const std::atomic<bool>* cancel) {
  auto t0 = std::chrono::steady_clock::now();
  log_ = std::make_unique<analysis::ErrorLog>(policy);
  events_.clear();
  problem_.clear();
  const model::HeapModel none; // what the log is given where it does not look at the heap
  trace::EventStream stream(file);
  std::string err;
  uint64_t i = 0, released = 0;
  for (; i < events; ++i) {
    const trace::Event* e = stream.next();
    if (!e) break;
    if (e->offset > released + (96u << 20)) { // as the loading pass: pages behind are dropped
      file.release(released, e->offset - (32u << 20));
      released = e->offset - (32u << 20);
    }
    const bool heap = e->type == trace::Ev::Error || e->type == trace::Ev::ErrorReport;
    if (heap) replay.seek(i + 1); // the heap after this event, as the log wants it
    if (!log_->add(*e, heap ? replay.model() : none, &err) && problem_.empty()) problem_ = err;
    note(i);
    if ((i & 0xffff) == 0xffff && cancel && cancel->load(std::memory_order_relaxed)) return false;
  }
  build_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return true;
}

void ErrorList::add(const trace::Event& e, uint64_t i, const model::HeapModel& m) {
  if (!log_) return;
  std::string err;
  if (!log_->add(e, m, &err) && problem_.empty()) problem_ = err;
  note(i);
}

void ErrorList::note(uint64_t i) {
  while (events_.size() < log_->errors().size())
    events_.push_back(i);
}

int64_t ErrorList::find_event(uint64_t i) const {
  auto it = std::lower_bound(events_.begin(), events_.end(), i);
  return it != events_.end() && *it == i ? int64_t(it - events_.begin()) : -1;
}

} // namespace hv::session
