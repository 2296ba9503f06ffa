// trace_summary.cpp - see trace_summary.h. Opens the trace with the reader (block index and
// CRCs); describe_process_trace replays it once for the peak heap, as `stats` does.
#include "cli/trace_summary.h"

#include "analysis/trace_summary.h"
#include "trace/event_stream.h"
#include "trace/stack_table.h"
#include "trace/trace_file.h"
#include "views/chunk_layout.h" // human_bytes

#include <cctype>
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

std::string describe_process_trace(const trace::ProcessTrace& p, size_t cmd_chars, bool* python,
                                   uint64_t* heap_errors) {
  if (python) *python = is_cpython(p.cmdline);
  if (heap_errors) *heap_errors = 0;
  struct stat st;
  if (stat(p.path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    return p.path + ": written to a pipe or a device (nothing to summarise here)";
  trace::TraceFile f;
  if (!f.open(p.path)) return p.path + ": " + f.error()->describe();
  trace::EventStream s(f);
  model::HeapModel m;
  m.set_page_size(f.header().page_size);
  analysis::TraceSummary sum(0);
  trace::StackTable modules; // (only MODULE events are given to it)
  std::string module_error;
  while (const trace::Event* e = s.next()) {
    if (e->type == trace::Ev::Module) modules.add(*e, &module_error);
    m.apply(*e);
    sum.add(*e, m);
  }
  sum.finish(m);
  if (python)
    for (const auto& mod : modules.modules()) {
      std::string base = mod.path.substr(mod.path.rfind('/') + 1);
      if (base.compare(0, 9, "libpython") == 0 || is_cpython(base)) *python = true;
    }
  size_t threads = sum.calling_threads(); // the program's (not the live thread, say)
  char buf[256];
  snprintf(buf, sizeof buf, "%llu events, peak heap %s, %zu thread%s, pid %u, parent %u",
           static_cast<unsigned long long>(sum.events()), views::human_bytes(sum.peak_heap()).c_str(),
           threads, threads == 1 ? "" : "s", f.header().pid, f.header().ppid);
  std::string line = p.path + ": " + buf;
  if (f.truncated())
    line += " (ends in a torn block: the process died mid-write)";
  else if (f.error())
    line += " (a damaged block: read up to it)";
  line += ": " + trace::short_cmdline(f.cmdline(), cmd_chars);
  // A child's heap error is news even when the program the user named ran clean.
  if (heap_errors) *heap_errors = m.errors();
  if (m.errors())
    line += "; " + std::to_string(m.errors()) + " heap error" + (m.errors() == 1 ? "" : "s") +
            " (heapviz errors " + p.path + ")";
  return line;
}

bool is_cpython(const std::string& cmdline) {
  std::string argv0 = cmdline.substr(0, cmdline.find(' '));
  argv0 = argv0.substr(argv0.rfind('/') + 1);
  if (argv0.compare(0, 6, "python") != 0) return false;
  for (size_t i = 6; i < argv0.size(); ++i)
    if (!isdigit(static_cast<unsigned char>(argv0[i])) && argv0[i] != '.') return false;
  return true;
}

} // namespace hv::cli
