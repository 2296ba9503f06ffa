// bins_test.cpp - where glibc 2.36 puts chunks, asserted as exact offsets in a simulated heap.
#include "sim_heap.h"

#include <cerrno>
#include <cstring>
#include <malloc.h>

using hvtest::SimHeap;

TEST(Layout, FirstChunkFollowsTcacheStruct) {
  SimHeap h;
  void* a = h->malloc(24);
  EXPECT_EQ(h.off(a), 0x2a0u); // 0x290 tcache_perthread_struct, then a 16-byte header
  void* b = h->malloc(24);
  EXPECT_EQ(h.off(b), 0x2c0u);
  EXPECT_EQ(h->usable_size(a), 24u);
  EXPECT_EQ(h.check(), "");
}

TEST(Layout, FirstHeapIs132KiB) {
  SimHeap h;
  h->malloc(1);
  // nb 0x290 + top_pad 128 KiB + MINSIZE, page-aligned
  EXPECT_EQ(h->main_arena()->system_mem, 0x21000u);
}

TEST(Bins, SmallFreeGoesToTcacheFirst) {
  SimHeap h;
  void* a = h->malloc(40);
  h->malloc(1); // keep a away from top
  h->free(a);
  EXPECT_EQ(h.state_of(a), "tcache");
  EXPECT_EQ(h->malloc(40), a); // LIFO reuse from the tcache
  EXPECT_EQ(h.check(), "");
}

TEST(Bins, EighthSmallFreeGoesToFastbin) {
  SimHeap h;
  void* p[8];
  for (auto& x : p)
    x = h->malloc(24);
  h->malloc(1);
  for (auto& x : p)
    h->free(x);
  for (int i = 0; i < 7; ++i)
    EXPECT_EQ(h.state_of(p[i]), "tcache") << i;
  EXPECT_EQ(h.state_of(p[7]), "fastbin");
  EXPECT_EQ(h.check(), "");
}

TEST(Bins, CallocBypassesTcache) {
  SimHeap h;
  void* a = h->malloc(24);
  h->malloc(1);
  h->free(a);
  void* c = h->calloc(1, 24);
  EXPECT_NE(c, a);
  EXPECT_EQ(h.state_of(a), "tcache");
}

TEST(Bins, LargeFreeGoesToUnsortedThenLargeBin) {
  SimHeap h;
  void* a = h->malloc(2000);
  void* guard = h->malloc(24);
  h->free(a);
  EXPECT_EQ(h.state_of(a), "unsorted");
  h->malloc(3000); // sorts the unsorted bin
  EXPECT_EQ(h.state_of(a), "largebin");
  (void)guard;
  EXPECT_EQ(h.check(), "");
}

TEST(Merge, NeighboursCoalesceAndMergeIntoTop) {
  SimHeap h;
  void* a = h->malloc(2000);
  void* b = h->malloc(2000);
  void* top_before = h->main_arena()->top;
  h->free(a);
  h->free(b); // b borders top: a+b merge into top
  EXPECT_EQ(h->main_arena()->top, hv::alloc::mem2chunk(a));
  EXPECT_NE(h->main_arena()->top, top_before);
  EXPECT_EQ(h.check(), "");
}

TEST(Mmap, ThresholdRisesAfterFreeingMappedChunk) {
  SimHeap h;
  void* big = h->malloc(200000);
  EXPECT_TRUE(hv::alloc::mem2chunk(big)->is_mmapped());
  h->free(big);
  EXPECT_EQ(h->params().mmap_threshold, 0x31000u);
  void* again = h->malloc(200000);
  EXPECT_FALSE(hv::alloc::mem2chunk(again)->is_mmapped());
  EXPECT_EQ(h.check(), "");
}

TEST(Memalign, ReturnsAlignedAndSplitsLeader) {
  SimHeap h;
  h->malloc(24);
  for (size_t align : {32u, 64u, 256u, 4096u}) {
    void* p = h->memalign(align, 100);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u) << align;
    EXPECT_EQ(h.check(), "") << align;
  }
}

TEST(Trim, FreeingLargeTopShrinksHeap) {
  SimHeap h;
  void* a = h->malloc(100000);
  void* b = h->malloc(100000);
  size_t grown = h->main_arena()->system_mem;
  h->free(b);
  h->free(a);
  EXPECT_LT(h->main_arena()->system_mem, grown);
  EXPECT_EQ(h.check(), "");
}

TEST(Api, ErrnoAndOverflow) {
  SimHeap h;
  errno = 0;
  EXPECT_EQ(h->malloc(SIZE_MAX), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(h->calloc(SIZE_MAX / 2, 3), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  void* p = nullptr;
  EXPECT_EQ(h->posix_memalign(&p, 24, 10), EINVAL);
  EXPECT_EQ(h->posix_memalign(&p, 0, 10), EINVAL);
  EXPECT_EQ(h->posix_memalign(&p, 64, 10), 0);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
  errno = 0;
  EXPECT_EQ(h->memalign(SIZE_MAX / 2 + 2, 1), nullptr);
  EXPECT_EQ(errno, EINVAL);
  // free() preserves errno
  errno = 1234;
  h->free(h->malloc(10));
  EXPECT_EQ(errno, 1234);
}

TEST(Api, ReallocSemantics) {
  SimHeap h;
  char* p = static_cast<char*>(h->malloc(10));
  memcpy(p, "heapviz!!", 10);
  char* q = static_cast<char*>(h->realloc(p, 5000));
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(memcmp(q, "heapviz!!", 10), 0);
  EXPECT_EQ(h->realloc(q, 0), nullptr); // frees
  void* n = h->realloc(nullptr, 20);
  EXPECT_NE(n, nullptr);
  EXPECT_EQ(h.check(), "");
}

TEST(Api, CallocZeroesReusedMemory) {
  SimHeap h;
  char* a = static_cast<char*>(h->malloc(3000));
  memset(a, 0xab, 3000);
  h->malloc(24);
  h->free(a);
  char* c = static_cast<char*>(h->calloc(1, 3000));
  ASSERT_EQ(c, a);
  for (int i = 0; i < 3000; ++i)
    ASSERT_EQ(c[i], 0) << i;
}

TEST(Api, MallinfoCountsArenaAndMmap) {
  SimHeap h;
  void* a = h->malloc(100);
  void* big = h->malloc(1 << 20);
  struct mallinfo2 m = h->info();
  EXPECT_EQ(m.arena, 0x21000u);
  EXPECT_EQ(m.hblks, 1u);
  EXPECT_GE(m.hblkhd, size_t(1) << 20);
  EXPECT_GE(m.uordblks, 0x290u + 0x70u);
  h->free(a);
  h->free(big);
}

TEST(Api, MalloptMmapThreshold) {
  SimHeap h;
  void* d = h->malloc(300000); // above the default 128 KiB threshold
  EXPECT_TRUE(hv::alloc::mem2chunk(d)->is_mmapped());
  EXPECT_EQ(h->mallopt(M_MMAP_THRESHOLD, 1 << 20), 1);
  void* p = h->malloc(300000); // now grows the heap instead
  EXPECT_FALSE(hv::alloc::mem2chunk(p)->is_mmapped());
  EXPECT_EQ(h->params().no_dyn_threshold, 1);
  EXPECT_EQ(h->mallopt(M_MXFAST, 1000), 0); // above MAX_FAST_SIZE
  EXPECT_EQ(h->mallopt(M_TOP_PAD, 0), 1);
}
