// cmd_sim.cpp - `heapviz sim`: run a scenario or a malloclab trace on a simulated allocator and
// print the heap (and a .rep's utilization). Must not: parse scenarios or compute the measures.
#include "cli/commands.h"

#include "cli/trace_summary.h"
#include "sim/malloclab.h"
#include "sim/policy.h"
#include "sim/runner.h"
#include "sim/scenario.h"
#include "sim/utilization.h"

#include "heapviz/chunk_states.h"
#include "model/policy_info.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>

namespace hv::cli {
namespace {

std::string hex(uint64_t v) {
  char b[32];
  snprintf(b, sizeof b, "0x%lx", static_cast<unsigned long>(v));
  return b;
}

std::string human(uint64_t v) {
  char b[32];
  if (v >= (1u << 20))
    snprintf(b, sizeof b, "%.1f MiB", static_cast<double>(v) / (1 << 20));
  else if (v >= 1024)
    snprintf(b, sizeof b, "%.1f KiB", static_cast<double>(v) / 1024);
  else
    snprintf(b, sizeof b, "%lu B", static_cast<unsigned long>(v));
  return b;
}

void print_heap(sim::Policy& policy, const sim::ScenarioRunner& runner, const char* path, size_t nops,
                const sim::Utilization* util, std::string& out) {
  auto rows = policy.walk();
  auto sum = policy.summary();
  const uintptr_t base = policy.heap_base();
  char line[256];
  snprintf(line, sizeof line, "heapviz sim: %s, policy %s, %zu operation%s\n", path, policy.name(), nops,
           nops == 1 ? "" : "s");
  out += line;
  snprintf(line, sizeof line, "main heap: %s bytes (%s) from the initial program break\n\n",
           hex(sum.heap_bytes).c_str(), human(sum.heap_bytes).c_str());
  out += line;
  snprintf(line, sizeof line, "  %-10s %-10s %-9s %-13s %s\n", "offset", "size", "state", "bin", "block");
  out += line;

  // The policy's chunk header and own chunks, as the app describes them (model/policy_info.h).
  const model::PolicyInfo* info = model::find_policy(policy.name());
  const model::PolicyInfo generic;
  if (!info) info = &generic;
  // Owner labels: chunk address -> "name (N bytes)".
  std::map<uint64_t, const sim::Block*> owner;
  for (const auto& [ptr, b] : runner.live_blocks())
    if (!policy.is_mmapped(reinterpret_cast<void*>(ptr))) owner[ptr - info->header_bytes] = &b;

  uint64_t used = 0, used_n = 0, free_bytes = 0, free_n = 0, largest_free = 0, top = 0;
  auto print_row = [&](const sim::ChunkRow& r) {
    const uint8_t st = uint8_t(r.state);
    std::string who;
    const uint64_t addr = (r.heap ? r.heap : base) + r.offset;
    if (auto it = owner.find(addr); it != owner.end() && r.state == trace::ChunkState::InUse) {
      who = it->second->name + " (" + std::to_string(it->second->requested) + " bytes, line " +
            std::to_string(it->second->line) + ")";
    } else if (r.internal) {
      who = std::string("(") + info->internal_name + ")";
    }
    std::string bin = trace::is_binned(st) ? trace::bin_text(trace::bin_of(st), r.bin).c_str() : "-";
    int n = snprintf(line, sizeof line, "  %-10s %-10s %-9s %-13s %s", hex(r.offset).c_str(),
                     hex(r.size).c_str(), trace::state_name(st), bin.c_str(), who.c_str());
    while (n > 0 && line[n - 1] == ' ')
      line[--n] = 0; // no trailing blanks when there is no owner
    out += line;
    out += '\n';
    if (r.state == trace::ChunkState::InUse) {
      used += r.size;
      ++used_n;
    } else if (r.state == trace::ChunkState::Top) {
      top += r.size;
    } else if (trace::is_binned(st)) {
      free_bytes += r.size;
      ++free_n;
      if (r.size > largest_free) largest_free = r.size;
    }
  };
  std::vector<uintptr_t> heaps; // non-main heaps (glibc's other arenas), in the runner's numbering
  for (const auto& r : rows) {
    if (!r.heap)
      print_row(r);
    else if (std::find(heaps.begin(), heaps.end(), r.heap) == heaps.end())
      heaps.push_back(r.heap);
  }
  for (uintptr_t h : heaps) // heaps no result named are numbered after the others, in walk order
    runner.heap_name(h);
  std::sort(heaps.begin(), heaps.end(), [&](uintptr_t a, uintptr_t b) {
    return std::stoul(runner.heap_name(a).substr(4)) < std::stoul(runner.heap_name(b).substr(4));
  });
  for (uintptr_t h : heaps) { // docs/scenarios.md, "Threads"
    uint64_t end = 0;
    int arena = 0;
    for (const auto& r : rows)
      if (r.heap == h) end = r.offset + r.size, arena = r.arena;
    snprintf(line, sizeof line, "\n%s: arena %d's heap, %s bytes (%s) from its start (64 MiB aligned)\n\n",
             runner.heap_name(h).c_str(), arena, hex(end).c_str(), human(end).c_str());
    out += line;
    snprintf(line, sizeof line, "  %-10s %-10s %-9s %-13s %s\n", "offset", "size", "state", "bin", "block");
    out += line;
    for (const auto& r : rows)
      if (r.heap == h) print_row(r);
  }
  std::string mm;
  for (const auto& [ptr, b] : runner.live_blocks()) {
    if (!policy.is_mmapped(reinterpret_cast<void*>(ptr))) continue;
    snprintf(line, sizeof line, "  %-12s %s requested, %s usable (line %d)\n", b.name.c_str(),
             human(b.requested).c_str(), human(policy.usable_size(reinterpret_cast<void*>(ptr))).c_str(),
             b.line);
    mm += line;
  }
  if (!mm.empty()) out += "\nmmapped chunks (" + human(sum.mmapped_bytes) + "):\n" + mm;
  snprintf(line, sizeof line,
           "\nsummary: %lu chunk%s in use (%s), %lu free chunk%s (%s, largest %s), top %s\n",
           static_cast<unsigned long>(used_n), used_n == 1 ? "" : "s", human(used).c_str(),
           static_cast<unsigned long>(free_n), free_n == 1 ? "" : "s", human(free_bytes).c_str(),
           human(largest_free).c_str(), human(top).c_str());
  out += line;
  if (util) { // mdriver's measure (docs/malloclab.md): exact bytes, one decimal of percent
    snprintf(line, sizeof line, "utilization: %.1f%% (peak live %lu B / peak heap %lu B)\n",
             util->ratio() * 100, static_cast<unsigned long>(util->peak_live),
             static_cast<unsigned long>(util->peak_heap));
    out += line;
  }
  // Each bin's list in the allocator's order (the Bins window's, docs/trace-format.md "Bin order").
  auto lists = policy.bin_lists();
  if (lists.empty()) return;
  std::sort(lists.begin(), lists.end(), [](const sim::BinListRow& a, const sim::BinListRow& b) {
    return std::tuple(a.thread, a.arena, uint8_t(a.kind), a.index) <
           std::tuple(b.thread, b.arena, uint8_t(b.kind), b.index);
  });
  if (info->bins_about[0]) // a textbook policy (docs/policies.md)
    out += std::string("\nfree lists, head first (") + info->bins_about + "):\n";
  else
    out += "\nbins, each list head first (malloc takes a tcache's or fastbin's head and a smallbin's tail;\n"
           "the unsorted scan starts at the tail; largebins are sorted by size, largest first):\n";
  for (const sim::BinListRow& l : lists) {
    // With threads: a scenario thread's tcache, or a non-main arena's bin (its chunks heapN+0x...).
    std::string what = l.thread  ? "thread " + std::to_string(l.thread) + " "
                       : l.arena ? "arena " + std::to_string(l.arena) + " "
                                 : "";
    snprintf(line, sizeof line, "  %-13s", (what + trace::bin_text(l.kind, l.index).c_str()).c_str());
    out += line;
    for (size_t i = 0; i < l.chunks.size(); ++i) {
      out += ' ';
      if (i < l.heaps.size() && l.heaps[i]) out += runner.heap_name(l.heaps[i]) + "+";
      out += hex(l.chunks[i]);
    }
    out += '\n';
  }
}

} // namespace

const CommandSpec kSimSpec = {
    .name = "sim",
    .brief = "run a scenario or malloclab trace on the simulated allocator",
    .synopsis = "[options] FILE",
    .summary = "run a scenario (docs/scenarios.md) or a malloclab .rep trace (docs/malloclab.md) on the\n"
               "simulated allocator (glibc 2.36's malloc, or a textbook policy) and print the heap (and,\n"
               "for a .rep, mdriver's utilization)",
    .options =
        {{"--policy", nullptr, "NAME",
          "the allocator: glibc (default), first-fit, next-fit, best-fit, worst-fit,\n"
          "segregated, buddy, pool, linear, stack (docs/policies.md)"},
         {"--policies", nullptr, "A,B,...", "run it on several policies side by side and compare them"},
         {"--why", nullptr, nullptr, "print each allocation with why its block landed where it did"},
         {"--offsets", nullptr, nullptr, "print 'NAME OFFSET' per allocation instead of the heap"},
         {"--check", nullptr, nullptr, "run the heap checker after every operation"},
         {"--checks", nullptr, nullptr, "heapviz's own heap checks (docs/checks.md)", "HEAPVIZ_CHECKS=1"},
         {"--output", "-o", "FILE|DIR",
          "also record the run as a trace FILE (with --policies: one trace per policy in DIR)"},
         {"--json", nullptr, nullptr, "with --policies: the comparison as JSON (docs/cli.md)"},
         {"--arena-size", nullptr, "BYTES", "the buddy and pool policies' arena size (decimal or 0x-hex)"},
         {"--block-size", nullptr, "BYTES", "the pool policy's block size"},
         {"--as-scenario", nullptr, nullptr, "print a .rep as scenario text (nothing runs)"}},
    .examples = "heapviz sim assets/scenarios/demo.hvs\n"
                "heapviz sim --offsets --policy best-fit my.hvs\n"
                "heapviz sim --policies glibc,first-fit,buddy my.hvs\n"
                "heapviz sim --why my.hvs\n"
                "heapviz sim -o my.hvt my.hvs && heapviz view my.hvt",
    .see = "docs/scenarios.md, docs/policies.md, docs/cli.md \"heapviz sim\"",
};

int cmd_sim(int argc, char** argv) {
  Args args;
  if (int rc = args.parse(kSimSpec, argc, argv); rc >= 0) return rc;
  if (args.has("--policies")) return cmd_sim_compare(args); // side by side: cmd_compare.cpp
  if (args.has("--why")) return cmd_sim_why(args);          // each allocation's why: cmd_why.cpp
  if (args.has("--json")) return usage_error(kSimSpec, "--json goes with --policies");
  std::string policy_name = args.value("--policy") ? args.value("--policy") : "glibc";
  sim::PolicyOptions opts;
  bool offsets = args.has("--offsets"), check = args.has("--check"), as_scenario = args.has("--as-scenario");
  // heapviz's own heap checks (docs/checks.md): --checks, or HEAPVIZ_CHECKS=1 as for a program.
  bool checks = args.has("--checks") ||
                (getenv("HEAPVIZ_CHECKS") && *getenv("HEAPVIZ_CHECKS") && *getenv("HEAPVIZ_CHECKS") != '0');
  std::string trace_out = args.value("--output") ? args.value("--output") : "";
  for (const char* a : {"--arena-size", "--block-size"})
    if (const char* v = args.value(a)) {
      char* end = nullptr;
      errno = 0;
      uint64_t n = strtoull(v, &end, 0);
      if (errno || end == v || *end || v[0] == '-' || n == 0)
        return usage_error(kSimSpec,
                           std::string(a) + " '" + v + "': a number of bytes above 0 (decimal or 0x-hex)");
      (strcmp(a, "--arena-size") == 0 ? opts.arena_size : opts.block_size) = n;
    }
  const char* path = args.positionals()[0];
  std::string text, err;
  if (!sim::read_ops_file(path, &text, &err)) {
    fprintf(stderr, "heapviz sim: %s\n", err.c_str());
    return 2;
  }
  std::vector<sim::Op> ops;
  sim::ParseError perr;
  const bool rep = sim::is_malloclab_path(path); // a malloclab trace (docs/malloclab.md)
  if (!sim::parse_ops_for_path(path, text, &ops, &perr)) {
    fprintf(stderr, "%s:%d: %s\n", path, perr.line, perr.message.c_str());
    return 2;
  }
  if (as_scenario) { // a .rep as the scenario it runs as (docs/malloclab.md); nothing runs
    if (!rep) {
      fprintf(stderr, "heapviz sim: --as-scenario takes a malloclab trace (FILE.rep)\n");
      return 2;
    }
    printf("# %s as a scenario (heapviz sim --as-scenario, docs/malloclab.md)\n%s", path,
           sim::malloclab_scenario_text(ops).c_str());
    return 0;
  }
  sim::scenario_policy_options(ops, &opts); // an arena-size line, unless --arena-size said otherwise
  auto policy = sim::make_policy(policy_name, &err, opts);
  if (!policy) {
    fprintf(stderr, "heapviz sim: %s\n", err.c_str());
    return 2;
  }
  if (checks) {
    const char* cont = getenv("HEAPVIZ_CHECKS_CONTINUE");
    if (!policy->enable_checks(cont && *cont && *cont != '0')) {
      fprintf(stderr, "heapviz sim: the %s policy has no checks (--checks)\n", policy->name());
      return 2;
    }
  }
  sim::ScenarioRunner runner(*policy);
  int eline = 0;
  std::string emsg;
  if (!runner.prepare(ops, &eline, &emsg)) { // tunables first: the trace header shows them
    fprintf(stderr, "%s:%d: %s\n", path, eline, emsg.c_str());
    return 2;
  }
  if (!trace_out.empty()) {
    uint64_t verify = 0;
    if (const char* v = getenv("HEAPVIZ_VERIFY")) verify = strtoull(v, nullptr, 10);
    if (!policy->start_trace(trace_out, verify)) {
      fprintf(stderr, "heapviz sim: cannot write %s: %s\n", trace_out.c_str(), strerror(errno));
      return 2;
    }
  }
  std::string out;
  bool check_failed = false;
  sim::UtilizationMeter meter;
  bool ok = runner.run(ops, &eline, &emsg, [&](const sim::StepResult& r, std::string* msg) {
    if (rep) meter.observe(runner.live_requested_bytes(), policy->summary());
    if (offsets && r.allocating) out += r.op->name + " " + runner.offset_text(r.ptr) + "\n";
    if (check) {
      std::string v = policy->check();
      if (!v.empty()) {
        *msg = "heap check failed after this operation: " + v;
        check_failed = true;
        return false;
      }
    }
    return true;
  });
  if (checks && ok) policy->checks_at_exit();
  if (!trace_out.empty()) {
    policy->stop_trace();
    fprintf(stderr, "heapviz sim: %s\n", summarize_trace(trace_out).c_str());
  }
  if (!ok) {
    fprintf(stderr, "%s:%d: %s\n", path, eline, emsg.c_str());
    return check_failed ? 1 : 2;
  }
  // The operations are the calls on the heap, what a reader counts in the file: not the marks,
  // mallopt and tunable lines, thread starts and exits, expect lines or a lesson's lines.
  size_t nops = size_t(std::count_if(ops.begin(), ops.end(), [](const sim::Op& o) {
    return o.kind <= sim::OpKind::Free || o.kind == sim::OpKind::MallocTrim;
  }));
  if (!offsets) print_heap(*policy, runner, path, nops, rep ? &meter.result() : nullptr, out);
  fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

} // namespace hv::cli
