// death_test.cpp - heap errors abort with glibc's message (and the address), as glibc does.
#include "sim_heap.h"

using hvtest::SimHeap;

TEST(HeapErrorsDeathTest, DoubleFreeInTcache) {
  SimHeap h;
  void* a = h->malloc(24);
  h->malloc(24);
  h->free(a);
  EXPECT_DEATH(h->free(a),
               "free\\(\\): double free detected in tcache 2\nheapviz: the pointer involved is 0x");
}

TEST(HeapErrorsDeathTest, DoubleFreeFasttop) {
  SimHeap h;
  void* p[8];
  for (auto& x : p)
    x = h->malloc(24);
  h->malloc(24);
  for (int i = 0; i < 7; ++i)
    h->free(p[i]);
  h->free(p[7]); // fastbin top
  // p[7] is not in the tcache, whose bin is full; its key is stale, so the fastbin check fires.
  EXPECT_DEATH(h->free(p[7]), "double free or corruption \\(fasttop\\)");
}

TEST(HeapErrorsDeathTest, DoubleFreeOfLargeChunk) {
  SimHeap h;
  void* a = h->malloc(2000);
  h->malloc(24);
  h->free(a);
  EXPECT_DEATH(h->free(a), "double free or corruption \\(!prev\\)");
}

TEST(HeapErrorsDeathTest, InvalidPointer) {
  SimHeap h;
  char* a = static_cast<char*>(h->malloc(100));
  EXPECT_DEATH(h->free(a + 8), "free\\(\\): invalid pointer");
  static char not_heap[64] __attribute__((aligned(16)));
  EXPECT_DEATH(h->free(not_heap + 16), "free\\(\\): invalid pointer");
}

TEST(HeapErrorsDeathTest, CorruptedSizeVsPrevSize) {
  SimHeap h;
  char* a = static_cast<char*>(h->malloc(2000));
  char* b = static_cast<char*>(h->malloc(2000));
  h->malloc(24);
  h->free(a); // a is free (unsorted); b's prev_size says 0x7e0
  // An underflow into a's header rewrites its size field: 0x7e0 becomes 0x800.
  reinterpret_cast<size_t*>(a)[-1] = 0x801;
  EXPECT_DEATH(h->free(b), "corrupted size vs. prev_size");
}
