// event_query.h - which events a user asks for: the event kinds, the filter (kind, address,
// size, thread), the one rule for "this event touches that chunk", and an incremental scan that
// finds the matching positions a time budget at a time.
//
// Owns: the kind bits (from the event table's EvKind), the filter and its text parsers (the same
// words for `heapviz dump` options and the app's filter bar), touches(), matches(), QueryScan.
// Must not: read files itself (it reads through an EventSource), apply events, or draw.
#pragma once

#include "trace/event_decoder.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace hv::analysis {

using trace::Event;

// What an event is, for jumping and filtering: one bit each, in the order of trace::EvKind.
enum Kind : uint32_t {
  kKindAlloc = 1u << 0, // malloc, calloc, realloc, memalign (the API call and its result)
  kKindFree = 1u << 1,  // free (also the tcache fast path)
  kKindSplit = 1u << 2,
  kKindMerge = 1u << 3,
  kKindBin = 1u << 4,    // a chunk into or out of a bin
  kKindTop = 1u << 5,    // top moved, fenceposts
  kKindGrow = 1u << 6,   // memory taken from the OS: sbrk up, new heap, heap resize, mmap
  kKindTrim = 1u << 7,   // memory returned: trim, sbrk down, munmap, heap freed
  kKindError = 1u << 8,  // a heap error the allocator detected
  kKindMark = 1u << 9,   // hv_mark / `mark` in a scenario
  kKindChunk = 1u << 10, // other chunk changes: handed out, given back, realloc in place / moved
  kKindOther = 1u << 11, // arena switches, snapshots, stacks, unknown extension events
};
inline constexpr int kKindCount = 12;
static_assert(kKindCount == trace::kNumEvKinds && kKindOther == 1u << unsigned(trace::EvKind::Other) &&
                  kKindChunk == 1u << unsigned(trace::EvKind::Chunk) &&
                  kKindAlloc == 1u << unsigned(trace::EvKind::Alloc),
              "the kinds are the event table's EvKind bits");
inline constexpr uint32_t kAllKinds = (1u << kKindCount) - 1;
const char* kind_name(int bit); // "alloc", "free", ... for bit index 0..kKindCount-1
// The event table's kind; an sbrk that gives memory back is a trim.
inline uint32_t kind_of(const Event& e) {
  if (e.type == trace::Ev::Sbrk && e.delta < 0) return kKindTrim;
  if (e.type == trace::Ev::Unknown) return kKindOther;
  return 1u << unsigned(e.info().kind);
}

// Which sizes a size filter compares: either (what an event carries: a call's requested size,
// a chunk event's chunk size), the requested size only (the API calls'), or the chunk size only
// (chunk events'). The event table says which field is which (FieldCodec U and C).
enum class SizeOf : uint8_t { Any, Request, Chunk };

struct Filter {
  uint32_t kinds = kAllKinds;
  bool has_addr = false, has_size = false, has_tid = false;
  SizeOf size_of = SizeOf::Any;
  uint64_t addr = 0, size_lo = 0, size_hi = 0;
  uint32_t tid = 0;
  bool any() const { return kinds != kAllKinds || has_addr || has_size || has_tid; }
};
// The parsers of a filter's parts: "" when the text parses (an empty text clears the part), else
// what is wrong, in words for the user.
std::string parse_kinds(const std::string& text, Filter* f); // "alloc,free" (names of kind_name)
std::string parse_addr(const std::string& text, Filter* f);  // 0x5555555592a0 or decimal
// N or MIN-MAX, optionally after "req:" (requested sizes only) or "chunk:" (chunk sizes only).
std::string parse_size(const std::string& text, Filter* f);
std::string parse_tid(const std::string& text, Filter* f);

// The one rule for a chunk's history: the event names the chunk holding address a. It matches
// when one of its addresses names the chunk that starts at a, or whose user pointer is a (chunk
// events carry chunk starts, API events user pointers: either may be given); when it is a split whose
// two parts cover a; or when it describes one chunk with its size (chunk_alloc, chunk_free,
// bin_in, mmap_chunk, merge; for the API calls the chunk glibc makes for the size asked) whose
// extent covers a. Heap,
// top and mapping events match only by their own address, so that one chunk's history is not
// drowned in every top move.
bool touches(const Event& e, uint64_t a);
bool matches(const Event& e, const Filter& f);
// The addresses touches() can accept for e, as at most kMaxFootprint ranges [lo, hi) (a superset:
// touches(e, a) implies that a is in one of them). Returns how many it wrote. The per-group index
// (analysis/group_summary.h) is built from it, so that a history skips groups unread.
struct AddrRange {
  uint64_t lo, hi;
};
inline constexpr int kMaxFootprint = 3;
int footprint(const Event& e, AddrRange out[kMaxFootprint]);

// Random access to a trace's events in groups (session::EventIndex).
class EventSource {
public:
  virtual ~EventSource() = default;
  virtual uint64_t event_count() const = 0;
  virtual uint64_t group_size() const = 0;
  // The kinds present in group g (a superset is fine; 0: none).
  virtual uint32_t kinds_in_group(uint64_t g) const = 0;
  // Whether an event of group g may match f (false: none does; a false "yes" only costs a read).
  virtual bool group_may_match(uint64_t g, const Filter& f) const { return kinds_in_group(g) & f.kinds; }
  // Events [first, first + count) (clipped); their data pointers may be cleared.
  virtual void read_events(uint64_t first, uint64_t count, std::vector<Event>* out) = 0;
  // Calls f with events [first, first + count) (clipped) in order, each valid during its call
  // only; returns how many. The default copies them through read_events(); a source that can
  // hand them over in place (EventIndex, IndexReader) saves the copies (a scan's hot loop).
  virtual uint64_t visit_events(uint64_t first, uint64_t count, const std::function<void(const Event&)>& f) {
    std::vector<Event> buf;
    read_events(first, count, &buf);
    for (const Event& e : buf)
      f(e);
    return buf.size();
  }
};

// The positions (0-based event indices) of the events that match a filter, found a time budget
// at a time so that a window stays responsive on a trace of many millions of events (or on a
// thread of its own: session::QueryJob). Groups that cannot match (EventSource::group_may_match:
// no wanted kind, address, size or thread) are skipped unread.
class QueryScan {
public:
  // Starts over with f; at most max_matches positions are kept (then the scan stops). Only the
  // events [from, to) are looked at (a part of a search split between threads).
  void start(const Filter& f, size_t max_matches = SIZE_MAX, uint64_t from = 0, uint64_t to = UINT64_MAX);
  void clear();
  // Scans on for about budget_ms (0: to the end); true while there is more to scan.
  bool step(EventSource& src, double budget_ms);
  // The source grew to `events` events (a live file): a scan that had finished goes on over the
  // new ones at the next step() (matches so far are kept). No-op when cleared or full.
  void extend(uint64_t events) {
    if (started_ && matches_.size() < max_ && next_ < events && next_ < end_) scanning_ = true;
  }
  // Moves the end of the events looked at (then extend() goes on up to it).
  void set_end(uint64_t to) { end_ = to; }
  const std::vector<uint64_t>& matches() const { return matches_; }
  bool scanning() const { return scanning_; }
  uint64_t scanned() const { return next_; }
  const Filter& filter() const { return filter_; }

private:
  Filter filter_;
  size_t max_ = SIZE_MAX;
  std::vector<uint64_t> matches_;
  std::vector<Event> buf_;
  uint64_t next_ = 0, end_ = UINT64_MAX;
  bool scanning_ = false;
  bool started_ = false; // start() without a clear() since
};

} // namespace hv::analysis
