// errors.cpp - see errors.h.
#include "analysis/errors.h"

#include <cinttypes>
#include <cstdio>

namespace hv::analysis {

using trace::Ev;

bool ErrorLog::add(const trace::Event& e, const model::HeapModel& m, std::string* error) {
  switch (e.type) {
  case Ev::Malloc:
  case Ev::Calloc:
  case Ev::Memalign:
  case Ev::Realloc: {
    last_[e.tid] = LastCall{e.seq, e.stack};
    if (e.type == Ev::Realloc && e.old_ptr() && e.old_ptr() != e.ptr() && (e.ptr() || e.size == 0)) {
      History& h = blocks_[e.old_ptr()]; // moved (or realloc(p, 0)): the old block is freed
      h.prior_free_seq = h.free_seq;
      h.prior_free_stack = h.free_stack;
      h.prior_freed = h.freed;
      h.free_seq = e.seq;
      h.free_stack = e.stack;
      h.freed = true;
    }
    if (e.ptr()) {
      History& h = blocks_[e.ptr()];
      h = History{};
      h.alloc_seq = e.seq;
      h.alloc_stack = e.stack;
      h.requested = e.type == Ev::Calloc ? e.count() * e.size : e.size;
    }
    return true;
  }
  case Ev::Free:
  case Ev::FreeTcache: {
    last_[e.tid] = LastCall{e.seq, e.stack};
    auto it = blocks_.find(e.ptr()); // (a pointer no call returned: an invalid free, no block's history)
    if (it == blocks_.end()) return true;
    History& h = it->second;
    h.prior_free_seq = h.free_seq;
    h.prior_free_stack = h.free_stack;
    h.prior_freed = h.freed;
    h.free_seq = e.seq;
    h.free_stack = e.stack;
    h.freed = true;
    return true;
  }
  case Ev::Error:
    on_error(e, m);
    return true;
  case Ev::ErrorReport: {
    if (errors_.empty() || errors_.back().has_report || errors_.back().tid != e.tid) return true;
    HeapError& h = errors_.back();
    trace::ErrorReport r;
    if (!trace::read_error_report(e, &r, error)) return false;
    h.report = std::move(r);
    h.has_report = true;
    h.stack = h.report.stack; // (0: outside any call, as the checks at exit, or no stacks recorded)
    if (!h.report.bytes.empty() && h.report.chunk) h.address = h.report.chunk + h.report.bytes[0].offset;
    locate(h, m);
    return true;
  }
  default:
    return true;
  }
}

void ErrorLog::on_error(const trace::Event& e, const model::HeapModel& m) {
  HeapError h;
  h.seq = e.seq;
  h.offset = e.offset;
  h.tid = e.tid;
  h.code = e.error_code();
  h.address = e.addr;
  h.report.kind = trace::error_kind_of(h.code);
  h.report.ptr = e.addr;
  auto s = last_.find(e.tid); // the thread's latest call: a free's own event comes before its error
  if (s != last_.end()) {
    h.call_seq = s->second.seq;
    h.stack = s->second.stack; // (an older trace's only clue; the report says better)
  }
  h.report.stack = h.stack;
  locate(h, m);
  errors_.push_back(std::move(h));
}

// The block the error names: the user pointer the check saw, else the chunk its report names,
// else the chunk that holds the address, else the one just below it (an overflow past its end).
void ErrorLog::locate(HeapError& h, const model::HeapModel& m) const {
  const uint64_t hdr = policy_.header_bytes;
  const model::Chunk* c = nullptr;
  uint64_t user = 0;
  if (h.report.chunk) c = m.find(h.report.chunk);
  if (!c && h.address >= hdr) c = m.find(h.address - hdr);
  if (!c && blocks_.count(h.report.ptr) && h.report.ptr >= hdr) { // a freed block merged away
    user = h.report.ptr;
  }
  if (!c) {
    const model::Chunk* below = nullptr;
    uint64_t a = user ? user : h.address;
    m.for_each_chunk([&](const model::Chunk& k) {
      if (k.addr <= a && a < k.addr + k.size) c = &k;
      if (k.addr <= a && (!below || k.addr > below->addr)) below = &k;
    });
    if (!c && below && a - (below->addr + below->size) < 4096) c = below;
  }
  h.has_block = c || user;
  if (!h.has_block) return;
  if (c) {
    h.chunk = c->addr;
    h.chunk_size = c->size;
    h.state = c->state;
  }
  h.user = user ? user : policy_.user_pointer(h.chunk);
  h.requested = c && c->req ? c->req : 0;
  // An overflow into this block's own header: the block that ends at it wrote past its end.
  bool own_header = false;
  if (h.report.kind == trace::HeapErrorKind::HeapBufferOverflow && c)
    for (const trace::ErrorBytes& r : h.report.bytes)
      own_header |= h.chunk + r.offset < h.user;
  if (own_header) {
    const model::Chunk* before = nullptr;
    m.for_each_chunk([&](const model::Chunk& k) {
      if (k.addr + k.size == h.chunk && k.state == uint8_t(trace::ChunkState::InUse)) before = &k;
    });
    if (before) {
      h.has_writer = true;
      h.writer_user = policy_.user_pointer(before->addr);
      h.writer_requested = before->req;
      auto w = blocks_.find(h.writer_user);
      if (w != blocks_.end()) {
        h.writer_alloc_seq = w->second.alloc_seq;
        h.writer_alloc_stack = w->second.alloc_stack;
        if (!h.writer_requested) h.writer_requested = w->second.requested;
      }
    }
  }
  auto it = blocks_.find(h.user);
  if (it == blocks_.end()) return;
  const History& b = it->second;
  if (!h.requested) h.requested = b.requested;
  h.alloc_seq = b.alloc_seq;
  h.alloc_stack = b.alloc_stack;
  // The faulting call may be this block's own free (a double free, or a check at free): its free
  // is then the one before.
  // (A report says whether the call is a free whose event came first; without one, an older trace:
  // the thread's latest call is taken to be the faulting one when it freed this block.)
  bool own_call = h.has_report ? (h.report.flags & trace::kErrorCallWritten) != 0 : true;
  bool own = own_call && b.freed && b.free_seq && h.call_seq == b.free_seq;
  h.freed = own ? b.prior_freed : b.freed;
  h.free_seq = own ? b.prior_free_seq : (b.freed ? b.free_seq : 0);
  h.free_stack = own ? b.prior_free_stack : (b.freed ? b.free_stack : 0);
  if (h.free_seq < h.alloc_seq) { // freed before its latest allocation: not this block's free
    h.free_seq = 0;
    h.free_stack = 0;
    h.freed = false;
  }
}

std::string where_text(const HeapError& h) {
  char buf[200];
  if (!h.has_block) {
    snprintf(buf, sizeof buf, "0x%" PRIx64 " is not in any block of the heap", h.address);
    return buf;
  }
  const char* freed = h.freed ? "freed " : "";
  int64_t d = h.delta();
  if (d < 0)
    snprintf(buf, sizeof buf, "0x%" PRIx64 " is %" PRId64 " bytes before a %sblock of %" PRIu64 " bytes",
             h.address, -d, freed, h.requested);
  else if (h.requested && uint64_t(d) >= h.requested)
    snprintf(buf, sizeof buf, "0x%" PRIx64 " is %" PRIu64 " bytes after a %sblock of %" PRIu64 " bytes",
             h.address, uint64_t(d) - h.requested, freed, h.requested);
  else
    snprintf(buf, sizeof buf, "0x%" PRIx64 " is %" PRId64 " bytes inside a %sblock of %" PRIu64 " bytes",
             h.address, d, freed, h.requested);
  return buf;
}

} // namespace hv::analysis
