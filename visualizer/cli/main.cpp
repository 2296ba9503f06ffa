// main.cpp - the heapviz command line: dispatches subcommands.
//
// Owns: argument parsing and exit codes (0 ok, 1 check failure, 2 bad input or usage).
// Must not: contain allocator or model logic; each subcommand calls into its layer.
#include "cli/commands.h"
#include "cli/options.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

struct Command {
  const hv::cli::CommandSpec* spec;
  int (*run)(int argc, char** argv);
};

// Every subcommand, in the order `heapviz --help` lists them.
const std::vector<Command>& commands() {
  using namespace hv::cli;
  static const std::vector<Command> all = {
      {&kViewSpec, cmd_view},
      {&kRecordSpec, cmd_record},
      {&kRunSpec, cmd_run},
      {&kSimSpec, cmd_sim},
      {&kStatsSpec, cmd_stats},
      {&kCheckSpec, cmd_check},
      {&kDumpSpec, cmd_dump},
      {&kChunksSpec, cmd_chunks},
      {&kBinsSpec, cmd_bins},
      {&kSitesSpec, cmd_sites},
      {&kLeaksSpec, cmd_leaks},
      {&kFragSpec, cmd_frag},
      {&kErrorsSpec, cmd_errors},
      {&kDiffSpec, cmd_diff},
      {&kShotSpec, cmd_shot},
      {&kLessonSpec, cmd_lesson},
      {&kPsSpec, cmd_ps},
      {&kAttachSpec, cmd_attach},
      {&kCompletionSpec, cmd_completion},
  };
  return all;
}

void print_usage(FILE* out) {
  std::string o = "usage: heapviz <command> [options] [FILE]\n"
                  "       heapviz FILE            (the same as: heapviz view FILE)\n\n"
                  "commands:\n";
  for (const Command& c : commands()) {
    std::string first = c.spec->brief;
    std::string left = std::string("  ") + c.spec->name;
    left.resize(14, ' ');
    o += left + first + "\n";
  }
  o += "\n'heapviz COMMAND --help' shows a command's options and examples; 'heapviz --version' the\n"
       "version. Documentation: docs/cli.md (and man heapviz when installed).\n";
  fputs(o.c_str(), out);
}

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
    print_usage(stderr);
    return 2;
  }
  std::string cmd = argv[1];
  if (cmd == "--version" || cmd == "-V" || cmd == "version") {
    printf("heapviz %s (allocator: glibc %s malloc)\n", HV_VERSION, "2.36");
    return 0;
  }
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    if (argc > 2) { // heapviz help COMMAND
      for (const Command& c : commands())
        if (argv[2] == std::string(c.spec->name)) {
          hv::cli::print_help(*c.spec, stdout);
          return 0;
        }
      fprintf(stderr, "heapviz help: no command '%s'\n", argv[2]);
      return 2;
    }
    print_usage(stdout);
    if (!hv::cli::has_gui())
      fputs("\nthis heapviz was built with -DHV_GUI=OFF: view, shot, and attach/run without --out are "
            "unavailable\n",
            stdout);
    return 0;
  }
  for (const Command& c : commands())
    if (cmd == c.spec->name) return c.run(argc - 2, argv + 2);
  // `heapviz FILE`: an existing file (not a command name) opens in the app.
  if (cmd.find('/') != std::string::npos || cmd.find('.') != std::string::npos) {
    if (access(argv[1], F_OK) == 0) return hv::cli::cmd_view(argc - 1, argv + 1);
    fprintf(stderr, "heapviz: %s: no such file\n", argv[1]);
    return 2;
  }
  std::vector<std::string> names = {"help"};
  for (const Command& c : commands())
    names.push_back(c.spec->name);
  std::string near = hv::cli::nearest(cmd, names);
  if (!near.empty() || cmd[0] == '-') {
    fprintf(stderr, "heapviz: unknown %s '%s'%s%s%s\nTry 'heapviz --help'.\n",
            cmd[0] == '-' ? "option" : "command", cmd.c_str(), near.empty() ? "" : " (did you mean '",
            near.c_str(), near.empty() ? "" : "'?)");
    return 2;
  }
  fprintf(stderr, "heapviz: unknown command '%s'\n\n", cmd.c_str());
  print_usage(stderr);
  return 2;
}

namespace hv::cli {

int cmd_completion(int argc, char** argv) {
  Args a;
  if (int rc = a.parse(kCompletionSpec, argc, argv); rc >= 0) return rc;
  if (std::string(a.positionals()[0]) != "bash")
    return usage_error(kCompletionSpec,
                       std::string("no completion for '") + a.positionals()[0] + "' (only bash)");
  std::vector<const CommandSpec*> specs;
  for (const Command& c : commands())
    specs.push_back(c.spec);
  fputs(bash_completion(specs).c_str(), stdout);
  return 0;
}

const CommandSpec kCompletionSpec = {
    .name = "completion",
    .brief = "print the bash completion script",
    .synopsis = "bash",
    .summary = "print a bash completion script for heapviz's commands and options\n"
               "(installed as share/bash-completion/completions/heapviz)",
    .options = {},
    .examples = "source <(heapviz completion bash)",
};

} // namespace hv::cli
