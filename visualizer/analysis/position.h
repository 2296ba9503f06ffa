// position.h - a place in a trace as users name it: `--at N|end|peak|mark:LABEL`.
//
// Owns: parsing the spelling (docs/cli.md) and resolving it to a number of events: the heap
// "at N" is the heap after the first N events of the trace (in sequence order). peak: right after
// the event at which the program's live bytes (requested, as `stats` counts them) were highest,
// the first time. mark:LABEL: right after the first mark with that label.
// Must not: print, or know more of the heap than the live bytes peak needs.
#pragma once

#include "trace/trace_file.h"

#include <cstdint>
#include <string>

namespace hv::analysis {

struct Position {
  enum class Kind { Events, End, Peak, Mark } kind = Kind::End;
  uint64_t events = 0; // Kind::Events
  std::string label;   // Kind::Mark
  std::string text;    // as the user wrote it
};

// False, with *error saying what is accepted, for anything but N, end, peak or mark:LABEL.
bool parse_position(const std::string& s, Position* out, std::string* error);
// The number of events before the position (at most the trace's events). One pass over the file
// for peak and mark:LABEL. False, with *error, for a mark the trace does not have, or a trace
// that cannot be read up to the position.
bool resolve_position(const trace::TraceFile& f, const Position& p, uint64_t* events, std::string* error);

} // namespace hv::analysis
