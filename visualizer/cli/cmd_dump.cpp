// cmd_dump.cpp - `heapviz dump [--from N|--from-mark L] [--count M] [--kind K,..] [--addr A]
// [--size S] [--thread T] FILE`: events in seq order, one per line, in the format of docs/cli.md
// (trace::event_line), those the filter selects (analysis::matches, as the app's Events window).
//
// Owns: option parsing and the exit status (0 ok or truncated, 1 corrupt after the printed
// prefix, 2 usage or nothing readable).
// Must not: format events itself (event_text.h).
#include "analysis/event_query.h"
#include "cli/commands.h"
#include "cli/report.h"
#include "trace/event_stream.h"
#include "trace/event_text.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace hv::cli {

static bool parse_u64(const char* s, uint64_t& v) {
  if (!s || !*s || *s == '-') return false;
  errno = 0;
  char* end;
  unsigned long long x = strtoull(s, &end, 0);
  if (errno || *end) return false;
  v = x;
  return true;
}

const CommandSpec kDumpSpec = {
    .name = "dump",
    .brief = "print events one per line, filtered",
    .synopsis = "[--from SEQ|--from-mark LABEL] [--count N] [--kind K,...] [--addr ADDR] [--size S]\n"
                "                    [--thread TID] FILE",
    .summary = "print a trace's (or a scenario's) events in sequence order, one per line, those the\n"
               "filters select (the same filters as the app's Events window)",
    .options = {{"--from", nullptr, "SEQ", "start at the event with this sequence number"},
                {"--from-mark", nullptr, "LABEL",
                 "start at the first mark LABEL (hv_mark, a scenario's mark)"},
                {"--count", nullptr, "N", "print at most N events"},
                {"--kind", nullptr, "KIND[,KIND...]",
                 "only these kinds: alloc free split merge bin top grow trim error mark chunk other"},
                {"--addr", nullptr, "ADDR",
                 "only the events touching the chunk that holds ADDR (its history)"},
                {"--size", nullptr, "N|MIN-MAX",
                 "only events with a size N or in MIN-MAX: a requested or a chunk size; req:N for\n"
                 "requested sizes only (calloc: n x size), chunk:N for chunk sizes only"},
                {"--thread", nullptr, "TID", "only this thread's events"}},
    .examples = "heapviz dump prog.hvt | less\n"
                "heapviz dump --addr 0x5555555596b0 prog.hvt      # one chunk's history\n"
                "heapviz dump --from-mark loaded --kind alloc,free --count 20 prog.hvt\n"
                "heapviz dump --size 100-200 --thread 4242 prog.hvt",
    .see = "docs/cli.md, \"heapviz dump\"",
};

int cmd_dump(int argc, char** argv) {
  Args args;
  if (int rc = args.parse(kDumpSpec, argc, argv); rc >= 0) return rc;
  uint64_t from = 0, count = UINT64_MAX;
  const char* from_mark = args.value("--from-mark");
  analysis::Filter filter;
  for (const auto& option : args.given()) {
    const char *name = option.first, *v = option.second; // (clang 14: no bindings in lambdas)
    std::string a = name, err;
    if (a == "--kind")
      err = analysis::parse_kinds(v, &filter);
    else if (a == "--addr")
      err = analysis::parse_addr(v, &filter);
    else if (a == "--size")
      err = analysis::parse_size(v, &filter);
    else if (a == "--thread")
      err = analysis::parse_tid(v, &filter);
    else if ((a == "--from" || a == "--count") && !parse_u64(v, a == "--from" ? from : count))
      err = "not a number";
    if (!err.empty()) return usage_error(kDumpSpec, a + " " + v + ": " + err);
  }
  if (from_mark && args.has("--from"))
    return usage_error(kDumpSpec, "--from and --from-mark: give one of them");
  const char* path = args.positionals()[0];
  trace::TraceFile f;
  std::string open_error;
  if (!open_input(path, f, &open_error)) {
    fprintf(stderr, "%s\n", open_error.c_str());
    return 2;
  }
  uint64_t skip = 0, index = 0;
  if (from_mark) { // the mark's own event is the first printed
    analysis::Position p;
    p.kind = analysis::Position::Kind::Mark;
    p.label = from_mark;
    p.text = from_mark;
    uint64_t after = 0;
    if (!resolve("dump", path, f, p, "--from-mark", &after)) return 2;
    skip = after - 1; // the events before the mark, in sequence order
  }
  trace::EventStream s(f);
  uint64_t t0 = f.header().start_mono_ns, printed = 0;
  bool have_t0 = t0 != 0;
  std::string line;
  uint64_t last_seq = 0, seen = 0;
  while (printed < count) {
    const trace::Event* e = s.next();
    if (!e) break;
    last_seq = e->seq;
    ++seen;
    if (!have_t0) {
      t0 = e->ts;
      have_t0 = true;
    }
    if (index++ < skip || e->seq < from || !analysis::matches(*e, filter)) continue;
    line = trace::event_line(*e, t0);
    line += '\n';
    fwrite(line.data(), 1, line.size(), stdout);
    ++printed;
  }
  fflush(stdout);
  // Nothing printed: say why, rather than an empty page and exit 0.
  if (printed == 0 && count > 0 && !s.error()) {
    if (seen && from > last_seq) {
      fprintf(stderr, "heapviz dump: --from %llu: past the end (the last event is seq %llu)\n",
              static_cast<unsigned long long>(from), static_cast<unsigned long long>(last_seq));
      return 2;
    }
    if (seen) fprintf(stderr, "heapviz dump: no event matches\n");
  }
  // The file's own damage is known at open; a decode error only if we read that far.
  const auto& err = s.error() ? s.error() : f.error();
  if (err) {
    bool trunc = err->kind == trace::ErrorKind::Truncated;
    fprintf(stderr, "%s: %s%s\n", path, err->describe().c_str(),
            trunc ? " (the file is truncated; the events before it are shown)" : "");
    return trunc ? 0 : (printed < count ? 1 : 0);
  }
  return 0;
}

} // namespace hv::cli
