// fuzz_trace_reader.cpp - libFuzzer target: arbitrary bytes as a .hvt file through the whole read
// path (header, block index, zstd, decoder, merge, dump text, model, snapshot verification,
// checkpointed replay and seeks, and the scatter replay against the stream's, event by event).
// Any crash, leak, timeout, huge allocation or disagreement is a bug. Built with clang++
// -fsanitize=fuzzer,address,undefined by tests/trace/CMakeLists.txt.
#include "analysis/event_query.h"
#include "analysis/sites.h"
#include "analysis/snapshot_check.h"
#include "analysis/trace_summary.h"
#include "model/replay.h"
#include "trace/event_text.h"

#include <cstddef>
#include <cstdint>

namespace {
// Every field of every event a replay applies, folded (FNV-1a over 64-bit words), and the count.
struct EventHash {
  uint64_t h = 1469598103934665603ull, n = 0;
  void add(uint64_t v) { h = (h ^ v) * 1099511628211ull; }
  void operator()(const hv::trace::Event& e, const hv::model::HeapModel&) {
    for (uint64_t v :
         {e.seq, e.ts, e.offset, uint64_t(e.tid), uint64_t(e.arena), uint64_t(e.type), uint64_t(e.b0),
          uint64_t(e.b1), e.addr, e.size, e.addr2, e.size2, e.n, uint64_t(e.delta)})
      add(v);
    ++n;
  }
};
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  hv::trace::TraceFile f;
  if (!f.open_memory(data, size)) return 0;
  {
    hv::trace::EventStream s(f);
    hv::model::HeapModel m;
    hv::analysis::SnapshotCheck snaps;
    hv::analysis::TraceSummary sum(f.indexed_events(), 64);
    hv::analysis::Filter flt;
    flt.has_addr = true;
    flt.addr = 0x5555555592a0;
    size_t text = 0, hits = 0;
    hv::analysis::SiteTable sites; // stack and module records, API events' stacks
    bool sites_ok = true;
    std::string err;
    std::vector<uint64_t> ips;
    while (const hv::trace::Event* e = s.next()) {
      if (sites_ok && !(sites_ok = sites.add(*e, &err)) && err.find("offset ") != 0) __builtin_trap();
      if (sites_ok && e->stack) sites.stacks().frames(e->stack, ips);
      m.apply(*e);
      sum.add(*e, m);
      hits += hv::analysis::matches(*e, flt);
      text += hv::trace::event_line(*e, 0).size();
      snaps.on_event(*e, m);
    }
    sum.finish(m);
    (void)hits;
    (void)m.metrics().fragmentation();
    (void)text;
  }
  hv::model::Replay rp(f);
  rp.set_decode(hv::model::Replay::Decode::Stream);
  EventHash hs;
  rp.build(hs);
  uint64_t n = rp.size();
  { // Decoding ahead (SeqScatter, small rounds so that the ring wraps) must agree with the stream.
    hv::model::Replay sc(f);
    sc.set_decode(hv::model::Replay::Decode::ScatterInline, 16);
    EventHash hc;
    sc.build(hc);
    if (sc.size() != n || hc.n != hs.n || hc.h != hs.h || bool(sc.error()) != bool(rp.error()) ||
        (rp.error() && sc.error()->describe() != rp.error()->describe()) ||
        sc.model().chunk_count() != rp.model().chunk_count() ||
        sc.model().live_bytes() != rp.model().live_bytes() ||
        sc.model().anomalies() != rp.model().anomalies())
      __builtin_trap();
    sc.seek(n / 2);
    sc.seek(0);
  }
  rp.seek(n / 2);
  rp.seek(0);
  rp.step_forward();
  rp.seek(n);
  rp.step_back();
  return 0;
}
