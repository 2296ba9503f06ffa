// cmd_sites.cpp - `heapviz sites` and `heapviz leaks`: allocation sites (full call stacks) with
// what they allocated and what of it is live, and the blocks still in use at the end of a trace,
// grouped by stack (formats and JSON keys: docs/cli.md).
//
// Owns: their options, text and JSON forms, and exit statuses (0 ok, 1 a trace corrupt after a
// usable prefix, 2 usage or nothing readable).
// Must not: compute what analysis/sites.h does, or symbolize other than through it.
#include "analysis/position.h"
#include "analysis/sites.h"
#include "cli/commands.h"
#include "cli/report.h"
#include "trace/event_stream.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace hv::cli {

const CommandSpec kSitesSpec = {
    .name = "sites",
    .brief = "allocation sites (call stacks): live bytes, allocations",
    .synopsis = "[--at N|end|peak|mark:LABEL] [--by live|allocs|bytes|temporary] [--top K] [--json] FILE",
    .summary = "allocation sites (full call stacks): their live blocks and bytes at a position, and\n"
               "their allocations, bytes allocated and temporary allocations up to it",
    .options = {at_option(),
                {"--by", nullptr, "live|allocs|bytes|temporary",
                 "the column to sort by (default: live bytes)"},
                top_option(),
                json_option()},
    .examples = "heapviz sites prog.hvt\n"
                "heapviz sites --at peak --by allocs --top 10 prog.hvt",
    .see = "docs/cli.md, \"heapviz sites\"",
};

int cmd_sites(int argc, char** argv) {
  ReportOptions o;
  if (int rc = parse_report_options(kSitesSpec, argc, argv, o); rc >= 0) return rc;
  const char* path = o.paths[0];
  trace::TraceFile f;
  if (!open_trace("sites", path, f)) return 2;
  uint64_t limit = 0;
  if (!resolve("sites", path, f, o.at, "--at", &limit)) return 2;
  analysis::SiteTable sites;
  trace::EventStream stream(f);
  int status = read_trace("sites", path, stream, limit, sites, nullptr);
  if (status == 2) return 2;

  std::vector<uint32_t> order;
  for (uint32_t s = 0; s < sites.size(); ++s)
    if (sites.site(s).allocs) order.push_back(s);
  auto key = [&](uint32_t s) {
    const analysis::SiteStats& st = sites.site(s);
    return o.by == "allocs"      ? st.allocs
           : o.by == "bytes"     ? st.bytes
           : o.by == "temporary" ? st.temporary
                                 : st.live_bytes;
  };
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return key(a) > key(b); });
  size_t shown = o.top && order.size() > o.top ? o.top : order.size();

  symbols::Symbolizer sym(sites.stacks());
  if (o.json) {
    std::string out = "{\"at\": " + std::to_string(sites.events()) + ", \"by\": " + json_string(o.by) +
                      ", \"total_sites\": " + std::to_string(order.size()) +
                      ", \"live_bytes\": " + std::to_string(sites.live_bytes()) +
                      ", \"before_trace_blocks\": " + std::to_string(sites.before_blocks()) +
                      ", \"before_trace_bytes\": " + std::to_string(sites.before_bytes()) + ", \"sites\": [";
    for (size_t i = 0; i < shown; ++i) {
      const analysis::SiteStats& st = sites.site(order[i]);
      out += std::string(i ? ",\n  " : "\n  ") + "{\"live_count\": " + std::to_string(st.live) +
             ", \"live_bytes\": " + std::to_string(st.live_bytes) +
             ", \"allocs\": " + std::to_string(st.allocs) +
             ", \"bytes_allocated\": " + std::to_string(st.bytes) +
             ", \"temporary\": " + std::to_string(st.temporary) +
             ", \"peak_live_bytes\": " + std::to_string(st.peak_live_bytes) +
             ", \"stack\": " + frames_json(analysis::site_frames(sym, sites.stacks(), order[i])) + "}";
    }
    out += "]}\n";
    fputs(out.c_str(), stdout);
  } else {
    printf("%zu allocation sites at event %" PRIu64 " (%s); %" PRIu64 " bytes live in %" PRIu64
           " blocks; by %s:\n",
           order.size(), sites.events(), o.at.text.empty() ? "end" : o.at.text.c_str(), sites.live_bytes(),
           sites.live_blocks(), o.by == "live" ? "live bytes" : o.by.c_str());
    if (sites.before_blocks())
      printf("(and %" PRIu64 " blocks, %" PRIu64
             " bytes of chunks, allocated before the trace began: heapviz "
             "attached later, so their sites are unknown)\n",
             sites.before_blocks(), sites.before_bytes());
    for (size_t i = 0; i < shown; ++i) {
      const analysis::SiteStats& st = sites.site(order[i]);
      printf("\n#%zu  %" PRIu64 " bytes live in %" PRIu64 " block%s; %" PRIu64 " allocation%s, %" PRIu64
             " bytes; %" PRIu64 " temporary; peak %" PRIu64 " bytes live\n",
             i + 1, st.live_bytes, st.live, st.live == 1 ? "" : "s", st.allocs, st.allocs == 1 ? "" : "s",
             st.bytes, st.temporary, st.peak_live_bytes);
      fputs(frames_text(analysis::site_frames(sym, sites.stacks(), order[i]), "    ", 12).c_str(), stdout);
    }
    if (shown < order.size()) printf("\n... %zu more sites (--top 0 shows all)\n", order.size() - shown);
  }
  warn_symbol_problems(sym);
  return status;
}

const CommandSpec kLeaksSpec = {
    .name = "leaks",
    .brief = "blocks still in use at the end, by the stack that allocated them",
    .synopsis = "[--top K] [--json] FILE",
    .summary = "blocks still in use when the trace ends, grouped by the call stack that allocated\n"
               "them, the most bytes (requested) first",
    .options = {top_option(), json_option()},
    .examples = "heapviz leaks prog.hvt --top 5",
    .see = "docs/cli.md, \"heapviz leaks\"",
};

int cmd_leaks(int argc, char** argv) {
  ReportOptions o;
  if (int rc = parse_report_options(kLeaksSpec, argc, argv, o); rc >= 0) return rc;
  const char* path = o.paths[0];
  trace::TraceFile f;
  if (!open_trace("leaks", path, f)) return 2;
  analysis::SiteTable sites;
  trace::EventStream stream(f);
  int status = read_trace("leaks", path, stream, UINT64_MAX, sites, nullptr);
  if (status == 2) return 2;
  symbols::Symbolizer sym(sites.stacks());
  // The program's blocks first; then those the C library keeps for itself until exit (a stdio
  // buffer, a thread's TLS...), which the program cannot free: apart, and said what they are.
  std::vector<const char*> holder(sites.size(), nullptr);
  uint64_t runtime_count = 0, runtime_bytes = 0;
  for (uint32_t s = 0; s < sites.size(); ++s)
    if (sites.site(s).live && (holder[s] = analysis::runtime_holder(sym, sites.stacks(), s))) {
      runtime_count += sites.site(s).live;
      runtime_bytes += sites.site(s).live_bytes;
    }
  std::vector<uint32_t> order = analysis::leak_order(sites, [&](uint32_t s) { return holder[s]; });
  size_t shown = o.top && order.size() > o.top ? o.top : order.size();
  std::vector<std::vector<symbols::Frame>> frames(sites.size()); // (the shown sites' only)
  for (size_t i = 0; i < shown; ++i)
    frames[order[i]] = analysis::site_frames(sym, sites.stacks(), order[i]);
  if (o.json) {
    std::string out = "{\"leaks\": [";
    for (size_t i = 0; i < shown; ++i) {
      const analysis::SiteStats& st = sites.site(order[i]);
      const char* h = holder[order[i]];
      out += std::string(i ? ",\n  " : "\n  ") + "{\"count\": " + std::to_string(st.live) +
             ", \"bytes\": " + std::to_string(st.live_bytes) +
             ", \"held_by_runtime\": " + (h ? json_string(h) : std::string("null")) +
             ", \"stack\": " + frames_json(frames[order[i]]) + "}";
    }
    out += "],\n \"total_count\": " + std::to_string(sites.live_blocks()) +
           ", \"total_bytes\": " + std::to_string(sites.live_bytes()) +
           ", \"runtime_count\": " + std::to_string(runtime_count) +
           ", \"runtime_bytes\": " + std::to_string(runtime_bytes) +
           ", \"before_trace_blocks\": " + std::to_string(sites.before_blocks()) +
           ", \"before_trace_bytes\": " + std::to_string(sites.before_bytes()) + "}\n";
    fputs(out.c_str(), stdout);
  } else {
    printf("%" PRIu64 " bytes in %" PRIu64
           " blocks still in use at the end of the trace, from %zu call stacks\n",
           sites.live_bytes(), sites.live_blocks(), order.size());
    if (runtime_count)
      printf("(of them, %" PRIu64 " bytes in %" PRIu64 " block%s the C library keeps for itself until exit, "
             "listed after the program's)\n",
             runtime_bytes, runtime_count, runtime_count == 1 ? "" : "s");
    if (sites.before_blocks())
      printf("(and %" PRIu64 " blocks, %" PRIu64
             " bytes of chunks, allocated before the trace began: heapviz "
             "attached later, so their stacks are unknown; a leak among them cannot be told apart)\n",
             sites.before_blocks(), sites.before_bytes());
    for (size_t i = 0; i < shown; ++i) {
      const analysis::SiteStats& st = sites.site(order[i]);
      const char* h = holder[order[i]];
      if (h && (i == 0 || !holder[order[i - 1]]))
        printf("\nHeld by the C library until exit (not the program's to free; but a stdio buffer may be a "
               "FILE's the program never closed):\n");
      printf("\n#%zu  %" PRIu64 " bytes in %" PRIu64 " block%s%s%s\n", i + 1, st.live_bytes, st.live,
             st.live == 1 ? "" : "s", h ? ": " : "", h ? h : "");
      fputs(frames_text(frames[order[i]], "    ", 12).c_str(), stdout);
    }
    if (shown < order.size())
      printf("\n... %zu more call stacks (--top 0 shows all)\n", order.size() - shown);
  }
  warn_symbol_problems(sym);
  return status;
}

} // namespace hv::cli
