// policy.h - the allocator-policy seam: what `heapviz sim` and (later) the teaching mode need
// from an allocator running on simulated memory.
//
// Owns: the Policy interface and its factory. glibc 2.36 is the default policy; the textbook
// policies (first/next/best/worst fit, buddy, segregated, pool, linear, stack:
// docs/policies.md) plug in here too.
// Must not: know about scenario text or output formats.
#pragma once

#include "heapviz/chunk_states.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hv::sim {

// One chunk of a simulated heap, as a policy reports it, in the one vocabulary of states and
// bins (heapviz/chunk_states.h: trace::state_name, trace::bin_text name them).
struct ChunkRow {
  uint64_t offset; // from the heap base
  uint64_t size;   // whole chunk, header included
  trace::ChunkState state;
  unsigned bin;   // the bin's index while binned (trace::is_binned), else 0
  bool internal;  // the allocator's own chunk (glibc: a tcache_perthread_struct), as it says
  unsigned flags; // glibc's A|M|P bits (0 for policies without them)
  // 0: the main heap (offset from heap_base()); glibc: else the start of the non-main arena's
  // heap that holds it (offset from there).
  uintptr_t heap = 0;
  int arena = 0; // glibc: its arena, 0 = main, then in arena-list order
};

// One bin's list, head first (the end the allocator's next insertion uses).
struct BinListRow {
  trace::BinKind kind;
  unsigned index;               // the bin's index (glibc's unsorted bin: 1)
  std::vector<uint64_t> chunks; // chunk offsets from the heap base, head first
  // glibc with threads: a non-main arena's bin (its index in arena-list order; its chunks'
  // offsets are from their heap's start, given per chunk in `heaps`), or a scenario thread's
  // tcache (thread > 0).
  int arena = 0;
  int thread = 0;
  std::vector<uintptr_t> heaps; // empty, or one per chunk: as ChunkRow::heap
};

struct HeapSummary {
  uint64_t heap_bytes = 0; // size of the main heap region (sbrk space)
  uint64_t mmapped_bytes = 0;
};

class Policy {
public:
  virtual ~Policy() = default;
  virtual const char* name() const = 0;
  virtual void* malloc(size_t n) = 0;
  virtual void* calloc(size_t n, size_t size) = 0;
  virtual void* realloc(void* p, size_t n) = 0;
  virtual void* memalign(size_t align, size_t n) = 0;
  virtual void free(void* p) = 0;
  // "" when the policy takes the call, else why it refuses it: the scenario stops there with the
  // line's number (a textbook policy has no memalign).
  virtual std::string check_memalign(size_t /*align*/, size_t /*n*/) const { return ""; }
  // The same for free(p) and realloc(p, n) of a live p (the stack policy frees only its latest).
  virtual std::string check_free(void* /*p*/) const { return ""; }
  // The address that offsets are measured from: the program break before the first call.
  virtual uintptr_t heap_base() const = 0;
  virtual bool is_mmapped(void* p) const = 0;
  virtual size_t usable_size(void* p) = 0;
  // Blocks the policy's mallocs have looked at so far (docs/policies.md, "Blocks searched"), or
  // UINT64_MAX when the policy does not count them (glibc: its trace says which chunks each
  // call took off a list; session/policy_compare.h counts those).
  virtual uint64_t blocks_searched() const { return UINT64_MAX; }
  // The main heap's chunks in address order, then (glibc) every non-main arena's heaps'.
  virtual std::vector<ChunkRow> walk() = 0;
  // The start of the region p's offset is measured from: heap_base(), or (glibc) the start of the
  // non-main arena heap holding p. (p is not mmapped.)
  virtual uintptr_t region_start(void* /*p*/) const { return heap_base(); }
  // The main heap's bins and the thread's tcache, each a list in its order (none: the policy
  // does not say).
  virtual std::vector<BinListRow> bin_lists() { return {}; }
  virtual HeapSummary summary() = 0;
  // Runs the policy's heap checker; returns "" when every invariant holds.
  virtual std::string check() = 0;
  // Records every heap event to a trace file (docs/trace-format.md); false if it cannot.
  // verify_every > 0 adds a heap snapshot every that many events (heapviz check uses them).
  virtual bool start_trace(const std::string& path, uint64_t verify_every) = 0;
  virtual void stop_trace() = 0;
  // Events the trace holds so far: after a call, the position at which its heap is complete.
  virtual uint64_t trace_events() const = 0;
  virtual void mark(const std::string& label) = 0;
  // heapviz's own checks (docs/checks.md), before the first call; cont: report and go on.
  // False when the policy has none.
  virtual bool enable_checks(bool /*cont*/) { return false; }
  // The checks' sweep at the scenario's end (leftover canaries and free patterns).
  virtual void checks_at_exit() {}

  // Settings a scenario can make (docs/scenarios.md): each returns "" or why the policy refuses
  // it (a setting the real allocator would ignore is refused). `tunable` applies before the first
  // call only; check_mallopt validates without applying (so a run can refuse before it starts).
  virtual std::string tunable(const std::string& name, uint64_t /*value*/) {
    return std::string("policy ") + this->name() + " has no tunables ('" + name + "')";
  }
  virtual std::string check_mallopt(const std::string& param, int /*value*/) const {
    return std::string("policy ") + this->name() + " has no mallopt ('" + param + "')";
  }
  virtual std::string mallopt(const std::string& param, int value) { return check_mallopt(param, value); }
  // Scenario threads (docs/scenarios.md, "Threads"). start_thread(n): the main thread creates
  // thread n (glibc: pthread_create's allocation of its DTV, unless an exited thread's stack
  // and DTV are reused). switch_thread(n): the calls that follow run as thread n (0: main).
  // exit_thread(n): thread n returns and the main thread joins it. Each returns "" or why the
  // policy cannot (a textbook policy has no threads). *dtv: the DTV's block (nullptr: none).
  virtual std::string start_thread(int /*n*/, void** /*dtv*/) {
    return std::string("policy ") + this->name() + " has no threads";
  }
  virtual std::string switch_thread(int /*n*/) {
    return std::string("policy ") + this->name() + " has no threads";
  }
  virtual std::string exit_thread(int /*n*/) {
    return std::string("policy ") + this->name() + " has no threads";
  }
  // glibc's malloc_trim(pad) where it stands: free memory handed back to the system. Returns ""
  // or why the policy cannot.
  virtual std::string malloc_trim(uint64_t /*pad*/) {
    return std::string("policy ") + this->name() + " has no malloc_trim";
  }
};

// Settings of a policy chosen on the command line (0: the policy's default; a policy without the
// setting refuses a non-zero one).
struct PolicyOptions {
  uint64_t arena_size = 0; // buddy: the arena's bytes, a power of two; pool: its arena (default 1 MiB)
  uint64_t block_size = 0; // pool: the bytes a block holds (default 64)
};

// "glibc" (the default), or a textbook policy (policy_names()). Returns nullptr and sets *err for
// an unknown name or a setting the policy does not take.
std::unique_ptr<Policy> make_policy(std::string_view name, std::string* err, const PolicyOptions& opts = {});
std::vector<std::string> policy_names();

} // namespace hv::sim
