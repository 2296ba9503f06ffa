// query_job_test.cpp - the searches of the Chunk and Events windows (session::QueryJob, over
// EventIndex's per-group summaries, analysis::GroupSummary): on a large generated trace, every
// history and filter is exactly what a plain pass over every event finds, complete as soon as the
// job has run, with no frame stepping it. Time is the benchmark's (bench_query), never asserted.
#include "analysis/group_summary.h"
#include "session/document.h"
#include "trace/churn_trace.h"
#include "trace/trace_builder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <unistd.h>

using namespace hv;
using analysis::Filter;
using session::Document;
using trace::Event;

namespace {

std::string temp_path(const std::string& name) {
  const char* dir = getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/hvquery_" + std::to_string(getpid()) + "_" + name;
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  FILE* f = fopen(path.c_str(), "wb");
  ASSERT_TRUE(f);
  fwrite(bytes.data(), 1, bytes.size(), f);
  fclose(f);
}

// Every event of the document, read back in order through its index.
std::vector<Event> all_events(Document& d) {
  std::vector<Event> all, part;
  for (uint64_t i = 0; i < d.index().size(); i += 1 << 16) {
    d.index().read(i, 1 << 16, &part);
    all.insert(all.end(), part.begin(), part.end());
  }
  return all;
}

std::vector<uint64_t> brute(const std::vector<Event>& all, const Filter& f, size_t max = SIZE_MAX) {
  std::vector<uint64_t> m;
  for (uint64_t i = 0; i < all.size() && m.size() < max; ++i)
    if (analysis::matches(all[i], f)) m.push_back(i);
  return m;
}

// The filters a user asks for: histories of chunk starts, user pointers and addresses inside
// chunks (from random events), of an address nothing touches; kinds; sizes; threads; mixes.
std::vector<Filter> filters_for(const std::vector<Event>& all, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Filter> fs;
  for (int k = 0; k < 40; ++k) {
    const Event& e = all[rng() % all.size()];
    Filter f;
    f.has_addr = true;
    f.addr = e.addr + (k % 4 == 3 ? 8 * (rng() % 8) : 0); // (3 in 4: the event's own address)
    if (!f.addr) continue;
    fs.push_back(f);
  }
  Filter none;
  none.has_addr = true;
  none.addr = 0x1234567890;
  fs.push_back(none);
  for (uint32_t kinds : {uint32_t(analysis::kKindMerge), analysis::kKindError | analysis::kKindMark,
                         uint32_t(analysis::kKindGrow), analysis::kKindAlloc | analysis::kKindFree}) {
    Filter f;
    f.kinds = kinds;
    fs.push_back(f);
  }
  for (auto [lo, hi] : {std::pair<uint64_t, uint64_t>{24, 24}, {1000, 1100}, {200000, 300000}, {7, 7}}) {
    Filter f;
    f.has_size = true;
    f.size_lo = lo;
    f.size_hi = hi;
    fs.push_back(f);
  }
  Filter t;
  t.has_tid = true;
  t.tid = 1002;
  fs.push_back(t);
  t.tid = 4242; // no such thread
  fs.push_back(t);
  Filter mix = fs[3];
  mix.has_size = true;
  mix.size_lo = 0;
  mix.size_hi = 512;
  mix.kinds = analysis::kKindAlloc | analysis::kKindFree | analysis::kKindSplit;
  fs.push_back(mix);
  return fs;
}

const char* describe(const Filter& f, char* buf, size_t n) {
  snprintf(buf, n, "kinds %#x addr %s%#llx size %s%llu-%llu tid %s%u", f.kinds, f.has_addr ? "" : "(off) ",
           (unsigned long long)f.addr, f.has_size ? "" : "(off) ", (unsigned long long)f.size_lo,
           (unsigned long long)f.size_hi, f.has_tid ? "" : "(off) ", f.tid);
  return buf;
}

} // namespace

// 1.5 M events on 4 threads (mmapped chunks, merges, splits): each search, run by its job with
// nobody stepping it, equals the plain pass; the histories are capped as the Chunk window asks.
// Unoptimized builds (the sanitizer legs) take 300 000 events: 1.5 M took 136 s under TSan.
#ifdef NDEBUG
constexpr uint64_t kLargeEvents = 1500000;
#else
constexpr uint64_t kLargeEvents = 300000;
#endif
TEST(QueryJob, HistoriesAndFiltersAreExactOnALargeTraceWithNoFrames) {
  trace::TraceBuilder b(0, 64 * 1024, "query_job_test");
  trace::ChurnTrace gen(b, 4, 99, 4096);
  gen.run(kLargeEvents);
  std::string path = temp_path("large.hvt");
  write_file(path, b.finish());
  Document d;
  d.open(path);
  ASSERT_EQ(d.wait(), Document::State::Ready) << d.error();
  unlink(path.c_str());
  const std::vector<Event> all = all_events(d);
  ASSERT_EQ(all.size(), d.events());
  ASSERT_GE(all.size(), kLargeEvents);

  std::vector<Filter> fs = filters_for(all, 7);
  std::vector<std::shared_ptr<session::QueryJob>> jobs;
  for (const Filter& f : fs)
    jobs.push_back(d.query(f, f.has_addr ? 5000 : SIZE_MAX));
  d.wait_searches();
  EXPECT_FALSE(d.searching());
  uint64_t groups_all = 0, groups_read = 0;
  for (size_t k = 0; k < fs.size(); ++k) {
    char buf[200];
    SCOPED_TRACE(describe(fs[k], buf, sizeof buf));
    EXPECT_FALSE(jobs[k]->running());
    EXPECT_EQ(jobs[k]->progress(), 1.0);
    const std::vector<uint64_t> want = brute(all, fs[k], fs[k].has_addr ? 5000 : SIZE_MAX);
    ASSERT_EQ(jobs[k]->matches(), want);
    // The index is what makes it fast: histories skip groups unread (about half, on this churn
    // of a small heap where every chunk is reused all along).
    if (fs[k].has_addr)
      for (uint64_t g = 0; g * session::EventIndex::kGroup < all.size(); ++g, ++groups_all)
        groups_read += d.index().group_may_match(g, fs[k]);
  }
  EXPECT_LT(groups_read, groups_all * 8 / 10) << "the group summaries let most groups through";
}

// The summary of a group never says "no" for an address an event of it touches (footprint()
// covers touches()), here for every address within 64 bytes of every address of 200 000 events.
TEST(QueryJob, AGroupSummaryCoversEveryAddressItsEventsTouch) {
  trace::TraceBuilder b(0, 64 * 1024, "query_job_test");
  trace::ChurnTrace gen(b, 2, 5, 2000);
  gen.run(200000);
  std::string path = temp_path("cover.hvt");
  write_file(path, b.finish());
  Document d;
  d.open(path);
  ASSERT_EQ(d.wait(), Document::State::Ready) << d.error();
  unlink(path.c_str());
  const std::vector<Event> all = all_events(d);
  for (uint64_t i = 0; i < all.size(); i += 64) { // each a group of its own
    analysis::GroupSummary s;
    const Event& e = all[i];
    s.add(e);
    for (uint64_t base : {e.addr, e.addr2, e.addr + e.size, e.addr + e.size2})
      for (uint64_t a = base >= 64 ? base - 64 : 0; a < base + 64; a += 8)
        if (analysis::touches(e, a)) {
          ASSERT_TRUE(s.may_touch(a)) << "event " << i << " address " << a;
        }
  }
}

// A live capture growing while a search runs: the job is stopped for the growth and goes on
// over the new events; at the end it equals the plain pass over the whole file.
TEST(QueryJob, ASearchGoesOnOverTheEventsALiveFileGrows) {
  trace::TraceBuilder b(0, 8 * 1024);
  trace::ChurnTrace gen(b, 2, 11, 1500);
  std::vector<uint64_t> syncs;
  for (int k = 0; k < 6; ++k) {
    gen.run(b.next_seq() - 1 + 100000);
    b.flush();
    syncs.push_back(b.bytes().size());
  }
  std::string path = temp_path("grow.hvt");
  write_file(path, b.finish());
  Document d;
  d.open_prefix(path, syncs[0]);
  ASSERT_EQ(d.wait(), Document::State::Ready) << d.error();
  Filter size;
  size.has_size = true;
  size.size_lo = 32;
  size.size_hi = 48;
  auto by_size = d.query(size);
  Filter hist;
  hist.has_addr = true;
  hist.addr = d.index().at(d.events() / 2).addr;
  auto history = d.query(hist, 5000);
  for (size_t k = 1; k < syncs.size(); ++k)
    ASSERT_EQ(d.extend(syncs[k]), trace::TraceFile::Growth::Grown);
  d.wait_searches();
  Document whole;
  whole.open(path);
  ASSERT_EQ(whole.wait(), Document::State::Ready) << whole.error();
  unlink(path.c_str());
  const std::vector<Event> all = all_events(whole);
  ASSERT_EQ(d.events(), all.size());
  EXPECT_EQ(by_size->matches(), brute(all, size));
  EXPECT_EQ(history->matches(), brute(all, hist, 5000));
}

// Closing the document stops its searches for good; the jobs the windows still hold keep what
// they found and never read the closed file.
TEST(QueryJob, ClosingTheDocumentStopsItsSearches) {
  trace::TraceBuilder b(0, 64 * 1024);
  trace::ChurnTrace gen(b, 1, 3, 1000);
  gen.run(300000);
  std::string path = temp_path("close.hvt");
  write_file(path, b.finish());
  Document d;
  d.open(path);
  ASSERT_EQ(d.wait(), Document::State::Ready) << d.error();
  unlink(path.c_str());
  Filter f;
  f.has_size = true;
  f.size_lo = 1;
  f.size_hi = 100;
  auto job = d.query(f);
  d.close();
  EXPECT_FALSE(job->running());
  EXPECT_FALSE(d.searching());
  size_t kept = job->matches().size();
  job->wait();
  EXPECT_EQ(job->matches().size(), kept);
}

// The app's resident memory does not grow with the trace (issue 20): the seeks' replays touch
// the trace's pages all over a big file, and Document::trim_pages releases them once they pass
// its budget. A 20 M-event trace (160 MB, over three times the budget), 300 random seeks: the
// process's file-backed resident memory stays within the budget (plus 48 MiB: what 100 ms of
// seeks touch, and the test's own code paged in as it runs) above
// what it was when the trace became ready, and the trim did run. The model is the same at a
// position before and after a trim.
namespace {
long rss_file_kb() {
  FILE* f = fopen("/proc/self/status", "r");
  char line[256];
  long v = -1;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "RssFile:", 8) == 0) v = strtol(line + 8, nullptr, 10);
  if (f) fclose(f);
  return v;
}
} // namespace

TEST(DocumentMemory, SeeksKeepTheTracesResidentPagesBounded) {
  trace::TraceBuilder b(0, 64 * 1024, "query_job_test");
  trace::ChurnTrace gen(b, 4, 21, 4096);
  gen.run(20000000);
  std::string path = temp_path("pages.hvt");
  auto bytes = b.finish();
  ASSERT_GT(bytes.size(), 2 * Document::kTraceResidentBudget);
  write_file(path, bytes);
  bytes = {};
  Document d;
  d.open(path);
  ASSERT_EQ(d.wait(), Document::State::Ready) << d.error();
  unlink(path.c_str());
  const long base = rss_file_kb();
  ASSERT_GT(base, 0);
  std::mt19937_64 rng(5);
  long worst = 0;
  const uint64_t probe = d.events() / 3;
  d.seek(probe);
  const size_t chunks = d.replay().model().chunk_count();
  const uint64_t heap = d.replay().model().heap_bytes();
  for (int i = 0; i < 300; ++i) {
    d.seek(rng() % (d.events() + 1));
    worst = std::max(worst, rss_file_kb() - base);
  }
  EXPECT_GT(d.pages_trimmed(), 0u) << "300 random seeks over 160 MB touch more than the budget";
  // 48 MiB of budget, and 48 MiB for what the seeks of one 100 ms interval may touch and the
  // libraries' pages the seeks take in (on a loaded host: 66 and 82 MiB in all, once each;
  // without the trim 153 MiB).
  EXPECT_LE(uint64_t(worst) * 1024, Document::kTraceResidentBudget + (48u << 20))
      << "file-backed resident memory grew by " << worst / 1024 << " MiB";
  d.seek(probe);
  EXPECT_EQ(d.replay().model().chunk_count(), chunks);
  EXPECT_EQ(d.replay().model().heap_bytes(), heap);
}
