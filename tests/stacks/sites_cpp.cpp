// sites_cpp.cpp - C++ sites: an always-inlined function that calls new (its frame is an inlined
// one), and exceptions thrown through frames that allocate (the program and its stacks must come
// through unharmed: 5 of 10 calls throw, every vector is freed during unwinding).
#include <stdexcept>
#include <vector>

struct Node {
  long v;
  Node* next;
};

static inline __attribute__((always_inline)) Node* make_node(long v) {
  return new Node{v, nullptr}; // SITE_INLINE
}

__attribute__((noinline)) Node* build(int n) {
  Node* head = nullptr;
  for (int i = 0; i < n; ++i) {
    Node* x = make_node(i); // CALL_INLINE
    x->next = head;
    head = x;
  }
  return head;
}

__attribute__((noinline)) long thrower(int i) {
  std::vector<long> tmp(size_t(100 + i));
  tmp[0] = i;
  if (i % 2) throw std::runtime_error("odd");
  return tmp[0];
}

int main() {
  Node* keep = build(4);
  int caught = 0;
  for (int i = 0; i < 10; ++i) {
    try {
      thrower(i);
    } catch (const std::exception&) {
      ++caught;
    }
  }
  __asm__ volatile("" ::"r"(keep) : "memory");
  return caught == 5 ? 0 : 1;
}
