// make_traces.cpp - `hv_make_traces OUTDIR [--small]`: writes valid and broken traces for the CLI
// tests (tests/cli_trace) and the fuzzer's seed corpus (BUILD/fuzz_seeds, with --small).
#include "trace/churn_trace.h"
#include "trace/trace_builder.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using namespace hv::trace;

namespace {

std::string g_dir;

void write(const char* name, const std::vector<uint8_t>& b) {
  std::string p = g_dir + "/" + name;
  FILE* f = fopen(p.c_str(), "wb");
  if (!f) {
    perror(p.c_str());
    exit(2);
  }
  if ((!b.empty() && fwrite(b.data(), 1, b.size(), f) != b.size()) || fclose(f) != 0) {
    perror(p.c_str());
    exit(2);
  }
}

void put32(std::vector<uint8_t>& b, size_t off, uint32_t v) {
  memcpy(&b[off], &v, 4);
}

constexpr uint64_t kHeap = 0x555555559000, kTop = kHeap + 0x290, kTopSize = 0x21000 - 0x290;

// A small heap: two chunks from top, one freed to tcache; then a snapshot of it.
void small_heap(TraceBuilder& b, bool good_snapshot, uint8_t flags = 0) {
  b.mark("start");
  b.heap_new(kHeap, 0x21000);
  b.sbrk(kHeap, 0x21000);
  b.top(kTop, kTopSize);
  uint64_t top = kTop, ts = kTopSize;
  uint64_t c[2];
  for (int i = 0; i < 2; ++i) {
    c[i] = top;
    b.split(top, 32, ts - 32);
    top += 32;
    ts -= 32;
    b.top(top, ts);
    b.chunk_alloc(c[i], 32);
    b.malloc(24, c[i] + 16);
  }
  b.free(c[1] + 16);
  b.bin_in(c[1], 32, BinKind::Tcache, 0);
  b.calloc(2, 8, c[1] + 16);
  b.free(c[1] + 16);
  b.bin_in(c[1], 32, BinKind::Tcache, 0);
  b.snapshot({{c[0], 32, ChunkState::InUse, 0},
              {c[1], 32, good_snapshot ? ChunkState::Tcache : ChunkState::Fast, 0},
              {top, ts, ChunkState::Top, 0}},
             flags);
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: hv_make_traces OUTDIR [--small]\n");
    return 2;
  }
  g_dir = argv[1];
  bool small = argc > 2 && strcmp(argv[2], "--small") == 0;
  uint64_t churn = small ? 300 : 20000;

  { // valid: a small heap with a verified snapshot, then churn on 2 threads
    TraceBuilder b(kFileSnapshots, small ? 512 : 4096, std::string("prog\0--flag", 11));
    small_heap(b, true);
    write("snapshot_ok.hvt", b.finish());
  }
  {
    TraceBuilder b(kFileSnapshots);
    small_heap(b, false);
    write("snapshot_mismatch.hvt", b.finish());
  }
  {
    TraceBuilder b(kFileSnapshots);
    small_heap(b, true, kSnapshotCoarse);
    write("snapshot_coarse.hvt", b.finish());
  }
  { // the tcache struct, as the allocator marks it: `internal`, an event of the extension range
    TraceBuilder b(0);
    b.heap_new(kHeap, 0x21000);
    b.top(kHeap, 0x21000);
    b.split(kHeap, 0x290, kTopSize);
    b.top(kTop, kTopSize);
    b.chunk_alloc(kHeap, 0x290);
    b.internal(kHeap, 0x290);
    write("internal.hvt", b.finish());
  }
  std::vector<uint8_t> churn2;
  std::vector<size_t> offs;
  {
    TraceBuilder b(0, small ? 256 : 4096);
    ChurnTrace gen(b, 2, 1, small ? 20 : 500);
    gen.run(churn);
    churn2 = b.finish();
    offs = b.block_offsets();
    write("churn.hvt", churn2);
  }
  {
    TraceBuilder b(kFileZstd, small ? 512 : 16384);
    b.set_zstd(true);
    ChurnTrace gen(b, 3, 2, small ? 20 : 500);
    gen.run(churn);
    write("churn_zstd.hvt", b.finish());
  }
  // Broken ones.
  write("empty.hvt", {});
  {
    auto b = churn2;
    b[0] = 'X';
    write("bad_magic.hvt", b);
  }
  {
    auto b = churn2;
    put32(b, 8, hv::trace::kVersion + 1);
    write("future_version.hvt", b);
  }
  {
    auto b = churn2;
    b.resize(100);
    write("truncated_header.hvt", b);
  }
  {
    auto b = churn2;
    b.resize(offs[offs.size() - 2] + 80); // inside the second-to-last block
    write("truncated.hvt", b);
  }
  {
    auto b = churn2;
    b[offs[1] + 70] ^= 0x20; // payload of the second block: CRC mismatch in the middle
    write("corrupt_crc.hvt", b);
  }
  {
    auto b = churn2;
    put32(b, offs[1] + 8, 0xffffffff); // raw_size 4 GiB
    write("absurd_raw_size.hvt", b);
  }
  {
    TraceBuilder b;
    b.malloc(24, 0x1000);
    b.raw_event(0x77);
    write("unknown_event.hvt", b.finish());
  }
  {
    TraceBuilder b;
    b.raw_event(uint8_t(Ev::Malloc));
    b.raw({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00});
    write("varint_overflow.hvt", b.finish());
  }
  {
    TraceBuilder b;
    b.malloc(1, 0x1000);
    b.raw_event(uint8_t(Ev::Snapshot));
    b.raw({0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x02, 0x02, 0x00, 0x00});
    write("snapshot_huge.hvt", b.finish());
  }
  {
    TraceBuilder b; // a free inside a heap of a chunk it does not have (outside: a fake chunk)
    b.heap_new(0x4240000, 0x21000);
    b.free(0x4242420);
    write("unknown_free.hvt", b.finish());
  }
  // Call stacks: a module that is nowhere on disk, a tree of three nodes, allocations at two
  // stacks (one leaked), then the broken forms.
  auto stacks = [](TraceBuilder& b) {
    b.module_record(0x555555554000, "/nonexistent/heapviz-test/prog", std::string("\x12\x34\x56\x78", 4),
                    {{0, 0x1000, 4}, {0x1000, 0x2000, 5}});
    b.stack_nodes(1, {{0, 0x555555555100}, {1, 0x555555555200}, {1, 0x555555555300}});
  };
  {
    TraceBuilder b(kFileStacks);
    stacks(b);
    b.set_call_stack(2);
    b.malloc(24, 0x5555555592a0);
    b.malloc(40, 0x5555555592c0);
    b.set_call_stack(3);
    b.malloc(100, 0x555555559300);
    b.free(0x5555555592a0);
    write("stacks.hvt", b.finish());
  }
  {
    TraceBuilder b(kFileStacks);
    stacks(b);
    b.set_call_stack(9); // never defined
    b.malloc(24, 0x5555555592a0);
    write("stack_undefined.hvt", b.finish());
  }
  {
    TraceBuilder b(kFileStacks);
    b.stack_nodes(1, {{0, 0x555555555100}, {7, 0x555555555200}}); // node 2's parent is not defined
    write("stack_bad_parent.hvt", b.finish());
  }
  {
    TraceBuilder b(kFileStacks);
    b.stack(std::string_view{"\x01\x00\xff", 3}); // node 1's return address runs past the event
    write("stack_truncated.hvt", b.finish());
  }
  return 0;
}
