// error_trace.h - a hand-made trace with heap errors whose reports name bytes that differ, for
// the Errors window's tests (the session's, the pixel test's and the README's screenshot):
// blocks of several sizes carved from the top, some freed to tcache, then a heap-buffer-overflow
// (6 canary bytes after a 90-byte request changed), a write-after-free (16 bytes of a freed
// 200-byte block changed) and a double free (glibc's check: no bytes).
// Must not: be linked into heapviz (tests only; trace_builder.h).
#pragma once

#include "trace/trace_builder.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hv::test {

struct ErrorTrace {
  static constexpr uint64_t kHeap = 0x555555559000, kTop0 = kHeap + 0x290, kTop0Size = 0x21000 - 0x290;
  std::vector<uint8_t> bytes;
  uint64_t overflow_chunk = 0, waf_chunk = 0, double_chunk = 0; // the three errors' blocks
  uint64_t events = 0;

  ErrorTrace() {
    using namespace trace;
    TraceBuilder b;
    b.heap_new(kHeap, 0x21000);
    b.top(kTop0, kTop0Size);
    uint64_t top = kTop0, ts = kTop0Size;
    auto nb_of = [](uint64_t req) { return std::max<uint64_t>(32, (req + 8 + 15) & ~uint64_t(15)); };
    auto alloc = [&](uint64_t req) {
      uint64_t nb = nb_of(req), c = top;
      b.split(c, nb, ts - nb);
      top += nb;
      ts -= nb;
      b.top(top, ts);
      b.chunk_alloc(c, nb);
      b.malloc(req, c + 16);
      return c;
    };
    auto release = [&](uint64_t c, uint64_t req) {
      uint64_t nb = nb_of(req);
      b.free(c + 16);
      b.bin_in(c, nb, BinKind::Tcache, uint8_t((nb - 32) / 16));
    };
    auto report = [&](uint64_t c, HeapErrorKind kind, const char* msg, uint64_t off,
                      const std::vector<uint8_t>& want, const std::vector<uint8_t>& got) {
      uint8_t buf[kMaxErrorReportBytes];
      ErrorRun run{off, want.size(), want.data(), got.data()};
      size_t n = build_error_report(buf, kind, HeapErrorSource::Heapviz, 0, 0, c + 16, c, msg, &run, 1);
      b.error(ErrorCode::Other, c + off);
      b.error_report(std::string_view(reinterpret_cast<const char*>(buf), n));
    };
    static const uint64_t kSizes[] = {24, 200, 56, 1000, 90, 40, 300, 24, 500, 72};
    std::vector<uint64_t> blocks;
    for (int round = 0; round < 3; ++round)
      for (uint64_t req : kSizes)
        blocks.push_back(alloc(req + uint64_t(round) * 8));
    for (size_t k = 0; k < blocks.size(); k += 3)
      release(blocks[k], kSizes[k % 10] + (k / 10) * 8);
    // The overflow: a 90-byte block whose canary (the 6 slack bytes after the request inside the
    // chunk) was overwritten, found at its free.
    overflow_chunk = alloc(90);
    for (int k = 0; k < 6; ++k)
      alloc(64 + 16 * uint64_t(k));
    b.free(overflow_chunk + 16);
    report(overflow_chunk, HeapErrorKind::HeapBufferOverflow,
           "free(): 6 bytes after the 90 requested were overwritten (canary)", 16 + 90,
           std::vector<uint8_t>(6, 0xfd), {0x41, 0x41, 0x41, 0x41, 0x41, 0x00});
    for (int k = 0; k < 8; ++k)
      alloc(40 + 32 * uint64_t(k));
    // The write after free: a freed 200-byte block (free pattern 0xdf) written in its middle.
    waf_chunk = alloc(200);
    release(waf_chunk, 200);
    for (int k = 0; k < 8; ++k)
      alloc(48 + 24 * uint64_t(k));
    report(waf_chunk, HeapErrorKind::WriteAfterFree,
           "malloc(): 16 bytes of a freed block changed while it was free (free pattern)", 16 + 64,
           std::vector<uint8_t>(16, 0xdf),
           {0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x2c, 0x20, 0x77, 0x6f, 0x72, 0x6c, 0x64, 0x00, 0xdf, 0xdf, 0xdf});
    // A double free, as glibc reports it (no report event: the kind from the code).
    double_chunk = blocks[3];
    b.free(double_chunk + 16);
    b.error(ErrorCode::DoubleFree, double_chunk + 16);
    for (int k = 0; k < 4; ++k)
      alloc(32 + 16 * uint64_t(k));
    events = b.next_seq() - 1;
    bytes = b.finish();
  }
};

} // namespace hv::test
