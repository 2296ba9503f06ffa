// glibc_policy.cpp - the glibc 2.36 policy: the allocator core on the simulated memory source,
// through its narrow public class (heapviz/simulated_heap.h; the core's internals stay private),
// and a scenario's glibc settings: mallopt's M_* names, and the tunables glibc would ignore
// (refused with the reason). Also the policy factory (make_policy, policy_names), which hands the
// textbook names to textbook.h's factories.
#include "sim/policy.h"
#include "sim/textbook.h"

#include "heapviz/simulated_heap.h"

#include <malloc.h>

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
      if (v.arena != 0) return true;
      ChunkRow r;
      r.offset = v.addr - base;
      r.size = v.size;
      r.state = v.state;
      r.bin = v.bin < 0 ? 0 : unsigned(v.bin);
      r.internal = v.internal;
      r.flags = v.flags;
      rows.push_back(r);
      return true;
    });
    return rows;
  }

  std::vector<BinListRow> bin_lists() override {
    std::vector<BinListRow> lists;
    const uintptr_t base = heap_base();
    m_->for_each_bin_chunk([&](const SimulatedHeap::BinChunk& c) {
      if (c.arena > 0) return true;
      if (lists.empty() || lists.back().kind != c.kind || lists.back().index != c.index)
        lists.push_back(BinListRow{c.kind, c.index, {}});
      lists.back().chunks.push_back(c.addr - base);
      return true;
    });
    return lists;
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

private:
  std::unique_ptr<SimulatedHeap> m_;
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
