// preload.cpp - the exported C API of libhvalloc.so: a complete drop-in for glibc's malloc.
//
// Owns: the one process-wide allocator instance on real memory, the exported symbols (and the
// __libc_* aliases some code calls directly), fork handlers and the thread-exit hook.
// Must not: allocate, use C++ runtime features that allocate, or run code before the first
// malloc that the first malloc depends on (ld.so calls malloc before our constructor runs).
#include "heap_walk.h"
#include "heapviz/hvalloc.h"
#include "malloc_core_impl.h" // the whole algorithm, so the exported entry points inline it

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <new>
#include <pthread.h>
#include <sys/mman.h>

using hv::alloc::MallocCore;
using hv::alloc::RealPlatform;

namespace {
constinit MallocCore<RealPlatform> g_alloc;
pthread_key_t g_exit_key;
bool g_exit_key_ready = false;

void on_thread_exit(void*) {
  g_alloc.thread_shutdown();
}
void fork_prepare() {
  g_alloc.fork_prepare();
}
void fork_parent() {
  g_alloc.fork_parent();
}
void fork_child() {
  g_alloc.fork_child();
}

// Runs after ld.so may already have called malloc; initialises whatever the first call did not.
__attribute__((constructor(101))) void hvalloc_constructor() {
  g_alloc.ensure_init();
  if (pthread_key_create(&g_exit_key, on_thread_exit) == 0) g_exit_key_ready = true;
  pthread_atfork(fork_prepare, fork_parent, fork_child);
}
} // namespace

void RealPlatform::on_thread_start() {
  if (g_exit_key_ready) pthread_setspecific(g_exit_key, reinterpret_cast<void*>(1));
}

#define HV_EXPORT extern "C" __attribute__((visibility("default")))

HV_EXPORT void* malloc(size_t n) {
  return g_alloc.malloc(n);
}
HV_EXPORT void free(void* p) {
  g_alloc.free(p);
}
HV_EXPORT void* calloc(size_t n, size_t s) {
  return g_alloc.calloc(n, s);
}
HV_EXPORT void* realloc(void* p, size_t n) {
  return g_alloc.realloc(p, n);
}
HV_EXPORT void* reallocarray(void* p, size_t n, size_t s) {
  size_t bytes;
  if (__builtin_mul_overflow(n, s, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  return g_alloc.realloc(p, bytes);
}
HV_EXPORT void* memalign(size_t a, size_t n) {
  return g_alloc.memalign(a, n);
}
HV_EXPORT void* aligned_alloc(size_t a, size_t n) {
  return g_alloc.memalign(a, n);
}
HV_EXPORT int posix_memalign(void** out, size_t a, size_t n) {
  return g_alloc.posix_memalign(out, a, n);
}
HV_EXPORT void* valloc(size_t n) {
  return g_alloc.valloc(n);
}
HV_EXPORT void* pvalloc(size_t n) {
  return g_alloc.pvalloc(n);
}
HV_EXPORT size_t malloc_usable_size(void* p) {
  return g_alloc.usable_size(p);
}
HV_EXPORT int malloc_trim(size_t pad) {
  return g_alloc.trim(pad);
}
HV_EXPORT struct mallinfo2 mallinfo2() {
  return g_alloc.info();
}
HV_EXPORT struct mallinfo mallinfo() {
  struct mallinfo2 m2 = g_alloc.info();
  struct mallinfo m;
  m.arena = static_cast<int>(m2.arena);
  m.ordblks = static_cast<int>(m2.ordblks);
  m.smblks = static_cast<int>(m2.smblks);
  m.hblks = static_cast<int>(m2.hblks);
  m.hblkhd = static_cast<int>(m2.hblkhd);
  m.usmblks = static_cast<int>(m2.usmblks);
  m.fsmblks = static_cast<int>(m2.fsmblks);
  m.uordblks = static_cast<int>(m2.uordblks);
  m.fordblks = static_cast<int>(m2.fordblks);
  m.keepcost = static_cast<int>(m2.keepcost);
  return m;
}
HV_EXPORT int mallopt(int param, int value) {
  return g_alloc.mallopt(param, value);
}
HV_EXPORT void malloc_stats() {
  g_alloc.stats(2);
}

// Code that calls glibc's internal names directly gets us too.
HV_EXPORT void* __libc_malloc(size_t n) {
  return g_alloc.malloc(n);
}
HV_EXPORT void __libc_free(void* p) {
  g_alloc.free(p);
}
HV_EXPORT void* __libc_calloc(size_t n, size_t s) {
  return g_alloc.calloc(n, s);
}
HV_EXPORT void* __libc_realloc(void* p, size_t n) {
  return g_alloc.realloc(p, n);
}
HV_EXPORT void* __libc_memalign(size_t a, size_t n) {
  return g_alloc.memalign(a, n);
}
HV_EXPORT void* __libc_valloc(size_t n) {
  return g_alloc.valloc(n);
}
HV_EXPORT void* __libc_pvalloc(size_t n) {
  return g_alloc.pvalloc(n);
}
HV_EXPORT int __posix_memalign(void** out, size_t a, size_t n) {
  return g_alloc.posix_memalign(out, a, n);
}

// The heap checker, for tests of the real allocator. Its scratch memory comes from mmap.
HV_EXPORT int hvalloc_check(char* msg, size_t msg_len) {
  void* mem = mmap(nullptr, sizeof(hv::alloc::HeapWalk<RealPlatform>), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return -1;
  auto* w = new (mem) hv::alloc::HeapWalk<RealPlatform>(g_alloc);
  const hv::alloc::CheckReport& r = w->run();
  int result = r.ok ? 0 : (r.invariant ? r.invariant : -1);
  if (msg && msg_len) {
    size_t n = strlen(r.message);
    if (n >= msg_len) n = msg_len - 1;
    memcpy(msg, r.message, n);
    msg[n] = 0;
  }
  w->~HeapWalk();
  munmap(mem, sizeof(hv::alloc::HeapWalk<RealPlatform>));
  return result;
}
