// common.cpp - formatting shared by the views (views.h).
#include "views/views.h"

#include <cstdio>

namespace hv::views {

using trace::Ev;

std::string bin_text(uint8_t state, uint8_t bin) {
  static const char* const kKinds[] = {"", "tcache", "fastbin", "unsorted", "small", "large"};
  if (state < 1 || state > 5) return "";
  if (state == 3) return "unsorted";
  char b[32];
  snprintf(b, sizeof b, "%s[%u]", kKinds[state], unsigned(bin));
  return b;
}

std::string state_text(uint8_t state, uint8_t bin) {
  std::string b = bin_text(state, bin);
  return b.empty() ? model::state_name(state) : b;
}

uint32_t changed_chunks(const session::Event* e, uint64_t out[2]) {
  out[0] = out[1] = 0;
  if (!e) return 0;
  switch (e->type) {
  case Ev::Split:
    out[0] = e->addr;
    out[1] = e->addr + e->size;
    return 2;
  case Ev::Merge:
  case Ev::Top:
  case Ev::ChunkAlloc:
  case Ev::ChunkFree:
  case Ev::BinIn:
  case Ev::BinOut:
  case Ev::Fence:
  case Ev::MmapChunk:
  case Ev::ReallocInPlace:
    out[0] = e->addr;
    return 1;
  case Ev::ReallocMoved:
    out[0] = e->addr2;
    return 1;
  case Ev::Malloc:
  case Ev::Calloc:
  case Ev::Realloc:
  case Ev::Memalign:
  case Ev::Free:
  case Ev::FreeTcache:
    if (e->addr >= 16) out[0] = e->addr - 16;
    return out[0] ? 1 : 0;
  default:
    return 0;
  }
}

} // namespace hv::views
