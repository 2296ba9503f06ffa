// policy_trace.h - the trace writer for an allocator policy other than glibc's (a textbook first
// fit, a buddy allocator, a pool, ... running on simulated memory in visualizer/sim), behind one
// narrow class: the same file header, sequence numbers, timestamps, blocks and typed event
// encoders that glibc's core writes through (allocator/src/trace_hooks.h, "Another policy").
//
// Owns: the interface. allocator/src/policy_trace.cpp wraps TraceWriter and the one thread's
// buffer a simulated policy writes from.
// Must not: expose the allocator's types, allocate per event, or know any policy's algorithm.
//
// What a policy writes so that heapviz replays and draws its heap (docs/trace-format.md, "How a
// reader rebuilds the heap"): heap_new and top for its region; per API call, call(), then
//   - for free(p): free(p) first (the reader takes the chunk in hand), then its changes
//     (chunk_free, merges, bin_in);
//   - for the others: their changes (bin_out, split, top, chunk_alloc), then the API event with
//     its result (malloc(size, result), ...).
// Bins are shown by kind: one free list can be BinKind::Unsorted. Optionally snapshot() now and
// then: `heapviz check` verifies the replay against it (tests/model/policy_trace_test.cpp has a
// first fit written this way).
#pragma once

#include "heapviz/trace_events.h"
#include "heapviz/trace_format.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace hv::alloc {

class PolicyTrace {
public:
  PolicyTrace();
  ~PolicyTrace(); // stops tracing
  PolicyTrace(const PolicyTrace&) = delete;
  PolicyTrace& operator=(const PolicyTrace&) = delete;

  // Creates (or truncates) path and writes the file header: the policy's name (at most 15
  // characters: the header's policy field), its parameters (trace::kNumParams numbers, shown by
  // `heapviz stats`; nullptr for none), the address offsets are measured from, and flags (the
  // trace is always flagged simulated). False, with errno saying why, if it cannot.
  bool start(const char* path, const char* policy, const uint64_t* params, uint64_t heap_base,
             uint32_t flags = 0);
  // Writes what is buffered and closes the file.
  void stop();
  bool on() const;
  // Events written so far (the position after the last one).
  uint64_t events() const;

  // An API call starts: the events until the next call() share its timestamp.
  void call();
  // The events written from now on belong to arena `index` (0, the default: the main heap). A
  // policy with several heaps writes arena_new(index, at) before an arena's first event.
  void set_arena(uint32_t index);

  // One method per fixed-size row of the event table (heapviz/trace_events.h), named after the
  // event, with the row's fields as parameters in order: malloc(size, result), free(ptr),
  // chunk_alloc(chunk, size), split(chunk, first, rest), merge(how, result, size, absorbed),
  // bin_in(chunk, size, kind, index), top(chunk, size), heap_new(start, size), ... The rows with
  // a label, blob or snapshot (mark, stack, snapshot) are written by the methods below.
#define HV_PT_T_U uint64_t
#define HV_PT_T_A uint64_t
#define HV_PT_T_C uint64_t
#define HV_PT_T_S int64_t
#define HV_PT_T_Idx uint8_t
#define HV_PT_T_Tc uint8_t
#define HV_PT_T_Kind trace::BinKind
#define HV_PT_T_How trace::MergeHow
#define HV_PT_T_Code trace::ErrorCode
#define HV_PT_T_Ix uint64_t
#define HV_PT_T_Label std::string_view
#define HV_PT_T_Blob std::string_view
#define HV_PT_T_Snap std::string_view
#define HV_PT_DEL_U
#define HV_PT_DEL_A
#define HV_PT_DEL_C
#define HV_PT_DEL_S
#define HV_PT_DEL_Idx
#define HV_PT_DEL_Tc
#define HV_PT_DEL_Kind
#define HV_PT_DEL_How
#define HV_PT_DEL_Code
#define HV_PT_DEL_Ix
#define HV_PT_DEL_Label = delete
#define HV_PT_DEL_Blob = delete
#define HV_PT_DEL_Snap = delete
#define HV_PT_PARAM(codec, slot, label, prefix) HV_PT_T_##codec label
#define HV_PT_DEL(codec, slot, label, prefix) HV_PT_DEL_##codec
#define HV_PT_DECLARE(Name, name, code, kind, chunks, model, ...)                                            \
  void name(HV_EV_FOR_EACH_COMMA(HV_PT_PARAM, __VA_ARGS__)) HV_EV_FOR_EACH(HV_PT_DEL, __VA_ARGS__);
  HV_TRACE_EVENTS(HV_PT_DECLARE)
#undef HV_PT_DECLARE

  // hv_mark(): a labelled moment the timeline and `heapviz dump` show.
  void mark(const char* label);
  // One chunk of a snapshot, in the vocabulary of heapviz/chunk_states.h.
  struct Chunk {
    uint64_t addr; // the chunk (its header)
    uint64_t size;
    trace::ChunkState state;
    uint8_t bin; // its bin's index while binned, else 0
  };
  // The heap as it is now, chunks in address order (`heapviz check` compares the replay with it).
  void snapshot(const Chunk* chunks, size_t n);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace hv::alloc
