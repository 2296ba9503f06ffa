// sites.cpp - see sites.h.
#include "analysis/sites.h"

#include <cinttypes>
#include <cstdio>

namespace hv::analysis {

using trace::Ev;

SiteTable::SiteTable() : sites_(1) {}
SiteTable::SiteTable(const trace::StackTable* stacks) : external_(stacks), sites_(1) {}

SiteStats& SiteTable::at(uint32_t site) {
  if (site >= sites_.size()) sites_.resize(site + 1);
  return sites_[site];
}

void SiteTable::alloc(const trace::Event& e, uint64_t ptr, uint64_t size, uint32_t site) {
  SiteStats& s = at(site);
  ++s.allocs;
  s.bytes += size;
  if (!before_.empty()) { // the trace never freed what was here: it is not from before any more
    auto b = before_.find(ptr);
    if (b != before_.end()) {
      before_bytes_ -= b->second;
      before_.erase(b);
    }
  }
  auto [it, fresh] = live_.try_emplace(ptr, Block{site, size});
  if (!fresh) { // the trace never freed what was here (a block from before it began): replaced
    SiteStats& old = at(it->second.site);
    --old.live;
    old.live_bytes -= it->second.size;
    live_bytes_ -= it->second.size;
    it->second = Block{site, size};
  }
  ++s.live;
  s.live_bytes += size;
  if (s.live_bytes > s.peak_live_bytes) s.peak_live_bytes = s.live_bytes;
  live_bytes_ += size;
  last_[e.tid] = LastAlloc{ptr, site};
}

void SiteTable::release(const trace::Event& e, uint64_t ptr) {
  auto it = live_.find(ptr);
  if (it == live_.end()) { // allocated before the trace began, or never (the model says so)
    auto b = before_.find(ptr);
    if (b != before_.end()) {
      before_bytes_ -= b->second;
      before_.erase(b);
    }
    return;
  }
  SiteStats& s = at(it->second.site);
  --s.live;
  s.live_bytes -= it->second.size;
  live_bytes_ -= it->second.size;
  if (!before_.empty()) { // (a block is in one of the two; a damaged trace may say otherwise)
    auto b = before_.find(ptr);
    if (b != before_.end()) {
      before_bytes_ -= b->second;
      before_.erase(b);
    }
  }
  auto last = last_.find(e.tid);
  if (last != last_.end() && last->second.ptr == ptr) {
    ++s.temporary;
    last_.erase(last);
  }
  live_.erase(it);
}

int64_t SiteTable::live_site(uint64_t ptr, uint64_t* size) const {
  auto it = live_.find(ptr);
  if (it == live_.end()) return -1;
  if (size) *size = it->second.size;
  return it->second.site;
}

bool SiteTable::add(const trace::Event& e, std::string* error) {
  ++events_;
  if (e.type == Ev::Stack || e.type == Ev::Module) return external_ || stacks_.add(e, error);
  // The mmapped blocks of the first baseline follow it (model::HeapModel::baseline_mmaps_).
  if (baseline_mmaps_ && e.type != Ev::MmapChunk && e.type != Ev::Snapshot && e.type != Ev::BinLists &&
      e.type != Ev::Internal)
    baseline_mmaps_ = false;
  if (baseline_mmaps_ && e.type == Ev::MmapChunk && e.addr) {
    auto [it, fresh] = before_.try_emplace(e.addr + 16, e.size);
    if (fresh) before_bytes_ += e.size;
    return true;
  }
  if (e.type == Ev::Snapshot && !baseline_seen_ && (e.snapshot_flags() & trace::kSnapshotBaseline) &&
      baseline_.feed(e)) {
    // What the process had allocated when heapviz attached (model::HeapModel::before_trace
    // counts the same blocks from the model's side). Only the first baseline: a later one (a
    // second viewer attached) lists blocks this table already knows.
    baseline_seen_ = true;
    baseline_mmaps_ = true;
    before_.clear();
    before_bytes_ = 0;
    for (const trace::SnapshotEntry& en : baseline_.snapshot().entries)
      if (en.addr && (en.state == uint8_t(trace::ChunkState::InUse) ||
                      en.state == uint8_t(trace::ChunkState::Mmapped))) {
        before_[en.addr + 16] = en.size;
        before_bytes_ += en.size;
      }
    return true;
  }
  if (e.type == Ev::Internal &&
      !before_.empty()) { // the allocator's own (the tcache's struct), as the model says
    auto b = before_.find(e.addr + 16);
    if (b != before_.end()) {
      before_bytes_ -= b->second;
      before_.erase(b);
    }
    return true;
  }
  if (!e.info().api) return true;
  ++api_calls_;
  const trace::StackTable& st = stacks();
  if (e.stack != 0) {
    if (!st.known(e.stack)) {
      char b[160];
      snprintf(b, sizeof b, "offset %" PRIu64 ": %s: stack %u is not defined in the trace", e.offset,
               e.info().name, e.stack);
      *error = b;
      return false;
    }
    ++with_stack_;
  }
  uint32_t site = st.canonical(e.stack);
  switch (e.type) {
  case Ev::Malloc:
  case Ev::Memalign:
    if (e.ptr()) alloc(e, e.ptr(), e.size, site);
    break;
  case Ev::Calloc:
    if (e.ptr()) alloc(e, e.ptr(), e.count() * e.size, site);
    break;
  case Ev::Realloc:
    // realloc(p, n): p is gone once a block is returned, or when n is 0 (glibc frees it).
    if (e.old_ptr() && (e.ptr() || e.size == 0)) release(e, e.old_ptr());
    if (e.ptr()) alloc(e, e.ptr(), e.size, site);
    break;
  case Ev::Free:
  case Ev::FreeTcache:
    if (e.ptr()) release(e, e.ptr());
    break;
  default:
    break;
  }
  return true;
}

std::vector<symbols::Frame> site_frames(symbols::Symbolizer& sym, const trace::StackTable& stacks,
                                        uint32_t site) {
  std::vector<uint64_t> ips;
  stacks.canonical_frames(site, ips);
  std::vector<symbols::Frame> out;
  for (uint64_t ip : ips)
    for (const symbols::Frame& f : sym.frames(ip))
      out.push_back(f);
  // The allocation function's own frames (operator new calling malloc, ...) are not the site.
  size_t k = 0;
  while (k < out.size() && symbols::is_allocation_function(out[k]))
    ++k;
  out.erase(out.begin(), out.begin() + long(k));
  return out;
}

const char* runtime_holder(symbols::Symbolizer& sym, const trace::StackTable& stacks, uint32_t site) {
  std::vector<uint64_t> ips;
  stacks.canonical_frames(site, ips);
  for (uint64_t ip : ips)
    for (const symbols::Frame& f : sym.frames(ip))
      if (!symbols::is_allocation_function(f)) return runtime_holder(std::vector<symbols::Frame>{f});
  return nullptr;
}

const char* runtime_holder(const std::vector<symbols::Frame>& frames) {
  if (frames.empty()) return nullptr;
  const std::string& fn = frames.front().function;
  auto starts = [&](const char* p) { return fn.rfind(p, 0) == 0; };
  // The function names are glibc's own (not an API a program calls to get memory it owns, as
  // strdup or getline): only its internal callers of malloc are listed.
  if (fn == "_IO_file_doallocate") return "a stdio buffer"; // stdout's, or a FILE's until fclose
  if (fn == "allocate_dtv" || starts("_dl_allocate_tls") || fn == "_dl_resize_dtv" ||
      fn == "_dl_update_slotinfo")
    return "a thread's TLS";
  if (starts("_dl_")) return "the loader's";
  if (starts("_nl_") || fn == "setlocale" || fn == "new_composite_name") return "locale data";
  if (fn == "__tzfile_read" || fn == "tzset_internal" || fn == "__tzstring_len") return "time zone data";
  if (starts("__gconv")) return "iconv data";
  if (starts("__nss_") || starts("nss_")) return "name service data";
  return nullptr;
}

} // namespace hv::analysis
