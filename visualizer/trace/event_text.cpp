// event_text.cpp - see event_text.h; the formats are documented in docs/cli.md.
#include "trace/event_text.h"

#include <cinttypes>
#include <cstdio>
#include <string>

namespace hv::trace {

std::string event_type_name(uint8_t type) {
  if (const char* n = event_name(static_cast<Ev>(type))) return n;
  char buf[16];
  snprintf(buf, sizeof buf, "event 0x%02x", type);
  return buf;
}

namespace {
void quoted(std::string& out, const uint8_t* p, const uint8_t* end) {
  out += '"';
  for (; p < end; ++p) {
    if (*p == '"' || *p == '\\') {
      out += '\\';
      out += char(*p);
    } else if (*p < 0x20 || *p >= 0x7f) {
      char x[8];
      snprintf(x, sizeof x, "\\x%02x", *p);
      out += x;
    } else {
      out += char(*p);
    }
  }
  out += '"';
}
} // namespace

// Each field of the event's row in the event table, after its dump prefix, as its codec says.
std::string event_fields_text(const Event& e) {
  std::string out = event_type_name(uint8_t(e.type));
  if (e.type == Ev::Unknown) {
    char b[64];
    snprintf(b, sizeof b, " 0x%02x length=%" PRIu64, e.unknown_code(), e.n);
    return "extension" + std::string(b);
  }
  const EventInfo& info = e.info();
  bool unsorted = false; // the unsorted bin is one list: its index (1) is not printed, as `bins` says it
  for (int i = 0; i < info.nfields; ++i) {
    const FieldSpec& f = info.fields[i];
    uint64_t v = slot_value(e, f.slot);
    char b[64];
    b[0] = 0;
    out += f.prefix;
    switch (f.codec) {
    case FieldCodec::A:
      snprintf(b, sizeof b, "0x%" PRIx64, v);
      break;
    case FieldCodec::U:
    case FieldCodec::C:
    case FieldCodec::Ix:
    case FieldCodec::Blob:
      snprintf(b, sizeof b, "%" PRIu64, v);
      break;
    case FieldCodec::S:
      snprintf(b, sizeof b, "%+" PRId64, int64_t(v));
      break;
    case FieldCodec::Idx:
    case FieldCodec::Tc:
      if (!(f.codec == FieldCodec::Idx && unsorted)) snprintf(b, sizeof b, "[%u]", unsigned(v));
      break;
    case FieldCodec::Kind:
      out += bin_kind_name(uint8_t(v)); // the one vocabulary's (heapviz/chunk_states.h)
      unsorted = v == uint8_t(BinKind::Unsorted);
      break;
    case FieldCodec::How: {
      static const char* const kHow[] = {"with_prev", "with_next", "into_top"};
      out += v < 3 ? kHow[v] : "?";
      break;
    }
    case FieldCodec::Code: {
      static const char* const kCodes[] = {
          "?", "invalid_pointer", "double_free", "corrupted_size", "corrupted_list", "other"};
      out += v < 6 ? kCodes[v] : "?";
      break;
    }
    case FieldCodec::Label:
      quoted(out, e.data, e.data_end);
      break;
    case FieldCodec::Snap:
      snprintf(b, sizeof b, "%" PRIu64 "%s%s%s", e.count(), e.b0 & kSnapshotCoarse ? " coarse" : "",
               e.b0 & kSnapshotBaseline ? " baseline" : "", e.b0 & kSnapshotMore ? " more" : "");
      break;
    }
    out += b;
  }
  if (info.api && e.stack != 0) out += " stack=" + std::to_string(e.stack);
  return out;
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
