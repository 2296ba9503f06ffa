// cmd_chunks.cpp - `heapviz chunks [--at POS] [--json] FILE`: every chunk of the replayed heap at
// a position, in address order, region by region, as `heapviz sim` prints a scenario's heap
// (format and JSON keys: docs/cli.md, "heapviz chunks").
//
// Owns: the listing's text and JSON forms and the exit status (0 ok or truncated, 1 corrupt
// before the position, 2 usage or nothing readable).
// Must not: replay or name states itself (model/heap_model.h, heapviz/chunk_states.h do).
#include "cli/commands.h"
#include "cli/report.h"

#include "heapviz/chunk_states.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

namespace hv::cli {

const CommandSpec kChunksSpec = {
    .name = "chunks",
    .brief = "every chunk of the heap at a position",
    .synopsis = "[--at N|end|peak|mark:LABEL] [--json] FILE",
    .summary = "every chunk of the heap at a position (default: the end), in address order, region\n"
               "by region: address, offset in its region, size, state or bin, bytes requested, and\n"
               "the event that allocated it (a scenario is simulated first)",
    .options = {at_option(), json_option()},
    .examples = "heapviz chunks prog.hvt\n"
                "heapviz chunks --at mark:loaded --json prog.hvt\n"
                "heapviz chunks --at 40 assets/scenarios/demo.hvs",
    .see = "docs/cli.md, \"heapviz chunks\"",
};

int cmd_chunks(int argc, char** argv) {
  ReportOptions o;
  if (int rc = parse_report_options(kChunksSpec, argc, argv, o); rc >= 0) return rc;
  const char* path = o.paths[0];
  trace::TraceFile f;
  if (!open_trace("chunks", path, f)) return 2;
  uint64_t limit = 0;
  if (!resolve("chunks", path, f, o.at, "--at", &limit)) return 2;
  model::HeapModel m;
  m.set_page_size(f.header().page_size);
  trace::EventStream stream(f);
  uint64_t events = 0;
  for (; events < limit; ++events) {
    const trace::Event* e = stream.next();
    if (!e) break;
    m.apply(*e);
  }
  int status = 0;
  const bool ended = ends_at(stream, events, limit);
  if (const auto& e = stream.error(); e && ended) {
    bool truncated = e->kind == trace::ErrorKind::Truncated;
    fprintf(stderr, "heapviz chunks: %s: %s%s\n", path, e->describe().c_str(),
            truncated ? " (the file is truncated: this is the heap after the readable prefix)" : "");
    if (!truncated) status = events ? 1 : 2;
    if (status == 2) return 2;
  }
  std::vector<model::Chunk> chunks;
  m.for_each_chunk([&](const model::Chunk& c) { chunks.push_back(c); });
  std::sort(chunks.begin(), chunks.end(),
            [](const model::Chunk& a, const model::Chunk& b) { return a.addr < b.addr; });
  std::vector<model::Region> regions = m.regions_sorted();
  // The region holding a chunk (mmapped chunks lie in none).
  auto region_of = [&](uint64_t a) -> const model::Region* {
    auto it = std::upper_bound(regions.begin(), regions.end(), a,
                               [](uint64_t x, const model::Region& r) { return x < r.addr; });
    if (it == regions.begin()) return nullptr;
    --it;
    return a < it->addr + it->size ? &*it : nullptr;
  };
  // A block in use from before the trace (heapviz attached later: the baseline's; model.h).
  auto before = [&](const model::Chunk& c) { return m.is_before_trace(c); };
  std::string out;
  char buf[320];
  if (o.json) {
    snprintf(buf, sizeof buf, "{\"at\": %" PRIu64 ", \"regions\": [", events);
    out = buf;
    for (size_t i = 0; i < regions.size(); ++i) {
      snprintf(buf, sizeof buf, "%s{\"addr\": \"0x%" PRIx64 "\", \"size\": %" PRIu64 ", \"arena\": %u}",
               i ? ", " : "", regions[i].addr, regions[i].size, regions[i].arena);
      out += buf;
    }
    out += "], \"chunks\": [";
    for (size_t i = 0; i < chunks.size(); ++i) {
      const model::Chunk& c = chunks[i];
      const model::Region* r = region_of(c.addr);
      char region[32] = "null", bin[40] = "null";
      if (r) snprintf(region, sizeof region, "\"0x%" PRIx64 "\"", r->addr);
      if (trace::is_binned(c.state))
        snprintf(bin, sizeof bin, "\"%s\"", trace::bin_text(trace::bin_of(c.state), c.bin).c_str());
      snprintf(buf, sizeof buf,
               "%s\n  {\"addr\": \"0x%" PRIx64 "\", \"region\": %s, \"offset\": %" PRIu64
               ", \"size\": %" PRIu64
               ", \"arena\": %u, \"state\": \"%s\", \"bin\": %s, \"requested\": %" PRIu64
               ", \"seq\": %" PRIu64 ", \"internal\": %s, \"before_trace\": %s}",
               i ? "," : "", c.addr, region, r ? c.addr - r->addr : 0, c.size, c.arena,
               trace::state_name(c.state), bin, c.req, before(c) ? uint64_t(0) : c.seq,
               c.internal ? "true" : "false", before(c) ? "true" : "false");
      out += buf;
    }
    out += "]}\n";
  } else {
    bool named = o.has_at && o.at.kind != analysis::Position::Kind::Events;
    snprintf(buf, sizeof buf, "%s: %zu chunks at event %" PRIu64 "%s%s%s\n", path, chunks.size(), events,
             named ? " (" : "", named ? o.at.text.c_str() : "", named ? ")" : "");
    out = buf;
    const model::Region* shown = nullptr;
    bool mmapped_header = false;
    for (const model::Chunk& c : chunks) {
      const model::Region* r = region_of(c.addr);
      if (r && r != shown) {
        snprintf(buf, sizeof buf,
                 "\nregion 0x%" PRIx64 " (%" PRIu64 " bytes, arena %u)\n  %-18s %-10s %-10s %-13s %-10s %s\n",
                 r->addr, r->size, r->arena, "address", "offset", "size", "state", "requested",
                 "allocated at");
        out += buf;
        shown = r;
      } else if (!r && !mmapped_header) {
        out += "\noutside the heap regions (mmapped chunks)\n";
        mmapped_header = true;
        shown = nullptr;
      }
      std::string req = c.req ? std::to_string(c.req) : "-";
      bool held =
          c.state == uint8_t(trace::ChunkState::InUse) || c.state == uint8_t(trace::ChunkState::Mmapped);
      std::string seq = before(c) ? "before the trace" : c.seq && held ? std::to_string(c.seq) : "-";
      snprintf(buf, sizeof buf, "  0x%-16" PRIx64 " 0x%-8" PRIx64 " 0x%-8" PRIx64 " %-13s %-10s %s%s\n",
               c.addr, r ? c.addr - r->addr : 0, c.size, trace::state_text(c.state, c.bin).c_str(),
               req.c_str(), seq.c_str(), c.internal ? "  (allocator's own)" : "");
      out += buf;
    }
  }
  fwrite(out.data(), 1, out.size(), stdout);
  return status;
}

} // namespace hv::cli
