// live_gate.h - stops the world at API-call boundaries, so a live viewer's snapshot of the heap
// is exact even while other threads allocate (docs/live.md).
//
// Owns: a table of slots, one per thread that has made an API call, each saying how many of
// that thread's calls have passed the gate; the gate that new calls wait at while it is closed.
// The table lives in its own mapping, never in a thread's storage, so a thread that exits (or
// dies inside a call) can never leave a dangling pointer behind: its slot is released at thread
// exit, and a slot left behind is reclaimed once its thread is gone.
// A process pays for the gate only with HEAPVIZ_LIVE=1 (then every API call goes through
// enter/leave: a few loads and stores on the thread's own slot, measured in bench/results/live.md);
// other processes never reach it.
// Protocol (an asymmetric Dekker handshake): a thread stores its slot's count, then loads
// `closed`; the stopper stores `closed`, runs membarrier(2) (a full barrier on every running
// thread of the process), then loads every slot. Either the thread sees the gate closed and
// waits, or the stopper sees it inside a call and waits for it to leave. Without membarrier the
// thread side uses a full fence instead.
// Must not: allocate from the heap, change errno, or wait while the caller is inside a call.
#pragma once

#include "arena.h"

#include <cerrno>
#include <climits>
#include <csignal>
#include <ctime>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace hv::alloc {

class LiveGate {
public:
  static constexpr uint32_t kSlots = 1u << 16; // threads alive at once (more: not gated, see claim)

  // Maps the slot table and registers for the expedited membarrier. False: no table (the gate
  // then admits everyone and stop() fails).
  bool init() {
    void* m = ::mmap(nullptr, sizeof(Slot) * kSlots, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return false;
    slots_ = static_cast<Slot*>(m);
    long r = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0);
    fence_ = r != 0;
    return true;
  }

  // A thread starts an API call: waits while the gate is closed. A call nested in one that has
  // passed (malloc from a signal handler that interrupted malloc) goes straight through: the
  // stopper is already waiting for the outer one.
  // (The slot's count is reached through ts.live_admitted, a pointer: this runs twice a call.)
  __attribute__((always_inline)) void enter(ThreadState& ts) {
    if (ts.live_passed) {
      ++ts.live_passed;
      return;
    }
    uint32_t* admitted = ts.live_admitted;
    if (__builtin_expect(admitted == nullptr, 0)) {
      if (!claim(ts)) {
        ts.live_passed = 1; // no slot (table full or missing): not gated
        return;
      }
      admitted = ts.live_admitted;
    }
    for (;;) {
      uint32_t outer = *admitted; // nonzero only for an outer call a signal interrupted at its gate
      __atomic_store_n(admitted, outer + 1, __ATOMIC_RELAXED);
      if (fence_)
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
      else
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
      if (__builtin_expect(!__atomic_load_n(&closed_, __ATOMIC_RELAXED), 1)) {
        ts.live_passed = 1;
        return;
      }
      wait_open(admitted, outer);
    }
  }
  __attribute__((always_inline)) void leave(ThreadState& ts) {
    if (--ts.live_passed == 0)
      if (uint32_t* admitted = ts.live_admitted) __atomic_store_n(admitted, *admitted - 1, __ATOMIC_RELEASE);
  }

  // Closes the gate and returns true once no thread is inside a call; idle() runs between looks
  // (the live thread drains the stream there, so that a thread blocked handing over a block can
  // finish its call). Gives up after timeout_ms (a thread that never leaves: it longjmp'ed out
  // of malloc, or is stopped in a debugger): reopens the gate, returns false, *stuck = its tid.
  template <class F> bool stop(F&& idle, int timeout_ms, int* stuck) {
    if (!slots_) return false;
    __atomic_store_n(&closed_, 1, __ATOMIC_SEQ_CST);
    if (!fence_) syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
    timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long idle_ms = 0;
    const pid_t pid = getpid();
    for (;;) {
      int busy = 0;
      uint32_t n = __atomic_load_n(&used_, __ATOMIC_ACQUIRE);
      for (uint32_t i = 0; i < n && !busy; ++i) {
        Slot& s = slots_[i];
        if (!__atomic_load_n(&s.admitted, __ATOMIC_ACQUIRE)) continue;
        int tid = __atomic_load_n(&s.tid, __ATOMIC_RELAXED);
        if (tid > 0 && syscall(SYS_tgkill, pid, tid, 0) != 0 && errno == ESRCH) {
          __atomic_store_n(&s.admitted, 0, __ATOMIC_RELEASE); // died inside a call
          continue;
        }
        busy = tid;
      }
      if (!busy) return true;
      timespec t;
      clock_gettime(CLOCK_MONOTONIC, &t);
      if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 - idle_ms >= timeout_ms) {
        *stuck = busy;
        start();
        return false;
      }
      idle();
      // Time idle() spent (sending to a slow viewer, say) is not the thread's fault: not counted.
      timespec t1;
      clock_gettime(CLOCK_MONOTONIC, &t1);
      long spent = (t1.tv_sec - t.tv_sec) * 1000 + (t1.tv_nsec - t.tv_nsec) / 1000000;
      if (spent > 1) idle_ms += spent;
    }
  }
  void start() {
    __atomic_store_n(&closed_, 0, __ATOMIC_RELEASE);
    syscall(SYS_futex, &closed_, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
  }
  // The id of the thread whose slot ts holds (0: none).
  int tid_of(const ThreadState& ts) const {
    return slots_ && ts.live_slot ? __atomic_load_n(&slots_[ts.live_slot - 1].tid, __ATOMIC_RELAXED) : 0;
  }
  // Is the calling thread inside a call that passed the gate? (Then it cannot stop the world.)
  static bool inside(const ThreadState& ts) { return ts.live_passed != 0; }

  // Thread exit: the slot is free again. Calls the exiting thread still makes (glibc frees its
  // thread-local storage after our exit hook) claim a new slot, reclaimed once the thread is gone.
  void release(ThreadState& ts) {
    if (!ts.live_slot || ts.live_passed) return;
    __atomic_store_n(&slots_[ts.live_slot - 1].tid, 0, __ATOMIC_RELEASE);
    ts.live_slot = 0;
    ts.live_admitted = nullptr;
  }
  // fork child: only the calling thread survives, and the gate is open.
  void after_fork_child(ThreadState& ts) {
    lock_.reinit();
    closed_ = 0;
    if (!slots_) return;
    for (uint32_t i = 0; i < used_; ++i)
      if (i + 1 != ts.live_slot) slots_[i] = Slot{};
    if (ts.live_slot) slots_[ts.live_slot - 1].tid = static_cast<int>(syscall(SYS_gettid));
  }

private:
  struct Slot {
    uint32_t admitted; // calls of this thread that passed the gate
    int tid;           // 0: free
  };

  __attribute__((noinline)) void wait_open(uint32_t* admitted, uint32_t outer) {
    int err = errno;                                 // a successful malloc leaves errno alone
    __atomic_store_n(admitted, 0, __ATOMIC_RELEASE); // nothing of this thread counts while it waits
    while (__atomic_load_n(&closed_, __ATOMIC_ACQUIRE))
      syscall(SYS_futex, &closed_, FUTEX_WAIT_PRIVATE, 1, nullptr, nullptr, 0);
    __atomic_store_n(admitted, outer, __ATOMIC_RELAXED);
    errno = err;
  }

  // Takes a free slot (or one whose thread is gone). False if the table is full or missing.
  __attribute__((noinline)) bool claim(ThreadState& ts) {
    if (!slots_) return false;
    int err = errno;
    int tid = static_cast<int>(syscall(SYS_gettid));
    const pid_t pid = getpid();
    lock_.lock();
    uint32_t found = 0;
    for (uint32_t i = 0; i < used_ && !found; ++i)
      if (__atomic_load_n(&slots_[i].tid, __ATOMIC_RELAXED) == 0) found = i + 1;
    if (!found && used_ < kSlots) {
      found = used_ + 1;
      __atomic_store_n(&used_, used_ + 1, __ATOMIC_RELEASE);
    }
    for (uint32_t i = 0; i < used_ && !found; ++i) { // full: reclaim the slot of a thread that is gone
      int t = slots_[i].tid;
      if (!slots_[i].admitted && syscall(SYS_tgkill, pid, t, 0) != 0 && errno == ESRCH) found = i + 1;
    }
    if (found) {
      slots_[found - 1].admitted = 0;
      __atomic_store_n(&slots_[found - 1].tid, tid, __ATOMIC_RELEASE);
      ts.live_slot = found;
      ts.live_admitted = &slots_[found - 1].admitted;
    }
    lock_.unlock();
    errno = err;
    return found != 0;
  }

  int closed_ = 0; // futex word
  bool fence_ = true;
  Lock lock_{};
  Slot* slots_ = nullptr;
  uint32_t used_ = 0; // slots ever used (the stopper scans these)
};

} // namespace hv::alloc
