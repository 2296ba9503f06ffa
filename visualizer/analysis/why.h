// why.h - one sentence per allocation saying why the block landed where it did, built from the
// allocator's actual path as its trace records it (docs/app.md, "Why"): "24 B needs a 32 B chunk;
// tcache[0] had one", "first-fit: the first free block that fits is at +0x40 (128 B): split, 64 B
// stay free", "no free block fits: the heap grew by 144 B".
//
// Owns: reading a call's events against the heap before each (which bin a chunk came from, what a
// split cut, how much the heap grew, what the unsorted scan sorted, what was consolidated), and
// the wording, for glibc and for the textbook policies (docs/policies.md). Also the answer a
// prediction is scored against (the chunk handed out, and where it came from).
// Must not: print, draw, or keep a replay (callers feed events with the model before each).
#pragma once

#include "model/heap_model.h"
#include "model/policy_info.h"
#include "trace/event_decoder.h"
#include "trace/trace_file.h"

#include <atomic>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace hv::analysis {

// Where an allocation's block came from.
enum class BlockSource : uint8_t {
  None,    // a NULL result
  Bin,     // taken whole from a free list (bin_kind, bin_index)
  Split,   // cut from a free block or bin chunk (bin_kind, bin_index; rest bytes stay free)
  Top,     // cut from top (glibc)
  Grown,   // a block at the heap's end, grown for it (textbook policies)
  Mmapped, // a mapping of its own
  InPlace, // realloc kept the block where it was
};

struct CallStory {
  uint64_t event = 0; // index of the allocating API event (the heap at event + 1 holds the block)
  uint64_t seq = 0;   // its sequence number (a chunk's allocating event: HeapModel's Chunk::seq)
  uint64_t first = 0; // index of the call's first event: the heap before the call is the heap at `first`
  uint64_t chunk = 0; // the block handed out (its chunk start; 0 for NULL)
  uint64_t size = 0;  // its size
  uint64_t request = 0;
  trace::Ev type = trace::Ev::Malloc; // the call: malloc, calloc, realloc or memalign
  BlockSource source = BlockSource::None;
  trace::BinKind bin_kind = trace::BinKind::None;
  uint8_t bin_index = 0;
  uint64_t from_chunk = 0; // Bin, Split, Top: the free chunk (or top) it came out of, as it was
  uint64_t from_size = 0;
  uint64_t grew = 0;      // bytes the heap grew by during the call
  bool new_arena = false; // the call made an arena (and its heap) for its thread
  std::string why;        // the sentence
};

// Fed every event in order, each with the heap just before it is applied (HeapModel::apply after
// the call). Keeps a story for every allocating API event (malloc, calloc, realloc, memalign).
class WhyBuilder {
public:
  explicit WhyBuilder(const model::PolicyInfo& policy, uint64_t heap_base = 0)
      : policy_(policy), base_(heap_base) {}
  void before(uint64_t index, const trace::Event& e, const model::HeapModel& m);
  const std::vector<CallStory>& stories() const { return stories_; }
  std::vector<CallStory> take() { return std::move(stories_); }

private:
  struct Origin {
    uint8_t state; // the chunk's state before the call took it
    uint8_t bin;
    uint64_t size;
    uint32_t halvings = 0;  // splits of the same chunk in this call (buddy)
    uint64_t rest = 0;      // bytes a split left free
    bool allocated = false; // the call took it (chunk_alloc): later splits are no search's
  };
  void finish(uint64_t index, const trace::Event& e, const model::HeapModel& m);
  std::string wording(const CallStory& s, const trace::Event& e) const;
  std::string off(uint64_t addr) const; // "+0x40" from the heap base
  model::PolicyInfo policy_;
  uint64_t base_;
  // This call so far (since the previous API event).
  std::unordered_map<uint64_t, Origin> origin_;
  uint64_t grew_ = 0, mmapped_ = 0, sorted_ = 0, consolidated_ = 0, moved_to_ = 0;
  int64_t new_arena_ = -1; // an arena this call made (its index), or -1
  bool in_place_ = false;
  uint64_t in_place_old_ = 0, in_place_new_ = 0;
  uint64_t first_alloc_ = 0, first_alloc_size_ = 0; // the call's first chunk_alloc (memalign's larger chunk)
  uint64_t freed_ = 0;                              // bytes the call's chunk_free events gave back
  std::vector<CallStory> stories_;
  // Where the current call began: the first event after the previous API event that is not one
  // of a free's own (a free's events follow its API event: chunk_free, merges, bin_in or top,
  // trimming), UINT64_MAX before any.
  uint64_t call_start_ = UINT64_MAX;
  bool free_tail_ = false;
  bool free_settled_ = false;      // the freed chunk reached a bin or top (free_effect)
  uint64_t unmapped_ = 0;          // a mapped chunk's size when the call unmapped it (realloc of one: mremap)
  uint64_t stashed_ = 0;           // chunks the call moved from a bin into its tcache (glibc's stash)
  uint8_t stash_bin_ = 0;          // into which tcache bin
  bool free_consolidates_ = false; // glibc: it settled at 64 KiB or more: malloc_consolidate may follow
  std::vector<uint64_t> touched_;  // the freed chunk and what it merged into
};

// Every allocating call of a trace (at most max_events events read; 0: all). False, with *error,
// when the file cannot be read at all; a torn tail ends the stories there.
bool explain_trace(const trace::TraceFile& f, uint64_t max_events, std::vector<CallStory>* out,
                   std::string* error, const std::atomic<bool>* cancel = nullptr);

// The story of the allocating event at index `event`, or with sequence number `seq`, or nullptr
// (stories are in event order, which is seq order).
const CallStory* find_story(const std::vector<CallStory>& stories, uint64_t event);
const CallStory* find_story_by_seq(const std::vector<CallStory>& stories, uint64_t seq);

} // namespace hv::analysis
