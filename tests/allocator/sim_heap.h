// sim_heap.h - test helpers: a simulated glibc heap and offsets from its base.
#pragma once

#include "heap_walk.h"
#include "malloc_core.h"

#include <gtest/gtest.h>
#include <memory>
#include <string>

namespace hvtest {

using Core = hv::alloc::MallocCore<hv::alloc::SimPlatform>;

struct SimHeap {
  std::unique_ptr<Core> core = std::make_unique<Core>();
  Core* operator->() { return core.get(); }
  // Offset of a user pointer from the simulated program break's start.
  uintptr_t off(void* p) const {
    return reinterpret_cast<uintptr_t>(p) - reinterpret_cast<uintptr_t>(core->platform().brk_base());
  }
  // "" when every invariant holds, else the checker's message.
  std::string check() {
    auto w = std::make_unique<hv::alloc::HeapWalk<hv::alloc::SimPlatform>>(*core);
    const auto& r = w->run();
    return r.ok ? std::string() : std::string(r.message);
  }
  // The state name of the chunk whose user pointer is p ("in_use", "tcache", "fastbin", ...).
  std::string state_of(void* p) {
    auto w = std::make_unique<hv::alloc::HeapWalk<hv::alloc::SimPlatform>>(*core);
    w->run();
    std::string s = "not-a-chunk";
    auto* c = hv::alloc::mem2chunk(p);
    w->for_each_chunk([&](const hv::alloc::ChunkView& v) {
      if (v.chunk == c) {
        s = hv::trace::state_name(uint8_t(v.state));
        return false;
      }
      return true;
    });
    return s;
  }
};

} // namespace hvtest
