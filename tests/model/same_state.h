// same_state.h - one comparison of two heap models (and of two events), for the tests that check a replay
// against another way to the same place (checkpoints, decoding ahead, a live history grown in place).
#pragma once

#include "model/heap_model.h"

#include <gtest/gtest.h>

namespace hv::test {

// Every chunk record (address, size, state, request, seq, internal, pending, arena, bin), every bin's list in
// its order, the metrics and the released pages.
inline void expect_same_state(const model::HeapModel& a, const model::HeapModel& b, uint64_t pos) {
  auto ca = a.chunks_sorted(), cb = b.chunks_sorted();
  ASSERT_EQ(ca.size(), cb.size()) << "at " << pos;
  for (size_t i = 0; i < ca.size(); ++i) {
    ASSERT_EQ(ca[i].addr, cb[i].addr) << "at " << pos;
    ASSERT_EQ(ca[i].size, cb[i].size) << "at " << pos;
    ASSERT_EQ(ca[i].state, cb[i].state) << "at " << pos;
    ASSERT_EQ(ca[i].req, cb[i].req) << "at " << pos;
    ASSERT_EQ(ca[i].seq, cb[i].seq) << "at " << pos;
    ASSERT_EQ(ca[i].internal, cb[i].internal) << "at " << pos;
    ASSERT_EQ(ca[i].pending, cb[i].pending) << "at " << pos;
    ASSERT_EQ(ca[i].arena, cb[i].arena) << "at " << pos;
    ASSERT_EQ(ca[i].bin, cb[i].bin) << "at " << pos;
  }
  // Every bin's list, in its order.
  auto la = a.bin_order().lists(), lb = b.bin_order().lists();
  ASSERT_EQ(la, lb) << "at " << pos;
  for (uint64_t l : la)
    ASSERT_EQ(a.bin_order().chunks_of(l), b.bin_order().chunks_of(l)) << "list " << l << " at " << pos;
  model::Metrics ma = a.metrics(), mb = b.metrics();
  EXPECT_EQ(ma.heap_bytes, mb.heap_bytes) << "at " << pos;
  EXPECT_EQ(ma.live_bytes, mb.live_bytes) << "at " << pos;
  EXPECT_EQ(ma.free_bytes, mb.free_bytes) << "at " << pos;
  EXPECT_EQ(ma.largest_free, mb.largest_free) << "at " << pos;
  EXPECT_EQ(ma.released_bytes, mb.released_bytes) << "at " << pos;
  EXPECT_EQ(a.released().ranges(), b.released().ranges()) << "at " << pos;
  EXPECT_EQ(a.anomalies(), b.anomalies()) << "at " << pos;
}

// Every field of two decoded events (the data they point to aside).
inline bool same_event(const trace::Event& a, const trace::Event& b) {
  return a.seq == b.seq && a.ts == b.ts && a.offset == b.offset && a.tid == b.tid && a.arena == b.arena &&
         a.type == b.type && a.b0 == b.b0 && a.b1 == b.b1 && a.addr == b.addr && a.addr2 == b.addr2 &&
         a.size == b.size && a.size2 == b.size2 && a.n == b.n && a.delta == b.delta && a.stack == b.stack &&
         a.data_reg == b.data_reg;
}

} // namespace hv::test
