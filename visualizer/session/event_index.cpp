// event_index.cpp - positions, kinds and marks of a trace's events (see event_index.h).
#include "session/event_index.h"

#include <algorithm>

namespace hv::session {

using trace::Ev;

EventIndex::EventIndex(const trace::TraceFile& file) : file_(file), stream_(file) {}

bool EventIndex::build(std::atomic<uint64_t>* progress, const std::atomic<bool>* cancel) {
  starts_.clear();
  kinds_.clear();
  marks_.clear();
  uint64_t i = 0;
  starts_.push_back(stream_.save());
  kinds_.push_back(0);
  std::vector<uint32_t> tids;
  uint32_t last_tid = ~0u;
  uint64_t released = 0; // file pages behind the pass are dropped from memory as it goes
  while (const Event* e = stream_.next()) {
    if (i == 0) t0_ = e->ts;
    if (e->offset > released + (96u << 20)) {
      file_.release(released, e->offset - (32u << 20));
      released = e->offset - (32u << 20);
    }
    kinds_.back() |= kind_of(*e);
    if (e->type == Ev::Mark)
      marks_.push_back(
          MarkInfo{i, std::string(reinterpret_cast<const char*>(e->data), size_t(e->data_end - e->data))});
    if (e->tid != last_tid) {
      last_tid = e->tid;
      if (std::find(tids.begin(), tids.end(), e->tid) == tids.end()) tids.push_back(e->tid);
    }
    ++i;
    if (i % kGroup == 0) {
      starts_.push_back(stream_.save());
      kinds_.push_back(0);
      if (progress) progress->store(i, std::memory_order_relaxed);
      if (cancel && cancel->load(std::memory_order_relaxed)) return false;
    }
  }
  total_ = i;
  threads_ = std::move(tids);
  if (progress) progress->store(i, std::memory_order_relaxed);
  stream_next_ = total_;
  return true;
}

bool EventIndex::seek_to(uint64_t i) {
  if (i > total_) return false;
  if (i == stream_next_) return true;
  uint64_t g = i / kGroup;
  if (!(stream_next_ <= i && stream_next_ / kGroup == g)) {
    stream_.restore(starts_[g]);
    stream_next_ = g * kGroup;
  }
  while (stream_next_ < i) {
    if (!stream_.next()) return false;
    ++stream_next_;
  }
  return true;
}

void EventIndex::read(uint64_t first, uint64_t count, std::vector<Event>* out) {
  out->clear();
  if (first >= total_) return;
  count = std::min(count, total_ - first);
  if (!seek_to(first)) return;
  for (uint64_t k = 0; k < count; ++k) {
    const Event* e = stream_.next();
    if (!e) break;
    ++stream_next_;
    Event c = *e;
    c.data = c.data_end = nullptr;
    out->push_back(c);
  }
}

Event EventIndex::at(uint64_t i) {
  std::vector<Event> one;
  read(i, 1, &one);
  return one.empty() ? Event{} : one[0];
}

int64_t EventIndex::find_next(uint64_t from, uint32_t mask) {
  uint64_t i = from;
  while (i < total_) {
    uint64_t g = i / kGroup;
    if (!(kinds_[g] & mask)) {
      i = (g + 1) * kGroup;
      continue;
    }
    if (!seek_to(i)) return -1;
    uint64_t end = std::min(total_, (g + 1) * kGroup);
    for (; i < end; ++i) {
      const Event* e = stream_.next();
      if (!e) return -1;
      ++stream_next_;
      if (kind_of(*e) & mask) return int64_t(i);
    }
  }
  return -1;
}

int64_t EventIndex::find_prev(uint64_t from, uint32_t mask) {
  if (total_ == 0) return -1;
  int64_t i = int64_t(std::min(from, total_ - 1));
  while (i >= 0) {
    uint64_t g = uint64_t(i) / kGroup;
    if (kinds_[g] & mask) {
      // Scan the group's events up to i; remember the last match.
      if (!seek_to(g * kGroup)) return -1;
      int64_t found = -1;
      for (uint64_t k = g * kGroup; k <= uint64_t(i); ++k) {
        const Event* e = stream_.next();
        if (!e) return found;
        ++stream_next_;
        if (kind_of(*e) & mask) found = int64_t(k);
      }
      if (found >= 0) return found;
    }
    i = int64_t(g * kGroup) - 1;
  }
  return -1;
}

} // namespace hv::session
