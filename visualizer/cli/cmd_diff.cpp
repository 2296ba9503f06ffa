// cmd_diff.cpp - `heapviz diff A.hvt B.hvt` (two runs) and `heapviz diff FILE --from X --to Y`
// (two positions of one run): per allocation site, the change in allocations, bytes allocated
// and live bytes; for two positions, also the layout (chunks born, died, unchanged).
//
// Owns: the report's text and JSON forms and exit statuses (0 ok, 1 corrupt after a readable
// prefix, 2 usage or nothing readable).
// Must not: compute what analysis/diff.h does.
#include "analysis/diff.h"
#include "cli/commands.h"
#include "cli/report.h"

#include <cinttypes>
#include <cstdio>
#include <memory>

namespace hv::cli {

namespace {
std::string signed_str(int64_t v) {
  char b[32];
  snprintf(b, sizeof b, "%+" PRId64, v);
  return b;
}
} // namespace

const CommandSpec kDiffSpec = {
    .name = "diff",
    .brief = "what changed per allocation site between two runs or two positions",
    .synopsis = "[--top K] [--json] A.hvt B.hvt | FILE --from X --to Y",
    .summary = "per allocation site, what changed between two runs or two positions of one run\n"
               "(sites matched by function, file and line, never by address): allocations, bytes\n"
               "allocated and live bytes from A to B; for two positions also the chunks born, died\n"
               "and unchanged; the top K changes",
    .options = {{"--from", nullptr, "N|end|peak|mark:LABEL", "the first position (one trace)"},
                {"--to", nullptr, "N|end|peak|mark:LABEL", "the second position (one trace)"},
                top_option(),
                json_option()},
    .examples = "heapviz diff before.hvt after.hvt\n"
                "heapviz diff prog.hvt --from mark:warm --to end --top 5",
    .min_args = 1,
    .max_args = 2,
    .see = "docs/cli.md, \"heapviz diff\"",
};

int cmd_diff(int argc, char** argv) {
  ReportOptions o;
  if (int rc = parse_report_options(kDiffSpec, argc, argv, o); rc >= 0) return rc;
  bool positions = o.paths.size() == 1;
  if (positions != (o.has_from || o.has_to))
    return usage_error(kDiffSpec, "give two traces, or one trace with --from and --to");
  std::vector<analysis::SiteDelta> rows;
  analysis::LayoutDelta layout;
  uint64_t at_a = 0, at_b = 0;
  int status = 0;
  std::vector<std::unique_ptr<symbols::Symbolizer>> syms;
  std::vector<std::unique_ptr<analysis::SiteTable>> tables;
  if (positions) {
    const char* path = o.paths[0];
    trace::TraceFile f;
    if (!open_trace("diff", path, f)) return 2;
    // One of the two alone: the other is the trace's start (--from) or its end (--to).
    if (!o.has_from) o.from.kind = analysis::Position::Kind::Events, o.from.events = 0, o.from.text = "0";
    if (!o.has_to) o.to.kind = analysis::Position::Kind::End, o.to.text = "end";
    if (!resolve("diff", path, f, o.from, "--from", &at_a) || !resolve("diff", path, f, o.to, "--to", &at_b))
      return 2;
    if (at_a > at_b) { // (swapped, born would read as died: say so rather than guess)
      fprintf(stderr,
              "heapviz diff: --from %s (event %llu) comes after --to %s (event %llu): give the earlier "
              "position as --from\n",
              o.from.text.c_str(), static_cast<unsigned long long>(at_a), o.to.text.c_str(),
              static_cast<unsigned long long>(at_b));
      return 2;
    }
    tables.push_back(std::make_unique<analysis::SiteTable>());
    analysis::SiteTable& t = *tables.back();
    model::HeapModel m;
    trace::EventStream s(f);
    if ((status = read_trace("diff", path, s, at_a, t, &m, false)) == 2) return 2;
    at_a = t.events();
    std::vector<analysis::SiteStats> a;
    for (uint32_t i = 0; i < t.size(); ++i)
      a.push_back(t.site(i));
    std::vector<model::Chunk> ca = m.chunks_sorted();
    if ((status = read_trace("diff", path, s, at_b, t, &m)) == 2) return 2;
    at_b = t.events();
    layout = analysis::diff_layout(ca, m.chunks_sorted());
    syms.push_back(std::make_unique<symbols::Symbolizer>(t.stacks()));
    rows = analysis::diff_sites(a, t, *syms.back());
  } else {
    for (const char* path : o.paths) {
      trace::TraceFile f;
      if (!open_trace("diff", path, f)) return 2;
      tables.push_back(std::make_unique<analysis::SiteTable>());
      trace::EventStream s(f);
      int st = read_trace("diff", path, s, UINT64_MAX, *tables.back(), nullptr);
      if (st == 2) return 2;
      status = std::max(status, st);
      syms.push_back(std::make_unique<symbols::Symbolizer>(tables.back()->stacks()));
    }
    at_a = tables[0]->events();
    at_b = tables[1]->events();
    rows = analysis::diff_sites(*tables[0], *syms[0], *tables[1], *syms[1]);
  }
  size_t shown = o.top && rows.size() > o.top ? o.top : rows.size();
  if (o.json) {
    std::string out = "{\"sites\": [";
    for (size_t i = 0; i < shown; ++i) {
      const auto& r = rows[i];
      out += std::string(i ? ",\n  " : "\n  ") + "{\"allocs_delta\": " + std::to_string(r.allocs_delta) +
             ", \"bytes_delta\": " + std::to_string(r.bytes_delta) +
             ", \"live_bytes_delta\": " + std::to_string(r.live_bytes_delta) +
             ", \"stack\": " + frames_json(r.stack) + "}";
    }
    out += "]";
    if (positions) {
      auto u = [](uint64_t v) { return std::to_string(v); };
      out +=
          ",\n \"from\": " + u(at_a) + ", \"to\": " + u(at_b) +
          ", \"layout\": {\"born\": {\"chunks\": " + u(layout.born) + ", \"bytes\": " + u(layout.born_bytes) +
          "}, \"died\": {\"chunks\": " + u(layout.died) + ", \"bytes\": " + u(layout.died_bytes) +
          "}, \"unchanged\": {\"chunks\": " + u(layout.unchanged) +
          ", \"bytes\": " + u(layout.unchanged_bytes) + "}, \"changed\": {\"chunks\": " + u(layout.changed) +
          ", \"bytes\": " + u(layout.changed_bytes) + "}}";
    }
    out += "}\n";
    fputs(out.c_str(), stdout);
  } else {
    if (positions)
      printf("from event %" PRIu64 " to event %" PRIu64 ": %zu sites changed\n", at_a, at_b, rows.size());
    else
      printf("%s (%" PRIu64 " events) -> %s (%" PRIu64 " events): %zu sites changed\n", o.paths[0], at_a,
             o.paths[1], at_b, rows.size());
    if (positions)
      printf("layout: %" PRIu64 " chunks born (%" PRIu64 " bytes), %" PRIu64 " died (%" PRIu64
             " bytes), %" PRIu64 " unchanged (%" PRIu64 " bytes), %" PRIu64 " reused or rebinned (%" PRIu64
             " bytes)\n",
             layout.born, layout.born_bytes, layout.died, layout.died_bytes, layout.unchanged,
             layout.unchanged_bytes, layout.changed, layout.changed_bytes);
    for (size_t i = 0; i < shown; ++i) {
      const auto& r = rows[i];
      printf("\n#%zu  live bytes %s (%" PRIu64 " -> %" PRIu64 "), allocations %s, bytes allocated %s%s\n",
             i + 1, signed_str(r.live_bytes_delta).c_str(), r.live_bytes_a, r.live_bytes_b,
             signed_str(r.allocs_delta).c_str(), signed_str(r.bytes_delta).c_str(),
             r.only_a   ? " (only in A)"
             : r.only_b ? " (only in B)"
                        : "");
      fputs(frames_text(r.stack, "    ", 10).c_str(), stdout);
    }
    if (shown < rows.size()) printf("\n... %zu more sites (--top 0 shows all)\n", rows.size() - shown);
  }
  for (const auto& s : syms)
    warn_symbol_problems(*s);
  return status;
}

} // namespace hv::cli
