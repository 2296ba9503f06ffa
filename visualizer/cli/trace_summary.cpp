// trace_summary.cpp - see trace_summary.h. Opens the trace with the reader (block index and
// CRCs, no event decoding): one parser of blocks, the reader's.
#include "cli/trace_summary.h"

#include "trace/trace_file.h"

#include <cstdio>
#include <sys/stat.h>

namespace hv::cli {

std::string summarize_trace(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    return path + ": written to a pipe or a device (nothing to summarise here)";
  trace::TraceFile f;
  if (!f.open(path)) return path + ": " + f.error()->describe();
  uint64_t events = f.indexed_events(), size = f.file_size();
  size_t threads = f.threads().size();
  char buf[512];
  snprintf(buf, sizeof buf, "%s: %llu events, %llu bytes (%.1f bytes/event), %zu thread%s, pid %u%s",
           path.c_str(), static_cast<unsigned long long>(events), static_cast<unsigned long long>(size),
           events ? double(size) / double(events) : 0.0, threads, threads == 1 ? "" : "s", f.header().pid,
           f.truncated() ? " (ends in a torn block: the process died mid-write)"
           : f.error()   ? " (a damaged block: counted up to it)"
                         : "");
  return buf;
}

} // namespace hv::cli
