// event_query.cpp - see event_query.h.
#include "analysis/event_query.h"

#include <cstring>
#include <utility>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>

namespace hv::analysis {

using trace::Ev;

const char* kind_name(int bit) {
  static const char* const kNames[kKindCount] = {"alloc", "free", "split", "merge", "bin",   "top",
                                                 "grow",  "trim", "error", "mark",  "chunk", "other"};
  return bit >= 0 && bit < kKindCount ? kNames[bit] : "?";
}

namespace {
bool parse_u64(std::string s, uint64_t* v) {
  while (!s.empty() && s.front() == ' ')
    s.erase(s.begin());
  while (!s.empty() && s.back() == ' ')
    s.pop_back();
  if (s.empty() || s[0] == '-') return false;
  char* end = nullptr;
  errno = 0;
  *v = strtoull(s.c_str(), &end, 0);
  return errno == 0 && end && *end == '\0';
}
} // namespace

std::string parse_kinds(const std::string& text, Filter* f) {
  if (text.empty()) {
    f->kinds = kAllKinds;
    return "";
  }
  uint32_t k = 0;
  size_t at = 0;
  while (at <= text.size()) {
    size_t comma = text.find(',', at);
    std::string word = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    int bit = 0;
    while (bit < kKindCount && word != kind_name(bit))
      ++bit;
    if (bit == kKindCount) {
      std::string all;
      for (int b = 0; b < kKindCount; ++b)
        all += std::string(b ? ", " : "") + kind_name(b);
      return "kind: '" + word + "' is not one of " + all;
    }
    k |= 1u << bit;
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  f->kinds = k;
  return "";
}

std::string parse_addr(const std::string& text, Filter* f) {
  f->has_addr = false;
  if (text.empty()) return "";
  if (!parse_u64(text, &f->addr)) return "address: a number, e.g. 0x5555555592a0";
  f->has_addr = true;
  return "";
}

std::string parse_size(const std::string& full, Filter* f) {
  f->has_size = false;
  f->size_of = SizeOf::Any;
  std::string text = full;
  for (const auto& [prefix, which] :
       {std::pair{"req:", SizeOf::Request}, std::pair{"request:", SizeOf::Request},
        std::pair{"chunk:", SizeOf::Chunk}})
    if (text.rfind(prefix, 0) == 0) {
      text = text.substr(strlen(prefix));
      f->size_of = which;
    }
  if (text.empty()) return full.empty() ? "" : "size: N or MIN-MAX after '" + full + "'";
  size_t dash = text.find('-');
  if (dash == std::string::npos) {
    if (!parse_u64(text, &f->size_lo))
      return "size: N or MIN-MAX (req:N for requested sizes, chunk:N for chunk sizes)";
    f->size_hi = f->size_lo;
  } else if (!parse_u64(text.substr(0, dash), &f->size_lo) ||
             !parse_u64(text.substr(dash + 1), &f->size_hi)) {
    return "size: N or MIN-MAX";
  }
  if (f->size_lo > f->size_hi) return "size: MIN-MAX with MIN <= MAX";
  f->has_size = true;
  return "";
}

std::string parse_tid(const std::string& text, Filter* f) {
  f->has_tid = false;
  if (text.empty()) return "";
  uint64_t t;
  if (!parse_u64(text, &t) || t > UINT32_MAX) return "thread: a thread id";
  f->tid = uint32_t(t);
  f->has_tid = true;
  return "";
}

// The size part: the event's size fields (size, size2) of the kind asked for.
static bool size_matches(const Event& e, const Filter& f) {
  auto in = [&](uint64_t v) { return v >= f.size_lo && v <= f.size_hi; };
  if (f.size_of == SizeOf::Any) return in(e.size) || in(e.size2);
  if (e.type == trace::Ev::Calloc && f.size_of == SizeOf::Request) return in(e.n * e.size); // n x size
  const trace::EventInfo& info = e.info();
  const trace::FieldCodec want = f.size_of == SizeOf::Request ? trace::FieldCodec::U : trace::FieldCodec::C;
  for (uint8_t i = 0; i < info.nfields; ++i) {
    const trace::FieldSpec& fs = info.fields[i];
    if (fs.codec != want) continue;
    if (fs.slot == trace::FieldSlot::size && in(e.size)) return true;
    if (fs.slot == trace::FieldSlot::size2 && in(e.size2)) return true;
  }
  return false;
}

namespace {
// What e touches, told once for both of its readers: point(p) for each chunk it names by address
// (p, or p + 16: API events carry user pointers, the others chunk starts, and either may be
// asked), range(lo, hi) for the bytes of its chunk [lo, hi).
template <class Point, class Range> void each_touch(const Event& e, Point&& point, Range&& range) {
  if (e.type == Ev::Unknown) return;
  const uint64_t back = e.info().chunks == trace::EvChunks::User ? 16 : 0;
  for (uint64_t x : {e.addr, e.addr2})
    if (x >= back && x - back != 0) point(x - back);
  switch (e.type) {
  case Ev::ChunkAlloc:
  case Ev::ChunkFree:
  case Ev::BinIn:
  case Ev::MmapChunk:
  case Ev::Merge:
    if (e.chunk() && e.size) range(e.chunk(), e.chunk() + e.size);
    break;
  case Ev::Malloc:
  case Ev::Calloc:
  case Ev::Realloc:
  case Ev::Memalign: {
    // The chunk glibc makes for the request (request2size): the user's bytes may run into the
    // next chunk's prev_size word, which belongs to that chunk's history, not this one's.
    uint64_t req = e.type == Ev::Calloc ? e.count() * e.size : e.size;
    uint64_t chunk = std::max<uint64_t>(32, (req + 8 + 15) & ~uint64_t(15));
    if (e.ptr() >= 16 && req) range(e.ptr() - 16, e.ptr() - 16 + chunk);
    break;
  }
  case Ev::Split:
    range(e.chunk(), e.chunk() + e.first() + e.rest());
    break;
  default:
    break;
  }
}
} // namespace

bool touches(const Event& e, uint64_t a) {
  bool hit = false;
  each_touch(
      e, [&](uint64_t p) { hit |= p == a || p + 16 == a; },
      [&](uint64_t lo, uint64_t hi) { hit |= a >= lo && a < hi; });
  return hit;
}

int footprint(const Event& e, AddrRange out[kMaxFootprint]) {
  int n = 0;
  each_touch(
      e,
      [&](uint64_t p) {
        out[n++] = AddrRange{p, p + 17};
      }, // p and p + 16
      [&](uint64_t lo, uint64_t hi) {
        out[n++] = AddrRange{lo, hi};
      });
  // Wrapped ends (a corrupt trace): every address.
  for (int k = 0; k < n; ++k)
    if (out[k].hi < out[k].lo) out[k] = AddrRange{0, UINT64_MAX};
  return n;
}

bool matches(const Event& e, const Filter& f) {
  if (!(kind_of(e) & f.kinds)) return false;
  if (f.has_tid && e.tid != f.tid) return false;
  if (f.has_addr && !touches(e, f.addr)) return false;
  if (f.has_size && !size_matches(e, f)) return false;
  return true;
}

void QueryScan::start(const Filter& f, size_t max_matches, uint64_t from, uint64_t to) {
  filter_ = f;
  max_ = max_matches;
  matches_.clear();
  next_ = from;
  end_ = to;
  scanning_ = true;
  started_ = true;
}

void QueryScan::clear() {
  matches_.clear();
  next_ = 0;
  scanning_ = false;
  started_ = false;
}

bool QueryScan::step(EventSource& src, double budget_ms) {
  if (!scanning_) return false;
  auto t0 = std::chrono::steady_clock::now();
  const uint64_t g = src.group_size(), n = std::min(src.event_count(), end_);
  while (next_ < n && matches_.size() < max_) {
    if (!src.group_may_match(next_ / g, filter_)) {
      next_ = std::min(n, (next_ / g + 1) * g);
      continue;
    }
    uint64_t at = next_;
    uint64_t read = src.visit_events(next_, std::min(g - next_ % g, n - next_), [&](const Event& e) {
      if (matches_.size() < max_ && analysis::matches(e, filter_)) matches_.push_back(at);
      ++at;
    });
    if (!read) break;
    next_ += read;
    if (budget_ms > 0 &&
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() > budget_ms)
      break;
  }
  scanning_ = next_ < n && matches_.size() < max_;
  return scanning_;
}

} // namespace hv::analysis
