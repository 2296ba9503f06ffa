// trace_builder.h - writes hand-made traces in memory with the allocator's BlockEncoder, for
// tests, benchmarks and the fuzzer's seed corpus. Not used by the reader.
//
// Owns: one open block per thread (flushed when full, or by flush()), a global sequence counter,
// a clock, optional zstd compression of blocks, and typed helpers for every event type.
// Must not: be linked into heapviz itself.
#pragma once

#include "heapviz/trace_encoder.h"

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>
#include <zstd.h>

namespace hv::trace {

class TraceBuilder {
public:
  explicit TraceBuilder(uint32_t flags = kFileSnapshots | kFileSimulated, size_t block_capacity = 64 * 1024,
                        const std::string& cmdline = "test")
      : cap_(block_capacity) {
    uint64_t params[kNumParams] = {128 * 1024, 128 * 1024, 0, 65536, 16, 8, 7, 128};
    std::vector<uint8_t> hdr(sizeof(FileHeader) + cmdline.size() + 8);
    size_t n =
        build_file_header(hdr.data(), "glibc-2.36", params, 0x555555559000, 4242, 1, 1700000000000000000ull,
                          start_ns_, flags, cmdline.data(), uint32_t(cmdline.size()), 4096);
    out_.assign(hdr.begin(), hdr.begin() + long(n));
  }
  TraceBuilder(const TraceBuilder&) = delete; // the encoders point into their own buffers
  TraceBuilder& operator=(const TraceBuilder&) = delete;

  void set_zstd(bool on) { zstd_ = on; }
  uint64_t next_seq() const { return seq_; }
  void set_seq(uint64_t s) { seq_ = s; }
  uint64_t now() const { return ts_; }
  void sleep(uint64_t ns) { ts_ += ns; } // the next event's timestamp is this much later
  // Events of later calls go to thread tid's block (arena: that block's current arena).
  void thread(uint32_t tid) { tid_ = tid; }
  void arena(uint32_t a) {
    begin(Ev::Arena, 2);
    cur().enc.usize(a);
    cur().arena = a;
  }

  void malloc(uint64_t size, uint64_t result) { api3(Ev::Malloc, size, result); }
  void calloc(uint64_t n, uint64_t size, uint64_t result) {
    begin(Ev::Calloc, 30);
    cur().enc.usize(n);
    cur().enc.usize(size);
    cur().enc.addr(result);
  }
  void realloc(uint64_t old, uint64_t size, uint64_t result) {
    begin(Ev::Realloc, 30);
    cur().enc.addr(old);
    cur().enc.usize(size);
    cur().enc.addr(result);
  }
  void memalign(uint64_t align, uint64_t size, uint64_t result) {
    begin(Ev::Memalign, 30);
    cur().enc.usize(align);
    cur().enc.usize(size);
    cur().enc.addr(result);
  }
  void free(uint64_t ptr) { a(Ev::Free, ptr); }
  void free_tcache(uint64_t ptr, uint8_t index) {
    begin(Ev::FreeTcache, 16);
    cur().enc.addr(ptr);
    cur().enc.byte(index);
  }
  void chunk_alloc(uint64_t c, uint64_t size) { ac(Ev::ChunkAlloc, c, size); }
  void chunk_free(uint64_t c, uint64_t size) { ac(Ev::ChunkFree, c, size); }
  void split(uint64_t c, uint64_t first, uint64_t rest) {
    begin(Ev::Split, 30);
    cur().enc.addr(c);
    cur().enc.csize(first);
    cur().enc.csize(rest);
  }
  void merge(MergeHow how, uint64_t result, uint64_t size, uint64_t absorbed) {
    begin(Ev::Merge, 31);
    cur().enc.byte(uint8_t(how));
    cur().enc.addr(result);
    cur().enc.csize(size);
    cur().enc.addr(absorbed);
  }
  void bin_in(uint64_t c, uint64_t size, BinKind kind, uint8_t index) {
    begin(Ev::BinIn, 22);
    cur().enc.addr(c);
    cur().enc.csize(size);
    cur().enc.byte(uint8_t(kind));
    cur().enc.byte(index);
  }
  void bin_out(uint64_t c, BinKind kind, uint8_t index) {
    begin(Ev::BinOut, 12);
    cur().enc.addr(c);
    cur().enc.byte(uint8_t(kind));
    cur().enc.byte(index);
  }
  void top(uint64_t c, uint64_t size) { ac(Ev::Top, c, size); }
  void fence(uint64_t c, uint64_t size) { ac(Ev::Fence, c, size); }
  void realloc_in_place(uint64_t c, uint64_t old_size, uint64_t new_size) {
    begin(Ev::ReallocInPlace, 30);
    cur().enc.addr(c);
    cur().enc.csize(old_size);
    cur().enc.csize(new_size);
  }
  void realloc_moved(uint64_t old_c, uint64_t new_c) {
    begin(Ev::ReallocMoved, 20);
    cur().enc.addr(old_c);
    cur().enc.addr(new_c);
  }
  void arena_new(uint64_t index, uint64_t arena_addr) {
    begin(Ev::ArenaNew, 20);
    cur().enc.usize(index);
    cur().enc.addr(arena_addr);
  }
  void heap_new(uint64_t start, uint64_t size) { au(Ev::HeapNew, start, size); }
  void heap_resize(uint64_t start, uint64_t size) { au(Ev::HeapResize, start, size); }
  void heap_free(uint64_t start) { a(Ev::HeapFree, start); }
  void sbrk(uint64_t old_break, int64_t delta) {
    begin(Ev::Sbrk, 20);
    cur().enc.addr(old_break);
    cur().enc.svarint(delta);
  }
  void mmap(uint64_t addr, uint64_t len) { au(Ev::Mmap, addr, len); }
  void munmap(uint64_t addr, uint64_t len) { au(Ev::Munmap, addr, len); }
  void mmap_chunk(uint64_t c, uint64_t size) { au(Ev::MmapChunk, c, size); }
  void munmap_chunk(uint64_t c) { a(Ev::MunmapChunk, c); }
  void trim(uint64_t bytes) {
    begin(Ev::Trim, 10);
    cur().enc.usize(bytes);
  }
  void error(ErrorCode code, uint64_t addr) {
    begin(Ev::Error, 11);
    cur().enc.byte(uint8_t(code));
    cur().enc.addr(addr);
  }
  void mark(const std::string& label) { lenbytes(Ev::Mark, label); }
  void stack(const std::string& bytes) { lenbytes(Ev::Stack, bytes); }
  struct SnapChunk {
    uint64_t addr, size;
    ChunkState state;
    uint8_t bin;
  };
  void snapshot(const std::vector<SnapChunk>& chunks, uint8_t flags = 0) {
    begin(Ev::Snapshot, 11 + chunks.size() * 22);
    cur().enc.usize(chunks.size());
    cur().enc.byte(flags);
    for (const SnapChunk& c : chunks) {
      cur().enc.addr(c.addr);
      cur().enc.csize(c.size);
      cur().enc.byte(uint8_t(c.state));
      cur().enc.byte(c.bin);
    }
  }
  // Raw bytes appended to the current event (for broken traces).
  void raw(const std::vector<uint8_t>& b) { cur().enc.bytes(b.data(), b.size()); }
  // Starts an event with an arbitrary type byte (for broken traces).
  void raw_event(uint8_t type, size_t room = 32) { begin(static_cast<Ev>(type), room); }

  // Writes every thread's open block (in thread-id order).
  void flush() {
    for (auto& [tid, t] : threads_)
      flush(t);
  }
  void flush_thread(uint32_t tid) { flush(threads_[tid]); }
  // The file so far (after flush()).
  const std::vector<uint8_t>& bytes() const { return out_; }
  std::vector<uint8_t> finish() {
    flush();
    return out_;
  }
  // Offsets of the blocks written so far.
  const std::vector<size_t>& block_offsets() const { return block_offsets_; }

private:
  struct Open {
    std::vector<uint8_t> buf;
    BlockEncoder enc;
    uint32_t arena = 0;
  };
  Open& cur() { return threads_[tid_]; }
  void begin(Ev type, size_t room) {
    Open& t = cur();
    if (t.buf.empty()) {
      t.buf.resize(sizeof(BlockHeader) + std::max(cap_, room + 64));
      t.enc.reset(t.buf.data(), t.buf.size() - sizeof(BlockHeader));
    }
    if (!t.enc.fits(room + 21)) flush(t);
    if (!t.enc.fits(room + 21)) { // a huge event: a block of its own
      t.buf.assign(sizeof(BlockHeader) + room + 64, 0);
      t.enc.reset(t.buf.data(), t.buf.size() - sizeof(BlockHeader));
    }
    ts_ += 37 + (seq_ % 7) * 11;
    t.enc.begin_event(type, seq_++, ts_, tid_, t.arena);
  }
  void flush(Open& t) {
    if (t.buf.empty() || t.enc.empty()) return;
    size_t n = t.enc.finish();
    block_offsets_.push_back(out_.size());
    if (zstd_) {
      BlockHeader h;
      memcpy(&h, t.buf.data(), sizeof h);
      std::vector<uint8_t> z(ZSTD_compressBound(h.raw_size));
      size_t zn = ZSTD_compress(z.data(), z.size(), t.buf.data() + sizeof h, h.raw_size, 3);
      h.flags = kBlockZstd;
      h.stored_size = uint32_t(zn);
      h.crc32 = crc32(z.data(), zn);
      const uint8_t* hp = reinterpret_cast<const uint8_t*>(&h);
      out_.insert(out_.end(), hp, hp + sizeof h);
      out_.insert(out_.end(), z.begin(), z.begin() + long(zn));
    } else {
      out_.insert(out_.end(), t.buf.begin(), t.buf.begin() + long(n));
    }
    t.enc.clear();
  }
  void api3(Ev e, uint64_t u, uint64_t addr) {
    begin(e, 20);
    cur().enc.usize(u);
    cur().enc.addr(addr);
  }
  void a(Ev e, uint64_t addr) {
    begin(e, 10);
    cur().enc.addr(addr);
  }
  void ac(Ev e, uint64_t addr, uint64_t size) {
    begin(e, 20);
    cur().enc.addr(addr);
    cur().enc.csize(size);
  }
  void au(Ev e, uint64_t addr, uint64_t size) {
    begin(e, 20);
    cur().enc.addr(addr);
    cur().enc.usize(size);
  }
  void lenbytes(Ev e, const std::string& s) {
    begin(e, 10 + s.size());
    cur().enc.usize(s.size());
    cur().enc.bytes(s.data(), s.size());
  }

  size_t cap_;
  std::vector<uint8_t> out_;
  std::map<uint32_t, Open> threads_;
  std::vector<size_t> block_offsets_;
  uint32_t tid_ = 1;
  uint64_t seq_ = 1;
  uint64_t start_ns_ = 1000000000;
  uint64_t ts_ = 1000000000;
  bool zstd_ = false;
};

} // namespace hv::trace
