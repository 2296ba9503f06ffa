// simulate.h - a scenario file run start to finish on a policy, recorded as a trace file.
//
// Owns: the "open a scenario like a trace" path shared by `heapviz sim -o` callers and the GUI
// (read the file, parse it, run it with recording on). Errors name the file and line.
// Must not: print or draw.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace hv::sim {

// Runs the scenario at `scenario_path` on the named policy and records it to `trace_path`. A
// name ending in .rep is read as a CMU malloclab trace (sim/malloclab.h).
// On a parse or scenario error returns false with *error = "FILE:LINE: message"; the trace of
// the operations before the error is still written (complete and readable).
bool simulate_to_trace(const std::string& scenario_path, const std::string& trace_path,
                       const std::string& policy, std::string* error);

// The names of a scenario at one of its marks: every name bound so far and its last pointer
// (live or freed; 0 for NULL), as addresses in the trace. A lesson outlines the blocks it names.
struct MarkNames {
  int line = 0;
  std::string label;
  std::vector<std::pair<std::string, uint64_t>> names;
};
// As above, and fills *marks with the names at each mark, in order (the trace's MARK events).
bool simulate_to_trace(const std::string& scenario_path, const std::string& trace_path,
                       const std::string& policy, std::string* error, std::vector<MarkNames>* marks);

// True when the file's first bytes are a trace's magic (so anything else is tried as a scenario).
bool looks_like_trace(const std::string& path);
// True when path is to be simulated rather than read as a trace: a .hvs/.txt/.rep name, or no NUL
// byte in the first 4 KiB of something that is not a trace (anything else gets the trace
// reader's own error).
bool is_scenario_file(const std::string& path);
// A new empty file in $TMPDIR (or /tmp) for a simulated trace, "" when none can be made.
std::string temp_trace_path();

} // namespace hv::sim
