// report.h - what the CLI's reports (sites, leaks, frag, diff) share: their options, reading a
// trace up to a position into a site table (and the heap model), JSON strings, and call stacks as
// text and as JSON (the FRAME object of docs/cli.md: function, file, line, module, address).
// Must not: compute anything of a trace (analysis/ does).
#pragma once

#include "analysis/position.h"
#include "analysis/sites.h"
#include "cli/options.h"
#include "model/heap_model.h"
#include "symbols/symbolizer.h"
#include "trace/event_stream.h"

#include <string>
#include <vector>

namespace hv::cli {

struct ReportOptions {
  std::vector<const char*> paths;
  bool json = false;
  size_t top = 20;
  std::string by = "live";
  analysis::Position at, from, to;
  bool has_at = false, has_from = false, has_to = false;
};
// Parses argv (after the command name) for a report command declared by spec: its FILEs and
// whichever of --json, --top K, --at, --from, --to, --by it declares. -1: go on; else the exit
// status (0 after --help, 2 having said why on stderr).
int parse_report_options(const CommandSpec& spec, int argc, char** argv, ReportOptions& o);
// Opens path as a trace. A scenario (.hvs, a malloclab .rep, other text: sim::is_scenario_file)
// is simulated on glibc first, into a temporary trace that is unlinked once mapped, as the app
// does. False with *error ("PATH: offset N: ...", "PATH:LINE: ..."); *unreadable (if given) true
// for an I/O error or a scenario that does not run (exit 2), false for a damaged trace.
bool open_input(const char* path, trace::TraceFile& f, std::string* error, bool* unreadable = nullptr);
// Opens path as a trace (or a scenario, as open_input), or says why on stderr ("heapviz CMD: PATH: offset N:
// ...") and returns false (the command's exit status is then 2).
bool open_trace(const char* cmd, const char* path, trace::TraceFile& f);
// Whether s ends at `limit` (read events in): it stopped before, or (peeking one event, so
// the last use of s) nothing readable follows. A damaged file is reported only then.
bool ends_at(trace::EventStream& s, uint64_t read, uint64_t limit);
// Feeds s's events to `sites` (and `model`, if given) until `sites` has seen `limit` events or
// the trace ends. Returns the exit status so far: 0, 1 for a trace corrupt after a readable
// prefix, 2 for a malformed stack record (having said why on stderr). A damaged or truncated
// file is reported when the read stops at its end, the position included: `last` (the last read
// on s) peeks one event past the position to see whether the readable prefix ends there.
int read_trace(const char* cmd, const char* path, trace::EventStream& s, uint64_t limit,
               analysis::SiteTable& sites, model::HeapModel* model, bool last = true);
// The position's event count in f (peak and mark:LABEL need a pass); false having said why.
bool resolve(const char* cmd, const char* path, const trace::TraceFile& f, const analysis::Position& p,
             const char* option, uint64_t* events);

std::string json_string(const std::string& s);
// "1 event does not fit the replayed heap" / "N events do not fit the replayed heap", with what
// explains them when something does: " (after a heap error)", "(after a free outside every
// heap)" or "(after lost events)" (gaps: the stream's jumps in sequence numbers).
std::string events_not_fitting(const model::HeapModel& m, uint64_t gaps);
// [FRAME, ...] on one line.
std::string frames_json(const std::vector<symbols::Frame>& frames);
// One line per frame, each starting with indent: "function (file:line)", or "function (module)"
// when the line is unknown; "(no call stack)" when there is none.
std::string frames_text(const std::vector<symbols::Frame>& frames, const char* indent, size_t max_frames);
// Says on stderr, once per module, why its frames show as module+offset.
void warn_symbol_problems(const symbols::Symbolizer& sym);

} // namespace hv::cli
