// cmd_why.cpp - `heapviz sim --why [--policy NAME] FILE`: each allocation of a scenario (or
// malloclab .rep) with the one sentence that says why its block landed there (analysis/why.h),
// as the app's event list and inspector show it. OSTEP's `malloc.py -c`, with the real glibc.
//
// Owns: the options and the printout. Must not: run a policy itself (session/policy_compare.h
// does) or word the sentences (analysis/why.cpp does).
#include "cli/commands.h"

#include "analysis/why.h"
#include "session/policy_compare.h"
#include "trace/trace_file.h"

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace hv::cli {

int cmd_sim_why(const Args& args) {
  for (const char* o : {"--offsets", "--check", "--checks", "--as-scenario", "--arena-size", "--block-size",
                        "--output", "--json"})
    if (args.has(o)) return usage_error(kSimSpec, std::string(o) + " does not go with --why");
  std::string path = args.positionals()[0];
  std::string policy = args.value("--policy") ? args.value("--policy") : "glibc";
  session::CompareOptions o;
  std::string err;
  if (!session::parse_policy_list(policy, &o.policies, &err)) {
    fprintf(stderr, "heapviz sim: --policy: %s\n", err.c_str());
    return 2;
  }
  std::vector<session::PolicyRun> runs;
  if (!session::compare_policies(path, o, &runs, &err)) {
    fprintf(stderr, "%s\n", err.c_str());
    return 2;
  }
  const session::PolicyRun& run = runs[0];
  trace::TraceFile f;
  std::vector<analysis::CallStory> stories;
  if (!f.open(run.trace_path) || !analysis::explain_trace(f, 0, &stories, &err)) {
    fprintf(stderr, "%s: %s\n", run.trace_path.c_str(),
            f.error() ? f.error()->describe().c_str() : err.c_str());
    return 2;
  }
  // The scenario's lines, to quote each operation.
  std::vector<std::string> lines;
  {
    std::ifstream in(path);
    for (std::string l; std::getline(in, l);) {
      if (size_t h = l.find('#'); h != std::string::npos) l.resize(h);
      while (!l.empty() && (l.back() == ' ' || l.back() == '\t' || l.back() == '\r'))
        l.pop_back();
      size_t b = l.find_first_not_of(" \t");
      lines.push_back(b == std::string::npos ? "" : l.substr(b));
    }
  }
  printf("heapviz sim: %s on %s: why each block landed where it did\n", path.c_str(), run.policy.c_str());
  for (const auto& op : run.ops) {
    if (!op.allocating) continue;
    const analysis::CallStory* s = op.end ? analysis::find_story(stories, op.end - 1) : nullptr;
    const std::string text =
        op.line >= 1 && size_t(op.line) <= lines.size() ? lines[size_t(op.line) - 1] : "";
    printf("%4d  %-28s %s\n", op.line, text.c_str(), s ? s->why.c_str() : "(no story)");
  }
  if (!run.error.empty()) {
    printf("stopped: %s\n", run.error.c_str());
    return 1;
  }
  return 0;
}

} // namespace hv::cli
