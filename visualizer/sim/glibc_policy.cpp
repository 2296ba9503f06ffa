// glibc_policy.cpp - the glibc 2.36 policy: MallocCore on the simulated memory source.
#include "policy.h"

#include "heap_walk.h"
#include "malloc_core.h"

namespace hv::sim {
namespace {

using alloc::ChunkState;
using alloc::HeapWalk;
using alloc::MallocCore;
using alloc::SimPlatform;

class GlibcPolicy final : public Policy {
public:
  GlibcPolicy() : m_(std::make_unique<MallocCore<SimPlatform>>()) {}
  const char* name() const override { return "glibc"; }
  void* malloc(size_t n) override { return m_->malloc(n); }
  void* calloc(size_t n, size_t s) override { return m_->calloc(n, s); }
  void* realloc(void* p, size_t n) override { return m_->realloc(p, n); }
  void* memalign(size_t a, size_t n) override { return m_->memalign(a, n); }
  void free(void* p) override { m_->free(p); }
  uintptr_t heap_base() const override { return reinterpret_cast<uintptr_t>(m_->platform().brk_base()); }
  bool is_mmapped(void* p) const override { return p && alloc::mem2chunk(p)->is_mmapped(); }
  size_t usable_size(void* p) override { return m_->usable_size(p); }

  std::vector<ChunkRow> walk() override {
    std::vector<ChunkRow> rows;
    auto w = std::make_unique<HeapWalk<SimPlatform>>(*m_);
    w->run();
    const uintptr_t base = heap_base();
    w->for_each_chunk([&](const alloc::ChunkView& v) {
      if (v.arena != 0) return true;
      ChunkRow r;
      r.offset = reinterpret_cast<uintptr_t>(v.chunk) - base;
      r.size = v.size;
      r.state = alloc::state_name(v.state);
      r.flags = static_cast<unsigned>(v.flags);
      switch (v.state) {
      case ChunkState::Tcache:
        r.bin = "tcache[" + std::to_string(v.bin) + "]";
        break;
      case ChunkState::Fast:
        r.bin = "fast[" + std::to_string(v.bin) + "]";
        break;
      case ChunkState::Unsorted:
        r.bin = "unsorted";
        break;
      case ChunkState::Small:
        r.bin = "small[" + std::to_string(v.bin) + "]";
        break;
      case ChunkState::Large:
        r.bin = "large[" + std::to_string(v.bin) + "]";
        break;
      default:
        break;
      }
      rows.push_back(std::move(r));
      return true;
    });
    return rows;
  }

  HeapSummary summary() override {
    HeapSummary s;
    s.heap_bytes = m_->main_arena()->system_mem;
    s.mmapped_bytes = m_->params().mmapped_mem;
    return s;
  }

  std::string check() override {
    auto w = std::make_unique<HeapWalk<SimPlatform>>(*m_);
    const alloc::CheckReport& r = w->run();
    return r.ok ? std::string() : std::string(r.message);
  }

  bool start_trace(const std::string& path, uint64_t verify_every) override {
    return m_->trace_start(path.c_str(), false, verify_every, trace::kFileSimulated);
  }
  void stop_trace() override { m_->trace_stop(); }
  void mark(const std::string& label) override { m_->trace_mark(label.c_str()); }

private:
  std::unique_ptr<MallocCore<SimPlatform>> m_;
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
