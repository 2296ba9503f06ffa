// policy_info.h - what the views must know about the allocator that wrote a trace, chosen from
// the trace header's policy field ("glibc-2.36") when the file opens: a chunk's header size, the
// bin kinds it has, the flag bits of its size field, and what its own chunks (those the trace
// marks with `internal` events) are.
//
// Owns: the table of known policies (glibc, the textbook policies of docs/policies.md) and the generic
// description an unknown policy gets, with a warning (docs/cli.md, "Allocator policies"). Must not: include
// ImGui or GL, or name chunk states and bins (heapviz/chunk_states.h does).
#pragma once

#include "heapviz/chunk_states.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace hv::model {

// When a flag bit of the size field is set.
enum class FlagRule : uint8_t {
  NonMainArena, // the chunk belongs to an arena other than the main one
  Mmapped,      // the chunk has a mapping of its own
  PrevInUse,    // the chunk before it is not free in a bin that merges (PolicyInfo::merges)
};
struct FlagBit {
  uint64_t mask;       // in the size field
  char letter;         // "A", "M", "P"
  const char* meaning; // "non-main arena"
  FlagRule rule;
};

struct PolicyInfo {
  char name[17] = {};         // the header's policy field as written ("glibc-2.36")
  bool known = false;         // false: the generic description below
  uint32_t header_bytes = 16; // a chunk's header, before the user pointer (glibc: prev_size, size)
  // Bytes of a heap chunk its program cannot use: glibc 8, the size field (the next chunk's
  // prev_size is the chunk's while it is in use); an mmapped chunk loses its whole header.
  uint32_t heap_overhead = 16;
  uint8_t nbins = 0;
  trace::BinKind bins[trace::kNumBinKinds] = {}; // the kinds it has, as its Bins window lists them
  uint8_t nflags = 0;
  FlagBit flags[4] = {}; // the size field's flag bits, highest first
  // Bin kinds whose chunks are free by boundary tags (merged with their neighbours; the next
  // chunk's PrevInUse bit is clear): a bit per BinKind.
  uint32_t merges = 0;
  bool prev_size = false; // a chunk's header starts with the previous chunk's size while that is free
  // Its bins keep glibc 2.36's list order, as the replay does (model::BinOrder): the Bins window
  // and the inspector show positions in lists. Unknown policies: listed by address.
  bool list_order = false;
  // What its bins are, for a policy whose free lists borrow glibc's bin kinds (a textbook policy:
  // the free-list family's one list is the unsorted bin, buddy's lists are smallbin[order]).
  const char* bins_about = "";
  // The allocator's own chunks (marked by `internal` events, never guessed from a size).
  const char* internal_name = "the allocator's own chunk"; // glibc: "tcache_perthread_struct"
  const char* internal_short = "allocator's own";          // on the map: "tcache struct"
  const char* internal_about = "A chunk the allocator keeps for itself. Not program data.";

  uint64_t user_pointer(uint64_t chunk) const { return chunk + header_bytes; }
  // Bytes the program may use in a chunk of `size`.
  uint64_t usable(uint64_t size, bool mmapped) const {
    uint64_t o = mmapped ? header_bytes : heap_overhead;
    return size > o ? size - o : 0;
  }
  bool has_bin(trace::BinKind k) const {
    for (uint8_t i = 0; i < nbins; ++i)
      if (bins[i] == k) return true;
    return false;
  }
  // A chunk in `state` is free by boundary tags: the chunk after it has PrevInUse clear.
  bool merges_state(uint8_t state) const { return merges >> uint8_t(trace::bin_of(state)) & 1; }
};

// What decides a chunk's flag bits.
struct ChunkFacts {
  bool mmapped;
  uint32_t arena;
  bool prev_free; // the chunk just before it (same region) is free by boundary tags
};
// The flag bits of a chunk's size field under policy p (0 for a policy without flags).
uint64_t flag_bits(const PolicyInfo& p, const ChunkFacts& c);
// The flag bits as letters, highest first, "-" for a clear one: "A-P", "-M-" (glibc).
std::string flag_letters(const PolicyInfo& p, uint64_t bits);

// The policy a trace header names (its 16-byte field). A policy this heapviz does not know (or an
// empty field) gets the generic description: 16-byte headers, every bin kind, no flag bits; then
// *warning says so (else it is cleared).
PolicyInfo policy_from_header(const char (&field)[16], std::string* warning);
// A known policy by its name, as the sim's policies ("glibc") or trace headers ("glibc-2.36")
// call it; nullptr if unknown.
const PolicyInfo* find_policy(std::string_view name);
// Every known policy's header name, ", "-separated (messages).
std::string known_policies();

} // namespace hv::model
