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

namespace {

struct Options {
  const char* path = nullptr;
  bool json = false;
  size_t top = 20;
  std::string by = "live";
  analysis::Position at;
};

// Reads the trace into `sites` up to `limit` events. Returns the exit status so far (0, 1 for a
// trace corrupt after a readable prefix, 2 for nothing readable), printing what went wrong.
int read_sites(const char* cmd, const trace::TraceFile& f, const char* path, uint64_t limit,
               analysis::SiteTable& sites) {
  trace::EventStream s(f);
  std::string err;
  while (sites.events() < limit) {
    const trace::Event* e = s.next();
    if (!e) break;
    if (!sites.add(*e, &err)) {
      fprintf(stderr, "heapviz %s: %s: %s\n", cmd, path, err.c_str());
      return 2;
    }
  }
  if (const auto& e = s.error(); e && sites.events() < limit) {
    bool truncated = e->kind == trace::ErrorKind::Truncated;
    fprintf(stderr, "heapviz %s: %s: %s%s\n", cmd, path, e->describe().c_str(),
            truncated ? " (the file is truncated: this covers the readable prefix)" : "");
    if (!truncated) return sites.events() ? 1 : 2;
  }
  if (sites.api_calls() && !sites.calls_with_stack())
    fprintf(stderr,
            "heapviz %s: %s: this trace has no call stacks (recorded with --no-stacks, HEAPVIZ_STACKS=0, "
            "simulated, or by a heapviz before stacks): every block shows as '(no call stack)'\n",
            cmd, path);
  return 0;
}

bool parse(const char* cmd, int argc, char** argv, Options& o, bool positions, const char* usage) {
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        fprintf(stderr, "heapviz %s: %s needs a value\n%s", cmd, name, usage);
        return nullptr;
      }
      return argv[++i];
    };
    if (a == "--json") {
      o.json = true;
    } else if (a == "--top") {
      const char* v = value("--top");
      if (!v) return false;
      char* end = nullptr;
      o.top = strtoul(v, &end, 10);
      if (!*v || *end) {
        fprintf(stderr, "heapviz %s: --top '%s' is not a number\n", cmd, v);
        return false;
      }
    } else if (positions && a == "--at") {
      const char* v = value("--at");
      if (!v) return false;
      std::string err;
      if (!analysis::parse_position(v, &o.at, &err)) {
        fprintf(stderr, "heapviz %s: --at %s\n", cmd, err.c_str());
        return false;
      }
    } else if (positions && a == "--by") {
      const char* v = value("--by");
      if (!v) return false;
      o.by = v;
      if (o.by != "live" && o.by != "allocs" && o.by != "bytes" && o.by != "temporary") {
        fprintf(stderr, "heapviz %s: --by '%s': give live, allocs, bytes or temporary\n", cmd, v);
        return false;
      }
    } else if (a == "-h" || a == "--help") {
      fputs(usage, stdout);
      exit(0);
    } else if ((!a.empty() && a[0] == '-') || o.path) {
      fprintf(stderr, "heapviz %s: unexpected argument '%s'\n%s", cmd, a.c_str(), usage);
      return false;
    } else {
      o.path = argv[i];
    }
  }
  if (!o.path) {
    fprintf(stderr, "%s", usage);
    return false;
  }
  return true;
}

} // namespace

int cmd_sites(int argc, char** argv) {
  const char* usage =
      "usage: heapviz sites FILE [--at N|end|peak|mark:LABEL] [--by live|allocs|bytes|temporary] [--top K] "
      "[--json]\n"
      "  allocation sites (full call stacks) with their live blocks and bytes at the position (default: the\n"
      "  end), and their allocations, bytes allocated and temporary allocations up to it; the top K (20;\n"
      "  0 for all) by the chosen column\n";
  Options o;
  if (!parse("sites", argc, argv, o, true, usage)) return 2;
  trace::TraceFile f;
  if (!f.open(o.path)) {
    fprintf(stderr, "heapviz sites: %s: %s\n", o.path, f.error()->describe().c_str());
    return 2;
  }
  uint64_t limit = 0;
  std::string err;
  if (!analysis::resolve_position(f, o.at, &limit, &err)) {
    fprintf(stderr, "heapviz sites: %s: --at %s: %s\n", o.path, o.at.text.c_str(), err.c_str());
    return 2;
  }
  analysis::SiteTable sites;
  int status = read_sites("sites", f, o.path, limit, sites);
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
                      ", \"live_bytes\": " + std::to_string(sites.live_bytes()) + ", \"sites\": [";
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

int cmd_leaks(int argc, char** argv) {
  const char* usage = "usage: heapviz leaks FILE [--top K] [--json]\n"
                      "  blocks still in use when the trace ends, grouped by the call stack that allocated\n"
                      "  them, the most bytes (requested) first; the top K (20; 0 for all)\n";
  Options o;
  if (!parse("leaks", argc, argv, o, false, usage)) return 2;
  trace::TraceFile f;
  if (!f.open(o.path)) {
    fprintf(stderr, "heapviz leaks: %s: %s\n", o.path, f.error()->describe().c_str());
    return 2;
  }
  analysis::SiteTable sites;
  int status = read_sites("leaks", f, o.path, UINT64_MAX, sites);
  if (status == 2) return 2;
  std::vector<uint32_t> order;
  for (uint32_t s = 0; s < sites.size(); ++s)
    if (sites.site(s).live) order.push_back(s);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const analysis::SiteStats &x = sites.site(a), &y = sites.site(b);
    return x.live_bytes != y.live_bytes ? x.live_bytes > y.live_bytes : x.live > y.live;
  });
  size_t shown = o.top && order.size() > o.top ? o.top : order.size();
  symbols::Symbolizer sym(sites.stacks());
  if (o.json) {
    std::string out = "{\"leaks\": [";
    for (size_t i = 0; i < shown; ++i) {
      const analysis::SiteStats& st = sites.site(order[i]);
      out += std::string(i ? ",\n  " : "\n  ") + "{\"count\": " + std::to_string(st.live) +
             ", \"bytes\": " + std::to_string(st.live_bytes) +
             ", \"stack\": " + frames_json(analysis::site_frames(sym, sites.stacks(), order[i])) + "}";
    }
    out += "],\n \"total_count\": " + std::to_string(sites.live_blocks()) +
           ", \"total_bytes\": " + std::to_string(sites.live_bytes()) + "}\n";
    fputs(out.c_str(), stdout);
  } else {
    printf("%" PRIu64 " bytes in %" PRIu64
           " blocks still in use at the end of the trace, from %zu call stacks\n",
           sites.live_bytes(), sites.live_blocks(), order.size());
    for (size_t i = 0; i < shown; ++i) {
      const analysis::SiteStats& st = sites.site(order[i]);
      printf("\n#%zu  %" PRIu64 " bytes in %" PRIu64 " block%s\n", i + 1, st.live_bytes, st.live,
             st.live == 1 ? "" : "s");
      fputs(frames_text(analysis::site_frames(sym, sites.stacks(), order[i]), "    ", 12).c_str(), stdout);
    }
    if (shown < order.size())
      printf("\n... %zu more call stacks (--top 0 shows all)\n", order.size() - shown);
  }
  warn_symbol_problems(sym);
  return status;
}

} // namespace hv::cli
