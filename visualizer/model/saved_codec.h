// saved_codec.h - the byte codec of a checkpoint's chunk records (HeapModel::Saved), shared by
// full saves (heap_model.cpp) and deltas (heap_model_delta.cpp).
//
// Owns: varints, one record's encoding, save ids. Must not: know of tables or replays.
//
// A saved chunk record: addr (8 bytes as is: records in probe order have unrelated addresses),
// then varints: size, req, seq - the previous record's seq (zigzag), arena << 6 | pending << 5 |
// internal << 4 | state, and the bin byte. Chunk sizes, requests and bins are small, seqs of live
// chunks close together.
#pragma once

#include "model/heap_model.h"

#include <atomic>
#include <cstdint>

namespace hv::model::saved {

using trace::put_varint; // LEB128, the trace format's

inline const uint8_t* get_varint(const uint8_t* p, uint64_t& v) {
  uint64_t r = 0;
  for (unsigned sh = 0;; sh += 7) {
    uint8_t b = *p++;
    r |= uint64_t(b & 0x7f) << sh;
    if (!(b & 0x80)) break;
  }
  v = r;
  return p;
}

inline constexpr size_t kMaxRecord = 8 + 4 * 10 + 5 + 1; // addr, 4 varints (one <= 5 bytes), bin
inline constexpr size_t kSlack = 8;                      // put_varint8 stores 8 bytes whatever the length

// put_varint without a branch on the length (which varies from chunk to chunk and mispredicts):
// the 7-bit groups of v spread to bytes by three shift-and-mask steps (the decoder's gather in
// reverse), the continuation bits set on all but the last, one 8-byte store. Values of 2^56 or
// more take put_varint.
inline uint8_t* put_varint8(uint8_t* p, uint64_t v) {
  if (__builtin_expect(v >> 56 != 0, 0)) return put_varint(p, v);
  unsigned len = (unsigned(64 - __builtin_clzll(v | 1)) + 6) / 7; // 1 .. 8
  uint64_t x = ((v & 0x00fffffff0000000ull) << 4) | (v & 0x000000000fffffffull);
  x = ((x & 0x0fffc0000fffc000ull) << 2) | (x & 0x00003fff00003fffull);
  x = ((x & 0x3f803f803f803f80ull) << 1) | (x & 0x007f007f007f007full);
  x |= 0x8080808080808080ull & ((uint64_t(1) << (8 * (len - 1))) - 1);
  __builtin_memcpy(p, &x, 8); // little-endian
  return p + len;
}

// The fields after the address; prev_seq: the seq of the record encoded before (0 first).
inline uint8_t* put_fields(uint8_t* p, const Chunk& c, uint64_t& prev_seq) {
  p = put_varint8(p, c.size);
  p = put_varint8(p, c.req);
  uint64_t d = c.seq - prev_seq;
  p = put_varint8(p, (d << 1) ^ uint64_t(int64_t(d) >> 63));
  prev_seq = c.seq;
  p = put_varint8(p, uint64_t(c.arena) << 6 | uint64_t(c.pending) << 5 | uint64_t(c.internal) << 4 | c.state);
  *p++ = c.bin;
  return p;
}

inline const uint8_t* get_fields(const uint8_t* p, Chunk& c, uint64_t& seq) {
  uint64_t z, as;
  p = get_varint(p, c.size);
  p = get_varint(p, c.req);
  p = get_varint(p, z);
  seq += (z >> 1) ^ (0 - (z & 1));
  c.seq = seq;
  p = get_varint(p, as);
  c.arena = uint32_t(as >> 6);
  c.pending = (as >> 5) & 1;
  c.internal = (as >> 4) & 1;
  c.state = uint8_t(as & 15);
  c.bin = *p++;
  return p;
}

// A save's id: never 0, never reused (HeapModel::Saved::id).
inline uint64_t next_id() {
  static std::atomic<uint64_t> next{1};
  return next++;
}

} // namespace hv::model::saved
