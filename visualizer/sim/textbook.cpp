// textbook.cpp - the textbook policies' shared part (see textbook.h): memory, API events, calloc
// and the realloc that moves, snapshots.
#include "sim/textbook.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace hv::sim {

TextbookPolicy::TextbookPolicy(const char* name, uint64_t reserve) : reserved_(reserve), name_(name) {
  // Address space only: pages cost memory once a block touches them.
  void* m =
      mmap(nullptr, reserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  mem_ = m == MAP_FAILED ? nullptr : static_cast<uint8_t*>(m);
}

TextbookPolicy::~TextbookPolicy() {
  t_.stop();
  if (mem_) munmap(mem_, reserved_);
}

void* TextbookPolicy::malloc(size_t n) {
  t_.call();
  void* p = payload(alloc_block(n));
  t_.malloc(n, reinterpret_cast<uintptr_t>(p));
  after_call();
  return p;
}

void* TextbookPolicy::calloc(size_t n, size_t size) {
  t_.call();
  size_t bytes = 0;
  void* p = nullptr;
  if (!__builtin_mul_overflow(n, size, &bytes)) {
    p = payload(alloc_block(bytes));
    if (p) memset(p, 0, bytes);
  }
  t_.calloc(n, size, reinterpret_cast<uintptr_t>(p));
  after_call();
  return p;
}

void TextbookPolicy::free(void* p) {
  t_.call();
  t_.free(reinterpret_cast<uintptr_t>(p)); // first: the block is in the policy's hands
  if (p) release_block(ptr_off(p) - kHeader);
  after_call();
}

void* TextbookPolicy::realloc(void* p, size_t n) {
  t_.call();
  void* r = nullptr;
  if (!p) {
    r = payload(alloc_block(n));
  } else if (n == 0) {
    release_block(ptr_off(p) - kHeader);
  } else {
    const uint64_t off = ptr_off(p) - kHeader;
    uint64_t got = resize_block(off, n);
    if (got == kMove) {
      got = alloc_block(n);
      if (got != UINT64_MAX) {
        memcpy(payload(got), p, std::min<uint64_t>(block_size(off) - kHeader, n));
        release_block(off);
        t_.realloc_moved(heap_base() + off, heap_base() + got);
      }
    }
    r = payload(got);
  }
  t_.realloc(reinterpret_cast<uintptr_t>(p), n, reinterpret_cast<uintptr_t>(r));
  after_call();
  return r;
}

bool TextbookPolicy::start_trace(const std::string& path, uint64_t verify_every) {
  if (!mem_) return false;
  if (!t_.start(path.c_str(), name_, nullptr, heap_base())) return false;
  verify_every_ = verify_every;
  calls_ = 0;
  t_.call(); // the heap as it is now, at the trace's first timestamp
  write_heap();
  return true;
}

void TextbookPolicy::stop_trace() {
  t_.stop();
}

void TextbookPolicy::mark(const std::string& label) {
  t_.mark(label.c_str());
}

std::vector<ChunkRow> TextbookPolicy::walk_run(uint64_t end) const {
  std::vector<ChunkRow> rows;
  for (uint64_t o = 0; o < end; o += size(o))
    rows.push_back(
        {o, size(o), used(o) ? trace::ChunkState::InUse : trace::ChunkState::Unsorted, 0, false, 0});
  return rows;
}

std::vector<BinListRow> TextbookPolicy::free_run(uint64_t end) const {
  BinListRow l{trace::BinKind::Unsorted, 0, {}, 0, 0, {}};
  for (uint64_t o = 0; o < end; o += size(o))
    if (!used(o)) l.chunks.push_back(o);
  if (l.chunks.empty()) return {};
  return {l};
}

void TextbookPolicy::write_run(uint64_t end) {
  if (end) {
    t_.sbrk(a(0), int64_t(end));
    t_.heap_new(a(0), end);
  }
  for (const ChunkRow& r : walk_run(end)) {
    if (r.state == trace::ChunkState::InUse)
      t_.chunk_alloc(a(r.offset), r.size);
    else
      t_.bin_in(a(r.offset), r.size, trace::BinKind::Unsorted, 0);
  }
}

void TextbookPolicy::after_call() {
  if (!t_.on() || verify_every_ == 0 || ++calls_ % verify_every_ != 0) return;
  std::vector<alloc::PolicyTrace::Chunk> s;
  for (const ChunkRow& r : walk())
    s.push_back({heap_base() + r.offset, r.size, r.state, uint8_t(r.bin)});
  t_.snapshot(s.data(), s.size());
}

} // namespace hv::sim
