// commands.h - one function per heapviz subcommand; each returns the process exit status
// (0 ok, 1 a check failed, 2 bad input or usage).
#pragma once

#include "cli/options.h"

#include <map>
#include <string>
#include <vector>

namespace hv::cli {
int cmd_sim(int argc, char** argv);        // cmd_sim.cpp
int cmd_sim_compare(const Args& sim_args); // cmd_compare.cpp (sim --policies: side by side)
int cmd_sim_why(const Args& sim_args);     // cmd_why.cpp (sim --why: why each block landed there)
int cmd_record(int argc, char** argv);     // cmd_record.cpp
int cmd_check(int argc, char** argv);      // cmd_check.cpp
int cmd_stats(int argc, char** argv);      // cmd_stats.cpp
int cmd_dump(int argc, char** argv);       // cmd_dump.cpp
int cmd_chunks(int argc, char** argv);     // cmd_chunks.cpp (every chunk at a position)
int cmd_completion(int argc, char** argv); // main.cpp (bash completion from every spec)
int cmd_sites(int argc, char** argv);      // cmd_sites.cpp (allocation sites)
int cmd_leaks(int argc, char** argv);      // cmd_sites.cpp (blocks live at the end, by stack)
int cmd_frag(int argc, char** argv);       // cmd_frag.cpp (why the footprint exceeds what is live)
int cmd_errors(int argc, char** argv);     // cmd_errors.cpp (each heap error, its block and stacks)
int cmd_bins(int argc, char** argv);       // cmd_bins.cpp (every bin's list, head first)
int cmd_diff(int argc, char** argv);       // cmd_diff.cpp (two runs or two positions, per site)
int cmd_ps(int argc, char** argv);         // cmd_live.cpp (attachable processes)
int cmd_attach(int argc, char** argv);     // cmd_live.cpp (follow or capture a live process)
int cmd_run(int argc, char** argv);        // cmd_live.cpp (start a program and attach)
int cmd_lesson(int argc, char** argv);     // cmd_lesson.cpp (list, check or open the lessons)
// The lesson file a name, a number or a path means (cmd_lesson.cpp); false after saying why on
// stderr, with the list of lessons. command prefixes the message.
bool resolve_lesson(const char* command, const std::string& name, std::string* path);

// What needs the GUI (the app): cmd_gui.cpp in a -DHV_GUI=ON build; cmd_gui_off.cpp otherwise,
// where each of these says so through no_gui() and returns 2.
int cmd_view(int argc, char** argv); // the desktop app
int cmd_shot(int argc, char** argv); // a screenshot of the app
// The app following process pid (`attach` and `run` without --out; command: which of them).
// capture: where the received stream is kept; shot/shot_seconds: see app::LiveOptions.
int follow_in_app(const char* command, int pid, const std::string& capture, const std::string& shot,
                  double shot_seconds);
// The app open on the lesson file at path, at its step (0 = the first).
int lesson_in_app(const std::string& path, int step);
// True when this heapviz has the GUI (built with -DHV_GUI=ON, the default).
bool has_gui();
// Says on stderr that `command` needs the GUI this heapviz was built without (hint: what to do
// instead, or ""); returns 2, the exit status for it (main.cpp).
int no_gui(const char* command, const char* hint = "");
// The recording options `record` and `run` share (cmd_record.cpp): --verify N, --compress
// [LEVEL], --precise-time, --no-children and --python-malloc, each the environment variable the
// library (or CPython) reads, set for the program by apply().
struct RecordOptions {
  std::map<std::string, std::string> env; // variable -> value
  // A command's own options followed by these (for its CommandSpec).
  static std::vector<Option> declare(std::vector<Option> own);
  // Takes their values from parsed args; false after a usage error (said on stderr).
  bool read(const CommandSpec& spec, const Args& args);
  void apply() const; // setenv each, in the child before exec
};
// Why a trace cannot be written to path (no such directory, not a directory, a directory given,
// no permission: a file is created and removed to know), or "" (cmd_record.cpp).
std::string trace_unwritable(const std::string& path);
// libhvalloc.so next to this heapviz, or $HEAPVIZ_LIB; "" if not found (cmd_record.cpp).
std::string find_library();

// Each command's grammar (options.h), beside its code: used by its parser, `--help`, `heapviz
// help`, and the completion script. view and shot are declared in gui_specs.cpp (built with or
// without the GUI).
extern const CommandSpec kSimSpec, kRecordSpec, kCheckSpec, kStatsSpec, kDumpSpec, kChunksSpec, kSitesSpec,
    kLeaksSpec, kFragSpec, kErrorsSpec, kBinsSpec, kDiffSpec, kPsSpec, kAttachSpec, kRunSpec, kLessonSpec,
    kViewSpec, kShotSpec, kCompletionSpec;
} // namespace hv::cli
