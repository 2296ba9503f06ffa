// random_test.cpp - seeded random workloads with the heap checker after every operation,
// single-threaded and with several threads sharing one simulated heap (cross-thread frees).
#include "sim_heap.h"

#include <atomic>
#include <barrier>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

using hvtest::SimHeap;

namespace {

struct Blk {
  unsigned char* p = nullptr;
  size_t n = 0;
  unsigned char tag = 0;
};

size_t random_size(std::mt19937_64& rng) {
  switch (rng() % 10) {
  case 0:
  case 1:
  case 2:
    return rng() % 128; // tcache / fastbin
  case 3:
  case 4:
    return 128 + rng() % 900; // tcache, small bins
  case 5:
  case 6:
    return 1024 + rng() % 8000; // large bins
  case 7:
    return 8000 + rng() % 120000; // large, top growth
  case 8:
    return 120000 + rng() % 40000; // around the mmap threshold
  default:
    return rng() % 48;
  }
}

void fill(Blk& b) {
  size_t k = b.n < 64 ? b.n : 64;
  memset(b.p, b.tag, k);
  if (b.n > 64) memset(b.p + b.n - 16, b.tag, 16);
}

::testing::AssertionResult intact(const Blk& b) {
  size_t k = b.n < 64 ? b.n : 64;
  for (size_t i = 0; i < k; ++i)
    if (b.p[i] != b.tag) return ::testing::AssertionFailure() << "block data overwritten at byte " << i;
  if (b.n > 64)
    for (size_t i = b.n - 16; i < b.n; ++i)
      if (b.p[i] != b.tag) return ::testing::AssertionFailure() << "block tail overwritten at byte " << i;
  return ::testing::AssertionSuccess();
}

// One random operation on `live`; returns false if the allocator returned NULL unexpectedly.
void step(hvtest::Core& core, std::mt19937_64& rng, std::vector<Blk>& live) {
  unsigned op = rng() % 100;
  if (live.empty() || op < 45) {
    Blk b;
    b.n = random_size(rng);
    unsigned kind = rng() % 10;
    if (kind < 6) {
      b.p = static_cast<unsigned char*>(core.malloc(b.n));
    } else if (kind < 8) {
      size_t cnt = 1 + rng() % 8;
      b.n = (b.n / cnt) * cnt;
      b.p = static_cast<unsigned char*>(core.calloc(cnt, b.n / cnt));
      for (size_t i = 0; i < b.n; ++i)
        ASSERT_EQ(b.p[i], 0) << "calloc returned dirty memory";
    } else {
      size_t align = size_t(16) << (rng() % 9);
      b.p = static_cast<unsigned char*>(core.memalign(align, b.n));
      ASSERT_EQ(reinterpret_cast<uintptr_t>(b.p) % align, 0u);
    }
    ASSERT_NE(b.p, nullptr);
    ASSERT_GE(core.usable_size(b.p), b.n);
    b.tag = static_cast<unsigned char>(rng());
    fill(b);
    live.push_back(b);
  } else if (op < 80) {
    size_t i = rng() % live.size();
    ASSERT_TRUE(intact(live[i]));
    core.free(live[i].p);
    live[i] = live.back();
    live.pop_back();
  } else {
    size_t i = rng() % live.size();
    Blk& b = live[i];
    ASSERT_TRUE(intact(b));
    size_t n = random_size(rng);
    auto* q = static_cast<unsigned char*>(core.realloc(b.p, n));
    if (n == 0) {
      ASSERT_EQ(q, nullptr);
      live[i] = live.back();
      live.pop_back();
      return;
    }
    ASSERT_NE(q, nullptr);
    size_t keep = b.n < n ? b.n : n;
    size_t k = keep < 64 ? keep : 64;
    for (size_t j = 0; j < k; ++j)
      ASSERT_EQ(q[j], b.tag) << "realloc lost data at byte " << j;
    b.p = q;
    b.n = n;
    fill(b);
  }
}

} // namespace

class RandomHeap : public ::testing::TestWithParam<int> {};

TEST_P(RandomHeap, CheckerHoldsAfterEveryOperation) {
  SimHeap h;
  std::mt19937_64 rng(static_cast<uint64_t>(GetParam()) * 7919 + 1);
  std::vector<Blk> live;
  for (int i = 0; i < 3000; ++i) {
    ASSERT_NO_FATAL_FAILURE(step(*h.core, rng, live)) << "op " << i;
    std::string v = h.check();
    ASSERT_EQ(v, "") << "after op " << i << " (seed " << GetParam() << ")";
  }
  for (auto& b : live) {
    ASSERT_TRUE(intact(b));
    h->free(b.p);
  }
  ASSERT_EQ(h.check(), "");
  h->trim(0);
  ASSERT_EQ(h.check(), "");
}

INSTANTIATE_TEST_SUITE_P(Seeds, RandomHeap, ::testing::Range(1, 13));

// Four threads share one simulated heap (so glibc creates arenas for them), hand blocks to each
// other, and stop at a barrier every round so the checker sees a quiescent heap.
TEST(RandomHeapThreads, FourThreadsCrossFreeCheckerHoldsEachRound) {
  SimHeap h;
  h->platform().set_threaded(true);
  h->platform().set_nprocs(1); // arena limit 8
  constexpr int kThreads = 4, kRounds = 40, kOpsPerRound = 150;
  std::vector<std::vector<Blk>> pools(kThreads);
  std::atomic<bool> failed{false};
  std::string failure;
  std::barrier sync(kThreads, [&]() noexcept {
    std::string v = h.check();
    if (!v.empty() && !failed.exchange(true)) failure = v;
    // Rotate the pools: every block is freed or reallocated by a different thread later.
    std::rotate(pools.begin(), pools.begin() + 1, pools.end());
  });
  auto worker = [&](int id) {
    std::mt19937_64 rng(1000 + static_cast<uint64_t>(id));
    for (int r = 0; r < kRounds && !failed; ++r) {
      for (int i = 0; i < kOpsPerRound; ++i) {
        step(*h.core, rng, pools[id]);
        if (::testing::Test::HasFatalFailure()) {
          failed = true;
          break;
        }
      }
      sync.arrive_and_wait();
    }
  };
  std::vector<std::thread> ts;
  for (int i = 0; i < kThreads; ++i)
    ts.emplace_back(worker, i);
  for (auto& t : ts)
    t.join();
  ASSERT_FALSE(failed.load()) << failure;
  int arenas = 0;
  auto* a = h->main_arena();
  do {
    ++arenas;
    a = a->next;
  } while (a != h->main_arena());
  EXPECT_GE(arenas, 2) << "threads should have been given their own arenas";
  for (auto& p : pools)
    for (auto& b : p) {
      ASSERT_TRUE(intact(b));
      h->free(b.p);
    }
  EXPECT_EQ(h.check(), "");
}
