// cmd_check.cpp - `heapviz check FILE`: validates a trace (a scenario is simulated first) and replays it with
// the model, verifying the model at every SNAPSHOT event, and its bin lists' order at every BIN_LISTS event
// (docs/cli.md).
//
// Owns: the check's report and exit status (0 valid, 1 invalid, 2 usage or unreadable file).
// Must not: contain reader or model logic (hv_trace_reader, hv_model).
#include "analysis/snapshot_check.h"
#include "cli/commands.h"
#include "cli/report.h"
#include "model/heap_model.h"
#include "trace/event_stream.h"

#include <cstdio>
#include <cstring>
#include <string>

namespace hv::cli {

const CommandSpec kCheckSpec = {
    .name = "check",
    .brief = "validate a trace and replay it against its snapshots",
    .synopsis = "FILE",
    .summary = "validate a trace (every block, every event) and replay it, verifying the replayed heap\n"
               "at every snapshot and every bin list; says how many heap errors the program made\n"
               "(the trace is still valid: exit 0). A scenario is simulated and checked the same way",
    .options = {},
    .examples = "heapviz check prog.hvt\n"
                "HEAPVIZ_VERIFY=100 heapviz record -o v.hvt -- ./prog && heapviz check v.hvt",
    .see = "docs/cli.md, \"heapviz check\"",
};

int cmd_check(int argc, char** argv) {
  Args args;
  if (int rc = args.parse(kCheckSpec, argc, argv); rc >= 0) return rc;
  const char* path = args.positionals()[0];
  trace::TraceFile f;
  std::string open_error;
  bool unreadable = false;
  if (!open_input(path, f, &open_error, &unreadable)) {
    fprintf(stderr, "%s\n", open_error.c_str());
    return unreadable ? 2 : 1;
  }
  trace::EventStream s(f);
  model::HeapModel m;
  analysis::SnapshotCheck snaps;
  while (const trace::Event* e = s.next()) {
    m.apply(*e);
    if (!snaps.on_event(*e, m)) break;
  }
  uint64_t verified = snaps.verified();
  std::string failure = snaps.failure();
  if (failure.empty() && s.error()) failure = s.error()->describe();
  // Events that do not fit: a heap error or lost events explain them; otherwise the trace and the
  // model disagree, which for a trace libhvalloc wrote is a bug (the check fails).
  // A fake chunk the program freed (outside every heap) explains them too: glibc took it.
  bool explained = m.errors() > 0 || s.gaps() > 0 || m.fake_frees() > 0;
  if (m.anomalies() && explained)
    fprintf(stderr, "%s: warning: %s; the first: %s\n", path, events_not_fitting(m, s.gaps()).c_str(),
            m.first_anomaly().c_str());
  if (m.anomalies() && !explained && failure.empty())
    failure = events_not_fitting(m, 0) +
              ", with no heap error or lost events to explain them; the first: " + m.first_anomaly() +
              " (for a trace libhvalloc wrote this is a heapviz bug: please report it with the trace)";
  if (s.gaps())
    fprintf(stderr, "%s: warning: %llu jumps in the sequence numbers (lost events)\n", path,
            static_cast<unsigned long long>(s.gaps()));
  if (!failure.empty()) {
    fprintf(stderr, "%s: %s\n", path, failure.c_str());
    fprintf(stderr, "%s: %llu events could be read (%llu announced by %zu valid blocks)\n", path,
            static_cast<unsigned long long>(s.emitted()), static_cast<unsigned long long>(f.indexed_events()),
            f.blocks().size());
    return 1;
  }
  // (traces written before BIN_LISTS events existed, and other policies', have no lists to check)
  std::string lists;
  if (snaps.orders_verified())
    lists = " (" + std::to_string(snaps.orders_verified()) + " with every bin list in its order)";
  printf("%s: ok: %llu event%s, %zu block%s, %zu thread%s, %llu snapshot%s verified%s\n", path,
         static_cast<unsigned long long>(s.emitted()), s.emitted() == 1 ? "" : "s", f.blocks().size(),
         f.blocks().size() == 1 ? "" : "s", f.threads().size(), f.threads().size() == 1 ? "" : "s",
         static_cast<unsigned long long>(verified), verified == 1 ? "" : "s", lists.c_str());
  // The trace is valid (exit 0), but what it recorded is not: say so, and where to read more.
  if (m.errors())
    printf("%s: the program's heap: %llu heap error%s recorded (heapviz errors %s)\n", path,
           static_cast<unsigned long long>(m.errors()), m.errors() == 1 ? "" : "s", path);
  return 0;
}

} // namespace hv::cli
