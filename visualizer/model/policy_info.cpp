// policy_info.cpp - the known allocator policies and the generic fallback (see policy_info.h).
#include "model/policy_info.h"

#include <cstring>

namespace hv::model {

using trace::BinKind;

namespace {

uint32_t bit(BinKind k) {
  return 1u << uint8_t(k);
}

PolicyInfo glibc() {
  PolicyInfo p;
  memcpy(p.name, "glibc-2.36", sizeof "glibc-2.36");
  p.known = true;
  p.header_bytes = 16;
  p.heap_overhead = 8;
  for (BinKind k : {BinKind::Tcache, BinKind::Fast, BinKind::Unsorted, BinKind::Small, BinKind::Large})
    p.bins[p.nbins++] = k;
  p.flags[p.nflags++] = {0x4, 'A', "non-main arena", FlagRule::NonMainArena};
  p.flags[p.nflags++] = {0x2, 'M', "mmapped", FlagRule::Mmapped};
  p.flags[p.nflags++] = {0x1, 'P', "previous chunk in use", FlagRule::PrevInUse};
  p.merges = bit(BinKind::Unsorted) | bit(BinKind::Small) | bit(BinKind::Large);
  p.prev_size = true;
  p.list_order = true;
  p.internal_name = "tcache_perthread_struct";
  p.internal_short = "tcache struct";
  p.internal_about = "The allocator's own tcache_perthread_struct: the per-thread cache's counts and list "
                     "heads, carved from the heap by the thread's first malloc. Not program data.";
  return p;
}

// An unknown policy: the trace format's chunk header (user pointer - 16), every bin kind the
// format has, no flag bits, nothing borrowed from the next chunk.
PolicyInfo generic() {
  PolicyInfo p;
  for (uint8_t k = 1; k < trace::kNumBinKinds; ++k)
    p.bins[p.nbins++] = BinKind(k);
  return p;
}

// A textbook policy (docs/policies.md): 16-byte headers the program cannot use, no flag bits, no
// prev_size, its free lists in address order (the generic listing), under one bin kind.
PolicyInfo textbook(const char* name, BinKind kind, const char* about) {
  PolicyInfo p;
  memcpy(p.name, name, strlen(name) + 1);
  p.known = true;
  p.header_bytes = 16;
  p.heap_overhead = 16;
  p.bins[p.nbins++] = kind;
  p.merges = bit(kind);
  p.bins_about = about;
  return p;
}

const PolicyInfo kGlibc = glibc();
constexpr const char* kFreeListAbout =
    "one free list: every free block, in address order, shown as the unsorted bin";
// A LIFO policy: its lists' order is the model's (bin_in puts a chunk at a fastbin's head).
PolicyInfo lifo(PolicyInfo p) {
  p.list_order = true;
  return p;
}

const PolicyInfo kTextbook[] = {
    textbook("first-fit", BinKind::Unsorted, kFreeListAbout),
    textbook("next-fit", BinKind::Unsorted, kFreeListAbout),
    textbook("best-fit", BinKind::Unsorted, kFreeListAbout),
    textbook("worst-fit", BinKind::Unsorted, kFreeListAbout),
    textbook("buddy", BinKind::Small,
             "one free list per block size, lowest address first: smallbin[k] holds blocks of 2^k bytes"),
    lifo(textbook(
        "segregated", BinKind::Fast,
        "one LIFO list per size class: fastbin[k] holds free blocks of 2^k bytes, malloc takes the head")),
    lifo(textbook("pool", BinKind::Fast,
                  "one LIFO list of the pool's free blocks, fastbin[0]: malloc takes the head")),
    textbook("linear", BinKind::Unsorted,
             "freed blocks, in address order, wait in the unsorted bin until every block is free"),
    textbook("stack", BinKind::Unsorted, "none: a stack frees only its latest block, and the heap shrinks"),
};

// A policy's family: its name up to the first '-' ("glibc" for "glibc-2.36").
std::string_view family(std::string_view name) {
  return name.substr(0, name.find('-'));
}

} // namespace

uint64_t flag_bits(const PolicyInfo& p, const ChunkFacts& c) {
  uint64_t v = 0;
  for (uint8_t i = 0; i < p.nflags; ++i) {
    const FlagBit& f = p.flags[i];
    bool on = false;
    switch (f.rule) {
    case FlagRule::NonMainArena:
      on = !c.mmapped && c.arena != 0;
      break;
    case FlagRule::Mmapped:
      on = c.mmapped;
      break;
    case FlagRule::PrevInUse:
      on = !c.mmapped && !c.prev_free;
      break;
    }
    if (on) v |= f.mask;
  }
  return v;
}

std::string flag_letters(const PolicyInfo& p, uint64_t bits) {
  std::string s;
  for (uint8_t i = 0; i < p.nflags; ++i)
    s += (bits & p.flags[i].mask) ? p.flags[i].letter : '-';
  return s;
}

const PolicyInfo* find_policy(std::string_view name) {
  if (family(name) == family(kGlibc.name)) return &kGlibc;
  for (const PolicyInfo& p : kTextbook)
    if (name == p.name) return &p;
  return nullptr;
}

std::string known_policies() {
  std::string s = kGlibc.name;
  for (const PolicyInfo& p : kTextbook)
    s += std::string(", ") + p.name;
  return s;
}

PolicyInfo policy_from_header(const char (&field)[16], std::string* warning) {
  std::string_view name(field, strnlen(field, sizeof field));
  const PolicyInfo* known = find_policy(name);
  PolicyInfo p = known ? *known : generic();
  memcpy(p.name, name.data(), name.size());
  p.name[name.size()] = 0;
  if (!known) {
    std::string shown;
    for (char ch : name)
      shown += (ch >= 0x20 && ch < 0x7f) ? ch : '?';
    *warning = "allocator policy '" + shown + "' is unknown to this heapviz (it knows " + known_policies() +
               "): chunks are drawn with 16-byte headers and no flag bits";
  } else {
    warning->clear();
  }
  return p;
}

} // namespace hv::model
