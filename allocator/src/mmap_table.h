// mmap_table.h - the mmapped chunks that exist, so that a trace starting mid-run (a live attach,
// a forked child) can list them with its baseline snapshot. glibc keeps no list of them.
//
// Owns: an open-addressing set of chunk addresses in its own mapping, grown by doubling.
// Kept only while the process traces or listens (MallocCore::entry_): mmapped chunks are rare
// and each costs a system call, so the lock here is never on a hot path.
// Must not: allocate from the heap.
#pragma once

#include "arena.h"

#include <cstdint>
#include <sys/mman.h>

namespace hv::alloc {

class MmapTable {
public:
  void insert(uintptr_t a) {
    lock_.lock();
    if ((n_ + dead_ + 1) * 2 > cap_) grow();
    if (slots_ && n_ + dead_ + 1 < cap_) place(a); // else out of memory: the chunk goes unlisted
    lock_.unlock();
  }
  void erase(uintptr_t a) {
    lock_.lock();
    if (slots_)
      for (size_t i = hash(a) & (cap_ - 1);; i = (i + 1) & (cap_ - 1)) {
        if (slots_[i] == 0) break;
        if (slots_[i] == a) {
          slots_[i] = kDead;
          --n_;
          ++dead_;
          break;
        }
      }
    lock_.unlock();
  }
  bool contains(uintptr_t a) {
    bool found = false;
    lock_.lock();
    if (slots_)
      for (size_t i = hash(a) & (cap_ - 1);; i = (i + 1) & (cap_ - 1)) {
        if (slots_[i] == 0) break;
        if (slots_[i] == a) {
          found = true;
          break;
        }
      }
    lock_.unlock();
    return found;
  }
  // Calls f(address) for each chunk; the caller keeps the set from changing (the world is
  // stopped, or the process is single-threaded).
  template <class F> void for_each(F&& f) const {
    for (size_t i = 0; i < cap_; ++i)
      if (slots_[i] > kDead) f(slots_[i]);
  }
  void after_fork_child() { lock_.reinit(); }

private:
  static constexpr uintptr_t kDead = 1;
  static size_t hash(uintptr_t a) { return (a >> 12) * 0x9E3779B97F4A7C15ull >> 20; }
  void place(uintptr_t a) {
    for (size_t i = hash(a) & (cap_ - 1);; i = (i + 1) & (cap_ - 1))
      if (slots_[i] <= kDead) {
        if (slots_[i] == kDead) --dead_;
        slots_[i] = a;
        ++n_;
        return;
      }
  }
  void grow() {
    size_t cap = cap_ ? cap_ * 2 : 512;
    while ((n_ + 1) * 2 > cap)
      cap *= 2;
    void* m =
        ::mmap(nullptr, cap * sizeof(uintptr_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return; // keep the old table (it may then fill: insert() gives up)
    uintptr_t* old = slots_;
    size_t old_cap = cap_;
    slots_ = static_cast<uintptr_t*>(m);
    cap_ = cap;
    n_ = dead_ = 0;
    for (size_t i = 0; i < old_cap; ++i)
      if (old[i] > kDead) place(old[i]);
    if (old) ::munmap(old, old_cap * sizeof(uintptr_t));
  }

  Lock lock_{};
  uintptr_t* slots_ = nullptr;
  size_t cap_ = 0, n_ = 0, dead_ = 0;
};

} // namespace hv::alloc
