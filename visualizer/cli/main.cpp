// main.cpp - the heapviz command line: dispatches subcommands.
//
// Owns: argument parsing and exit codes (0 ok, 1 check failure, 2 bad input or usage).
// Must not: contain allocator or model logic; each subcommand calls into its layer.
#include "cli/commands.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>

namespace {

const char* kUsage =
    "usage: heapviz <command> [options]\n"
    "\n"
    "commands:\n"
    "  sim [--policy NAME] [--arena-size BYTES] [--block-size BYTES] [--offsets] [--check] [--checks] [-o "
    "TRACE.hvt] "
    "[--as-scenario] FILE\n"
    "        run a scenario (docs/scenarios.md) or a malloclab .rep trace (docs/malloclab.md) on\n"
    "        the simulated allocator and print the heap (and, for a .rep, mdriver's utilization);\n"
    "        --offsets prints 'NAME OFFSET' per allocation instead; --check runs the heap\n"
    "        checker after every operation; -o also records the run as a trace;\n"
    "        --as-scenario prints a .rep as scenario text\n"
    "  record [-o FILE] [--no-stacks] [--checks] -- PROGRAM [ARGS...]\n"
    "        run a program on libhvalloc.so and record its heap events, with the call stack of\n"
    "        every allocation and free, to a trace\n"
    "  check FILE\n"
    "        validate a trace and replay it (against its snapshots, if any)\n"
    "  stats [--json] FILE\n"
    "        event counts, calls, peak heap and live bytes, fragmentation, threads\n"
    "  dump [--from N] [--count M] FILE\n"
    "        print events, one per line\n"
    "  sites FILE [--at N|end|peak|mark:LABEL] [--by live|allocs|bytes|temporary] [--top K] [--json]\n"
    "        allocation sites (call stacks): live blocks and bytes, allocations, temporary ones\n"
    "  leaks FILE [--top K] [--json]\n"
    "        blocks still in use when the trace ends, grouped by the call stack that allocated them\n"
    "  frag FILE [--at N|end|peak|mark:LABEL] [--top K] [--json]\n"
    "        why the footprint exceeds what is live: the top, free memory by bin, and the sites\n"
    "        whose live blocks keep free memory apart\n"
    "  bins FILE [--at N|end|peak|mark:LABEL] [--json]\n"
    "        every bin's list, head first, in the allocator's order (a tcache per thread)\n"
    "  errors FILE [--json]\n"
    "        every heap error: kind, message, the faulting call's stack, the block's allocation\n"
    "        and free stacks, the bytes that differ\n"
    "  diff A.hvt B.hvt | diff FILE --from X --to Y   [--top K] [--json]\n"
    "        per allocation site, what changed between two runs or two positions\n"
    "  view [FILE]   (or just: heapviz FILE)\n"
    "        open the desktop app on a trace or a scenario (.hvs or .rep, simulated first)\n"
    "  shot FILE [--at N|end] [--select ADDR] [--size WxH] -o OUT.png [--geometry OUT.txt]\n"
    "  shot --lesson NAME [--step K] -o OUT.png\n"
    "        render the app at the heap after N events (or at a lesson's step) to a PNG\n"
    "        (works under xvfb-run)\n"
    "  lesson --list | lesson NAME [--step K] | lesson --check [NAME...]\n"
    "        the lessons (docs/lessons.md): list them, open the app at one, or check that\n"
    "        every lesson runs on its policies with every claim true\n"
    "  ps    list processes you can attach to (started with HEAPVIZ_LIVE=1)\n"
    "  attach PID [--out FILE [--seconds S]]\n"
    "        follow a running process's heap in the app; with --out, capture it to a trace\n"
    "        instead (until it exits, or for S seconds)\n"
    "  run [--out FILE] -- PROGRAM [ARGS...]\n"
    "        start a program with live attach on and follow it in the app (or capture it)\n"
    "  help  show this text\n";

} // namespace

namespace hv::cli {

int no_gui(const char* command, const char* hint) {
  fprintf(stderr, "heapviz: '%s' needs the GUI; this heapviz was built with -DHV_GUI=OFF%s%s%s\n", command,
          *hint ? " (" : "", hint, *hint ? ")" : "");
  return 2;
}

} // namespace hv::cli

int main(int argc, char** argv) {
  if (argc < 2) {
    fputs(kUsage, stderr);
    return 2;
  }
  std::string cmd = argv[1];
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    fputs(kUsage, stdout);
    if (!hv::cli::has_gui())
      fputs("\nthis heapviz was built with -DHV_GUI=OFF: view, shot, and attach/run without --out are "
            "unavailable\n",
            stdout);
    return 0;
  }
  if (cmd == "sim") return hv::cli::cmd_sim(argc - 2, argv + 2);
  if (cmd == "record") return hv::cli::cmd_record(argc - 2, argv + 2);
  if (cmd == "check") return hv::cli::cmd_check(argc - 2, argv + 2);
  if (cmd == "stats") return hv::cli::cmd_stats(argc - 2, argv + 2);
  if (cmd == "dump") return hv::cli::cmd_dump(argc - 2, argv + 2);
  if (cmd == "sites") return hv::cli::cmd_sites(argc - 2, argv + 2);
  if (cmd == "leaks") return hv::cli::cmd_leaks(argc - 2, argv + 2);
  if (cmd == "frag") return hv::cli::cmd_frag(argc - 2, argv + 2);
  if (cmd == "bins") return hv::cli::cmd_bins(argc - 2, argv + 2);
  if (cmd == "errors") return hv::cli::cmd_errors(argc - 2, argv + 2);
  if (cmd == "diff") return hv::cli::cmd_diff(argc - 2, argv + 2);
  if (cmd == "view") return hv::cli::cmd_view(argc - 2, argv + 2);
  if (cmd == "shot") return hv::cli::cmd_shot(argc - 2, argv + 2);
  if (cmd == "ps") return hv::cli::cmd_ps(argc - 2, argv + 2);
  if (cmd == "attach") return hv::cli::cmd_attach(argc - 2, argv + 2);
  if (cmd == "run") return hv::cli::cmd_run(argc - 2, argv + 2);
  if (cmd == "lesson") return hv::cli::cmd_lesson(argc - 2, argv + 2);
  // `heapviz FILE`: an existing file (not a command name) opens in the app.
  if (cmd.find('/') != std::string::npos || cmd.find('.') != std::string::npos) {
    if (access(argv[1], F_OK) == 0) return hv::cli::cmd_view(argc - 1, argv + 1);
    fprintf(stderr, "heapviz: %s: no such file\n", argv[1]);
    return 2;
  }
  fprintf(stderr, "heapviz: unknown command '%s'\n\n%s", cmd.c_str(), kUsage);
  return 2;
}
