// bin_order.cpp - the lists of bin_order.h. The largebin rules are glibc 2.36's malloc.c: the
// unsorted scan's placement ("maintain large bins in sorted order") and unlink_chunk.
#include "model/bin_order.h"

#include "heapviz/hv_assert.h"
#include "heapviz/trace_format.h"

#include <algorithm>

namespace hv::model {

// ---- Tcaches and fastbins: arrays, the head last ------------------------------------------------
std::vector<uint64_t>& BinOrder::new_stack(uint64_t list) {
  bool created;
  StackRef& r = stacks_.insert(list, created);
  r.index = uint32_t(stack_data_.size());
  stack_data_.emplace_back();
  stack_keys_.push_back(list);
  return stack_data_.back();
}

const std::vector<uint64_t>* BinOrder::find_stack(uint64_t list) const {
  const StackRef* r = stacks_.find(list);
  return r ? &stack_data_[r->index] : nullptr;
}

bool BinOrder::take(std::vector<uint64_t>& v, uint64_t chunk) {
  if (!v.empty() && v.back() == chunk) { // the head: every pop of a valid trace
    v.pop_back();
    return true;
  }
  auto it = std::find(v.begin(), v.end(), chunk);
  if (it == v.end()) return false;
  v.erase(it);
  return true;
}

// ---- The other bins: doubly linked lists --------------------------------------------------------
void BinOrder::link(uint64_t list, uint64_t chunk, uint64_t prev, uint64_t next) {
  bool created;
  Ends& e = lists_.insert(list, created);
  Link& l = links_.insert(chunk, created);
  HV_ASSERT_MSG(created, "a chunk linked twice (remove() it first)");
  l.list = list;
  l.prev = prev;
  l.next = next;
  if (prev)
    links_.find(prev)->next = chunk;
  else
    e.head = chunk;
  if (next)
    links_.find(next)->prev = chunk;
  else
    e.tail = chunk;
  ++e.count;
}

void BinOrder::add_node(uint64_t chunk, uint64_t size, uint64_t fd, uint64_t bk) {
  bool created;
  Node& n = nodes_.insert(chunk, created);
  n.size = size;
  n.fd = fd;
  n.bk = bk;
  nodes_.find(fd)->bk = chunk; // (itself for the only node)
  nodes_.find(bk)->fd = chunk;
}

// glibc 2.36, unlink_chunk: for a largebin chunk p with p->fd_nextsize set (a node), when its fd
// is not a node (the next chunk, of the same size), fd takes p's place in the ring; else p
// leaves the ring.
void BinOrder::unlink(uint64_t chunk) {
  Link* l = links_.find(chunk);
  if (!l) return;
  uint64_t next = l->next, list = l->list;
  Ends* e = lists_.find(list);
  HV_ASSERT_MSG(e && e->count > 0, "a linked chunk's list is missing");
  if (large(list))
    if (const Node* n = nodes_.find(chunk)) {
      uint64_t fd = n->fd, bk = n->bk, size = n->size;
      if (next && !nodes_.find(next)) {
        if (fd == chunk)
          add_node(next, size, next, next);
        else
          add_node(next, size, fd, bk);
      } else if (fd != chunk) {
        nodes_.find(fd)->bk = bk;
        nodes_.find(bk)->fd = fd;
      }
      nodes_.erase(nodes_.find(chunk));
    }
  if (e->head == chunk) { // the new head's prev is not kept
    e->head = next;
    if (!next) e->tail = 0;
  } else {
    uint64_t prev = l->prev;
    links_.find(prev)->next = next;
    if (next)
      links_.find(next)->prev = prev;
    else
      e->tail = prev;
  }
  --e->count;
  links_.erase(l);
}

// ---- Entering and leaving -----------------------------------------------------------------------
void BinOrder::push_head_linked(uint64_t list, uint64_t chunk) {
  bool created;
  Ends& e = lists_.insert(list, created);
  Link& l = links_.insert(chunk, created);
  if (!created) { // already in a list (HeapModel takes a chunk out first; a bad trace may not)
    unlink(chunk);
    return push_head_linked(list, chunk);
  }
  l.list = list;
  l.next = e.head;
  if (e.head)
    links_.find(e.head)->prev = chunk;
  else
    e.tail = chunk;
  e.head = chunk;
  ++e.count;
}

void BinOrder::push_tail(uint64_t list, uint64_t chunk, uint64_t size) {
  if (lifo(list)) {
    std::vector<uint64_t>& v = stack(list);
    v.insert(v.begin(), chunk);
    ++stacked_;
    return;
  }
  unlink(chunk);
  const Ends* e = lists_.find(list);
  uint64_t tail = e && e->count ? e->tail : 0;
  link(list, chunk, tail, 0);
  if (!large(list)) return;
  const Node* first = tail ? nodes_.find(lists_.find(list)->head) : nullptr;
  if (!first) return add_node(chunk, size, chunk, chunk); // the first chunk: a ring of one
  uint64_t head = first->addr, last = first->bk;
  if (nodes_.find(last)->size != size) add_node(chunk, size, head, last); // a new size, at the end
}

// glibc 2.36, _int_malloc, the unsorted scan (victim of `size`, bck the bin, fwd = bck->fd):
//   if (size < chunksize_nomask (bck->bk))   smaller than the smallest: fwd = bck, bck = bck->bk
//                                            (the tail), and victim joins the nextsize ring;
//   else { while (size < chunksize_nomask (fwd)) fwd = fwd->fd_nextsize;
//          if (size == chunksize_nomask (fwd)) fwd = fwd->fd;  "Always insert in the second position"
//          else victim joins the ring before fwd; bck = fwd->bk; }
//   victim goes between bck and fwd.
// Free chunks in bins all carry PREV_INUSE and no other bit, so chunksize_nomask compares sizes.
void BinOrder::insert_sorted(uint64_t list, uint64_t chunk, uint64_t size) {
  if (!large(list)) return push_head(list, chunk);
  unlink(chunk);
  const Ends* e = lists_.find(list);
  const Node* first = e && e->count ? nodes_.find(e->head) : nullptr;
  if (!first) return push_tail(list, chunk, size); // an empty bin
  uint64_t head = first->addr, last = first->bk, tail = e->tail;
  if (size < nodes_.find(last)->size) {
    link(list, chunk, tail, 0);
    return add_node(chunk, size, head, last);
  }
  const Node* n = first;
  while (size < n->size) {
    n = nodes_.find(n->fd);
    if (n->addr == head) return push_tail(list, chunk, size); // every size larger: not sorted
  }
  if (size == n->size) return link(list, chunk, n->addr, links_.find(n->addr)->next);
  uint64_t fwd = n->addr, bk = n->bk;
  link(list, chunk, fwd == head ? 0 : links_.find(fwd)->prev, fwd);
  add_node(chunk, size, fwd, bk);
}

void BinOrder::remove(uint64_t chunk, uint64_t list) {
  if (!lifo(list)) return unlink(chunk);
  if (const StackRef* r = stacks_.find(list); r && take(stack_data_[r->index], chunk)) {
    --stacked_;
    return;
  }
  for (size_t i = 0; i < stack_data_.size(); ++i) // not where its record says (a bad trace)
    if (take(stack_data_[i], chunk)) {
      --stacked_;
      return;
    }
}

void BinOrder::clear() {
  stacks_.clear();
  stack_data_.clear();
  stack_keys_.clear();
  stacked_ = 0;
  links_.clear();
  lists_.clear();
  nodes_.clear();
}

// ---- Reading ------------------------------------------------------------------------------------
std::vector<uint64_t> BinOrder::lists() const {
  std::vector<uint64_t> v;
  for (size_t i = 0; i < stack_data_.size(); ++i)
    if (!stack_data_[i].empty()) v.push_back(stack_keys_[i]);
  lists_.for_each([&](const Ends& e) {
    if (e.count) v.push_back(e.addr);
  });
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<uint64_t> BinOrder::chunks_of(uint64_t list, size_t max) const {
  std::vector<uint64_t> v;
  if (lifo(list)) {
    if (const std::vector<uint64_t>* s = find_stack(list))
      for (auto it = s->rbegin(); it != s->rend() && v.size() < max; ++it)
        v.push_back(*it);
    return v;
  }
  const Ends* e = lists_.find(list);
  if (!e || !e->count) return v;
  v.reserve(std::min<uint64_t>(e->count, max));
  for (uint64_t c = e->head; c && v.size() < max; c = links_.find(c)->next)
    v.push_back(c);
  return v;
}

std::optional<BinOrder::Place> BinOrder::place(uint64_t chunk) const {
  if (const Link* l = links_.find(chunk)) {
    const Ends* e = lists_.find(l->list);
    Place p{l->list, 0, e->count};
    for (uint64_t c = e->head; c != chunk; c = links_.find(c)->next)
      ++p.index;
    return p;
  }
  for (size_t i = 0; i < stack_data_.size(); ++i) {
    const std::vector<uint64_t>& v = stack_data_[i];
    auto it = std::find(v.rbegin(), v.rend(), chunk);
    if (it != v.rend()) return Place{stack_keys_[i], uint64_t(it - v.rbegin()), v.size()};
  }
  return std::nullopt;
}

// ---- Checkpoints --------------------------------------------------------------------------------
size_t BinOrder::max_saved_bytes() const {
  return 20 + (stack_data_.size() + lists_.size()) * 20 + chunks() * 10;
}

uint8_t* BinOrder::save(uint8_t* p) const {
  size_t n = 0;
  for (const std::vector<uint64_t>& v : stack_data_)
    n += !v.empty();
  lists_.for_each([&](const Ends& e) { n += e.count != 0; });
  p = trace::put_varint(p, chunks());
  p = trace::put_varint(p, n);
  uint64_t prev = 0;
  auto put = [&](uint64_t c) {
    p = trace::put_varint(p, trace::zigzag(int64_t(c - prev)));
    prev = c;
  };
  for (size_t i = 0; i < stack_data_.size(); ++i) {
    const std::vector<uint64_t>& v = stack_data_[i];
    if (v.empty()) continue;
    p = trace::put_varint(p, stack_keys_[i]);
    p = trace::put_varint(p, v.size());
    for (auto it = v.rbegin(); it != v.rend(); ++it)
      put(*it);
  }
  lists_.for_each([&](const Ends& e) {
    if (!e.count) return;
    p = trace::put_varint(p, e.addr);
    p = trace::put_varint(p, e.count);
    for (uint64_t c = e.head; c; c = links_.find(c)->next)
      put(c);
  });
  return p;
}

// A table for n elements that never grows while they go in (its load stays at most 1/2).
static size_t capacity_for(uint64_t n) {
  size_t c = 16;
  while (c < 2 * (n + 1))
    c *= 2;
  return c;
}

const uint8_t* BinOrder::restore(const uint8_t* p, const std::function<uint64_t(uint64_t)>& size_of) {
  auto get = [&p] {
    uint64_t r = 0;
    for (unsigned sh = 0;; sh += 7) {
      uint8_t b = *p++;
      r |= uint64_t(b & 0x7f) << sh;
      if (!(b & 0x80)) return r;
    }
  };
  uint64_t chunks = get(), lists = get(), addr = 0;
  for (std::vector<uint64_t>& v : stack_data_) // (emptied, not freed: most come back at once)
    v.clear();
  stacked_ = 0;
  // Sized first, so that no insertion moves an element: each list is linked as it is read. Never
  // smaller than they are: the same memory is filled again (fresh pages are slow to touch).
  links_.reset(std::max(links_.capacity(), capacity_for(chunks)));
  lists_.reset(std::max(lists_.capacity(), capacity_for(lists)));
  nodes_.clear();
  for (uint64_t i = 0; i < lists; ++i) {
    uint64_t key = get(), count = get();
    if (lifo(key)) {
      std::vector<uint64_t>& v = stack(key);
      v.resize(count);
      for (uint64_t k = count; k-- > 0;)
        v[k] = addr += uint64_t(trace::unzigzag(get()));
      stacked_ += count;
      continue;
    }
    bool created;
    Ends& e = lists_.insert(key, created);
    Link* prev = nullptr;
    for (uint64_t k = 0; k < count; ++k) {
      addr += uint64_t(trace::unzigzag(get()));
      Link& l = links_.insert(addr, created);
      l.list = key;
      l.next = 0;
      if (prev) {
        l.prev = prev->addr;
        prev->next = addr;
      } else {
        e.head = addr;
      }
      prev = &l;
    }
    e.tail = prev ? prev->addr : 0;
    e.count = count;
    if (!large(key)) continue;
    uint64_t head = e.head, last = 0, last_size = 0; // the runs of equal sizes: glibc's ring
    for (uint64_t c = head; c; c = links_.find(c)->next) {
      uint64_t size = size_of(c);
      if (c != head && size == last_size) continue;
      if (c == head)
        add_node(c, size, c, c);
      else
        add_node(c, size, head, last);
      last = c;
      last_size = size;
    }
  }
  return p;
}

} // namespace hv::model
