// flat_map.h - an open-addressing hash map keyed by a 64-bit address, for the replay hot loop.
//
// Owns: linear probing over one flat array (load <= 3/4), backward-shift deletion (no
// tombstones), so lookups touch one cache line; for_each_in_probe_order() and reset() let a
// checkpoint keep only the elements and rebuild the identical table.
// V must have a `uint64_t addr` member; addr 0 marks an empty slot: find(0) finds nothing and
// callers never insert 0.
// Keeps the storage it grew out of as a spare (rehash()): up to one more table's memory.
// Must not: allocate per element, or be used where iteration order matters.
#pragma once

#include "heapviz/hv_assert.h"
#include "model/byte_arena.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <sys/mman.h>
#include <vector>

namespace hv::model {

// Storage of 2 MiB or more on transparent huge pages (2 MiB aligned, MADV_HUGEPAGE), smaller as
// usual. A table of a million chunks (168 MB) is probed at random: on 4 KiB pages nearly every
// probe misses the TLB as well as the cache, and the fresh pages of a grown or restored table
// fault in one by one (~3 ms/MB here). Without THP it is ordinary memory.
template <class T> struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <class U> HugePageAllocator(const HugePageAllocator<U>&) {}
  T* allocate(size_t n) {
    size_t bytes = n * sizeof(T);
    if (bytes < kHugePage) return static_cast<T*>(::operator new(bytes));
    size_t len = round_to_huge_pages(bytes);
    void* p = std::aligned_alloc(kHugePage, len);
    if (!p) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    madvise(p, len, MADV_HUGEPAGE); // advice only
#endif
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    if (n * sizeof(T) < kHugePage)
      ::operator delete(p);
    else
      std::free(p);
  }
  template <class U> bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};

template <class V> class FlatMap {
public:
  // An element's home slot is the top bits of addr x kHashMul: elements sorted by that product
  // come in slot order in a table of any capacity.
  static constexpr uint64_t kHashMul = 0x9E3779B97F4A7C15ull;
  FlatMap() { rehash(16); }
  size_t size() const { return size_; }
  size_t capacity() const { return slots_.size(); }

  V* find(uint64_t addr) {
    size_t i = home(addr);
    for (;;) {
      V& s = slots_[i];
      if (s.addr == addr) return addr ? &s : nullptr; // 0 is the empty marker, never a key
      if (s.addr == 0) return nullptr;
      i = (i + 1) & mask_;
    }
  }
  const V* find(uint64_t addr) const { return const_cast<FlatMap*>(this)->find(addr); }
  // Starts loading addr's home slot (a find() or insert() of it soon will not wait as long).
  void prefetch(uint64_t addr) const { __builtin_prefetch(&slots_[home(addr)]); }

  // The slot for addr, value-initialised (with addr set) if it was not there.
  // addr must not be 0 (callers check: an event naming address 0 changes no chunk).
  V& insert(uint64_t addr, bool& created) {
    HV_ASSERT_MSG(addr != 0, "insert() of address 0 (the empty marker)");
    // At most 3/4 full: at 1/2 a heap of 1.4 M chunks took a table of 4 M slots (168 MB) where
    // 2 M do; with it the seeks there sought in 126 ms at the median (129 at 1/2), 386-415 at
    // most (653-801), and the app peaked at 1336-1344 MiB (1593-1625); the small heaps' pass and
    // seeks (bench_replay) did not change beyond the noise.
    if ((size_ + 1) * 4 > slots_.size() * 3) rehash(slots_.size() * 2);
    size_t i = home(addr);
    for (;;) {
      V& s = slots_[i];
      if (s.addr == addr) {
        created = false;
        return s;
      }
      if (s.addr == 0) {
        s = V{};
        s.addr = addr;
        ++size_;
        created = true;
        return s;
      }
      i = (i + 1) & mask_;
    }
  }

  // Erases the element at slot (from find or insert); pointers to other elements may move.
  void erase(V* slot) {
    HV_ASSERT_MSG(slot >= slots_.data() && slot < slots_.data() + slots_.size(),
                  "erase() of a foreign pointer");
    HV_ASSERT_MSG(slot->addr != 0 && size_ > 0, "erase() of an empty slot (a find(0)?)");
    size_t i = size_t(slot - slots_.data());
    size_t j = i;
    for (;;) {
      j = (j + 1) & mask_;
      if (slots_[j].addr == 0) break;
      size_t k = home(slots_[j].addr);
      // Move j back to i unless its home lies cyclically in (i, j].
      bool stays = (i <= j) ? (i < k && k <= j) : (i < k || k <= j);
      if (!stays) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = V{};
    --size_;
  }

  void clear() { reset(16); }

  // Visits the elements slot by slot, starting after an empty slot and wrapping around: inserted
  // in this order into an empty table of the same capacity (reset()), every element lands in the
  // slot it has here (each slot between its home and its place is filled before it), so a table
  // can be saved without its empty slots and rebuilt identically, iteration order included.
  template <class F> void for_each_in_probe_order(F&& f) const {
    size_t start = 0;
    while (slots_[start].addr)
      ++start; // the load is at most 3/4: there is an empty slot
    for (size_t k = 1; k <= mask_; ++k) {
      const V& s = slots_[(start + k) & mask_];
      if (s.addr) f(s);
    }
  }
  // Empties the table and gives it `capacity` slots (a power of two, at least 16). The storage
  // is reused when it (or the spare one) is large enough: a seek that restores a larger heap
  // touches no fresh memory. Of the two, the smaller that is large enough takes the table and
  // the larger stays the spare, for the table to grow into again: a restored table of 1 M slots
  // kept in the storage of 2 M, then grown, faulted in 84 MB of fresh memory for 180-230 ms in
  // the middle of a seek (rehash() cannot grow a table into the storage it is copied from).
  void reset(size_t capacity) {
    HV_ASSERT_MSG(capacity >= 16 && (capacity & (capacity - 1)) == 0,
                  "capacity must be a power of two >= 16");
    if (spare_.capacity() >= capacity &&
        (slots_.capacity() < capacity || spare_.capacity() < slots_.capacity())) {
      slots_.swap(spare_);
      spare_.clear();
    }
    slots_.assign(capacity, V{});
    mask_ = capacity - 1;
    shift_ = 64 - __builtin_ctzll(capacity);
    size_ = 0;
  }

  template <class F> void for_each(F&& f) const {
    for (const V& s : slots_)
      if (s.addr) f(s);
  }
  // The elements of part `part` of `parts` equal ranges of slots (for threads that share a walk).
  template <class F> void for_each_in_part(size_t part, size_t parts, F&& f) const {
    size_t n = slots_.size(), first = n * part / parts, last = n * (part + 1) / parts;
    for (size_t i = first; i < last; ++i)
      if (slots_[i].addr) f(slots_[i]);
  }

private:
  size_t home(uint64_t addr) const { return size_t((addr * kHashMul) >> shift_); }
  using Slots = std::vector<V, HugePageAllocator<V>>;
  // The table grows into the spare storage when it is large enough, and keeps the storage it
  // leaves as the spare: fresh pages fault in one by one (~3 ms/MB here, 300-400 ms for a table of
  // a million chunks), and a replay that seeks back and forth grows the same table again and again.
  void rehash(size_t n) {
    Slots old;
    old.swap(slots_);
    if (spare_.capacity() >= n) slots_.swap(spare_);
    size_t n_old = size_;
    reset(n);
    for (const V& s : old)
      if (s.addr) {
        bool c;
        insert(s.addr, c) = s;
      }
    HV_ASSERT_MSG(size_ == n_old, "size() differs from the number of occupied slots");
    if (old.capacity() > spare_.capacity()) {
      spare_.swap(old);
      spare_.clear(); // keeps the storage (a copy of the map copies no spare elements)
    }
  }

  Slots slots_;
  Slots spare_; // storage the table grew out of (see rehash())
  size_t mask_ = 0, size_ = 0;
  int shift_ = 64;
};

} // namespace hv::model
