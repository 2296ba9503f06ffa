// platform.cpp - the two memory sources (real process, simulated region) and fatal-error output.
//
// Owns: everything the allocator core asks of the operating system. Must not: allocate with
// malloc/new (this code runs inside malloc), use stdio, or touch errno on success paths.
#include "platform.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sys/random.h>
#include <sys/sysinfo.h>
#include <unistd.h>

namespace hv::alloc {

__thread ThreadState g_real_thread_state __attribute__((tls_model("initial-exec")));

void raw_write(int fd, const char* s) {
  size_t n = strlen(s);
  while (n > 0) {
    ssize_t w = ::write(fd, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    s += w;
    n -= static_cast<size_t>(w);
  }
}

void raw_write_hex(int fd, uintptr_t v) {
  char buf[20];
  int i = 19;
  buf[i] = 0;
  do {
    buf[--i] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v);
  buf[--i] = 'x';
  buf[--i] = '0';
  raw_write(fd, buf + i);
}

bool g_break_on_error = false;
void (*g_before_stop)() = nullptr;
void (*g_before_abort)() = nullptr;

void stop_here(const char* why) {
  char pid[24];
  int i = 23;
  pid[i] = 0;
  for (unsigned long v = static_cast<unsigned long>(getpid()); v || i == 23; v /= 10)
    pid[--i] = static_cast<char>('0' + v % 10);
  raw_write(2, "heapviz: stopped ");
  raw_write(2, why);
  raw_write(2, "; attach a debugger: gdb -p ");
  raw_write(2, pid + i);
  raw_write(2, "  (kill -CONT ");
  raw_write(2, pid + i);
  raw_write(2, " lets it go on)\n");
  if (g_before_stop) g_before_stop();
  raise(SIGSTOP);
}

void fatal_error(const char* msg, const void* addr, const char* note) {
  raw_write(2, msg);
  raw_write(2, "\n");
  if (addr) {
    raw_write(2, "heapviz: the pointer involved is ");
    raw_write_hex(2, reinterpret_cast<uintptr_t>(addr));
    raw_write(2, "\n");
  }
  if (note) {
    raw_write(2, note);
    raw_write(2, "\n");
  }
  if (g_break_on_error)
    stop_here("at the faulting call, before the abort");
  else if (g_before_abort)
    g_before_abort();
  abort();
}

// ---- RealPlatform -------------------------------------------------------------------------

void RealPlatform::init() {
  long ps = sysconf(_SC_PAGESIZE);
  page_ = ps > 0 ? static_cast<size_t>(ps) : 4096;
}

void* RealPlatform::morecore(ptrdiff_t incr) {
  void* r = sbrk(incr);
  return r == reinterpret_cast<void*>(-1) ? nullptr : r;
}

int RealPlatform::nprocs() {
  return get_nprocs();
}

uintptr_t RealPlatform::random_key() {
  uintptr_t key = 0;
  if (getrandom(&key, sizeof(key), GRND_NONBLOCK) != static_cast<ssize_t>(sizeof(key))) {
    // Same fallback idea as glibc's random_bits(): mix the clock.
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    key = (static_cast<uintptr_t>(ts.tv_nsec) << 32) ^ static_cast<uintptr_t>(ts.tv_sec) ^
          reinterpret_cast<uintptr_t>(&key);
  }
  return key;
}

// ---- SimPlatform --------------------------------------------------------------------------

namespace {
constexpr size_t kSimPage = 4096;
size_t page_up(size_t v) {
  return (v + kSimPage - 1) & ~(kSimPage - 1);
}

struct SimTlsEntry {
  uint64_t owner;
  ThreadState* state;
};
constexpr int kSimTlsEntries = 8;
__thread SimTlsEntry t_sim_tls[kSimTlsEntries];
__thread unsigned t_sim_tls_next;
uint64_t g_sim_next_id = 1;
} // namespace

SimPlatform::SimPlatform(size_t capacity) : capacity_(page_up(capacity)) {
  id_ = __atomic_fetch_add(&g_sim_next_id, 1, __ATOMIC_RELAXED);
  // The same addresses on every run when the address space allows it (a scenario's trace, its
  // screenshots and a student's notes then agree): instance N at 16 TiB + N GiB-aligned slots.
  // Elsewhere when that range is taken.
  const uintptr_t slot = (uintptr_t(capacity_) + (1ull << 30) - 1) & ~((1ull << 30) - 1);
  void* want = reinterpret_cast<void*>((uintptr_t(1) << 44) + (id_ - 1) % 1024 * slot);
#if defined(__SANITIZE_THREAD__) // GCC; clang says it through __has_feature
#define HV_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HV_TSAN 1
#endif
#endif
#ifdef HV_TSAN
  // Not under TSan: 16 TiB is its shadow memory, and its mmap interceptor turns a hint outside
  // the program's ranges into address 0 (a root process then gets a mapping at 0, and TSan dies).
  void* p = MAP_FAILED;
  (void)want;
#else
  void* p = ::mmap(want, capacity_, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
#endif
  if (p != MAP_FAILED && p != want) { // an old kernel that took it as a hint only
    ::munmap(p, capacity_);
    p = MAP_FAILED;
  }
  if (p == MAP_FAILED)
    p = ::mmap(nullptr, capacity_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) fatal_error("heapviz: cannot reserve address space for the simulated heap", nullptr);
  base_ = cur_ = committed_ = static_cast<char*>(p);
}

SimPlatform::~SimPlatform() {
  if (base_) ::munmap(base_, capacity_);
  // Forget this instance in the calling thread's cache (other threads' entries die with the id).
  for (SimTlsEntry& e : t_sim_tls)
    if (e.owner == id_) e = {};
}

void* SimPlatform::morecore(ptrdiff_t incr) {
  char* old = cur_;
  if (incr == 0) return old;
  if (incr > 0) {
    if (static_cast<size_t>(incr) > static_cast<size_t>(base_ + capacity_ - cur_)) return nullptr;
    char* want = base_ + page_up(static_cast<size_t>(cur_ + incr - base_));
    if (want > committed_) {
      if (::mprotect(committed_, static_cast<size_t>(want - committed_), PROT_READ | PROT_WRITE) != 0)
        return nullptr;
      committed_ = want;
    }
    cur_ += incr;
    return old;
  }
  if (static_cast<size_t>(-incr) > static_cast<size_t>(cur_ - base_)) return nullptr;
  cur_ += incr;
  // Like the kernel's brk: pages wholly above the new break are dropped and read back as zero.
  char* keep = base_ + page_up(static_cast<size_t>(cur_ - base_));
  if (keep < committed_) {
    ::madvise(keep, static_cast<size_t>(committed_ - keep), MADV_DONTNEED);
    ::mprotect(keep, static_cast<size_t>(committed_ - keep), PROT_NONE);
    committed_ = keep;
  }
  return old;
}

void* SimPlatform::mmap(void* addr, size_t len, int prot, int flags) {
  void* p = ::mmap(addr, len, prot, flags | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p != MAP_FAILED) __atomic_add_fetch(&mapped_bytes_, len, __ATOMIC_RELAXED);
  return p;
}

int SimPlatform::munmap(void* p, size_t len) {
  int r = ::munmap(p, len);
  if (r == 0) __atomic_sub_fetch(&mapped_bytes_, len, __ATOMIC_RELAXED);
  return r;
}

void* SimPlatform::mremap(void* p, size_t old_len, size_t new_len, int flags) {
  void* r = ::mremap(p, old_len, new_len, flags);
  if (r != MAP_FAILED) {
    __atomic_add_fetch(&mapped_bytes_, new_len, __ATOMIC_RELAXED);
    __atomic_sub_fetch(&mapped_bytes_, old_len, __ATOMIC_RELAXED);
  }
  return r;
}

ThreadState* SimPlatform::new_thread() {
  scenario_threads_ = true;
  int slot = __atomic_fetch_add(&nslots_, 1, __ATOMIC_ACQ_REL);
  if (slot >= kMaxThreads) fatal_error("heapviz: too many threads in one simulated heap", nullptr);
  return &slots_[slot];
}

ThreadState& SimPlatform::thread() {
  if (selected_) return *selected_;
  for (SimTlsEntry& e : t_sim_tls)
    if (e.owner == id_) return *e.state;
  int slot = __atomic_fetch_add(&nslots_, 1, __ATOMIC_ACQ_REL);
  if (slot >= kMaxThreads) fatal_error("heapviz: too many threads in one simulated heap", nullptr);
  SimTlsEntry& e = t_sim_tls[t_sim_tls_next++ % kSimTlsEntries];
  e = {id_, &slots_[slot]};
  return slots_[slot];
}

} // namespace hv::alloc
