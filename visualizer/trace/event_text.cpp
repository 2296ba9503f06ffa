// event_text.cpp - see event_text.h; the formats are documented in docs/cli.md.
#include "trace/event_text.h"

#include <cinttypes>
#include <cstdio>

namespace hv::trace {

std::string event_type_name(uint8_t type) {
  if (const char* n = event_name(static_cast<Ev>(type))) return n;
  char buf[16];
  snprintf(buf, sizeof buf, "event 0x%02x", type);
  return buf;
}

static const char* bin_kind_name(uint8_t k) {
  static const char* const kNames[] = {"none", "tcache", "fast", "unsorted", "small", "large"};
  return k < 6 ? kNames[k] : "?";
}

std::string event_fields_text(const Event& e) {
  char b[160];
  std::string name = event_type_name(uint8_t(e.type));
  switch (e.type) {
  case Ev::Malloc:
    snprintf(b, sizeof b, " size=%" PRIu64 " -> 0x%" PRIx64, e.size, e.addr);
    break;
  case Ev::Calloc:
    snprintf(b, sizeof b, " n=%" PRIu64 " size=%" PRIu64 " -> 0x%" PRIx64, e.n, e.size, e.addr);
    break;
  case Ev::Realloc:
    snprintf(b, sizeof b, " 0x%" PRIx64 " size=%" PRIu64 " -> 0x%" PRIx64, e.addr2, e.size, e.addr);
    break;
  case Ev::Memalign:
    snprintf(b, sizeof b, " align=%" PRIu64 " size=%" PRIu64 " -> 0x%" PRIx64, e.n, e.size, e.addr);
    break;
  case Ev::Free:
  case Ev::HeapFree:
  case Ev::MunmapChunk:
    snprintf(b, sizeof b, " 0x%" PRIx64, e.addr);
    break;
  case Ev::FreeTcache:
    snprintf(b, sizeof b, " 0x%" PRIx64 " -> tcache[%u]", e.addr, e.b1);
    break;
  case Ev::ChunkAlloc:
  case Ev::ChunkFree:
  case Ev::Top:
  case Ev::Fence:
  case Ev::HeapNew:
  case Ev::HeapResize:
  case Ev::MmapChunk:
    snprintf(b, sizeof b, " 0x%" PRIx64 " size=%" PRIu64, e.addr, e.size);
    break;
  case Ev::Mmap:
  case Ev::Munmap:
    snprintf(b, sizeof b, " 0x%" PRIx64 " length=%" PRIu64, e.addr, e.size);
    break;
  case Ev::Split:
    snprintf(b, sizeof b, " 0x%" PRIx64 " first=%" PRIu64 " rest=%" PRIu64, e.addr, e.size, e.size2);
    break;
  case Ev::Merge: {
    static const char* const kHow[] = {"with_prev", "with_next", "into_top"};
    snprintf(b, sizeof b, " %s 0x%" PRIx64 " size=%" PRIu64 " absorbed=0x%" PRIx64,
             e.b0 < 3 ? kHow[e.b0] : "?", e.addr, e.size, e.addr2);
    break;
  }
  case Ev::BinIn:
    snprintf(b, sizeof b, " 0x%" PRIx64 " size=%" PRIu64 " %s[%u]", e.addr, e.size, bin_kind_name(e.b0),
             e.b1);
    break;
  case Ev::BinOut:
    snprintf(b, sizeof b, " 0x%" PRIx64 " %s[%u]", e.addr, bin_kind_name(e.b0), e.b1);
    break;
  case Ev::ReallocInPlace:
    snprintf(b, sizeof b, " 0x%" PRIx64 " old=%" PRIu64 " new=%" PRIu64, e.addr, e.size, e.size2);
    break;
  case Ev::ReallocMoved:
    snprintf(b, sizeof b, " 0x%" PRIx64 " -> 0x%" PRIx64, e.addr, e.addr2);
    break;
  case Ev::ArenaNew:
    snprintf(b, sizeof b, " index=%" PRIu64 " at=0x%" PRIx64, e.n, e.addr);
    break;
  case Ev::Sbrk:
    snprintf(b, sizeof b, " 0x%" PRIx64 " delta=%+" PRId64, e.addr, e.delta);
    break;
  case Ev::Trim:
    snprintf(b, sizeof b, " bytes=%" PRIu64, e.size);
    break;
  case Ev::Arena:
    snprintf(b, sizeof b, " index=%" PRIu64, e.n);
    break;
  case Ev::Error: {
    static const char* const kCodes[] = {
        "?", "invalid_pointer", "double_free", "corrupted_size", "corrupted_list", "other"};
    snprintf(b, sizeof b, " %s 0x%" PRIx64, e.b0 < 6 ? kCodes[e.b0] : "?", e.addr);
    break;
  }
  case Ev::Mark: {
    std::string s = " \"";
    for (const uint8_t* p = e.data; p < e.data_end; ++p) {
      if (*p == '"' || *p == '\\') {
        s += '\\';
        s += char(*p);
      } else if (*p < 0x20 || *p >= 0x7f) {
        char x[8];
        snprintf(x, sizeof x, "\\x%02x", *p);
        s += x;
      } else {
        s += char(*p);
      }
    }
    return name + s + "\"";
  }
  case Ev::Snapshot: {
    std::string flags;
    if (e.b0 & kSnapshotCoarse) flags += " coarse";
    if (e.b0 & kSnapshotBaseline) flags += " baseline";
    if (e.b0 & kSnapshotMore) flags += " more";
    snprintf(b, sizeof b, " chunks=%" PRIu64 "%s", e.n, flags.c_str());
    break;
  }
  case Ev::Stack:
    snprintf(b, sizeof b, " length=%" PRIu64, e.n);
    break;
  default:
    b[0] = 0;
    break;
  }
  return name + b;
}

std::string event_line(const Event& e, uint64_t t0_ns) {
  int64_t rel = int64_t(e.ts - t0_ns);
  uint64_t mag = rel < 0 ? 0 - uint64_t(rel) : uint64_t(rel); // INT64_MIN included
  char b[128];
  snprintf(b, sizeof b, "#%" PRIu64 " t=%s%" PRIu64 ".%06" PRIu64 "ms tid=%u arena=%u ", e.seq,
           rel < 0 ? "-" : "+", mag / 1000000, mag % 1000000, e.tid, e.arena);
  return b + event_fields_text(e);
}

} // namespace hv::trace
