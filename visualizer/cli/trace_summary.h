// trace_summary.h - one line describing a trace file, for `heapviz record` and `heapviz sim -o`.
#pragma once

#include <string>

namespace hv::cli {
// "FILE: N events, M bytes (B bytes/event), T threads, pid P" or a read error.
std::string summarize_trace(const std::string& path);
} // namespace hv::cli
