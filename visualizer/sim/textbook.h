// textbook.h - what the textbook policies share (docs/policies.md): simulated memory reserved
// with mmap (real bytes: calloc zeroes, realloc copies), the heap base offsets count from, the
// trace writer (heapviz/policy_trace.h) with its API events and snapshots, calloc on top of the
// policy's malloc, and the refusals (memalign, tunables, mallopt, malloc_trim).
//
// Owns: TextbookPolicy (the base class) and the factories of the policies built on it.
// Must not: choose blocks (each policy's file does), or print.
#pragma once

#include "sim/policy.h"

#include "heapviz/policy_trace.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace hv::sim {

class TextbookPolicy : public Policy {
public:
  ~TextbookPolicy() override;
  const char* name() const override { return name_; }
  void* malloc(size_t n) override;
  void* calloc(size_t n, size_t size) override;
  void* realloc(void* p, size_t n) override;
  void* memalign(size_t, size_t) override { return nullptr; }
  std::string check_memalign(size_t, size_t) const override {
    return std::string("policy ") + name_ + " has no memalign";
  }
  void free(void* p) override;
  uintptr_t heap_base() const override { return reinterpret_cast<uintptr_t>(mem_); }
  bool is_mmapped(void*) const override { return false; }
  bool start_trace(const std::string& path, uint64_t verify_every) override;
  void stop_trace() override;
  uint64_t trace_events() const override { return t_.events(); }
  void mark(const std::string& label) override;
  uint64_t blocks_searched() const override { return searched_; }

protected:
  // reserve: the bytes of address space the heap may ever use.
  TextbookPolicy(const char* name, uint64_t reserve);

  // The policy's algorithm, on offsets from the heap base (a block's offset is its header's).
  // Each writes its chunk events (bins, splits, merges, growth) but no API event and no call().
  // alloc: a block for n bytes, or UINT64_MAX when there is none; its payload is left as it is.
  virtual uint64_t alloc_block(uint64_t n) = 0;
  // release: the block at `off` (in use) goes back; the API's free event is written already.
  virtual void release_block(uint64_t off) = 0;
  // resize: realloc of the block at `off` to n bytes (n > 0). Returns the block's offset (the same
  // one: in place), UINT64_MAX when it failed (the block stays), or writes nothing and returns
  // kMove: allocate, copy and free through alloc_block/release_block.
  static constexpr uint64_t kMove = UINT64_MAX - 1;
  virtual uint64_t resize_block(uint64_t off, uint64_t n) = 0;
  // The bytes of the block at `off`, header included.
  virtual uint64_t block_size(uint64_t off) const = 0;
  // Written at the start of a trace: the heap as it is (heap_new, chunk_alloc, bin_in).
  virtual void write_heap() = 0;

  uint8_t* at(uint64_t off) const { return mem_ + off; }
  uint64_t ptr_off(void* p) const { return uint64_t(static_cast<uint8_t*>(p) - mem_); }
  void* payload(uint64_t off) const { return off == UINT64_MAX ? nullptr : mem_ + off + kHeader; }
  // A header word of the block at `off` (0: its size and flags; 1: policy's own).
  uint64_t& word(uint64_t off, int i) const { return reinterpret_cast<uint64_t*>(mem_ + off)[i]; }
  // An API call ended: snapshots every verify_every calls.
  void after_call();

  static constexpr uint64_t kHeader = 16;
  // Every textbook block's header word 0: its size (a multiple of 16) | kUsed while in use.
  static constexpr uint64_t kUsed = 1;
  uint64_t size(uint64_t o) const { return word(o, 0) & ~uint64_t(15); }
  bool used(uint64_t o) const { return word(o, 0) & kUsed; }
  uint64_t a(uint64_t off) const { return heap_base() + off; } // an offset's address
  // A heap that is one run of blocks from the base to `end` (the free-list family, linear, stack):
  // every block, a free one shown in the unsorted bin; the free ones as one list in address
  // order; and what a trace starts with (sbrk, heap_new, each block).
  std::vector<ChunkRow> walk_run(uint64_t end) const;
  std::vector<BinListRow> free_run(uint64_t end) const;
  void write_run(uint64_t end);
  alloc::PolicyTrace t_;
  uint64_t reserved_ = 0;
  // Blocks malloc has looked at: each one a fit loop visits (the free-list family), the block
  // taken off a list (buddy, segregated, pool); none for a bump.
  mutable uint64_t searched_ = 0;

private:
  const char* name_;
  uint8_t* mem_ = nullptr;
  uint64_t verify_every_ = 0, calls_ = 0;
};

// The free-list family: "first-fit", "next-fit", "best-fit", "worst-fit" (nullptr for another
// name). freelist_policy.cpp.
std::unique_ptr<Policy> make_freelist_policy(std::string_view name);
// "buddy" with an arena of arena_size bytes (0: 1 MiB); nullptr and *err for a bad size.
// buddy_policy.cpp.
std::unique_ptr<Policy> make_buddy_policy(uint64_t arena_size, std::string* err);
// "linear" and "stack" (nullptr for another name). bump_policy.cpp.
std::unique_ptr<Policy> make_bump_policy(std::string_view name);
// "pool": an arena of arena_size bytes (0: 1 MiB) of blocks of block_size bytes (0: 64) each;
// nullptr and *err when they do not fit. pool_policy.cpp.
std::unique_ptr<Policy> make_pool_policy(uint64_t arena_size, uint64_t block_size, std::string* err);
// "segregated". segregated_policy.cpp.
std::unique_ptr<Policy> make_segregated_policy();

} // namespace hv::sim
