// trace_summary.h - one line describing a trace file, for `heapviz record` and `heapviz sim -o`
// (the reader's block index; the pass summary of `stats` is analysis/trace_summary.h).
#pragma once

#include <string>

namespace hv::cli {
// "FILE: N events, M bytes (B bytes/event), T threads, pid P" or a read error.
std::string summarize_trace(const std::string& path);
} // namespace hv::cli
