// cmd_dump.cpp - `heapviz dump [--from N] [--count M] [--kind K,..] [--addr A] [--size N|MIN-MAX]
// [--thread T] FILE`: events in seq order, one per line, in the format of docs/cli.md
// (trace::event_line), those the filter selects (analysis::matches, as the app's Events window).
//
// Owns: option parsing and the exit status (0 ok or truncated, 1 corrupt after the printed
// prefix, 2 usage or nothing readable).
// Must not: format events itself (event_text.h).
#include "analysis/event_query.h"
#include "cli/commands.h"
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

int cmd_dump(int argc, char** argv) {
  const char* usage = "usage: heapviz dump [--from SEQ] [--count N] [--kind KIND[,KIND...]] [--addr ADDR]\n"
                      "                    [--size N|MIN-MAX] [--thread TID] FILE\n"
                      "  kinds: alloc free split merge bin top grow trim error mark chunk other\n"
                      "  --addr: the events touching the chunk that holds ADDR (its history)\n";
  uint64_t from = 0, count = UINT64_MAX;
  const char* path = nullptr;
  analysis::Filter filter;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--kind" || a == "--addr" || a == "--size" || a == "--thread") {
      if (i + 1 >= argc) {
        fprintf(stderr, "heapviz dump: %s needs a value\n%s", a.c_str(), usage);
        return 2;
      }
      std::string v = argv[++i], err = a == "--kind"   ? analysis::parse_kinds(v, &filter)
                                       : a == "--addr" ? analysis::parse_addr(v, &filter)
                                       : a == "--size" ? analysis::parse_size(v, &filter)
                                                       : analysis::parse_tid(v, &filter);
      if (v.empty()) err = "an empty value";
      if (!err.empty()) {
        fprintf(stderr, "heapviz dump: %s %s: %s\n%s", a.c_str(), v.c_str(), err.c_str(), usage);
        return 2;
      }
    } else if (a == "--from" || a == "--count") {
      if (i + 1 >= argc || !parse_u64(argv[i + 1], a == "--from" ? from : count)) {
        fprintf(stderr, "heapviz dump: %s needs a number\n%s", a.c_str(), usage);
        return 2;
      }
      ++i;
    } else if (!a.empty() && a[0] == '-') {
      fprintf(stderr, "heapviz dump: unknown option '%s'\n%s", a.c_str(), usage);
      return 2;
    } else if (path) {
      fprintf(stderr, "%s", usage);
      return 2;
    } else {
      path = argv[i];
    }
  }
  if (!path) {
    fprintf(stderr, "%s", usage);
    return 2;
  }
  trace::TraceFile f;
  if (!f.open(path)) {
    fprintf(stderr, "%s: %s\n", path, f.error()->describe().c_str());
    return 2;
  }
  trace::EventStream s(f);
  uint64_t t0 = f.header().start_mono_ns, printed = 0;
  bool have_t0 = t0 != 0;
  std::string line;
  while (printed < count) {
    const trace::Event* e = s.next();
    if (!e) break;
    if (!have_t0) {
      t0 = e->ts;
      have_t0 = true;
    }
    if (e->seq < from || !analysis::matches(*e, filter)) continue;
    line = trace::event_line(*e, t0);
    line += '\n';
    fwrite(line.data(), 1, line.size(), stdout);
    ++printed;
  }
  fflush(stdout);
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
