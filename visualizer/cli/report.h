// report.h - what the CLI's reports share: JSON strings, and call stacks as text and as JSON
// (the FRAME object of docs/cli.md: function, file, line, module, address).
// Must not: compute anything of a trace (analysis/ does).
#pragma once

#include "symbols/symbolizer.h"

#include <string>
#include <vector>

namespace hv::cli {

std::string json_string(const std::string& s);
// [FRAME, ...] on one line.
std::string frames_json(const std::vector<symbols::Frame>& frames);
// One line per frame, each starting with indent: "function (file:line)", or "function (module)"
// when the line is unknown; "(no call stack)" when there is none.
std::string frames_text(const std::vector<symbols::Frame>& frames, const char* indent, size_t max_frames);
// Says on stderr, once per module, why its frames show as module+offset.
void warn_symbol_problems(const symbols::Symbolizer& sym);

} // namespace hv::cli
