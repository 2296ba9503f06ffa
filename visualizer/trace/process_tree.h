// process_tree.h - the traces of one recording as a tree of processes: `heapviz record` writes
// PATH for the program it starts and PATH.<pid> (PATH.<pid>.<n> with HEAPVIZ_KEEP_EXEC) for
// every other process (docs/trace-format.md, "Where the trace goes").
//
// Owns: finding a recording's files beside PATH, reading each one's pid, parent pid and command
// line from its file header (nothing past the header is read), and their order as a tree.
// Must not: read blocks or events (trace_file.h), replay, or print.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hv::trace {

struct ProcessTrace {
  std::string path;
  uint32_t pid = 0, ppid = 0;
  std::string cmdline;   // arguments separated by spaces
  std::string error;     // why the header could not be read ("" when it was)
  int depth = 0;         // 0: the recording's root (or a process whose parent left no trace)
  uint64_t start_ns = 0; // the header's start_mono_ns: when this image's trace began
};

// The header of one trace file (error set when it is no readable trace).
ProcessTrace read_process_trace(const std::string& path);
// The recording `path` belongs to: PATH for PATH.<pid> or PATH.<pid>.<n> when PATH exists;
// otherwise path itself.
std::string recording_root(const std::string& path);
// Every trace of the recording whose root is `root`: root first (when it exists), then
// root.<pid>[.<n>], each after its parent (by ppid), siblings by pid; depth set.
std::vector<ProcessTrace> recording_traces(const std::string& root);
// The traces of the processes started under the one that wrote `path` (its children,
// grandchildren, ...), in tree order, depth relative to it (1: a child). For File > Open child.
std::vector<ProcessTrace> child_traces(const std::string& path);
// For each trace of recording_traces(): true when its process was started by an image of its
// parent that later exec'd (a launcher's helper: a pyenv shim's `$(pyenv-version-name)`), or
// descends from such a process. Its trace began before its parent's (the parent's last image's,
// which began at the exec); the program's own children begin after it.
std::vector<bool> launcher_helpers(const std::vector<ProcessTrace>& tree);
// The command line on one line: a newline or tab in an argument (`python3 -c "..."`) as \n or \t,
// other control characters as '?'.
std::string one_line(const std::string& cmdline);
// one_line(cmdline), cut to max_chars (a whole UTF-8 character) with "..." when longer.
std::string short_cmdline(const std::string& cmdline, size_t max_chars);

} // namespace hv::trace
