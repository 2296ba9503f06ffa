// bin_order.h - the order of every bin's list in the replayed heap, head first, as glibc 2.36
// keeps it (docs/trace-format.md, "Bin order"): the events say which chunk enters or leaves which
// bin, and these rules say where.
//
// Owns: the lists (a link per binned chunk, keyed by its address; each list's ends and length,
// keyed by the list), the insertion rules (at the head; a largebin's sorted place, with glibc's
// skip list of sizes, the fd_nextsize ring: the first chunk of each size), removal from
// anywhere, the checkpoint encoding of the lists.
// Must not: know chunk states, metrics or events (heap_model.cpp and bin_lists_apply.cpp tell it
// what entered and left a bin).
#pragma once

#include "heapviz/chunk_states.h"
#include "model/flat_map.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace hv::model {

// A list: a bin kind and index, and its owner: the arena's index for an arena's bins (fastbins,
// the unsorted bin, smallbins, largebins), the thread's id for a tcache (each thread has its own).
struct BinList {
  trace::BinKind kind = trace::BinKind::None;
  uint8_t index = 0;
  uint32_t owner = 0;
  // A number for the list, never 0 (kind is at least 1); keys sort by owner, then kind, index.
  uint64_t key() const { return uint64_t(owner) << 16 | uint64_t(kind) << 8 | index; }
  static BinList of_key(uint64_t k) {
    return BinList{trace::BinKind(k >> 8 & 0xff), uint8_t(k), uint32_t(k >> 16)};
  }
};

class BinOrder {
public:
  // A chunk enters list `list` at its head: tcache, fastbins, the unsorted bin and smallbins
  // (glibc: tcache_put; _int_free's fastbin push and unsorted insertion; malloc_consolidate;
  // the unsorted scan's smallbin placement, `bck = bin_at(av, victim_index); fwd = bck->fd`).
  void push_head(uint64_t list, uint64_t chunk) {
    if (!lifo(list)) return push_head_linked(list, chunk);
    stack(list).push_back(chunk);
    ++stacked_;
  }
  // A chunk enters a largebin where glibc's unsorted scan puts it: before the first chunk
  // smaller than it, or, when chunks of its size are there, second among them ("Always insert
  // in the second position"), so that the first of each size stays the skip list's node.
  void insert_sorted(uint64_t list, uint64_t chunk, uint64_t size);
  // A chunk enters at the tail (baselines rebuild lists in order this way); size: a largebin's
  // runs.
  void push_tail(uint64_t list, uint64_t chunk, uint64_t size);
  // The chunk leaves its list, wherever it is in it (glibc: a pop, or unlink_chunk); nothing if
  // it is in none. `list`: the list it is in, as its record says (a tcache's or a fastbin's
  // chunks are looked for there first: they carry no link). In a largebin, when it was the first
  // of its size, the next takes its place.
  void remove(uint64_t chunk, uint64_t list);
  void clear();

  size_t chunks() const { return stacked_ + links_.size(); } // chunks in lists
  // Every non-empty list's key, sorted (by owner, kind, index).
  std::vector<uint64_t> lists() const;
  // Up to max chunks of the list, head first.
  std::vector<uint64_t> chunks_of(uint64_t list, size_t max = SIZE_MAX) const;
  // The chunk's list and place (0 = the head), counting from the head: O(place), or for a
  // tcache's or fastbin's chunk O(chunks in those).
  struct Place {
    uint64_t list, index, count;
  };
  std::optional<Place> place(uint64_t chunk) const;

  // Checkpoints: the lists, head first, as varints (chunks in lists, list count; per list its
  // key, length and the zigzag address deltas). restore() rebuilds them (the largebins' runs from
  // size_of).
  size_t max_saved_bytes() const;
  uint8_t* save(uint8_t* p) const;
  const uint8_t* restore(const uint8_t* p, const std::function<uint64_t(uint64_t)>& size_of);

private:
  static trace::BinKind kind_of(uint64_t list) { return trace::BinKind(list >> 8 & 0xff); }
  static bool large(uint64_t list) { return kind_of(list) == trace::BinKind::Large; }
  // Tcaches and fastbins: glibc pushes and takes their head only, so each is an array, the head
  // last (a push or a pop costs no hashing of chunk addresses). A chunk taken from further in,
  // which only a bad trace has, is looked for.
  static bool lifo(uint64_t list) {
    return kind_of(list) == trace::BinKind::Tcache || kind_of(list) == trace::BinKind::Fast;
  }
  struct StackRef {
    uint64_t addr; // the list's key (the map's key)
    uint32_t index;
  };
  std::vector<uint64_t>& stack(uint64_t list) { // (created empty)
    const StackRef* r = stacks_.find(list);
    return r ? stack_data_[r->index] : new_stack(list);
  }
  std::vector<uint64_t>& new_stack(uint64_t list);
  const std::vector<uint64_t>* find_stack(uint64_t list) const;
  static bool take(std::vector<uint64_t>& v, uint64_t chunk);
  void push_head_linked(uint64_t list, uint64_t chunk);

  // The other bins: a doubly linked list each, a link per chunk.
  struct Link {
    uint64_t addr; // the chunk (the map's key)
    uint64_t prev; // toward the head; not kept for the head itself (a pop touches no neighbour)
    uint64_t next; // toward the tail; 0 at the tail
    uint64_t list;
  };
  struct Ends {
    uint64_t addr; // the list's key (the map's key)
    uint64_t head, tail, count;
  };
  // A largebin's first chunk of a size: glibc's fd_nextsize (fd, toward smaller sizes) and
  // bk_nextsize (bk) ring, through the first chunks of every size in the list.
  struct Node {
    uint64_t addr, fd, bk, size;
  };
  // Links chunk between prev and next (either 0 at an end) of list.
  void link(uint64_t list, uint64_t chunk, uint64_t prev, uint64_t next);
  void add_node(uint64_t chunk, uint64_t size, uint64_t fd, uint64_t bk);
  void unlink(uint64_t chunk);

  FlatMap<StackRef> stacks_;
  std::vector<std::vector<uint64_t>> stack_data_; // by StackRef::index (an emptied one stays)
  std::vector<uint64_t> stack_keys_;
  size_t stacked_ = 0;
  FlatMap<Link> links_;
  FlatMap<Ends> lists_; // (an emptied list keeps its entry: bins empty and fill all the time)
  FlatMap<Node> nodes_;
};

} // namespace hv::model
