// bench_live_refresh.cpp - `bench_live_refresh [NEW_EVENTS]`: what a live refresh costs as the
// history grows, the two ways side by side in one run.
//
// For histories of 250 k, 1 M and 4 M events (ChurnTrace: 4 threads, 4096 live chunks) followed
// by syncs of NEW_EVENTS (default 10 000) events each, written as a live capture writes them
// (every thread's block at each sync), it alternates, sync after sync:
//   extend   Document::extend(next sync) on the document already shown (the app's refresh now)
//   reload   Document::open_prefix(next sync) + wait() (the app's refresh before: a whole load)
// and prints the median of each, their ratio and the events a second each refresh works at.
// The claim it checks: an extension costs time proportional to the new events, not the history.
#include "session/document.h"
#include "trace/churn_trace.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>
#include <vector>

using namespace hv;
using Clock = std::chrono::steady_clock;

namespace {
double secs(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
} // namespace

int main(int argc, char** argv) {
  const uint64_t fresh = argc > 1 ? strtoull(argv[1], nullptr, 0) : 10000;
  const int kSyncs = 7;
  std::string path = "/tmp/hv_bench_live_refresh_" + std::to_string(getpid()) + ".hvt";
  printf("live refresh: %llu new events per sync, median of %d syncs each way, alternated\n\n",
         (unsigned long long)fresh, kSyncs);
  printf("| history | extend (ms) | reload (ms) | reload / extend | extend: new events/s |\n");
  printf("|---:|---:|---:|---:|---:|\n");
  for (uint64_t history : {uint64_t(250000), uint64_t(1000000), uint64_t(4000000)}) {
    trace::TraceBuilder b(0, 64 * 1024, "bench_live_refresh");
    trace::ChurnTrace gen(b, 4, 777, 4096);
    gen.run(history);
    b.flush();
    std::vector<uint64_t> syncs = {b.bytes().size()};
    for (int k = 0; k <= kSyncs; ++k) {
      gen.run(b.next_seq() - 1 + fresh);
      b.flush();
      syncs.push_back(b.bytes().size());
    }
    auto bytes = b.finish();
    FILE* f = fopen(path.c_str(), "wb");
    if (!f || fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
      perror(path.c_str());
      return 1;
    }
    fclose(f);

    session::Document shown;
    shown.open_prefix(path, syncs[0]);
    if (shown.wait() != session::Document::State::Ready) {
      fprintf(stderr, "%s\n", shown.error().c_str());
      return 1;
    }
    shown.extend(syncs[1]); // the first extension after a load may reload the end once
    std::vector<double> ext, rel;
    uint64_t extended = 0;
    for (int k = 0; k < kSyncs; ++k) {
      uint64_t to = syncs[size_t(2 + k)]; // both ways end at the same history
      auto t0 = Clock::now();
      shown.extend(to);
      auto t1 = Clock::now();
      session::Document fresh_doc;
      fresh_doc.open_prefix(path, to);
      fresh_doc.wait();
      auto t2 = Clock::now();
      if (fresh_doc.events() != shown.events()) {
        fprintf(stderr, "disagree: extend %llu events, reload %llu\n", (unsigned long long)shown.events(),
                (unsigned long long)fresh_doc.events());
        return 1;
      }
      extended += shown.replay().extended();
      ext.push_back(secs(t0, t1));
      rel.push_back(secs(t1, t2));
    }
    double e = median(ext), r = median(rel);
    printf("| %.2f M | %.2f | %.1f | %.0fx | %.1f M |\n", double(history) / 1e6, e * 1e3, r * 1e3, r / e,
           double(extended) / kSyncs / e / 1e6);
  }
  unlink(path.c_str());
  return 0;
}
