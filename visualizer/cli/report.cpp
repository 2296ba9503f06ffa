// report.cpp - see report.h.
#include "cli/report.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace hv::cli {

bool parse_report_options(const char* cmd, int argc, char** argv, ReportOptions& o, size_t max_paths,
                          std::initializer_list<const char*> allowed, const char* usage) {
  auto may = [&](const char* name) {
    for (const char* a : allowed)
      if (strcmp(a, name) == 0) return true;
    return false;
  };
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        fprintf(stderr, "heapviz %s: %s needs a value\n%s", cmd, name, usage);
        return nullptr;
      }
      return argv[++i];
    };
    auto position = [&](const char* name, analysis::Position& p, bool& has) {
      const char* v = value(name);
      if (!v) return false;
      std::string err;
      if (!analysis::parse_position(v, &p, &err)) {
        fprintf(stderr, "heapviz %s: %s %s\n", cmd, name, err.c_str());
        return false;
      }
      has = true;
      return true;
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
    } else if (may("at") && a == "--at") {
      if (!position("--at", o.at, o.has_at)) return false;
    } else if (may("from") && a == "--from") {
      if (!position("--from", o.from, o.has_from)) return false;
    } else if (may("to") && a == "--to") {
      if (!position("--to", o.to, o.has_to)) return false;
    } else if (may("by") && a == "--by") {
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
    } else if ((!a.empty() && a[0] == '-') || o.paths.size() >= max_paths) {
      fprintf(stderr, "heapviz %s: unexpected argument '%s'\n%s", cmd, a.c_str(), usage);
      return false;
    } else {
      o.paths.push_back(argv[i]);
    }
  }
  if (o.paths.empty()) {
    fprintf(stderr, "%s", usage);
    return false;
  }
  return true;
}

bool open_trace(const char* cmd, const char* path, trace::TraceFile& f) {
  if (f.open(path)) return true;
  fprintf(stderr, "heapviz %s: %s: %s\n", cmd, path, f.error()->describe().c_str());
  return false;
}

int read_trace(const char* cmd, const char* path, trace::EventStream& s, uint64_t limit,
               analysis::SiteTable& sites, model::HeapModel* model) {
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

bool resolve(const char* cmd, const char* path, const trace::TraceFile& f, const analysis::Position& p,
             const char* option, uint64_t* events) {
  std::string err;
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
    o += std::string(indent) + "... " + std::to_string(frames.size() - n) + " more frames\n";
  return o;
}

void warn_symbol_problems(const symbols::Symbolizer& sym) {
  for (const symbols::Symbolizer::Problem& p : sym.problems())
    fprintf(stderr, "heapviz: warning: %s: %s; its frames show as module+offset\n", p.module.c_str(),
            p.why.c_str());
}

} // namespace hv::cli
