// tunables_test.cpp - GLIBC_TUNABLES and the MALLOC_*_ aliases read as glibc 2.36's ld.so reads
// them (allocator/src/tunables.h), and what the core does with each tunable.
#include "sim_heap.h"

#include "tunables.h"

#include <cstring>
#include <malloc.h>
#include <vector>

using hv::alloc::TunableId;
using hv::alloc::Tunables;
using hv::alloc::tunables_detail::dl_strtoul;
using hvtest::SimHeap;

namespace {

// __tunables_init over a list of environment lines.
Tunables from_env(std::vector<const char*> env) {
  std::vector<char*> envp;
  for (const char* e : env)
    envp.push_back(const_cast<char*>(e));
  envp.push_back(nullptr);
  Tunables t;
  t.init_from_environment(envp.data());
  return t;
}

} // namespace

TEST(Tunables, NumbersAsDlStrtoulReadsThem) {
  EXPECT_EQ(dl_strtoul("4096"), 4096u);
  EXPECT_EQ(dl_strtoul("0x1F"), 0x1fu);
  EXPECT_EQ(dl_strtoul("010"), 8u); // a leading 0 is octal
  EXPECT_EQ(dl_strtoul("09"), 0u);  // '9' is no octal digit: the number ends at it
  EXPECT_EQ(dl_strtoul(" \t+12abc"), 12u);
  EXPECT_EQ(dl_strtoul("-1"), UINT64_MAX);
  EXPECT_EQ(dl_strtoul("x12"), 0u);
  EXPECT_EQ(dl_strtoul("99999999999999999999"), UINT64_MAX);
  EXPECT_EQ(dl_strtoul("7:glibc.malloc.mxfast=0"), 7u); // a value ends at the next entry
}

TEST(Tunables, GlibcTunablesListIsParsedLikeLdSo) {
  Tunables t;
  // Unknown names, a name without a value, and non-malloc tunables are skipped; a later entry
  // overrides an earlier one.
  t.parse_glibc_tunables("glibc.rtld.nns=2:junk:glibc.malloc.tcache_count=0:foo=1:"
                         "glibc.malloc.mxfast=0x40:glibc.malloc.tcache_count=3:glibc.malloc.top_pad");
  EXPECT_TRUE(t.is_set(TunableId::TcacheCount));
  EXPECT_EQ(t.get(TunableId::TcacheCount), 3);
  EXPECT_EQ(t.get(TunableId::Mxfast), 0x40);
  EXPECT_FALSE(t.is_set(TunableId::TopPad));
  EXPECT_FALSE(t.is_set(TunableId::Perturb));
  // A name must match whole: no prefix, no longer name.
  Tunables u;
  u.parse_glibc_tunables("glibc.malloc.tcache=1:glibc.malloc.tcache_counts=1:xglibc.malloc.mxfast=1");
  for (int i = 0; i < hv::alloc::kNumTunables; ++i)
    EXPECT_FALSE(u.initialized[i]) << hv::alloc::kTunableDefs[i].name;
}

TEST(Tunables, OutOfBoundsValuesAreDroppedKeepingEarlierOnes) {
  Tunables t;
  t.parse_glibc_tunables("glibc.malloc.perturb=7:glibc.malloc.perturb=256:glibc.malloc.arena_max=0:"
                         "glibc.malloc.mmap_max=-1:glibc.malloc.mmap_max=0x80000000:glibc.malloc.top_pad=-1");
  EXPECT_EQ(t.get(TunableId::Perturb), 7);                                // 0..255
  EXPECT_FALSE(t.is_set(TunableId::ArenaMax));                            // minval 1
  EXPECT_FALSE(t.is_set(TunableId::MmapMax));                             // INT_32, minval 0
  EXPECT_EQ(static_cast<uint64_t>(t.get(TunableId::TopPad)), UINT64_MAX); // SIZE_T: -1 is SIZE_MAX
}

TEST(Tunables, GlibcTunablesWinsOverAliasesWhereverTheyStand) {
  // The alias first: GLIBC_TUNABLES, read later, overrides it.
  Tunables a = from_env({"MALLOC_TOP_PAD_=4096", "GLIBC_TUNABLES=glibc.malloc.top_pad=0x20000"});
  EXPECT_EQ(a.get(TunableId::TopPad), 0x20000);
  // The alias after: skipped, the tunable is set already.
  Tunables b = from_env({"GLIBC_TUNABLES=glibc.malloc.top_pad=0x20000", "MALLOC_TOP_PAD_=4096"});
  EXPECT_EQ(b.get(TunableId::TopPad), 0x20000);
  // A dropped GLIBC_TUNABLES value leaves the alias's.
  Tunables c = from_env({"GLIBC_TUNABLES=glibc.malloc.mmap_max=-1", "MALLOC_MMAP_MAX_=0"});
  EXPECT_TRUE(c.is_set(TunableId::MmapMax));
  EXPECT_EQ(c.get(TunableId::MmapMax), 0);
  // Of two aliases the first valid one counts; aliases read numbers as _dl_strtoul does.
  Tunables d = from_env({"MALLOC_ARENA_MAX=0", "MALLOC_ARENA_MAX=010", "MALLOC_ARENA_MAX=3",
                         "MALLOC_MMAP_THRESHOLD_=0x4000", "MALLOC_PERTURB", "MALLOC_PERTURB_X=1"});
  EXPECT_EQ(d.get(TunableId::ArenaMax), 8);
  EXPECT_EQ(d.get(TunableId::MmapThreshold), 0x4000);
  EXPECT_FALSE(d.is_set(TunableId::Perturb));
  // Tunables without an alias are read from GLIBC_TUNABLES only.
  Tunables e = from_env({"MALLOC_TCACHE_COUNT_=0", "GLIBC_TUNABLES_X=glibc.malloc.tcache_count=0"});
  EXPECT_FALSE(e.is_set(TunableId::TcacheCount));
}

TEST(Tunables, SetterLimitsOfMallocC) {
  SimHeap h;
  // ld.so accepts these (SIZE_T, no bounds); malloc's setters ignore them.
  EXPECT_TRUE(h->set_tunable(TunableId::TcacheCount, 65536));
  EXPECT_TRUE(h->set_tunable(TunableId::TcacheMax, 1033));
  EXPECT_TRUE(h->set_tunable(TunableId::Mxfast, 161));
  h->malloc(1);
  EXPECT_EQ(h->params().tcache_count, 7u);
  EXPECT_EQ(h->params().tcache_bins, 64u);
  EXPECT_EQ(h->max_fast(), 0x80u);
  EXPECT_EQ(h->params().no_dyn_threshold, 0);

  SimHeap k;
  EXPECT_TRUE(k->set_tunable(TunableId::TcacheCount, 65535));
  EXPECT_TRUE(k->set_tunable(TunableId::TcacheMax, 0));
  EXPECT_TRUE(k->set_tunable(TunableId::Mxfast, 7));
  EXPECT_TRUE(k->set_tunable(TunableId::MmapThreshold, 0x4000000)); // no 32 MiB ceiling in 2.36
  k->malloc(1);
  EXPECT_EQ(k->params().tcache_count, 65535u);
  EXPECT_EQ(k->params().tcache_bins, 1u); // csize2tidx(request2size(0)) + 1
  EXPECT_EQ(k->max_fast(), 0x10u);        // set_max_fast(7): MIN_CHUNK_SIZE / 2
  EXPECT_EQ(k->params().mmap_threshold, 0x4000000u);
  EXPECT_EQ(k->params().no_dyn_threshold, 1);
  EXPECT_FALSE(k->set_tunable(TunableId::TcacheCount, 1)); // the heap has started
  EXPECT_EQ(k->params().tcache_count, 65535u);
}

TEST(Tunables, TcacheCountZeroSendsFreesToBins) {
  SimHeap h;
  ASSERT_TRUE(h->set_tunable(TunableId::TcacheCount, 0));
  void* a = h->malloc(24);
  EXPECT_EQ(h.off(a), 0x2a0u); // the tcache struct is allocated all the same
  void* b = h->malloc(200);
  h->malloc(1);
  h->free(a);
  h->free(b);
  EXPECT_EQ(h.state_of(a), "fastbin");
  EXPECT_EQ(h.state_of(b), "unsorted");
  EXPECT_EQ(h.check(), "");
}

TEST(Tunables, PerturbFillsAllocatedAndFreedMemory) {
  SimHeap h;
  ASSERT_TRUE(h->set_tunable(TunableId::Perturb, 0xa5));
  ASSERT_TRUE(h->set_tunable(TunableId::TcacheCount, 1));
  auto* a = static_cast<unsigned char*>(h->malloc(100));
  auto* b = static_cast<unsigned char*>(h->malloc(100));
  h->malloc(1);
  for (int i = 0; i < 100; ++i)
    ASSERT_EQ(a[i], 0x5a) << i; // perturb ^ 0xff
  h->free(a);                   // tcache: not perturbed (glibc returns before free_perturb)
  for (int i = 16; i < 100; ++i)
    ASSERT_EQ(a[i], 0x5a) << i;
  h->free(b); // fastbin: perturbed, then fd written over the first word
  for (int i = 8; i < 96; ++i)
    ASSERT_EQ(b[i], 0xa5) << i;
  auto* c = static_cast<unsigned char*>(h->calloc(10, 10));
  for (int i = 0; i < 100; ++i)
    ASSERT_EQ(c[i], 0) << i;
}

TEST(Tunables, MalloptMxfastBounds) {
  SimHeap h;
  EXPECT_EQ(h->mallopt(M_MXFAST, 161), 0);
  EXPECT_EQ(h->max_fast(), 0x80u);
  EXPECT_EQ(h->mallopt(M_MXFAST, -1), 0);
  EXPECT_EQ(h->mallopt(M_MXFAST, 160), 1);
  EXPECT_EQ(h->max_fast(), 0xa0u);
  EXPECT_EQ(h->mallopt(M_MXFAST, 0), 1);
  EXPECT_EQ(h->max_fast(), 0x10u);
  EXPECT_EQ(h->mallopt(M_ARENA_MAX, 0), 1); // accepted, ignored
  EXPECT_EQ(h->params().arena_max, 0u);
}
