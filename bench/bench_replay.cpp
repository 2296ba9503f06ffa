// bench_replay.cpp - `bench_replay [EVENTS] [FILE]`: writes a synthetic glibc-like churn trace
// (ChurnTrace: 4 threads/arenas, 4096 live chunks, tcache, small bins, top splits and merges,
// mmapped chunks) with BlockEncoder, then measures: open + block index (CRC of every block),
// a bare replay through the public next() + apply() (decode + merge + model, no checkpoints),
// decode + merge alone, the full replay pass (Replay::build: decode + thread merge + model +
// checkpoints) in events/s, and the latency of 200 random seeks and of 25 steps back
// after a seek to each of 20 random places (median and max). Targets: replay >= 50 M events/s, seek <= 20 ms
// on 10 M events.
#include "model/replay.h"
#include "trace/churn_trace.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <sys/resource.h>
#include <unistd.h>

using namespace hv;
using Clock = std::chrono::steady_clock;

static double secs(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

int main(int argc, char** argv) {
  uint64_t events = argc > 1 ? strtoull(argv[1], nullptr, 0) : 10000000;
  std::string path = argc > 2 ? argv[2] : "/tmp/hv_bench_replay_" + std::to_string(getpid()) + ".hvt";
  bool keep = argc > 2;

  auto t0 = Clock::now();
  {
    trace::TraceBuilder b(0, 64 * 1024, "bench_replay");
    trace::ChurnTrace gen(b, 4, 12345, 4096);
    gen.run(events);
    auto bytes = b.finish();
    FILE* f = fopen(path.c_str(), "wb");
    if (!f || fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
      perror(path.c_str());
      return 2;
    }
    fclose(f);
  }
  auto t1 = Clock::now();
  trace::TraceFile file;
  if (!file.open(path) || file.error()) {
    fprintf(stderr, "bench_replay: %s\n", file.error()->describe().c_str());
    return 2;
  }
  auto t2 = Clock::now();
  printf("trace: %llu events, %zu blocks, %zu threads, %.1f MB (%.2f bytes/event); generated in %.2f s\n",
         static_cast<unsigned long long>(file.indexed_events()), file.blocks().size(), file.threads().size(),
         double(file.file_size()) / 1e6, double(file.file_size()) / double(file.indexed_events()),
         secs(t0, t1));
  printf("open + index (CRC of every block): %.1f ms\n", secs(t1, t2) * 1e3);

  // Bare replay: decode + merge + model (best of 3).
  double best = 1e9;
  uint64_t n = 0;
  for (int rep = 0; rep < 3; ++rep) {
    auto a = Clock::now();
    trace::EventStream s(file);
    model::HeapModel m;
    n = 0;
    while (const trace::Event* e = s.next()) {
      m.apply(*e);
      ++n;
    }
    best = std::min(best, secs(a, Clock::now()));
    if (m.anomalies()) fprintf(stderr, "bench_replay: model anomaly: %s\n", m.first_anomaly().c_str());
  }
  printf(
      "replay through next() + apply() (decode + merge + model): %.1f M events/s (%.0f ms for %llu events, "
      "best of 3)\n",
      double(n) / best / 1e6, best * 1e3, static_cast<unsigned long long>(n));

  // Decode + merge only.
  {
    auto a = Clock::now();
    trace::EventStream s(file);
    uint64_t k = 0;
    while (s.next())
      ++k;
    double d = secs(a, Clock::now());
    printf("decode + merge only: %.1f M events/s\n", double(k) / d / 1e6);
  }

  // Scatter decode alone (SeqScatter; the caller only waits and walks the slots), on a worker
  // thread and inline.
  for (bool threaded : {false, true}) {
    auto a = Clock::now();
    trace::SeqScatter sc(file, threaded);
    uint64_t s = sc.first_seq(), ready = s;
    trace::Event e;
    bool ok = true; // take() writes the slot: the loop is not optimised away
    while (ok && (ready = sc.wait(s)) != s)
      for (; s < ready && (ok = sc.take(s, e)); ++s) {
      }
    double d = secs(a, Clock::now());
    printf("scatter decode alone (%s): %.1f M events/s\n", threaded ? "worker thread" : "inline",
           double(s - sc.first_seq()) / d / 1e6);
  }

  // The full pass with checkpoints (Replay::build: decode + merge + model, checkpoints), each way of
  // decoding, interleaved, 3 runs each; best and median. The last Scatter one is kept for the seeks.
  std::unique_ptr<model::Replay> keep_rp;
  struct Way {
    const char* name;
    model::Replay::Decode d;
    std::vector<double> t;
  } ways[] = {{"Stream (EventStream merge, one thread)", model::Replay::Decode::Stream, {}},
              {"ScatterInline (SeqScatter, one thread)", model::Replay::Decode::ScatterInline, {}},
              {"Scatter (SeqScatter on a second thread)", model::Replay::Decode::Scatter, {}}};
  for (int rep = 0; rep < 3; ++rep)
    for (Way& w : ways) {
      keep_rp.reset();
      auto a = Clock::now();
      auto r = std::make_unique<model::Replay>(file);
      r->set_decode(w.d);
      r->build();
      w.t.push_back(secs(a, Clock::now()));
      if (r->model().anomalies())
        fprintf(stderr, "bench_replay: model anomaly: %s\n", r->model().first_anomaly().c_str());
      if (r->handed_over_at() != UINT64_MAX)
        fprintf(stderr, "bench_replay: %s handed over at %llu\n", w.name,
                (unsigned long long)r->handed_over_at());
      keep_rp = std::move(r);
    }
  for (Way& w : ways) {
    std::sort(w.t.begin(), w.t.end());
    printf("full pass, %s: %.1f M events/s best, %.1f median (%.0f / %.0f ms, %zu checkpoints)\n", w.name,
           double(keep_rp->size()) / w.t[0] / 1e6, double(keep_rp->size()) / w.t[1] / 1e6, w.t[0] * 1e3,
           w.t[1] * 1e3, keep_rp->checkpoints());
  }
  model::Replay& rp = *keep_rp;

  std::mt19937_64 rng(99);
  std::vector<double> lat;
  for (int i = 0; i < 200; ++i) {
    uint64_t pos = rng() % (rp.size() + 1);
    auto s0 = Clock::now();
    rp.seek(pos);
    lat.push_back(secs(s0, Clock::now()) * 1e3);
  }
  std::sort(lat.begin(), lat.end());
  printf("seek (200 random): median %.2f ms, max %.2f ms\n", lat[lat.size() / 2], lat.back());
  // Steps back where a user is: 20 random places, each reached by a seek (untimed), then 25
  // steps back from it. The seek left a local checkpoint below its target, so the steps restore
  // that one and replay fewer than kLocalEvery events.
  std::vector<double> back;
  for (int i = 0; i < 20; ++i) {
    rp.seek(rng() % (rp.size() + 1));
    for (int k = 0; k < 25; ++k) {
      auto s0 = Clock::now();
      rp.step_back();
      back.push_back(secs(s0, Clock::now()) * 1e3);
    }
  }
  std::sort(back.begin(), back.end());
  printf("step back (20 places x 25 steps): median %.2f ms, max %.2f ms\n", back[back.size() / 2],
         back.back());
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf(
      "max RSS: %.0f MB (the trace is mmapped; RSS includes its touched pages and the generator's buffer)\n",
      double(ru.ru_maxrss) / 1024);
  if (!keep) unlink(path.c_str());
  return 0;
}
