// simulate.cpp - scenario file -> trace file (see simulate.h).
#include "sim/simulate.h"

#include "sim/malloclab.h"
#include "sim/policy.h"
#include "sim/runner.h"
#include "sim/scenario.h"

#include "heapviz/trace_format.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unistd.h>
#include <vector>

namespace hv::sim {

bool looks_like_trace(const std::string& path) {
  FILE* f = fopen(path.c_str(), "rb");
  if (!f) return false;
  char magic[8] = {};
  size_t n = fread(magic, 1, sizeof magic, f);
  fclose(f);
  return n == sizeof magic && memcmp(magic, hv::trace::kFileMagic, sizeof magic) == 0;
}

static bool ends_with(const std::string& s, const char* suffix) {
  size_t n = strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

bool is_scenario_file(const std::string& path) {
  if (looks_like_trace(path)) return false;
  if (ends_with(path, ".hvs") || ends_with(path, ".txt") || ends_with(path, ".rep")) return true;
  if (ends_with(path, ".hvt")) return false;
  FILE* f = fopen(path.c_str(), "rb");
  if (!f) return false;
  char buf[4096];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  return n > 0 && memchr(buf, 0, n) == nullptr;
}

std::string temp_trace_path() {
  const char* dir = getenv("TMPDIR");
  std::string tmpl = std::string(dir && *dir ? dir : "/tmp") + "/heapviz-sim-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  int fd = mkstemp(buf.data());
  if (fd < 0) return "";
  close(fd);
  return buf.data();
}

bool simulate_to_trace(const std::string& scenario_path, const std::string& trace_path,
                       const std::string& policy_name, std::string* error) {
  return simulate_to_trace(scenario_path, trace_path, policy_name, error, nullptr);
}

bool simulate_to_trace(const std::string& scenario_path, const std::string& trace_path,
                       const std::string& policy_name, std::string* error, std::vector<MarkNames>* marks) {
  std::ifstream in(scenario_path, std::ios::binary);
  if (!in) {
    *error = scenario_path + ": cannot open: " + strerror(errno);
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  std::vector<Op> ops;
  ParseError perr;
  if (!parse_ops_for_path(scenario_path, ss.str(), &ops, &perr)) {
    *error = scenario_path + ":" + std::to_string(perr.line) + ": " + perr.message;
    return false;
  }
  std::string err;
  PolicyOptions opts;
  scenario_policy_options(ops, &opts);
  auto policy = make_policy(policy_name, &err, opts);
  if (!policy) {
    *error = err;
    return false;
  }
  ScenarioRunner runner(*policy);
  int eline = 0;
  std::string emsg;
  if (!runner.prepare(ops, &eline, &emsg)) { // tunables first: the trace header shows them
    *error = scenario_path + ":" + std::to_string(eline) + ": " + emsg;
    return false;
  }
  if (!policy->start_trace(trace_path, 0)) {
    *error = trace_path + ": cannot write: " + strerror(errno);
    return false;
  }
  auto at_marks = [&](const StepResult& r, std::string*) {
    if (r.op->kind == OpKind::Mark) {
      MarkNames m;
      m.line = r.op->line;
      m.label = r.op->label;
      for (auto& [name, p] : runner.bound_names())
        m.names.emplace_back(name, uint64_t(p));
      marks->push_back(std::move(m));
    }
    return true;
  };
  if (marks) marks->clear();
  bool ok = marks ? runner.run(ops, &eline, &emsg, at_marks) : runner.run(ops, &eline, &emsg);
  policy->stop_trace();
  if (!ok) {
    *error = scenario_path + ":" + std::to_string(eline) + ": " + emsg;
    return false;
  }
  return true;
}

} // namespace hv::sim
