// simulated_heap.cpp - heapviz/simulated_heap.h: MallocCore on the simulated memory source and
// the heap walk, behind the narrow public class that visualizer/sim uses.
//
// Owns: the translation from the walk's ChunkView to the public ChunkInfo. Must not: add any
// policy of its own; every call goes straight to the core (instantiated in malloc_sim.cpp and
// checker.cpp).
#include "heapviz/simulated_heap.h"

#include "heap_walk.h"
#include "malloc_core.h"

#include <cstring>

namespace hv::alloc {

struct SimulatedHeap::Impl {
  MallocCore<SimPlatform> core;
  ThreadState* threads[SimPlatform::kMaxThreads] = {}; // by handle; [0] unused (the OS thread's)
  int nthreads = 1;
  char message[sizeof(CheckReport::message)] = {};
};

SimulatedHeap::SimulatedHeap() : impl_(std::make_unique<Impl>()) {}
SimulatedHeap::~SimulatedHeap() {
  impl_->core.checks_release();
}

bool SimulatedHeap::enable_checks(bool cont) {
  return !impl_->core.initialized() && impl_->core.checks_enable(cont);
}
void SimulatedHeap::checks_sweep() {
  impl_->core.checks_sweep();
}

void* SimulatedHeap::malloc(size_t n) {
  return impl_->core.malloc(n);
}
void* SimulatedHeap::calloc(size_t n, size_t size) {
  return impl_->core.calloc(n, size);
}
void* SimulatedHeap::realloc(void* p, size_t n) {
  return impl_->core.realloc(p, n);
}
void* SimulatedHeap::memalign(size_t align, size_t n) {
  return impl_->core.memalign(align, n);
}
void SimulatedHeap::free(void* p) {
  impl_->core.free(p);
}
size_t SimulatedHeap::usable_size(void* p) {
  return impl_->core.usable_size(p);
}
bool SimulatedHeap::is_mmapped(void* p) const {
  return mem2chunk(p)->is_mmapped();
}
int SimulatedHeap::mallopt(int param, int value) {
  return impl_->core.mallopt(param, value);
}
int SimulatedHeap::malloc_trim(size_t pad) {
  return impl_->core.trim(pad);
}

const char* SimulatedHeap::tunable_name(int i) {
  return i >= 0 && i < kNumTunables ? kTunableDefs[i].name : nullptr;
}

SimulatedHeap::TunableResult SimulatedHeap::set_tunable(const char* name, size_t name_len, uint64_t value,
                                                        const char** accepts) {
  const int i = find_tunable(name, name_len);
  if (i < 0) return TunableResult::Unknown;
  const auto id = static_cast<TunableId>(i);
  if (accepts) *accepts = tunable_def(id).accepts;
  if (id == TunableId::Hugetlb || id == TunableId::Check) return TunableResult::Unsupported;
  // The limits of malloc.c's setters, which ld.so's bounds do not have.
  if ((id == TunableId::TcacheCount && value > kMaxTcacheCount) ||
      (id == TunableId::TcacheMax && value > kMaxTcacheSize) ||
      (id == TunableId::Mxfast && value > kMaxFastSize))
    return TunableResult::Ignored;
  if (impl_->core.initialized()) return TunableResult::TooLate;
  return impl_->core.set_tunable(id, static_cast<TunableNum>(value)) ? TunableResult::Applied
                                                                     : TunableResult::Dropped;
}

int SimulatedHeap::thread_new(uint32_t trace_tid) {
  if (impl_->nthreads >= SimPlatform::kMaxThreads) return 0;
  ThreadState* ts = impl_->core.platform().new_thread();
  ts->sim_tid = trace_tid;
  impl_->threads[impl_->nthreads] = ts;
  return impl_->nthreads++;
}
void SimulatedHeap::thread_select(int handle) {
  impl_->core.platform().select_thread(handle > 0 && handle < impl_->nthreads ? impl_->threads[handle]
                                                                              : nullptr);
}
void SimulatedHeap::set_multithreaded() {
  impl_->core.platform().set_threaded(true);
}
void SimulatedHeap::thread_exit() {
  impl_->core.thread_shutdown();
  impl_->core.platform().select_thread(nullptr);
}
uintptr_t SimulatedHeap::region_start(uintptr_t addr) const {
  const SimPlatform& p = impl_->core.platform();
  const uintptr_t lo = reinterpret_cast<uintptr_t>(p.brk_base());
  if (addr >= lo && addr < reinterpret_cast<uintptr_t>(p.brk_cur())) return lo;
  return reinterpret_cast<uintptr_t>(heap_for_ptr(reinterpret_cast<void*>(addr)));
}

uintptr_t SimulatedHeap::heap_base() const {
  return reinterpret_cast<uintptr_t>(impl_->core.platform().brk_base());
}
uint64_t SimulatedHeap::main_heap_bytes() const {
  return impl_->core.main_arena()->system_mem;
}
uint64_t SimulatedHeap::mmapped_bytes() const {
  return impl_->core.params().mmapped_mem;
}

void SimulatedHeap::walk(ChunkFn fn, void* ctx) {
  auto w = std::make_unique<HeapWalk<SimPlatform>>(impl_->core);
  w->run();
  w->for_each_chunk([&](const ChunkView& v) {
    ChunkInfo c{reinterpret_cast<uintptr_t>(v.chunk),
                v.size,
                static_cast<unsigned>(v.flags),
                v.state,
                v.bin,
                v.arena,
                v.internal};
    return fn(c, ctx);
  });
}

void SimulatedHeap::walk_bins(BinFn fn, void* ctx) {
  auto w = std::make_unique<HeapWalk<SimPlatform>>(impl_->core);
  w->run();
  w->for_each_bin_chunk(
      [&](trace::BinKind kind, unsigned index, int arena, Arena*, ThreadState* ts, Chunk* c) {
        int thread = 0;
        for (int i = 1; ts && i < impl_->nthreads; ++i)
          if (impl_->threads[i] == ts) thread = i;
        return fn(BinChunk{reinterpret_cast<uintptr_t>(c), kind, index, arena, thread}, ctx);
      });
}

const char* SimulatedHeap::check() {
  auto w = std::make_unique<HeapWalk<SimPlatform>>(impl_->core);
  const CheckReport& r = w->run();
  if (r.ok) return nullptr;
  memcpy(impl_->message, r.message, sizeof(impl_->message));
  return impl_->message;
}

bool SimulatedHeap::trace_start(const char* path, uint64_t verify_every) {
  return impl_->core.trace_start(path, false, verify_every, trace::kFileSimulated);
}
uint64_t SimulatedHeap::trace_events() const { // (the core counts in its sink)
  return impl_->core.trace_events();
}
void SimulatedHeap::trace_stop() {
  impl_->core.trace_stop();
}
void SimulatedHeap::trace_mark(const char* label) {
  impl_->core.trace_mark(label);
}

} // namespace hv::alloc
