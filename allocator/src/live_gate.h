// live_gate.h - stops the world at API-call boundaries, so a live viewer's snapshot of the heap
// is exact even while other threads allocate (docs/live.md).
//
// Owns: each thread's "inside an API call" count, the list of threads that have made a call, and
// the gate that new calls wait at while it is closed. A process pays for it only with
// HEAPVIZ_LIVE=1 (then every API call goes through enter/leave: two stores to the thread's own
// state and a load, measured in bench/results/live.md); other processes never reach it.
// The protocol is an asymmetric Dekker handshake: a thread stores in_call, then loads `closed`;
// the stopper stores `closed`, runs membarrier(2) (a full barrier on every running thread of the
// process), then loads every listed thread's in_call. Either the thread sees the gate closed and
// waits, or the stopper sees it inside a call and waits for it to leave. Without membarrier the
// thread side uses a full fence instead.
// Must not: allocate, or wait while the calling thread is inside a call.
#pragma once

#include "arena.h"

#include <climits>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace hv::alloc {

class LiveGate {
public:
  // Registers for the expedited membarrier; false means enter() will fence instead.
  bool init() {
    long r = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0);
    fence_ = r != 0;
    return !fence_;
  }

  // A thread starts an API call: waits while the gate is closed (unless the call is nested in
  // one already in progress, e.g. from a signal handler: the stopper is waiting for the outer one).
  __attribute__((always_inline)) void enter(ThreadState& ts) {
    if (__builtin_expect(!ts.live_listed, 0)) list(ts);
    for (;;) {
      __atomic_store_n(&ts.in_call, ts.in_call + 1, __ATOMIC_RELAXED);
      if (fence_)
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
      else
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
      if (__builtin_expect(!__atomic_load_n(&closed_, __ATOMIC_RELAXED), 1) || ts.in_call > 1) return;
      __atomic_store_n(&ts.in_call, ts.in_call - 1, __ATOMIC_RELEASE);
      while (__atomic_load_n(&closed_, __ATOMIC_ACQUIRE))
        syscall(SYS_futex, &closed_, FUTEX_WAIT_PRIVATE, 1, nullptr, nullptr, 0);
    }
  }
  __attribute__((always_inline)) void leave(ThreadState& ts) {
    __atomic_store_n(&ts.in_call, ts.in_call - 1, __ATOMIC_RELEASE);
  }

  // Closes the gate and returns once no listed thread is inside a call. idle() runs between
  // looks (the live thread drains the stream there, so a thread blocked writing can finish).
  template <class F> void stop(F&& idle) {
    __atomic_store_n(&closed_, 1, __ATOMIC_SEQ_CST);
    if (!fence_) syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
    for (;;) {
      bool busy = false;
      lock_.lock();
      for (ThreadState* t = threads_; t && !busy; t = t->live_next)
        busy = __atomic_load_n(&t->in_call, __ATOMIC_ACQUIRE) != 0;
      lock_.unlock();
      if (!busy) return;
      idle();
    }
  }
  void start() {
    __atomic_store_n(&closed_, 0, __ATOMIC_RELEASE);
    syscall(SYS_futex, &closed_, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
  }
  bool stopped() const { return __atomic_load_n(&closed_, __ATOMIC_ACQUIRE); }

  // Thread exit: the thread leaves the list (its state dies with it).
  void unlist(ThreadState& ts) {
    if (!ts.live_listed) return;
    lock_.lock();
    if (ts.live_prev)
      ts.live_prev->live_next = ts.live_next;
    else
      threads_ = ts.live_next;
    if (ts.live_next) ts.live_next->live_prev = ts.live_prev;
    ts.live_next = ts.live_prev = nullptr;
    ts.live_listed = false;
    lock_.unlock();
  }
  // fork child: only the calling thread survives, and the gate is open.
  void after_fork_child(ThreadState& ts) {
    lock_.reinit();
    closed_ = 0;
    threads_ = nullptr;
    ts.live_listed = false;
    ts.live_next = ts.live_prev = nullptr;
  }

private:
  __attribute__((noinline)) void list(ThreadState& ts) {
    lock_.lock();
    ts.live_prev = nullptr;
    ts.live_next = threads_;
    if (threads_) threads_->live_prev = &ts;
    threads_ = &ts;
    ts.live_listed = true;
    lock_.unlock();
  }

  int closed_ = 0; // futex word
  bool fence_ = true;
  Lock lock_{};
  ThreadState* threads_ = nullptr;
};

} // namespace hv::alloc
