// main.cpp - the heapviz command line: dispatches subcommands.
//
// Owns: argument parsing and exit codes (0 ok, 1 check failure, 2 bad input or usage).
// Must not: contain allocator or model logic; each subcommand calls into its layer.
#include "commands.h"

#include <cstdio>
#include <cstring>
#include <string>

namespace {

const char* kUsage =
    "usage: heapviz <command> [options]\n"
    "\n"
    "commands:\n"
    "  sim [--policy glibc] [--offsets] [--check] FILE\n"
    "        run a scenario (docs/scenarios.md) on the simulated allocator and print the heap;\n"
    "        --offsets prints 'NAME OFFSET' per allocation instead; --check runs the heap\n"
    "        checker after every operation\n"
    "  help  show this text\n";

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fputs(kUsage, stderr);
    return 2;
  }
  std::string cmd = argv[1];
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    fputs(kUsage, stdout);
    return 0;
  }
  if (cmd == "sim") return hv::cli::cmd_sim(argc - 2, argv + 2);
  fprintf(stderr, "heapviz: unknown command '%s'\n\n%s", cmd.c_str(), kUsage);
  return 2;
}
