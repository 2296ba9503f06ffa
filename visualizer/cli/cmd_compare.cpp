// cmd_compare.cpp - `heapviz sim --policies A,B,C FILE`: one scenario on several policies, and
// the comparison table (docs/policies.md, "Side by side"; the JSON keys are in docs/cli.md).
//
// Owns: the options and the table's text and JSON. Must not: run a policy itself
// (session/policy_compare.h does), or draw.
#include "cli/commands.h"

#include "cli/report.h"
#include "session/policy_compare.h"

#include <cstdio>
#include <string>

namespace hv::cli {
namespace {

std::string bytes_text(uint64_t v) {
  char b[32];
  if (v >= (uint64_t(1) << 20))
    snprintf(b, sizeof b, "%.1f MiB", double(v) / double(1 << 20));
  else if (v >= 1024)
    snprintf(b, sizeof b, "%.1f KiB", double(v) / 1024);
  else
    snprintf(b, sizeof b, "%lu B", static_cast<unsigned long>(v));
  return b;
}

std::string num(double v, int decimals) {
  char b[32];
  snprintf(b, sizeof b, "%.*f", decimals, v);
  return b;
}

} // namespace

int cmd_sim_compare(const Args& args) {
  for (const char* o : {"--policy", "--why", "--offsets", "--check", "--checks", "--as-scenario",
                        "--arena-size", "--block-size"})
    if (args.has(o)) return usage_error(kSimSpec, std::string(o) + " does not go with --policies");
  session::CompareOptions opts;
  std::string list = args.value("--policies"), path = args.positionals()[0];
  bool json = args.has("--json");
  if (const char* dir = args.value("--output")) opts.trace_dir = dir;
  std::string err;
  if (!session::parse_policy_list(list, &opts.policies, &err)) {
    fprintf(stderr, "heapviz sim: --policies: %s\n", err.c_str());
    return 2;
  }
  std::vector<session::PolicyRun> runs;
  if (!session::compare_policies(path, opts, &runs, &err)) {
    fprintf(stderr, "%s\n", err.c_str());
    return 2;
  }
  int status = 0;
  if (json) {
    std::string o = "{\"scenario\":" + json_string(path) + ",\"policies\":[";
    for (size_t i = 0; i < runs.size(); ++i) {
      const auto& r = runs[i];
      const size_t n = r.ops.size();
      const session::OpMetrics* end = r.after(n);
      o += std::string(i ? "," : "") + "{\"policy\":" + json_string(r.policy) +
           ",\"operations\":" + std::to_string(n) +
           ",\"footprint\":" + std::to_string(end ? end->footprint : 0) +
           ",\"peak_footprint\":" + std::to_string(r.peak_footprint) +
           ",\"peak_live\":" + std::to_string(r.peak_live) + ",\"utilization\":" + num(r.utilization(), 4) +
           ",\"external_fragmentation\":" + num(r.external_frag(r.peak_done), 4) +
           ",\"internal_fragmentation\":" + num(r.internal_frag(r.peak_done), 4) +
           ",\"blocks_searched_per_malloc\":" + num(r.searched_per_malloc(), 2) +
           ",\"trace\":" + json_string(r.trace_path) +
           ",\"error\":" + (r.error.empty() ? std::string("null") : json_string(r.error)) + "}";
    }
    printf("%s]}\n", o.c_str());
  } else {
    printf("heapviz sim: %s on %zu polic%s\n\n", path.c_str(), runs.size(), runs.size() == 1 ? "y" : "ies");
    printf("  %-11s %10s %10s %10s %8s %9s %9s %9s\n", "policy", "ops", "footprint", "peak", "util",
           "ext frag", "int frag", "searched");
    for (const auto& r : runs) {
      const size_t n = r.ops.size();
      const session::OpMetrics* end = r.after(n);
      printf("  %-11s %10zu %10s %10s %7.1f%% %8.1f%% %8.1f%% %9.2f\n", r.policy.c_str(), n,
             bytes_text(end ? end->footprint : 0).c_str(), bytes_text(r.peak_footprint).c_str(),
             100 * r.utilization(), 100 * r.external_frag(r.peak_done), 100 * r.internal_frag(r.peak_done),
             r.searched_per_malloc());
    }
    printf("\n  footprint: the heap's bytes from the system at the end; peak: its highest;\n"
           "  util: peak live requested / peak footprint (malloclab's utilization);\n"
           "  ext frag: 1 - largest free block / free bytes, and int frag: in-use bytes not\n"
           "  requested, both when the live bytes peak;\n"
           "  searched: blocks looked at per malloc (docs/policies.md, \"Side by side\")\n");
    for (const auto& r : runs)
      if (!r.error.empty()) printf("  %s stopped: %s\n", r.policy.c_str(), r.error.c_str());
    if (!opts.trace_dir.empty()) printf("  traces: %s/POLICY.hvt\n", opts.trace_dir.c_str());
  }
  for (const auto& r : runs)
    if (!r.error.empty()) status = 1;
  return status;
}

} // namespace hv::cli
