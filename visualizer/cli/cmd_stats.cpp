// cmd_stats.cpp - `heapviz stats [--at POS] [--json] FILE`: event counts, API calls, peaks, fragmentation,
// released pages, duration, threads, blocks and sizes of a trace (keys documented in docs/cli.md).
//
// Owns: the summary's text and JSON forms and the exit status (0 ok or truncated, 1 corrupt after
// a usable prefix, 2 usage or nothing readable).
// Must not: contain reader or model logic, or compute what the pass summary does
// (analysis/trace_summary.h).
#include "analysis/trace_summary.h"
#include "cli/commands.h"
#include "cli/report.h"
#include "model/heap_model.h"
#include "trace/event_stream.h"
#include "trace/event_text.h"
#include "trace/process_tree.h"
#include <algorithm>

#include <cinttypes>
#include <cstdio>
#include <string>

namespace hv::cli {

const CommandSpec kStatsSpec = {
    .name = "stats",
    .brief = "a trace's summary: counts, calls, peaks, fragmentation, threads",
    .synopsis = "[--at N|end|peak|mark:LABEL] [--json] FILE",
    .summary = "a trace's (or a scenario's) summary: event counts, calls, peak heap and live bytes,\n"
               "fragmentation, released pages, duration, threads; up to a position with --at",
    .options = {at_option("the summary of the first N events, up to the peak of live bytes, or up to\n"
                          "the first mark LABEL (default: the whole trace)"),
                json_option()},
    .examples = "heapviz stats prog.hvt\n"
                "heapviz stats --json --at mark:loaded prog.hvt\n"
                "heapviz stats assets/scenarios/demo.hvs     # a scenario is simulated first",
    .see = "docs/cli.md, \"heapviz stats\"",
};

int cmd_stats(int argc, char** argv) {
  Args args;
  if (int rc = args.parse(kStatsSpec, argc, argv); rc >= 0) return rc;
  bool json = args.has("--json");
  const char* path = args.positionals()[0];
  analysis::Position at;
  if (const char* v = args.value("--at")) {
    std::string err;
    if (!analysis::parse_position(v, &at, &err)) return usage_error(kStatsSpec, std::string("--at ") + err);
  }
  trace::TraceFile f;
  std::string open_error;
  if (!open_input(path, f, &open_error)) {
    fprintf(stderr, "%s\n", open_error.c_str());
    return 2;
  }
  uint64_t limit = UINT64_MAX;
  if (args.has("--at") && !resolve("stats", path, f, at, "--at", &limit)) return 2;
  trace::EventStream s(f);
  model::HeapModel m;
  m.set_page_size(f.header().page_size);
  analysis::TraceSummary sum(0); // counts, peaks and time span only (no series)
  for (uint64_t k = 0; k < limit; ++k) {
    const trace::Event* e = s.next();
    if (!e) break;
    m.apply(*e);
    sum.add(*e, m);
  }
  sum.finish(m);
  const auto& err = s.error();
  bool truncated = err && err->kind == trace::ErrorKind::Truncated;
  model::Metrics fin = m.metrics();
  const model::HeapModel::BeforeTrace before = m.before_trace();
  uint64_t n = sum.events(), duration = sum.duration_ns(), peak_heap = sum.peak_heap(),
           peak_live = sum.peak_live();
  double per_event = n ? double(f.file_size()) / double(n) : 0.0;
  using trace::Ev;
  auto calls = [&](Ev e) { return sum.calls(e); };
  auto counts = [&](int t) { return sum.count(uint8_t(t)); };

  if (json) {
    std::string o = "{\n";
    auto kv = [&](const char* k, const std::string& v, bool last = false) {
      o += std::string("  \"") + k + "\": " + v + (last ? "\n" : ",\n");
    };
    auto u = [](uint64_t v) { return std::to_string(v); };
    kv("file", json_string(path));
    kv("command", json_string(f.cmdline()));
    kv("events", u(n));
    std::string ec = "{";
    bool first = true;
    for (int t = 0; t < 256; ++t)
      if (counts(t)) {
        ec += (first ? "" : ", ") + json_string(trace::event_type_name(uint8_t(t))) + ": " + u(counts(t));
        first = false;
      }
    kv("event_counts", ec + "}");
    kv("calls", "{\"malloc\": " + u(calls(Ev::Malloc)) + ", \"free\": " + u(calls(Ev::Free)) +
                    ", \"calloc\": " + u(calls(Ev::Calloc)) + ", \"realloc\": " + u(calls(Ev::Realloc)) +
                    ", \"memalign\": " + u(calls(Ev::Memalign)) + "}");
    kv("peak_heap_bytes", u(peak_heap));
    kv("peak_live_bytes", u(peak_live));
    kv("final_heap_bytes", u(fin.heap_bytes));
    kv("final_live_bytes", u(fin.live_bytes));
    kv("final_free_bytes", u(fin.free_bytes));
    kv("final_largest_free", u(fin.largest_free));
    char fr[32];
    snprintf(fr, sizeof fr, "%.6f", fin.fragmentation());
    kv("final_fragmentation", fr);
    kv("final_chunks", u(fin.chunks));
    kv("final_released_bytes", u(fin.released_bytes));
    kv("final_before_trace_blocks", u(before.blocks));
    kv("final_before_trace_bytes", u(before.bytes));
    kv("peak_released_bytes", u(sum.peak_released()));
    kv("duration_ns", u(duration));
    kv("time_back_steps", u(sum.time_back_steps()));
    kv("time_back_max_ns", u(sum.time_back_max_ns()));
    kv("threads", u(f.threads().size()));
    kv("calling_threads", u(sum.calling_threads()));
    kv("blocks", u(f.blocks().size()));
    kv("file_size", u(f.file_size()));
    snprintf(fr, sizeof fr, "%.3f", per_event);
    kv("bytes_per_event", fr);
    kv("heap_errors", u(m.errors()));
    kv("anomalies", u(m.anomalies()));
    kv("truncated", truncated ? "true" : "false");
    kv("error", err ? json_string(err->describe()) : "null", true);
    o += "}\n";
    fputs(o.c_str(), stdout);
  } else {
    printf("file:                %s\n", path);
    printf("command:             %s\n", trace::one_line(f.cmdline()).c_str());
    if (args.has("--at"))
      printf("events:              %" PRIu64 " (up to --at %s)\n", n, at.text.c_str());
    else
      printf("events:              %" PRIu64 "\n", n);
    printf("calls:               malloc %" PRIu64 ", free %" PRIu64 ", calloc %" PRIu64 ", realloc %" PRIu64
           ", memalign %" PRIu64 "\n",
           calls(Ev::Malloc), calls(Ev::Free), calls(Ev::Calloc), calls(Ev::Realloc), calls(Ev::Memalign));
    printf("peak heap:           %" PRIu64 " bytes\n", peak_heap);
    printf("peak live:           %" PRIu64 " bytes (requested%s)\n", peak_live,
           m.has_baseline() ? "; of blocks made during the trace: those from before it are in no live figure"
                            : "");
    printf("final heap:          %" PRIu64 " bytes, %" PRIu64 " live, %" PRIu64 " free (largest %" PRIu64
           "), %" PRIu64 " chunks\n",
           fin.heap_bytes, fin.live_bytes, fin.free_bytes, fin.largest_free, fin.chunks);
    if (before.blocks) // attached to a running process: what it had allocated before is in no "live"
      printf("before the trace:    %" PRIu64 " blocks still in use, %" PRIu64
             " bytes of chunks, allocated before heapviz attached (not in \"live\": their requests "
             "are unknown)\n",
             before.blocks, before.bytes);
    printf("final fragmentation: %.4f\n", fin.fragmentation());
    if (counts(int(Ev::Release))) // a trace that released pages (malloc_trim, a heap shrunk)
      printf("released:            %" PRIu64 " bytes at the end, so %" PRIu64 " resident (footprint - "
             "released); %" PRIu64 " at the peak heap\n",
             fin.released_bytes, fin.resident_bytes(), sum.peak_released());
    printf("duration:            %.6f s\n", double(duration) / 1e9);
    if (sum.time_back_steps()) {
      // In the unit that shows it: "at most 0.000 ms" hid a step of 491 ns.
      const uint64_t back = sum.time_back_max_ns();
      char at_most[48];
      if (back < 1000)
        snprintf(at_most, sizeof at_most, "%" PRIu64 " ns", back);
      else if (back < 1000000)
        snprintf(at_most, sizeof at_most, "%.3f us", double(back) / 1e3);
      else
        snprintf(at_most, sizeof at_most, "%.3f ms", double(back) / 1e6);
      printf("time order:          %" PRIu64 " events earlier than one before them, by at most %s (the "
             "first: event %" PRIu64 ")\n",
             sum.time_back_steps(), at_most, sum.time_back_first());
    }
    if (sum.calling_threads() == f.threads().size())
      printf("threads:             %zu\n", f.threads().size());
    else if (args.has("--at")) // (the others may call later)
      printf("threads:             %zu called the allocator up to --at; %zu in the file\n",
             sum.calling_threads(), f.threads().size());
    else if (err) // (the replay stopped early: threads past it may have called)
      printf("threads:             %zu called the allocator in the events read; %zu in the file\n",
             sum.calling_threads(), f.threads().size());
    else { // a live capture: the live thread writes its snapshots (and nothing else) in blocks of its own
      const size_t others = f.threads().size() - sum.calling_threads();
      printf("threads:             %zu called the allocator; %zu in the file (the other%s made no "
             "allocator call, as heapviz's live thread writing a capture's snapshots)\n",
             sum.calling_threads(), f.threads().size(), others == 1 ? "" : "s");
    }
    printf("blocks:              %zu\n", f.blocks().size());
    printf("file size:           %" PRIu64 " bytes (%.2f bytes/event)\n", f.file_size(), per_event);
    if (m.errors()) printf("heap errors:         %" PRIu64 "\n", m.errors());
    printf("event counts:\n");
    for (int t = 0; t < 256; ++t)
      if (counts(t)) printf("  %-18s %" PRIu64 "\n", trace::event_type_name(uint8_t(t)).c_str(), counts(t));
  }
  if (m.anomalies())
    fprintf(stderr, "%s: warning: %s; the first: %s\n", path, events_not_fitting(m, s.gaps()).c_str(),
            m.first_anomaly().c_str());
  if (err) {
    fprintf(stderr, "%s: %s%s\n", path, err->describe().c_str(),
            truncated ? " (the file is truncated: these statistics cover the readable prefix)" : "");
    return truncated ? 0 : 1;
  }
  return 0;
}

} // namespace hv::cli
