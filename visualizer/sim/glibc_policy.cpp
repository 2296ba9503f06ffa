// glibc_policy.cpp - the glibc 2.36 policy: the allocator core on the simulated memory source,
// through its narrow public class (heapviz/simulated_heap.h; the core's internals stay private),
// and a scenario's glibc settings: mallopt's M_* names, and the tunables glibc would ignore
// (refused with the reason), and a scenario's threads as glibc's pthread_create and thread exit
// touch the heap (docs/scenarios.md, "Threads"). Also the policy factory (make_policy, policy_names), which
// hands the textbook names to textbook.h's factories.
#include "sim/policy.h"
#include "sim/textbook.h"

#include "heapviz/simulated_heap.h"

#include <algorithm>
#include <malloc.h>
#include <map>
#include <unistd.h>

namespace hv::sim {
namespace {

using alloc::SimulatedHeap;

// glibc's M_* numbers (<malloc.h>) by name; 0 (no parameter has it) for an unknown name.
int mallopt_number(std::string_view name) {
  static const struct {
    std::string_view name;
    int param;
  } params[] = {
      {"M_MXFAST", M_MXFAST},       {"M_TRIM_THRESHOLD", M_TRIM_THRESHOLD},
      {"M_TOP_PAD", M_TOP_PAD},     {"M_MMAP_THRESHOLD", M_MMAP_THRESHOLD},
      {"M_MMAP_MAX", M_MMAP_MAX},   {"M_ARENA_TEST", M_ARENA_TEST},
      {"M_ARENA_MAX", M_ARENA_MAX}, {"M_PERTURB", M_PERTURB},
  };
  for (const auto& p : params)
    if (p.name == name) return p.param;
  return 0;
}

class GlibcPolicy final : public Policy {
public:
  GlibcPolicy() : m_(std::make_unique<SimulatedHeap>()) {}
  const char* name() const override { return "glibc"; }
  void* malloc(size_t n) override { return m_->malloc(n); }
  void* calloc(size_t n, size_t s) override { return m_->calloc(n, s); }
  void* realloc(void* p, size_t n) override { return m_->realloc(p, n); }
  void* memalign(size_t a, size_t n) override { return m_->memalign(a, n); }
  void free(void* p) override { m_->free(p); }
  bool enable_checks(bool cont) override { return m_->enable_checks(cont); }
  void checks_at_exit() override { m_->checks_sweep(); }
  uintptr_t heap_base() const override { return m_->heap_base(); }
  uint64_t trace_events() const override { return m_->trace_events(); }
  bool is_mmapped(void* p) const override { return p && m_->is_mmapped(p); }
  size_t usable_size(void* p) override { return m_->usable_size(p); }

  std::vector<ChunkRow> walk() override {
    std::vector<ChunkRow> rows;
    const uintptr_t base = heap_base();
    m_->for_each_chunk([&](const SimulatedHeap::ChunkInfo& v) {
      ChunkRow r;
      r.arena = v.arena;
      r.heap = v.arena == 0 ? 0 : m_->region_start(v.addr);
      r.offset = v.addr - (v.arena == 0 ? base : r.heap);
      r.size = v.size;
      r.state = v.state;
      r.bin = v.bin < 0 ? 0 : unsigned(v.bin);
      r.internal = v.internal;
      r.flags = v.flags;
      rows.push_back(r);
      return true;
    });
    const int n = arenas(rows);
    for (ChunkRow& r : rows)
      if (r.arena) r.arena = n - r.arena;
    return rows;
  }

  // The arenas' count, main included. The walk numbers arenas in list order (main, then the
  // newest: new_arena links each new one right after main); n - index is then the order of
  // creation, the trace's arena numbers (arena 1 = the first thread's).
  static int arenas(const std::vector<ChunkRow>& rows) {
    int top = 0;
    for (const ChunkRow& r : rows)
      top = std::max(top, r.arena);
    return top + 1;
  }

  std::vector<BinListRow> bin_lists() override {
    std::vector<BinListRow> lists;
    const uintptr_t base = heap_base();
    m_->for_each_bin_chunk([&](const SimulatedHeap::BinChunk& c) {
      const int arena = c.arena < 0 ? 0 : c.arena;
      if (lists.empty() || lists.back().kind != c.kind || lists.back().index != c.index ||
          lists.back().arena != arena || lists.back().thread != c.thread)
        lists.push_back(BinListRow{c.kind, c.index, {}, arena, c.thread, {}});
      const uintptr_t start = m_->region_start(c.addr);
      lists.back().chunks.push_back(c.addr - start);
      if (start != base || !lists.back().heaps.empty()) { // a chunk outside the main heap
        lists.back().heaps.resize(lists.back().chunks.size() - 1, 0);
        lists.back().heaps.push_back(start == base ? 0 : start);
      }
      return true;
    });
    if (lists.empty()) return lists;
    std::vector<ChunkRow> rows;
    m_->for_each_chunk([&](const SimulatedHeap::ChunkInfo& v) {
      rows.push_back(ChunkRow{0, 0, v.state, 0, false, 0, 0, v.arena});
      return true;
    });
    const int n = arenas(rows);
    for (BinListRow& l : lists)
      if (l.arena) l.arena = n - l.arena;
    return lists;
  }

  uintptr_t region_start(void* p) const override { return m_->region_start(reinterpret_cast<uintptr_t>(p)); }

  // pthread_create in the main thread: glibc 2.36's allocate_stack reuses the stack of an exited
  // and joined thread (its cache, newest first) with its DTV, or maps a new stack and callocs
  // the new thread's DTV: calloc(dl_tls_max_dtv_idx + DTV_SURPLUS + 2, sizeof(dtv_t)) = 17 x 16
  // bytes with one TLS module (libc's). Then the process is multi-threaded for good.
  std::string start_thread(int n, void** dtv) override {
    m_->thread_select(0);
    if (!stack_cache_.empty()) {
      *dtv = stack_cache_.back();
      stack_cache_.pop_back();
    } else {
      *dtv = m_->calloc(kDtvEntries, kDtvEntrySize);
    }
    m_->set_multithreaded();
    const int h = m_->thread_new(static_cast<uint32_t>(gettid()) + static_cast<uint32_t>(n));
    if (h == 0) return "too many threads for one simulated heap";
    threads_[n] = {h, *dtv};
    return "";
  }
  std::string switch_thread(int n) override {
    m_->thread_select(n == 0 ? 0 : threads_[n].handle);
    return "";
  }
  // The thread returns: __libc_thread_freeres (tcache_thread_shutdown, the arena to the free
  // list); the main thread joins it and its stack, DTV included, goes to the stack cache.
  std::string exit_thread(int n) override {
    m_->thread_select(threads_[n].handle);
    m_->thread_exit();
    stack_cache_.push_back(threads_[n].dtv);
    threads_.erase(n);
    return "";
  }

  HeapSummary summary() override {
    HeapSummary s;
    s.heap_bytes = m_->main_heap_bytes();
    s.mmapped_bytes = m_->mmapped_bytes();
    return s;
  }

  std::string check() override {
    const char* problem = m_->check();
    return problem ? std::string(problem) : std::string();
  }

  bool start_trace(const std::string& path, uint64_t verify_every) override {
    return m_->trace_start(path.c_str(), verify_every);
  }
  void stop_trace() override { m_->trace_stop(); }
  void mark(const std::string& label) override { m_->trace_mark(label.c_str()); }

  std::string tunable(const std::string& name, uint64_t value) override {
    const char* accepts = "";
    using R = SimulatedHeap::TunableResult;
    const std::string what = "tunable " + name + "=" + std::to_string(value);
    switch (m_->set_tunable(name.data(), name.size(), value, &accepts)) {
    case R::Applied:
      return "";
    case R::Unknown: {
      std::string known;
      for (int i = 0; const char* n = SimulatedHeap::tunable_name(i); ++i)
        known += (known.empty() ? "" : ", ") + std::string(n);
      return "unknown tunable '" + name + "' (glibc 2.36's malloc tunables: " + known + ")";
    }
    case R::Unsupported:
      return "tunable '" + name + "' is not supported: " + accepts;
    case R::Dropped:
      return what + " is out of ld.so's range, so glibc 2.36 ignores it; it takes " + accepts;
    case R::Ignored:
      return what + " is refused by glibc 2.36's malloc, which ignores it; it takes " + accepts;
    case R::TooLate:
      return what + " comes after the heap started: glibc reads tunables once, at its first call";
    }
    return "tunable " + name + ": unexpected result";
  }

  std::string check_mallopt(const std::string& param, int value) const override {
    const int p = mallopt_number(param);
    const std::string call = "mallopt(" + param + ", " + std::to_string(value) + ")";
    if (p == 0) return "unknown mallopt parameter '" + param + "'";
    if (p == M_MXFAST && (value < 0 || value > 160))
      return call + " returns 0 in glibc 2.36 and changes nothing: M_MXFAST takes 0..160 (MAX_FAST_SIZE)";
    if ((p == M_ARENA_TEST || p == M_ARENA_MAX) && value <= 0)
      return call + " changes nothing in glibc 2.36: " + param + " takes 1 or more";
    return "";
  }

  std::string mallopt(const std::string& param, int value) override {
    std::string why = check_mallopt(param, value);
    if (!why.empty()) return why;
    if (m_->mallopt(mallopt_number(param), value) != 1) return "mallopt(" + param + ") returned 0";
    return "";
  }

  std::string malloc_trim(uint64_t pad) override {
    m_->malloc_trim(size_t(pad)); // 0 (nothing released) is no error: glibc returns it too
    return "";
  }

  static constexpr size_t kDtvEntries = 1 + 14 + 2; // one TLS module, DTV_SURPLUS, 2 more
  static constexpr size_t kDtvEntrySize = 16;       // sizeof(dtv_t)

private:
  struct Thread {
    int handle = 0;
    void* dtv = nullptr;
  };
  std::unique_ptr<SimulatedHeap> m_;
  std::map<int, Thread> threads_;  // the started threads that have not exited, by number
  std::vector<void*> stack_cache_; // exited threads' DTVs, oldest first
};

} // namespace

std::vector<std::string> policy_names() {
  return {"glibc", "first-fit",  "next-fit", "best-fit", "worst-fit",
          "buddy", "segregated", "pool",     "linear",   "stack"};
}

std::unique_ptr<Policy> make_policy(std::string_view name, std::string* err, const PolicyOptions& opts) {
  if (opts.arena_size && name != "buddy" && name != "pool") {
    *err = "policy '" + std::string(name) +
           "' has no --arena-size (only buddy and pool have an arena of fixed size)";
    return nullptr;
  }
  if (opts.block_size && name != "pool") {
    *err = "policy '" + std::string(name) + "' has no --block-size (only pool has blocks of one size)";
    return nullptr;
  }
  if (name == "glibc") return std::make_unique<GlibcPolicy>();
  if (auto p = make_freelist_policy(name)) return p;
  if (auto p = make_bump_policy(name)) return p;
  if (name == "buddy") return make_buddy_policy(opts.arena_size, err);
  if (name == "pool") return make_pool_policy(opts.arena_size, opts.block_size, err);
  if (name == "segregated") return make_segregated_policy();
  std::string known;
  for (const auto& n : policy_names())
    known += (known.empty() ? "" : ", ") + n;
  *err = "unknown policy '" + std::string(name) + "' (available: " + known + ")";
  return nullptr;
}

} // namespace hv::sim
