// salvage.h - puts back the events a killed process left in its buffers (the salvage files of
// `heapviz record`: heapviz/trace_format.h, "Salvage files"; docs/trace-format.md).
//
// Owns: reading a salvage directory, checking each file's head and block, appending the whole
// events to the trace they belong to (after cutting a torn tail, without a block the trace has
// already), and removing the files. Must not: decode events (the trace's readers do) or touch a
// file of a process that is still running.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hv::trace {

struct Salvaged {
  std::string trace; // the trace the events went to
  uint32_t pid = 0, tid = 0;
  uint64_t events = 0;    // events appended (0: nothing was left, or see note)
  uint64_t cut_bytes = 0; // a torn last block cut from the trace first
  std::string note;       // why a buffer was left out (its trace replaced, a bad block...)
};

// Appends to their traces the events left in the salvage files of `dir` whose process is gone,
// removes those files, and the directory when it is empty. A buffer's trace is the one that
// started when its head says, at the path it names or moved aside beside it (PATH.<pid>.<n>,
// `record --keep-exec`); a buffer whose trace a later image of the process replaced is dropped
// with it. One entry per file whose events were added or that was left out for a reason (a
// trace that cannot be read or written); files of buffers that were flushed are removed silently.
std::vector<Salvaged> salvage_directory(const std::string& dir);

} // namespace hv::trace
