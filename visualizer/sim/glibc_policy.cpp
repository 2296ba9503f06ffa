// glibc_policy.cpp - the glibc 2.36 policy: the allocator core on the simulated memory source,
// through its narrow public class (heapviz/simulated_heap.h; the core's internals stay private).
#include "sim/policy.h"

#include "heapviz/simulated_heap.h"

namespace hv::sim {
namespace {

using alloc::SimulatedHeap;

class GlibcPolicy final : public Policy {
public:
  GlibcPolicy() : m_(std::make_unique<SimulatedHeap>()) {}
  const char* name() const override { return "glibc"; }
  void* malloc(size_t n) override { return m_->malloc(n); }
  void* calloc(size_t n, size_t s) override { return m_->calloc(n, s); }
  void* realloc(void* p, size_t n) override { return m_->realloc(p, n); }
  void* memalign(size_t a, size_t n) override { return m_->memalign(a, n); }
  void free(void* p) override { m_->free(p); }
  uintptr_t heap_base() const override { return m_->heap_base(); }
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

private:
  std::unique_ptr<SimulatedHeap> m_;
};

} // namespace

std::vector<std::string> policy_names() {
  return {"glibc"};
}

std::unique_ptr<Policy> make_policy(std::string_view name, std::string* err) {
  if (name == "glibc") return std::make_unique<GlibcPolicy>();
  std::string known;
  for (const auto& n : policy_names())
    known += (known.empty() ? "" : ", ") + n;
  *err = "unknown policy '" + std::string(name) + "' (available: " + known + ")";
  return nullptr;
}

} // namespace hv::sim
