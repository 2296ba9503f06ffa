// chunk_words.h - one chunk as glibc lays it out, word by word: what the Chunk window's diagram
// shows for the selected chunk and the boundary words of its neighbours.
//
// Owns: the words of a chunk in address order, each with its owner (the previous chunk, the chunk,
// the next chunk), its field name (prev_size, size, fd/bk, the tcache's next/key,
// fd_nextsize/bk_nextsize, the user's bytes, slack), what it holds, its paint and where the user
// pointer is. The rules are glibc's (malloc.c "malloc_chunk details"): a chunk's prev_size belongs
// to the previous chunk's data while that chunk is in use (tcache and fastbin chunks count as in
// use), the user's bytes start at chunk + 16 and may run into the next chunk's prev_size, and a
// chunk free in the unsorted, small or large bins repeats its size in the next chunk's prev_size.
// Must not: include ImGui or GL, or guess pointer values the trace does not hold (fd, bk and the
// tcache key are named, not valued).
#pragma once

#include "views/chunk_layout.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hv::views {

struct ChunkWord {
  enum class Owner : uint8_t { Prev, This, Next };
  uint64_t addr;  // first byte
  uint64_t bytes; // 8 for a header word; a run's length for data
  Owner owner;    // whose bytes these are
  std::string field;
  std::string value;
  Paint paint;
  bool user_pointer = false; // the address malloc returned points here
};

// The words of item i of p and of its neighbours' boundary (the previous chunk's data in its first
// word, the next chunk's prev_size and size), in address order. Empty for a gap, or a policy
// without glibc's boundary tags (PolicyInfo::prev_size false): the Chunk window then shows fields.
std::vector<ChunkWord> chunk_words(const HeapPicture& p, size_t i);

} // namespace hv::views
