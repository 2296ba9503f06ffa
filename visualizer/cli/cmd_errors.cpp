// cmd_errors.cpp - `heapviz errors FILE [--json]`: every heap error the trace records, as a
// memcheck or ASan user reads one: the kind and the check's message, the faulting call's stack,
// where the pointer lies ("N bytes inside|after a block of M bytes"), the block's allocation
// stack and, for a freed block, its earlier free; the bytes that differ from what they should
// hold. JSON: the contract of docs/cli.md ("heapviz errors").
//
// Owns: the report's text and JSON forms and exit statuses (0: read, whether or not it holds
// errors; 1 corrupt after a readable prefix; 2 usage or nothing readable).
// Must not: tie errors to blocks or stacks itself (analysis/errors.h does).
#include "analysis/errors.h"
#include "cli/commands.h"
#include "cli/report.h"

#include <cinttypes>
#include <cstdio>

namespace hv::cli {

namespace {

std::string hex(uint64_t v) {
  char b[24];
  snprintf(b, sizeof b, "0x%" PRIx64, v);
  return b;
}

std::string bytes_hex(const std::vector<uint8_t>& v) {
  std::string s;
  char b[4];
  for (size_t i = 0; i < v.size(); ++i) {
    snprintf(b, sizeof b, i ? " %02x" : "%02x", v[i]);
    s += b;
  }
  return s;
}

} // namespace

const CommandSpec kErrorsSpec = {
    .name = "errors",
    .brief = "every heap error with its stacks and the bytes that differ",
    .synopsis = "[--json] FILE",
    .summary = "every heap error the trace records (glibc's checks; with record --checks, heapviz's\n"
               "too): its kind, the check's message, the faulting call's stack, where the pointer lies\n"
               "in its block, the block's allocation and free stacks, and the bytes that differ",
    .options = {json_option()},
    .examples = "heapviz record --checks -o app.hvt -- ./app\n"
                "heapviz errors app.hvt",
    .see = "docs/cli.md, \"heapviz errors\"; docs/checks.md",
};

int cmd_errors(int argc, char** argv) {
  ReportOptions o;
  if (int rc = parse_report_options(kErrorsSpec, argc, argv, o); rc >= 0) return rc;
  const char* path = o.paths[0];
  trace::TraceFile f;
  if (!open_trace("errors", path, f)) return 2;
  std::string warning;
  model::PolicyInfo policy = model::policy_from_header(f.header().policy, &warning);
  analysis::SiteTable sites;
  analysis::ErrorLog log(policy);
  model::HeapModel m;
  trace::EventStream stream(f);
  std::string err;
  int status = 0;
  while (const trace::Event* e = stream.next()) {
    if (!sites.add(*e, &err)) {
      fprintf(stderr, "heapviz errors: %s: %s\n", path, err.c_str());
      return 2;
    }
    m.apply(*e);
    if (!log.add(*e, m, &err)) {
      fprintf(stderr, "heapviz errors: %s: %s\n", path, err.c_str());
      status = 1;
    }
  }
  if (const auto& e = stream.error()) {
    bool truncated = e->kind == trace::ErrorKind::Truncated;
    fprintf(stderr, "heapviz errors: %s: %s%s\n", path, e->describe().c_str(),
            truncated ? " (the file is truncated: this covers the readable prefix)" : "");
    if (!truncated) status = sites.events() ? 1 : 2;
    if (status == 2) return 2;
  }
  symbols::Symbolizer sym(sites.stacks());
  auto frames = [&](uint32_t stack) {
    return stack ? analysis::site_frames(sym, sites.stacks(), sites.stacks().canonical(stack))
                 : std::vector<symbols::Frame>{};
  };
  const auto& errors = log.errors();
  if (o.json) {
    auto u = [](uint64_t v) { return std::to_string(v); };
    std::string out = "{\"errors\": [";
    for (size_t i = 0; i < errors.size(); ++i) {
      const analysis::HeapError& h = errors[i];
      out += std::string(i ? ",\n  " : "\n  ") +
             "{\"kind\": " + json_string(trace::error_kind_name(h.report.kind)) +
             ", \"message\": " + json_string(h.report.message) + ", \"seq\": " + u(h.seq) +
             ", \"address\": \"" + hex(h.address) + "\", \"block\": ";
      if (h.has_block)
        out += "{\"address\": \"" + hex(h.user) + "\", \"requested\": " + u(h.requested) +
               ", \"size\": " + u(h.chunk_size) + "}";
      else
        out += "null";
      out += ", \"writer\": ";
      if (h.has_writer)
        out += "{\"address\": \"" + hex(h.writer_user) + "\", \"requested\": " + u(h.writer_requested) +
               ", \"alloc_stack\": " + frames_json(frames(h.writer_alloc_stack)) + "}";
      else
        out += "null";
      out += ", \"stack\": " + frames_json(frames(h.stack)) +
             ", \"alloc_stack\": " + frames_json(frames(h.alloc_stack)) +
             ", \"free_stack\": " + frames_json(frames(h.free_stack));
      out += ", \"thread\": " + u(h.tid) + ", \"source\": " +
             json_string(h.report.source == trace::HeapErrorSource::Heapviz ? "heapviz" : "glibc") +
             ", \"bytes\": [";
      for (size_t k = 0; k < h.report.bytes.size(); ++k) {
        const trace::ErrorBytes& b = h.report.bytes[k];
        out += std::string(k ? ", " : "") + "{\"offset\": " + u(b.offset) +
               ", \"expected\": " + json_string(bytes_hex(b.expected)) +
               ", \"found\": " + json_string(bytes_hex(b.found)) + "}";
      }
      out += "]}";
    }
    out += errors.empty() ? "]}\n" : "\n]}\n";
    fputs(out.c_str(), stdout);
  } else {
    if (errors.empty()) printf("%s: no heap errors in %" PRIu64 " events\n", path, sites.events());
    for (size_t i = 0; i < errors.size(); ++i) {
      const analysis::HeapError& h = errors[i];
      printf("%s== error %zu of %zu: %s%s%s (event %" PRIu64 ", thread %u)\n", i ? "\n" : "", i + 1,
             errors.size(), trace::error_kind_name(h.report.kind), h.report.message.empty() ? "" : ": ",
             h.report.message.c_str(), h.seq, h.tid);
      printf("   at\n%s", frames_text(frames(h.stack), "     ", 32).c_str());
      printf("   %s\n", analysis::where_text(h).c_str());
      if (h.has_block) {
        printf("   allocated%s\n%s",
               h.alloc_seq ? (" at event " + std::to_string(h.alloc_seq) + " by").c_str()
                           : " (not in the trace)",
               h.alloc_seq ? frames_text(frames(h.alloc_stack), "     ", 32).c_str() : "");
        if (h.free_seq)
          printf("   freed at event %" PRIu64 " by\n%s", h.free_seq,
                 frames_text(frames(h.free_stack), "     ", 32).c_str());
      }
      if (h.has_writer)
        printf("   its header was overwritten by a write past the end of the block before it, 0x%" PRIx64
               " of %" PRIu64 " bytes, allocated%s\n%s",
               h.writer_user, h.writer_requested,
               h.writer_alloc_seq ? (" at event " + std::to_string(h.writer_alloc_seq) + " by").c_str()
                                  : " (not in the trace)",
               h.writer_alloc_seq ? frames_text(frames(h.writer_alloc_stack), "     ", 32).c_str() : "");
      if (!h.report.bytes.empty()) {
        printf("   bytes that differ (offset from the block's start: expected -> found)\n");
        for (const trace::ErrorBytes& b : h.report.bytes)
          printf("     %+" PRId64 ": %s -> %s\n", int64_t(h.chunk + b.offset - h.user),
                 bytes_hex(b.expected).c_str(), bytes_hex(b.found).c_str());
      }
    }
  }
  warn_symbol_problems(sym);
  return status;
}

} // namespace hv::cli
