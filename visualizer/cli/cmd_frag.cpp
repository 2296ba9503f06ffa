// cmd_frag.cpp - `heapviz frag FILE [--at ...]`: why the footprint is larger than what is live:
// the top and what keeps it from shrinking, free memory by bin, and which allocation sites keep
// free memory apart (the blame; its rule: analysis/frag.h, docs/cli.md).
//
// Owns: the report's text and JSON forms and exit statuses (0 ok, 1 corrupt after a readable
// prefix, 2 usage or nothing readable).
// Must not: compute what analysis/frag.h does.
#include "analysis/frag.h"
#include "cli/commands.h"
#include "cli/report.h"

#include <cinttypes>
#include <cstdio>

namespace hv::cli {

const CommandSpec kFragSpec = {
    .name = "frag",
    .brief = "why the footprint exceeds what is live: top, bins, blaming sites",
    .synopsis = "[--at N|end|peak|mark:LABEL] [--top K] [--json] FILE",
    .summary = "why the heap's footprint is larger than what is live at a position: the top chunk and\n"
               "what keeps it from shrinking, free memory by bin, and the allocation sites whose live\n"
               "blocks keep free memory apart",
    .options = {at_option(), top_option(), json_option()},
    .examples = "heapviz frag prog.hvt\n"
                "heapviz frag --at peak --top 5 prog.hvt",
    .see = "docs/cli.md, \"heapviz frag\"",
};

int cmd_frag(int argc, char** argv) {
  ReportOptions o;
  if (int rc = parse_report_options(kFragSpec, argc, argv, o); rc >= 0) return rc;
  const char* path = o.paths[0];
  trace::TraceFile f;
  if (!open_trace("frag", path, f)) return 2;
  uint64_t limit = 0;
  if (!resolve("frag", path, f, o.at, "--at", &limit)) return 2;
  analysis::SiteTable sites;
  model::HeapModel m;
  trace::EventStream stream(f);
  int status = read_trace("frag", path, stream, limit, sites, &m);
  if (status == 2) return 2;
  analysis::FragReport r = analysis::fragmentation(m, sites, f.header().page_size);
  symbols::Symbolizer sym(sites.stacks());
  auto frames = [&](int64_t site) {
    return site >= 0 ? analysis::site_frames(sym, sites.stacks(), uint32_t(site))
                     : std::vector<symbols::Frame>{};
  };
  // A live block in no site, in a trace attached to a running process: allocated before the trace.
  const bool before = sites.has_baseline();
  size_t shown = o.top && r.blame.size() > o.top ? o.top : r.blame.size();
  static const trace::ChunkState kBins[] = {trace::ChunkState::Tcache, trace::ChunkState::Fast,
                                            trace::ChunkState::Unsorted, trace::ChunkState::Small,
                                            trace::ChunkState::Large};
  if (o.json) {
    auto u = [](uint64_t v) { return std::to_string(v); };
    std::string out = "{\"at\": " + u(sites.events()) + ", \"footprint\": " + u(r.footprint) +
                      ", \"live_bytes\": " + u(r.live_bytes) + ", \"free_bytes\": " + u(r.free_bytes) +
                      ", \"top_bytes\": " + u(r.top_bytes) + ", \"released_bytes\": " + u(r.released_bytes) +
                      ", \"trim_free_bytes\": " + u(r.trim_free_bytes) +
                      ", \"before_trace_blocks\": " + u(sites.before_blocks()) +
                      ", \"before_trace_bytes\": " + u(sites.before_bytes()) + ",\n \"free_by_bin\": {";
    for (size_t i = 0; i < 5; ++i)
      out += std::string(i ? ", " : "") + json_string(trace::state_name(uint8_t(kBins[i]))) + ": " +
             u(r.free_by_state[uint8_t(kBins[i])]);
    out += "},\n \"tops\": [";
    for (size_t i = 0; i < r.tops.size(); ++i) {
      const auto& t = r.tops[i];
      char a[32];
      snprintf(a, sizeof a, "\"0x%" PRIx64 "\"", t.addr);
      out += std::string(i ? ", " : "") + "{\"arena\": " + u(t.arena) + ", \"chunk\": " + a +
             ", \"size\": " + u(t.size) + ", \"trimmable\": " + u(t.trimmable) + ", \"below\": ";
      if (t.below) {
        snprintf(a, sizeof a, "\"0x%" PRIx64 "\"", t.below_chunk.addr);
        out += std::string("{\"chunk\": ") + a + ", \"size\": " + u(t.below_chunk.size) +
               ", \"state\": " + json_string(trace::state_name(t.below_chunk.state)) +
               ", \"stack\": " + frames_json(frames(t.below_site)) +
               ", \"before_trace\": " + (t.below_site < 0 && before ? "true" : "false") + "}";
      } else {
        out += "null";
      }
      out += "}";
    }
    out += "],\n \"blame\": [";
    for (size_t i = 0; i < shown; ++i) {
      const auto& b = r.blame[i];
      out += std::string(i ? ",\n  " : "\n  ") + "{\"pinned_bytes\": " + u(b.pinned_bytes) +
             ", \"chunks\": " + u(b.chunks) + ", \"free_runs\": " + u(b.pinned_runs) +
             ", \"stack\": " + frames_json(frames(b.site)) +
             ", \"before_trace\": " + (b.site < 0 && before ? "true" : "false") + "}";
    }
    out += "]}\n";
    fputs(out.c_str(), stdout);
  } else {
    printf("at event %" PRIu64 ": footprint %" PRIu64 " bytes, %" PRIu64 " live (requested), %" PRIu64
           " free in bins, %" PRIu64 " in the top\n",
           sites.events(), r.footprint, r.live_bytes, r.free_bytes, r.top_bytes);
    if (sites.before_blocks())
      printf("%" PRIu64 " blocks (%" PRIu64 " bytes of chunks) still in use were allocated before the trace "
             "began (heapviz attached later): not in \"live\", their requests and stacks are unknown\n",
             sites.before_blocks(), sites.before_bytes());
    printf("\nfree memory by bin:\n");
    for (trace::ChunkState s : kBins)
      printf("  %-10s %12" PRIu64 " bytes in %" PRIu64 " chunk%s\n", trace::state_name(uint8_t(s)),
             r.free_by_state[uint8_t(s)], r.chunks_by_state[uint8_t(s)],
             r.chunks_by_state[uint8_t(s)] == 1 ? "" : "s");
    uint64_t top_trim = 0;
    for (const auto& t : r.tops)
      top_trim += t.trimmable;
    printf("\nmalloc_trim(0) would hand back %" PRIu64 " bytes: %" PRIu64 " of pages inside %" PRIu64
           " free chunk%s, %" PRIu64 " of the main arena's top",
           r.trim_free_bytes + top_trim, r.trim_free_bytes, r.trim_free_chunks,
           r.trim_free_chunks == 1 ? "" : "s", top_trim);
    if (r.released_bytes) printf(" (%" PRIu64 " bytes are handed back already)", r.released_bytes);
    printf("\n");
    for (const auto& t : r.tops) {
      printf("\narena %u: top 0x%" PRIx64 ", %" PRIu64 " bytes; malloc_trim(0) would return %" PRIu64
             " of them%s\n",
             t.arena, t.addr, t.size, t.trimmable, t.arena ? " (only the main arena's top is trimmed)" : "");
      if (t.below) {
        const bool in_use = t.below_chunk.state == uint8_t(trace::ChunkState::InUse);
        const bool from_before = in_use && t.below_site < 0 && before;
        printf("  right below it: 0x%" PRIx64 ", %" PRIu64 " bytes, %s%s\n", t.below_chunk.addr,
               t.below_chunk.size, trace::state_label(t.below_chunk.state),
               from_before ? ": it keeps the top from shrinking; allocated before the trace began (heapviz "
                             "attached later, so its call stack is unknown)"
               : in_use    ? ": it keeps the top from shrinking, allocated at"
                           : "");
        if (in_use && !from_before) fputs(frames_text(frames(t.below_site), "    ", 8).c_str(), stdout);
      }
    }
    // The blocks from before the trace have many sites, none known: one entry, said as such.
    size_t nsites = 0;
    bool from_before = false;
    for (const auto& b : r.blame) {
      if (b.site < 0 && before)
        from_before = true;
      else
        ++nsites;
    }
    printf("\n%zu allocation site%s keep%s free memory apart%s%s\n", nsites, nsites == 1 ? "" : "s",
           nsites == 1 ? "s" : "", from_before ? ", and blocks from before the trace do" : "",
           r.blame.empty() ? "" : ":");
    for (size_t i = 0; i < shown; ++i) {
      const auto& b = r.blame[i];
      if (b.site < 0 && before) {
        printf(
            "\n#%zu  %" PRIu64 " free bytes in %" PRIu64 " run%s kept apart by %" PRIu64
            " live chunk%s allocated before the trace began\n    (their sites are unknown: heapviz attached "
            "later; freeing all of them would merge those runs)\n",
            i + 1, b.pinned_bytes, b.pinned_runs, b.pinned_runs == 1 ? "" : "s", b.chunks,
            b.chunks == 1 ? "" : "s");
        continue;
      }
      printf("\n#%zu  %" PRIu64 " free bytes in %" PRIu64 " run%s kept apart by %" PRIu64
             " live chunk%s of\n",
             i + 1, b.pinned_bytes, b.pinned_runs, b.pinned_runs == 1 ? "" : "s", b.chunks,
             b.chunks == 1 ? "" : "s");
      fputs(frames_text(frames(b.site), "    ", 12).c_str(), stdout);
    }
    if (shown < r.blame.size()) printf("\n... %zu more sites (--top 0 shows all)\n", r.blame.size() - shown);
  }
  warn_symbol_problems(sym);
  return status;
}

} // namespace hv::cli
