// report.cpp - see report.h.
#include "cli/report.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

#include "sim/simulate.h"

namespace hv::cli {

int parse_report_options(const CommandSpec& spec, int argc, char** argv, ReportOptions& o) {
  Args args;
  if (int rc = args.parse(spec, argc, argv); rc >= 0) return rc;
  for (const auto& option : args.given()) {
    const char *name = option.first, *v = option.second; // (clang 14: no bindings in lambdas)
    std::string a = name;
    auto position = [&](analysis::Position& p, bool& has) {
      std::string err;
      if (!analysis::parse_position(v, &p, &err)) return usage_error(spec, a + " " + err);
      has = true;
      return -1;
    };
    int rc = -1;
    if (a == "--json") {
      o.json = true;
    } else if (a == "--top") {
      char* end = nullptr;
      o.top = strtoul(v, &end, 10);
      if (!*v || *end || *v == '-') rc = usage_error(spec, std::string("--top '") + v + "' is not a number");
    } else if (a == "--at") {
      rc = position(o.at, o.has_at);
    } else if (a == "--from") {
      rc = position(o.from, o.has_from);
    } else if (a == "--to") {
      rc = position(o.to, o.has_to);
    } else if (a == "--by") {
      o.by = v;
      if (o.by != "live" && o.by != "allocs" && o.by != "bytes" && o.by != "temporary")
        rc = usage_error(spec, std::string("--by '") + v + "': give live, allocs, bytes or temporary");
    }
    if (rc >= 0) return rc;
  }
  for (char* p : args.positionals())
    o.paths.push_back(p);
  return -1;
}

bool open_input(const char* path, trace::TraceFile& f, std::string* error, bool* unreadable) {
  if (unreadable) *unreadable = false;
  if (!sim::is_scenario_file(path)) {
    if (f.open(path)) return true;
    *error = std::string(path) + ": " + f.error()->describe();
    if (unreadable) *unreadable = f.error()->kind == trace::ErrorKind::Io;
    return false;
  }
  std::string temp = sim::temp_trace_path(), err;
  if (temp.empty()) {
    *error = std::string(path) + ": cannot create a temporary trace file in $TMPDIR or /tmp to simulate it";
    if (unreadable) *unreadable = true;
    return false;
  }
  bool ok = sim::simulate_to_trace(path, temp, "glibc", &err);
  if (ok && !f.open(temp)) {
    ok = false;
    err = std::string(path) + " (simulated): " + f.error()->describe();
  }
  unlink(temp.c_str()); // mapped: the data stays until f closes
  if (!ok) {
    *error = err.rfind(path, 0) == 0 ? err : std::string(path) + ": " + err;
    // A text file read as a scenario for want of the trace's magic (no .hvs/.txt/.rep name): say
    // both, not only why it is a bad scenario (`heapviz errors /etc/passwd`).
    std::string p = path;
    auto ends = [&](const char* x) {
      return p.size() >= strlen(x) && p.compare(p.size() - strlen(x), strlen(x), x) == 0;
    };
    if (!ends(".hvs") && !ends(".txt") && !ends(".rep"))
      *error =
          p +
          ": not a heapviz trace (it does not start with the trace's magic), and not a scenario either: " +
          *error;
    if (unreadable) *unreadable = true;
  }
  return ok;
}

bool open_trace(const char* cmd, const char* path, trace::TraceFile& f) {
  std::string err;
  if (open_input(path, f, &err)) return true;
  fprintf(stderr, "heapviz %s: %s\n", cmd, err.c_str());
  return false;
}

bool ends_at(trace::EventStream& s, uint64_t read, uint64_t limit) {
  return read < limit || (!s.error() && s.next() == nullptr);
}

int read_trace(const char* cmd, const char* path, trace::EventStream& s, uint64_t limit,
               analysis::SiteTable& sites, model::HeapModel* model, bool last) {
  std::string err;
  while (sites.events() < limit) {
    const trace::Event* e = s.next();
    if (!e) break;
    if (!sites.add(*e, &err)) {
      fprintf(stderr, "heapviz %s: %s: %s\n", cmd, path, err.c_str());
      return 2;
    }
    if (model) model->apply(*e);
  }
  bool ended = last ? ends_at(s, sites.events(), limit) : sites.events() < limit;
  if (const auto& e = s.error(); e && ended) {
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

bool resolve(const char* cmd, const char* path, const trace::TraceFile& f, const analysis::Position& p,
             const char* option, uint64_t* events) {
  std::string err;
  if (p.kind == analysis::Position::Kind::Events && p.events > f.indexed_events()) { // as shot says it
    fprintf(stderr, "heapviz %s: %s %s is past the end: %s has %" PRIu64 " events\n", cmd, option,
            p.text.c_str(), path, f.indexed_events());
    return false;
  }
  if (analysis::resolve_position(f, p, events, &err)) return true;
  fprintf(stderr, "heapviz %s: %s: %s %s: %s\n", cmd, path, option, p.text.c_str(), err.c_str());
  return false;
}

std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else {
      o += c;
    }
  }
  return o + "\"";
}

std::string frames_json(const std::vector<symbols::Frame>& frames) {
  std::string o = "[";
  for (size_t i = 0; i < frames.size(); ++i) {
    const symbols::Frame& f = frames[i];
    char addr[32];
    snprintf(addr, sizeof addr, "\"0x%" PRIx64 "\"", f.address);
    o += std::string(i ? ", " : "") + "{\"function\": " + json_string(f.function) +
         ", \"file\": " + json_string(f.file) + ", \"line\": " + std::to_string(f.line) +
         ", \"module\": " + json_string(f.module) + ", \"address\": " + addr + "}";
  }
  return o + "]";
}

std::string frames_text(const std::vector<symbols::Frame>& frames, const char* indent, size_t max_frames) {
  if (frames.empty()) return std::string(indent) + "(no call stack)\n";
  std::string o;
  size_t n = max_frames && frames.size() > max_frames ? max_frames : frames.size();
  for (size_t i = 0; i < n; ++i) {
    const symbols::Frame& f = frames[i];
    o += indent + f.function;
    if (!f.file.empty() && f.line > 0)
      o += " (" + f.file + ":" + std::to_string(f.line) + ")";
    else if (!f.module.empty() && f.resolved)
      o += " (" + f.module + ")";
    if (f.inlined) o += " [inlined]";
    o += "\n";
  }
  if (n < frames.size())
    o += std::string(indent) + "... " + std::to_string(frames.size() - n) +
         (frames.size() - n == 1 ? " more frame\n" : " more frames\n");
  return o;
}

void warn_symbol_problems(const symbols::Symbolizer& sym) {
  for (const symbols::Symbolizer::Problem& p : sym.problems())
    fprintf(stderr, "heapviz: warning: %s: %s%s\n", p.module.c_str(), p.why.c_str(),
            p.why.find("module+offset") == std::string::npos ? "; its frames show as module+offset" : "");
}

std::string events_not_fitting(const model::HeapModel& m, uint64_t gaps) {
  const uint64_t n = m.anomalies();
  std::string t = std::to_string(n) + (n == 1 ? " event does" : " events do") + " not fit the replayed heap";
  if (m.errors())
    t += " (after a heap error)";
  else if (m.fake_frees())
    t += " (after a free outside every heap)";
  else if (gaps)
    t += " (after lost events)";
  return t;
}

} // namespace hv::cli
