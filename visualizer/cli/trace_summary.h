// trace_summary.h - one line describing a trace file, for `heapviz record` and `heapviz sim -o`
// (the reader's block index; the pass summary of `stats` is analysis/trace_summary.h), and
// `record`'s line per process of a recording.
#pragma once

#include "trace/process_tree.h"

#include <cstdint>
#include <string>

namespace hv::cli {
// "FILE: N events, M bytes (B bytes/event), T threads, pid P" or a read error.
std::string summarize_trace(const std::string& path);
// "FILE: N events, peak heap H, pid P, parent Q: COMMAND[; N heap errors (heapviz errors FILE)]"
// (a replay, for the peak), or a read error; cmd_chars caps the command line. *python (if
// given) is set when the process ran CPython: its command line, its executable or a libpython
// among its modules (traces with call stacks list them) says so. *heap_errors (if given): the
// heap errors the trace holds.
std::string describe_process_trace(const trace::ProcessTrace& p, size_t cmd_chars = 72,
                                   bool* python = nullptr, uint64_t* heap_errors = nullptr);
// True when the command line runs CPython (argv[0] is python, python3, python3.11, a path to one).
bool is_cpython(const std::string& cmdline);
} // namespace hv::cli
