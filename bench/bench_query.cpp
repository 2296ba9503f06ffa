// bench_query.cpp - the Chunk window's history and the Events window's filters on a large trace
// (issue 19, "no stalls": at most 1 s on 20 M events). Owns the benchmark only; must not be
// linked into heapviz.
//
//   bench_query gen EVENTS FILE [THREADS]   write a synthetic churn trace (ChurnTrace)
//   bench_query run FILE [RUNS]             open it as the app does, then time each search both
//                                           ways, alternated RUNS times (default 3):
//     scan   the search before: analysis::QueryScan over every group with a wanted kind, here at
//            full speed on the calling thread (the app gave it 4-6 ms a frame, so it took about
//            4x this at 60 Hz, and far longer when the window idled at 4 frames a second);
//     job    now: Document::query, a session::QueryJob on its own thread that reads only the
//            groups the index's summaries (analysis::GroupSummary) say may match; timed from
//            the start until every match is handed over.
//   Both answers are compared (a difference fails the run). Also prints the loading time, the
//   index's bytes per event and the peak resident memory.
#include "session/document.h"
#include "trace/churn_trace.h"
#include "trace/trace_builder.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace hv;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point a) {
  return std::chrono::duration<double, std::milli>(Clock::now() - a).count();
}

long status_kb(const char* key) { // VmHWM, VmRSS from /proc/self/status
  FILE* f = fopen("/proc/self/status", "r");
  char line[256];
  long v = -1;
  size_t n = strlen(key);
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, key, n) == 0 && line[n] == ':') v = strtol(line + n + 1, nullptr, 10);
  if (f) fclose(f);
  return v;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// The search before: groups skipped by their kinds only, read through the index.
class KindsOnly : public analysis::EventSource {
public:
  explicit KindsOnly(session::EventIndex& ix) : ix_(ix) {}
  uint64_t event_count() const override { return ix_.size(); }
  uint64_t group_size() const override { return ix_.group_size(); }
  uint32_t kinds_in_group(uint64_t g) const override { return ix_.group_kinds(g); }
  void read_events(uint64_t first, uint64_t count, std::vector<trace::Event>* out) override {
    ix_.read(first, count, out);
  }

private:
  session::EventIndex& ix_;
};

int gen(uint64_t events, const char* path, int threads) {
  trace::TraceBuilder b(0, 64 * 1024, "bench_query");
  trace::ChurnTrace g(b, threads, 777, 4096);
  g.run(events);
  auto bytes = b.finish();
  FILE* f = fopen(path, "wb");
  if (!f || fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
    perror(path);
    return 2;
  }
  fclose(f);
  printf("wrote %s: %.1f MB\n", path, double(bytes.size()) / 1e6);
  return 0;
}

struct Query {
  const char* what;
  analysis::Filter f;
  size_t max;
  std::vector<double> scan_ms, job_ms;
  size_t matches = 0;
  double groups_read = 0; // the share of groups the summaries let through
};

int run(const char* path, int runs) {
  auto t0 = Clock::now();
  session::Document doc;
  doc.open(path);
  if (doc.wait() != session::Document::State::Ready) {
    fprintf(stderr, "bench_query: %s\n", doc.error().c_str());
    return 2;
  }
  double load = ms_since(t0);
  session::EventIndex& ix = doc.index();
  const uint64_t n = ix.size();
  printf("load %s: %llu events in %.0f ms; event index %.3f bytes/event (%.1f MiB, of which the group "
         "summaries %.1f MiB); peak RSS %.0f MiB\n",
         path, (unsigned long long)n, load, double(ix.memory_bytes()) / double(n),
         double(ix.memory_bytes()) / 1048576.0,
         double((n + ix.kGroup - 1) / ix.kGroup * sizeof(analysis::GroupSummary)) / 1048576.0,
         double(status_kb("VmHWM")) / 1024);

  // Histories of chunks picked at random events (as a click on the map picks one: the chunk's
  // address, capped at 5000 events as the Chunk window asks), and the Events window's filters.
  std::vector<Query> qs;
  std::mt19937_64 rng(42);
  for (int k = 0; k < 8; ++k) {
    trace::Event e = ix.at(rng() % n);
    if (!e.addr) {
      --k;
      continue;
    }
    Query q{"history of a chunk", {}, 5000, {}, {}};
    q.f.has_addr = true;
    q.f.addr = e.addr;
    qs.push_back(q);
  }
  auto filter = [&](const char* what, auto set) {
    Query q{what, {}, SIZE_MAX, {}, {}};
    set(q.f);
    qs.push_back(q);
  };
  filter("filter: address (a chunk)", [&](analysis::Filter& f) {
    f.has_addr = true;
    f.addr = qs[0].f.addr;
  });
  filter("filter: size 1000-1100", [](analysis::Filter& f) {
    f.has_size = true;
    f.size_lo = 1000;
    f.size_hi = 1100;
  });
  filter("filter: size 200000-300000 (mmapped)", [](analysis::Filter& f) {
    f.has_size = true;
    f.size_lo = 200000;
    f.size_hi = 300000;
  });
  filter("filter: kind merge", [](analysis::Filter& f) { f.kinds = analysis::kKindMerge; });
  filter("filter: thread 1002, kind free", [](analysis::Filter& f) {
    f.has_tid = true;
    f.tid = 1002;
    f.kinds = analysis::kKindFree;
  });

  for (int r = 0; r < runs; ++r)
    for (Query& q : qs) {
      // Alternated: the scan before, then the job (then, next run, again).
      analysis::QueryScan scan;
      KindsOnly src(ix);
      auto t = Clock::now();
      scan.start(q.f, q.max);
      scan.step(src, 0);
      q.scan_ms.push_back(ms_since(t));
      t = Clock::now();
      auto job = doc.query(q.f, q.max);
      job->wait();
      const std::vector<uint64_t>& m = job->matches();
      q.job_ms.push_back(ms_since(t));
      if (m != scan.matches()) {
        fprintf(stderr, "bench_query: %s: the job found %zu matches, the scan %zu\n", q.what, m.size(),
                scan.matches().size());
        return 1;
      }
      q.matches = m.size();
      uint64_t may = 0, groups = (n + ix.kGroup - 1) / ix.kGroup;
      for (uint64_t g = 0; g < groups; ++g)
        may += ix.group_may_match(g, q.f);
      q.groups_read = double(may) / double(groups);
    }

  printf("%-38s %9s %7s %12s %12s %12s %8s\n", "search (alternated runs)", "matches", "groups", "scan median",
         "job median", "job max", "ratio");
  std::vector<double> hist_scan, hist_job;
  for (const Query& q : qs) {
    double js = median(q.job_ms), ss = median(q.scan_ms);
    printf("%-38s %9zu %6.0f%% %9.1f ms %9.1f ms %9.1f ms %7.1fx\n", q.what, q.matches, 100 * q.groups_read,
           ss, js, *std::max_element(q.job_ms.begin(), q.job_ms.end()), ss / std::max(js, 1e-3));
    if (q.max == 5000) {
      hist_scan.insert(hist_scan.end(), q.scan_ms.begin(), q.scan_ms.end());
      hist_job.insert(hist_job.end(), q.job_ms.begin(), q.job_ms.end());
    }
  }
  printf("histories (%zu chunks x %d runs): scan median %.1f ms, job median %.1f ms, job max %.1f ms\n",
         qs.size() - 5, runs, median(hist_scan), median(hist_job),
         *std::max_element(hist_job.begin(), hist_job.end()));
  printf("peak RSS %.0f MiB\n", double(status_kb("VmHWM")) / 1024);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc >= 4 && !strcmp(argv[1], "gen"))
    return gen(strtoull(argv[2], nullptr, 10), argv[3], argc > 4 ? atoi(argv[4]) : 4);
  if (argc >= 3 && !strcmp(argv[1], "run")) return run(argv[2], argc > 3 ? atoi(argv[3]) : 3);
  fprintf(stderr, "usage: bench_query gen EVENTS FILE [THREADS] | bench_query run FILE [RUNS]\n");
  return 2;
}
