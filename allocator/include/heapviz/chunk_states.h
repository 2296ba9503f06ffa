// chunk_states.h - the one vocabulary of chunk states and bins: the states a chunk can be in, the
// kinds of bin, and every word a user reads for them. `heapviz sim`, `dump`, `check`, the replay
// model and the app all name states and bins through the two tables below, so that the same
// chunk is called the same thing everywhere (the words are those of glibc's source and of gdb's
// heap tools: tcache, fastbin, unsorted, smallbin, largebin).
//
// Owns: ChunkState (as snapshots write it, plus the reader's "in hand"), BinKind (as bin_in and
// bin_out write it), their short names (CLI, dump, JSON), labels (the app), the bins' group titles
// and the bin text with an index ("fastbin[3]").
// Must not: depend on anything but the C++ standard headers (the allocator includes it). No other
// file spells a state's or a bin's name: they call the functions below.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>

namespace hv::trace {

// X(Enum, value, name, label, bin kind)
//   name   short, one token: `heapviz sim`'s state column, check's messages, JSON values
//   label  for people, in the app (the legend, the inspector, tooltips)
//   bin    the BinKind a chunk in this state sits in (None: in no bin)
// States 0-8 are the trace format's (snapshots write them); InHand is the reader's own, never
// written: a chunk taken out of a bin or freed, not yet placed (only inside an allocator call).
#define HV_CHUNK_STATES(X)                                                                                   \
  X(InUse, 0, in_use, "in use", None)                                                                        \
  X(Tcache, 1, tcache, "tcache", Tcache)                                                                     \
  X(Fast, 2, fastbin, "fastbin", Fast)                                                                       \
  X(Unsorted, 3, unsorted, "unsorted", Unsorted)                                                             \
  X(Small, 4, smallbin, "smallbin", Small)                                                                   \
  X(Large, 5, largebin, "largebin", Large)                                                                   \
  X(Top, 6, top, "top", None)                                                                                \
  X(Fence, 7, fence, "fence", None)                                                                          \
  X(Mmapped, 8, mmapped, "mmapped", None)                                                                    \
  X(InHand, 9, in_hand, "in hand", None)

// X(Enum, value, name, label, group, indexed, state)
//   name     in dump's bin_in/bin_out (`fastbin[3]`) and in bin texts
//   label    for people, in the app
//   group    all the bins of the kind together, as gdb's heap tools title them (the Bins window)
//   indexed  its bins are told apart by an index ("fastbin[3]"); the unsorted bin is one bin
//   state    the state of a chunk in a bin of this kind
#define HV_BIN_KINDS(X)                                                                                      \
  X(None, 0, none, "none", "", false, InUse)                                                                 \
  X(Tcache, 1, tcache, "tcache", "tcachebins", true, Tcache)                                                 \
  X(Fast, 2, fastbin, "fastbin", "fastbins", true, Fast)                                                     \
  X(Unsorted, 3, unsorted, "unsorted", "unsortedbin", false, Unsorted)                                       \
  X(Small, 4, smallbin, "smallbin", "smallbins", true, Small)                                                \
  X(Large, 5, largebin, "largebin", "largebins", true, Large)

enum class ChunkState : uint8_t {
#define HV_CS_ENUM(Enum, value, ...) Enum = value,
  HV_CHUNK_STATES(HV_CS_ENUM)
#undef HV_CS_ENUM
};
enum class BinKind : uint8_t {
#define HV_BK_ENUM(Enum, value, ...) Enum = value,
  HV_BIN_KINDS(HV_BK_ENUM)
#undef HV_BK_ENUM
};

inline constexpr uint8_t kNumChunkStates = 10;
inline constexpr uint8_t kNumBinKinds = 6;
// The states a snapshot may carry (0-8); higher ones are the reader's own.
inline constexpr ChunkState kLastSnapshotState = ChunkState::Mmapped;
// The model's "in hand", as a state byte.
inline constexpr uint8_t kInHand = uint8_t(ChunkState::InHand);

struct StateInfo {
  const char* name;
  const char* label;
  BinKind bin;
};
struct BinKindInfo {
  const char* name;
  const char* label;
  const char* group;
  bool indexed;
  ChunkState state;
};

inline constexpr StateInfo kStateInfo[kNumChunkStates] = {
#define HV_CS_INFO(Enum, value, name, label, bin) {#name, label, BinKind::bin},
    HV_CHUNK_STATES(HV_CS_INFO)
#undef HV_CS_INFO
};
inline constexpr BinKindInfo kBinKindInfo[kNumBinKinds] = {
#define HV_BK_INFO(Enum, value, name, label, group, indexed, state)                                          \
  {#name, label, group, indexed, ChunkState::state},
    HV_BIN_KINDS(HV_BK_INFO)
#undef HV_BK_INFO
};
inline constexpr StateInfo kUnknownState = {"?", "?", BinKind::None};
inline constexpr BinKindInfo kUnknownBinKind = {"?", "?", "?", false, ChunkState::InUse};

constexpr bool vocabulary_in_order() {
  for (uint8_t s = 0; s < kNumChunkStates; ++s)
    if (kStateInfo[s].bin != BinKind::None && kBinKindInfo[uint8_t(kStateInfo[s].bin)].state != ChunkState(s))
      return false;
  for (uint8_t k = 1; k < kNumBinKinds; ++k)
    if (kStateInfo[uint8_t(kBinKindInfo[k].state)].bin != BinKind(k)) return false;
  return true;
}
static_assert(vocabulary_in_order(), "each bin kind's state sits in that kind of bin, and back");
constexpr bool binned_states_number_as_their_kinds() {
  for (uint8_t k = 1; k < kNumBinKinds; ++k)
    if (uint8_t(kBinKindInfo[k].state) != k) return false;
  return true;
}
static_assert(binned_states_number_as_their_kinds(), "state_in_bin() relies on it");

// Facts about a state byte or a bin kind byte ("?" names for a value out of range).
constexpr const StateInfo& state_info(uint8_t s) {
  return s < kNumChunkStates ? kStateInfo[s] : kUnknownState;
}
constexpr const StateInfo& state_info(ChunkState s) {
  return state_info(uint8_t(s));
}
constexpr const BinKindInfo& bin_kind_info(uint8_t k) {
  return k < kNumBinKinds ? kBinKindInfo[k] : kUnknownBinKind;
}
constexpr const BinKindInfo& bin_kind_info(BinKind k) {
  return bin_kind_info(uint8_t(k));
}
constexpr const char* state_name(uint8_t s) {
  return state_info(s).name;
}
constexpr const char* state_label(uint8_t s) {
  return state_info(s).label;
}
constexpr const char* bin_kind_name(uint8_t k) {
  return bin_kind_info(k).name;
}
// The kind of bin a chunk in state s sits in (None: in no bin).
constexpr BinKind bin_of(uint8_t s) {
  return state_info(s).bin;
}
// The state of a chunk in a bin of kind k (not None): the same number (asserted above), so that
// the replay's bin_in costs no table lookup.
constexpr uint8_t state_in_bin(BinKind k) {
  return uint8_t(k);
}
// In a bin of any kind (tcache, fastbin, unsorted, smallbin, largebin).
constexpr bool is_binned(uint8_t s) {
  return bin_of(s) != BinKind::None;
}
// In use by the program: from the heap (InUse) or with its own mapping (Mmapped).
constexpr bool is_in_use(uint8_t s) {
  return s == uint8_t(ChunkState::InUse) || s == uint8_t(ChunkState::Mmapped);
}

// Short texts without allocation (the allocator uses them too).
struct Text {
  char s[32];
  const char* c_str() const { return s; }
};
// A bin as the CLI, dump and the app name it: "fastbin[3]", "tcache[5]", "unsorted",
// "smallbin[7]", "largebin[86]"; "" for BinKind::None.
inline Text bin_text(BinKind k, unsigned index) {
  Text t{};
  const BinKindInfo& b = bin_kind_info(k);
  if (k == BinKind::None) return t;
  if (b.indexed)
    snprintf(t.s, sizeof t.s, "%s[%u]", b.name, index);
  else
    snprintf(t.s, sizeof t.s, "%s", b.name);
  return t;
}
// A chunk's state in one token for the CLI: its bin when it is in one ("fastbin[3]"), else its
// name ("in_use", "top").
inline Text state_text(uint8_t s, unsigned bin) {
  if (is_binned(s)) return bin_text(bin_of(s), bin);
  Text t{};
  snprintf(t.s, sizeof t.s, "%s", state_name(s));
  return t;
}
// The same for people (the app): its bin when it is in one ("fastbin[3]"), else its label
// ("in use", "top").
inline Text state_label_text(uint8_t s, unsigned bin) {
  if (is_binned(s)) return bin_text(bin_of(s), bin);
  Text t{};
  snprintf(t.s, sizeof t.s, "%s", state_label(s));
  return t;
}

} // namespace hv::trace
