// sites.h - allocation sites: what each call stack allocated, what of it is live, and leaks.
//
// Owns: SiteTable, fed a trace's events in sequence order (one pass, no heap model needed): the
// stack table, and per site (a distinct full stack, analysis's unit everywhere) its allocations
// and bytes so far, live count and bytes now, its peak live bytes and its temporary allocations
// (freed by the same thread before that thread allocated again, heaptrack's definition); every
// live block's site. Also a site's frames as users read them (symbolized, starting at the caller
// of the allocation function). `sites`, `leaks`, `frag` and `diff` (CLI) and the views ask this.
// Must not: draw, print or format (the CLI and the views do), or replay the heap (the model does).
#pragma once

#include "model/heap_model.h"
#include "symbols/symbolizer.h"
#include "trace/stack_table.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace hv::analysis {

struct SiteStats {
  uint64_t allocs = 0, bytes = 0;    // calls and bytes requested, up to the position
  uint64_t live = 0, live_bytes = 0; // blocks (and their requested bytes) live at the position
  uint64_t peak_live_bytes = 0;      // the most live bytes this site had at once
  uint64_t temporary = 0;            // allocations freed before their thread allocated again
};

class SiteTable {
public:
  SiteTable();
  // Sites named by a stack table someone else keeps (a document's, built when it loaded): the
  // table's STACK and MODULE events are then not read again. It must outlive this table.
  explicit SiteTable(const trace::StackTable* stacks);
  // One event, in sequence order. False (with *error naming the event's offset) on a STACK or
  // MODULE event that is malformed, or an API event whose stack the trace never defined.
  bool add(const trace::Event& e, std::string* error);

  const trace::StackTable& stacks() const { return external_ ? *external_ : stacks_; }
  // Site s is canonical stack s (trace::StackTable::canonical); site 0: calls without a stack.
  size_t size() const { return sites_.size(); }
  const SiteStats& site(uint32_t s) const { return sites_[s]; }
  uint64_t events() const { return events_; }
  uint64_t live_bytes() const { return live_bytes_; }
  uint64_t live_blocks() const { return live_.size(); }
  uint64_t api_calls() const { return api_calls_; }
  uint64_t calls_with_stack() const { return with_stack_; }
  // Blocks allocated before the trace began (heapviz attached to a running process: its baseline
  // snapshot's blocks in use) and not freed since: in no site, since their stacks are unknown,
  // and not in live_bytes(), since their requests are; bytes are their chunks' sizes.
  bool has_baseline() const { return baseline_seen_; }
  uint64_t before_blocks() const { return before_.size(); }
  uint64_t before_bytes() const { return before_bytes_; }
  // The site of the live block at user pointer ptr (-1 if none is live there), and its size.
  int64_t live_site(uint64_t ptr, uint64_t* size = nullptr) const;
  template <class F> void for_each_live(F&& f) const {
    for (const auto& [ptr, b] : live_)
      f(ptr, b.site, b.size);
  }

private:
  struct Block {
    uint32_t site;
    uint64_t size;
  };
  struct LastAlloc { // a thread's latest allocation, while nothing else was allocated
    uint64_t ptr = 0;
    uint32_t site = 0;
  };
  void alloc(const trace::Event& e, uint64_t ptr, uint64_t size, uint32_t site);
  void release(const trace::Event& e, uint64_t ptr);
  SiteStats& at(uint32_t site);

  trace::StackTable stacks_;
  const trace::StackTable* external_ = nullptr;
  std::vector<SiteStats> sites_;
  std::unordered_map<uint64_t, Block> live_;
  std::unordered_map<uint32_t, LastAlloc> last_; // by thread
  uint64_t events_ = 0, live_bytes_ = 0, api_calls_ = 0, with_stack_ = 0;
  model::SnapshotAssembler baseline_;
  bool baseline_seen_ = false;
  bool baseline_mmaps_ = false;                   // the first baseline's MMAP_CHUNK events come now
  std::unordered_map<uint64_t, uint64_t> before_; // user pointer -> chunk size
  uint64_t before_bytes_ = 0;
};

// The frames of site s as users read them: symbolized, inlined functions as frames of their own,
// innermost first, starting at the caller of the allocation function (frames of malloc, operator
// new and the like are dropped).
std::vector<symbols::Frame> site_frames(symbols::Symbolizer& sym, const trace::StackTable& stacks,
                                        uint32_t site);

// When a site's blocks are ones the C library or the loader allocates for itself and keeps until
// exit (glibc 2.36: a stdio stream's buffer, a thread's TLS, locale, time zone and iconv data,
// name service caches, the loader's own), what they are ("a stdio buffer", ...); nullptr for
// the program's own. Read from the innermost frame (site_frames order): which glibc function
// called malloc. A leak report lists such blocks apart, since the program cannot free them.
const char* runtime_holder(const std::vector<symbols::Frame>& frames);
// The sites with live blocks, as a leak report lists them: the most live bytes first (then the
// most blocks), the C library's own (holder(site) non-null) after the program's.
template <class Holder> std::vector<uint32_t> leak_order(const SiteTable& t, Holder&& holder) {
  std::vector<uint32_t> order;
  for (uint32_t s = 0; s < t.size(); ++s)
    if (t.site(s).live) order.push_back(s);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const SiteStats &x = t.site(a), &y = t.site(b);
    return x.live_bytes != y.live_bytes ? x.live_bytes > y.live_bytes : x.live > y.live;
  });
  std::vector<char> held(t.size(), 0);
  for (uint32_t s : order)
    held[s] = holder(s) != nullptr;
  std::stable_partition(order.begin(), order.end(), [&](uint32_t s) { return !held[s]; });
  return order;
}
// The same for site s, symbolizing only its frames up to the first that is not the allocation
// function's (a leak report classifies every site, and prints the frames of a few).
const char* runtime_holder(symbols::Symbolizer& sym, const trace::StackTable& stacks, uint32_t site);

} // namespace hv::analysis
