// event_index.cpp - positions, kinds and marks of a trace's events (see event_index.h).
#include "session/event_index.h"

#include <algorithm>

namespace hv::session {

using trace::Ev;

EventIndex::EventIndex(const trace::TraceFile& file) : file_(file), stream_(file) {}

void EventIndex::add_position(uint64_t pos, const trace::EventStream::Position& p) {
  if (!start_at_.empty() && pos <= start_at_.back()) return; // one per place, in order
  start_at_.push_back(pos);
  starts_.push_back(p);
}

void EventIndex::add_mark(uint64_t i, const Event& e) {
  marks_.push_back(
      MarkInfo{i, std::string(reinterpret_cast<const char*>(e.data), size_t(e.data_end - e.data))});
}

void EventIndex::add_thread(uint32_t tid) {
  last_tid_ = tid;
  if (std::find(threads_.begin(), threads_.end(), tid) == threads_.end()) threads_.push_back(tid);
}

void EventIndex::refresh_blocks() {
  stream_.refresh_blocks();
}

bool EventIndex::build(std::atomic<uint64_t>* progress, const std::atomic<bool>* cancel) {
  uint64_t released = 0; // file pages behind the pass are dropped from memory as it goes
  add_position(total_, stream_.save());
  while (const Event* e = stream_.next()) {
    if (e->offset > released + (96u << 20)) {
      file_.release(released, e->offset - (32u << 20));
      released = e->offset - (32u << 20);
    }
    add(*e);
    if (total_ % kGroup == 0) {
      add_position(total_, stream_.save());
      if (progress) progress->store(total_, std::memory_order_relaxed);
      if (cancel && cancel->load(std::memory_order_relaxed)) return false;
    }
  }
  if (progress) progress->store(total_, std::memory_order_relaxed);
  stream_next_ = total_;
  return true;
}

bool EventIndex::seek_to(trace::EventStream& s, uint64_t* s_next, uint64_t i) const {
  if (i > total_ || start_at_.empty()) return false;
  if (i == *s_next) return true;
  size_t k = size_t(std::upper_bound(start_at_.begin(), start_at_.end(), i) - start_at_.begin()) - 1;
  if (!(*s_next <= i && *s_next >= start_at_[k])) {
    s.restore(starts_[k]);
    *s_next = start_at_[k];
  }
  while (*s_next < i) {
    if (!s.next()) return false;
    ++*s_next;
  }
  return true;
}

void EventIndex::read(trace::EventStream& s, uint64_t* s_next, uint64_t first, uint64_t count,
                      std::vector<Event>* out) const {
  out->clear();
  if (first >= total_) return;
  count = std::min(count, total_ - first);
  if (!seek_to(s, s_next, first)) return;
  for (uint64_t k = 0; k < count; ++k) {
    const Event* e = s.next();
    if (!e) break;
    ++*s_next;
    Event c = *e;
    c.data = c.data_end = nullptr;
    out->push_back(c);
  }
}

uint64_t EventIndex::visit(trace::EventStream& s, uint64_t* s_next, uint64_t first, uint64_t count,
                           const std::function<void(const Event&)>& f) const {
  if (first >= total_) return 0;
  count = std::min(count, total_ - first);
  if (!seek_to(s, s_next, first)) return 0;
  uint64_t k = 0;
  for (; k < count; ++k) {
    const Event* e = s.next();
    if (!e) break;
    ++*s_next;
    f(*e);
  }
  return k;
}

void EventIndex::read(uint64_t first, uint64_t count, std::vector<Event>* out) {
  read(stream_, &stream_next_, first, count, out);
}

uint64_t EventIndex::memory_bytes() const {
  return start_at_.capacity() * sizeof(uint64_t) + starts_.capacity() * sizeof(trace::EventStream::Position) +
         kinds_.capacity() * sizeof(uint32_t) + summaries_.capacity() * sizeof(analysis::GroupSummary);
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
