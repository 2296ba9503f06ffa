// cmd_bins.cpp - `heapviz bins FILE [--at ...] [--json]`: every bin's list at a position, head
// first, in the order the replay keeps (model::BinOrder, docs/trace-format.md "Bin order"): the
// Bins window's lists as text or JSON.
//
// Owns: the listing's text and JSON forms and exit statuses (0 ok, 1 corrupt after a readable
// prefix, 2 usage or nothing readable).
// Must not: keep or reorder lists itself (the model does).
#include "cli/commands.h"
#include "cli/report.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <tuple>

namespace hv::cli {

const CommandSpec kBinsSpec = {
    .name = "bins",
    .brief = "every bin's list at a position, head first",
    .synopsis = "[--at N|end|peak|mark:LABEL] [--json] FILE",
    .summary = "every bin's list at a position, head first, as the allocator keeps it\n"
               "(a tcache per thread, the other bins per arena); each chunk's address and size",
    .options = {at_option(), json_option()},
    .examples = "heapviz bins prog.hvt\n"
                "heapviz bins --at 1200 --json prog.hvt",
    .see = "docs/cli.md, \"heapviz bins\"",
};

int cmd_bins(int argc, char** argv) {
  ReportOptions o;
  if (int rc = parse_report_options(kBinsSpec, argc, argv, o); rc >= 0) return rc;
  const char* path = o.paths[0];
  trace::TraceFile f;
  if (!open_trace("bins", path, f)) return 2;
  uint64_t limit = 0;
  if (!resolve("bins", path, f, o.at, "--at", &limit)) return 2;
  model::HeapModel m;
  trace::EventStream stream(f);
  uint64_t events = 0;
  while (events < limit)
    if (const trace::Event* e = stream.next()) {
      m.apply(*e);
      ++events;
    } else {
      break;
    }
  int status = 0;
  const bool ended = ends_at(stream, events, limit);
  if (const auto& e = stream.error(); e && ended) {
    bool truncated = e->kind == trace::ErrorKind::Truncated;
    fprintf(stderr, "heapviz bins: %s: %s%s\n", path, e->describe().c_str(),
            truncated ? " (the file is truncated: this covers the readable prefix)" : "");
    if (!truncated) status = events ? 1 : 2;
    if (status == 2) return 2;
  }
  const model::BinOrder& order = m.bin_order();
  // In the allocator's order of kinds (tcache, fastbins, unsorted, smallbins, largebins), then by
  // owner and index.
  std::vector<uint64_t> keys = order.lists();
  std::sort(keys.begin(), keys.end(), [](uint64_t a, uint64_t b) {
    model::BinList x = model::BinList::of_key(a), y = model::BinList::of_key(b);
    return std::tuple(uint8_t(x.kind), x.owner, x.index) < std::tuple(uint8_t(y.kind), y.owner, y.index);
  });
  auto size_of = [&](uint64_t a) {
    const model::Chunk* c = m.find(a);
    return c ? c->size : 0;
  };
  std::string out;
  char buf[160];
  if (o.json) {
    snprintf(buf, sizeof buf, "{\"at\": %" PRIu64 ", \"heap_base\": \"0x%" PRIx64 "\", \"lists\": [", events,
             f.header().heap_base);
    out = buf;
    bool first = true;
    for (uint64_t key : keys) {
      model::BinList l = model::BinList::of_key(key);
      bool tcache = l.kind == trace::BinKind::Tcache;
      snprintf(buf, sizeof buf,
               "%s\n  {\"bin\": \"%s\", \"kind\": \"%s\", \"index\": %u, \"%s\": %u, \"chunks\": [",
               first ? "" : ",", trace::bin_text(l.kind, l.index).c_str(),
               trace::bin_kind_name(uint8_t(l.kind)), unsigned(l.index), tcache ? "thread" : "arena",
               l.owner);
      out += buf;
      first = false;
      bool first_chunk = true;
      for (uint64_t a : order.chunks_of(key)) {
        snprintf(buf, sizeof buf, "%s{\"chunk\": \"0x%" PRIx64 "\", \"size\": %" PRIu64 "}",
                 first_chunk ? "" : ", ", a, size_of(a));
        out += buf;
        first_chunk = false;
      }
      out += "]}";
    }
    out += "]}\n";
  } else {
    snprintf(buf, sizeof buf, "at event %" PRIu64 ": each bin's list, head first\n", events);
    out = buf;
    out += "(malloc takes a tcache's or fastbin's head and a smallbin's tail; the unsorted scan starts at\n"
           "the tail; largebins are sorted by size, largest first and equal sizes second)\n";
    for (uint64_t key : keys) {
      model::BinList l = model::BinList::of_key(key);
      snprintf(buf, sizeof buf, "  %-13s %s %-6u", trace::bin_text(l.kind, l.index).c_str(),
               l.kind == trace::BinKind::Tcache ? "thread" : "arena ", l.owner);
      out += buf;
      for (uint64_t a : order.chunks_of(key)) {
        snprintf(buf, sizeof buf, " 0x%" PRIx64 " (%" PRIu64 ")", a, size_of(a));
        out += buf;
      }
      out += '\n';
    }
    if (keys.empty()) out += "  every bin is empty\n";
  }
  fputs(out.c_str(), stdout);
  return status;
}

} // namespace hv::cli
