// bench_gui.cpp - the app's performance targets (issue 4), measured on the real App and views
// with Dear ImGui running headless (no GL: the CPU side of a frame is all we time).
//
//   bench_gui gen EVENTS FILE [THREADS] [LIVE]  write a synthetic churn trace (ChurnTrace)
//   bench_gui load FILE                         open as the app does: time to the first frame,
//                                               time until the heap is shown, 200 random seeks
//                                               (replay + picture), peak resident memory
//   bench_gui frames FILE                       CPU time of whole frames at the end of the
//                                               trace, at zoom levels from fit to bytes
//   bench_gui playground FILE.hvs               a line typed into the Playground: the time
//                                               until the new heap is on screen (30 edits)
//
// Targets: first frame <= 2 s (10 M events) / 3 s (100 M); seek <= 50 ms; frame <= 10 ms with
// 1 M chunks at any zoom; < 1 GiB resident on 100 M events. bench/run_gui_bench.sh runs all.
#include "app/app.h"
#include "trace/churn_trace.h"

#include "imgui.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
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

void imgui_headless(int w, int h) {
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;
  io.DisplaySize = ImVec2(float(w), float(h));
  io.DeltaTime = 1.0f / 60;
  unsigned char* px;
  int tw, th;
  io.Fonts->GetTexDataAsRGBA32(&px, &tw, &th); // builds the font atlas, as a backend would
}

double frame(app::App& a) {
  auto t = Clock::now();
  ImGui::NewFrame();
  a.frame(1.0f / 60);
  ImGui::Render();
  return ms_since(t);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int gen(uint64_t events, const char* path, int threads, size_t live) {
  trace::TraceBuilder b(0, 64 * 1024, "bench_gui");
  trace::ChurnTrace g(b, threads, 777, live);
  FILE* f = fopen(path, "wb");
  bool ok = f != nullptr;
  for (uint64_t done = 0; ok && done < events;) { // 10 M events at a time: 1 B do not fit in memory
    done = std::min(events, done + 10000000);
    g.run(done);
    ok = b.drain(f);
  }
  auto rest = b.finish();
  ok = ok && fwrite(rest.data(), 1, rest.size(), f) == rest.size();
  long size = f ? ftell(f) : 0;
  if (!ok || fclose(f) != 0) {
    perror(path);
    return 2;
  }
  printf("wrote %s: %.1f MB\n", path, double(size) / 1e6);
  return 0;
}

int load(const char* path) {
  imgui_headless(1600, 900);
  auto t0 = Clock::now();
  app::App a(true);
  a.open(path);
  frame(a);
  double first = ms_since(t0), first_heap = -1;
  while (a.doc().state() == session::Document::State::Loading) {
    frame(a);
    if (first_heap < 0 && a.preview_position()) first_heap = ms_since(t0);
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, nullptr);
  }
  frame(a); // the first frame showing the heap
  double ready = ms_since(t0);
  if (a.doc().state() != session::Document::State::Ready) {
    fprintf(stderr, "bench_gui: %s\n", a.doc().error().c_str());
    return 2;
  }
  uint64_t total = a.doc().events();
  std::mt19937_64 rng(42);
  std::vector<double> seeks, replays, pictures;
  for (int i = 0; i < 200; ++i) {
    uint64_t to = rng() % (total + 1);
    auto t = Clock::now();
    a.doc().seek(to); // the replay alone, then the picture the views draw
    replays.push_back(ms_since(t));
    auto t2 = Clock::now();
    a.seek_now(to);
    pictures.push_back(ms_since(t2));
    seeks.push_back(ms_since(t));
  }
  // Stepping: 20 random places, 10 steps forward then 10 back from each (the arrow keys).
  std::vector<double> fwd, back;
  for (int i = 0; i < 20; ++i) {
    uint64_t at = rng() % (total - 20);
    a.seek_now(at);
    for (int k = 1; k <= 10; ++k) {
      auto t = Clock::now();
      a.seek_now(at + uint64_t(k));
      fwd.push_back(ms_since(t));
    }
    for (int k = 9; k >= 0; --k) {
      auto t = Clock::now();
      a.seek_now(at + uint64_t(k));
      back.push_back(ms_since(t));
    }
  }
  std::sort(seeks.begin(), seeks.end());
  if (first_heap < 0) first_heap = ready;
  printf("load %s: %llu events, %zu chunks at the end; first frame %.0f ms; first heap (preview) %.0f ms; "
         "all loaded %.0f ms; "
         "seek median %.1f ms, p99 %.1f ms, max %.1f ms; peak RSS %.0f MiB\n",
         path, (unsigned long long)total, a.doc().replay().model().chunk_count(), first, first_heap, ready,
         seeks[seeks.size() / 2], seeks[seeks.size() * 99 / 100], seeks.back(),
         double(status_kb("VmHWM")) / 1024);
  printf("steps (20 places x 10): forward median %.2f ms (max %.1f), back median %.2f ms (max %.1f)\n",
         median(fwd), *std::max_element(fwd.begin(), fwd.end()), median(back),
         *std::max_element(back.begin(), back.end()));
  printf("of a seek: replay median %.1f ms (max %.1f), picture median %.1f ms (max %.1f)\n", median(replays),
         *std::max_element(replays.begin(), replays.end()), median(pictures),
         *std::max_element(pictures.begin(), pictures.end()));
  // What stays resident: the app's own memory (anonymous: model, index, checkpoints, caches) and
  // the trace's pages still mapped (file-backed; the readers release them behind them).
  printf("resident after the seeks: %.0f MiB (anonymous %.0f MiB, of which the event index %.0f MiB and "
         "the checkpoints %.0f MiB; trace file pages %.0f MiB)\n",
         double(status_kb("VmRSS")) / 1024, double(status_kb("RssAnon")) / 1024,
         double(a.doc().index().memory_bytes()) / (1 << 20),
         double(a.doc().replay().checkpoint_bytes()) / (1 << 20), double(status_kb("RssFile")) / 1024);
  struct mallinfo2 mi = mallinfo2();
  printf("malloc: %.0f MiB in use (%.0f MiB of it mmapped), %.0f MiB free in its arenas; the checkpoints' "
         "slabs: %.0f MiB mapped\n",
         double(mi.uordblks + mi.hblkhd) / (1 << 20), double(mi.hblkhd) / (1 << 20),
         double(mi.fordblks) / (1 << 20), double(a.doc().replay().checkpoint_mapped()) / (1 << 20));
  ImGui::DestroyContext();
  return 0;
}

int frames(const char* path) {
  imgui_headless(1600, 900);
  app::App a(true);
  a.open(path);
  if (a.doc().wait() != session::Document::State::Ready) {
    fprintf(stderr, "bench_gui: %s\n", a.doc().error().c_str());
    return 2;
  }
  a.seek_now(a.doc().events());
  // The Sites window reads its table a slice (8 ms) per frame until it has caught up: read it in
  // full first, so that the frames below time the views, not that catching up.
  a.sites().update(a.doc(), 1e9);
  size_t chunks = a.picture().items.size();
  for (int i = 0; i < 3; ++i)
    frame(a); // fit, layout, caches
  double fit_bpp = a.chunk_map().view.bpp;
  printf("frames %s: %zu chunks (items) on the map\n", path, chunks);
  printf("%-34s %12s %12s\n", "zoom", "first frame", "steady");
  struct Z {
    const char* name;
    double bpp;
    float min_px;
    bool cells;
  };
  const Z zooms[] = {{"fit (exact proportions)", 0, 0, false},
                     {"fit, minimum width 3 px", 0, 3, false},
                     {"16x in", 16, 3, false},
                     {"256x in", 256, 3, false},
                     {"4096x in", 4096, 3, false},
                     {"16 bytes per pixel", -1, 3, false},
                     {"one cell per chunk", 0, 3, true}};
  double worst = 0;
  // BENCH_GUI_REPEAT=N runs the zoom table N times (for a profiler; the table shows the last).
  int repeat = getenv("BENCH_GUI_REPEAT") ? atoi(getenv("BENCH_GUI_REPEAT")) : 1;
  for (int r = 1; r < repeat; ++r)
    for (const Z& z : zooms) {
      views::ChunkMapState& m = a.chunk_map();
      m.view.min_px = z.min_px;
      m.view.cells = z.cells;
      if (z.bpp == 0)
        m.fit_pending = true;
      else
        m.view.bpp = z.bpp < 0 ? 16 : fit_bpp / z.bpp;
      frame(a);
    }
  for (const Z& z : zooms) {
    views::ChunkMapState& m = a.chunk_map();
    m.view.min_px = z.min_px;
    m.view.cells = z.cells;
    if (z.bpp == 0)
      m.fit_pending = true;
    else if (z.bpp < 0)
      m.view.bpp = 16;
    else
      m.view.bpp = fit_bpp / z.bpp;
    double first = frame(a);
    std::vector<double> t;
    for (int i = 0; i < 20; ++i)
      t.push_back(frame(a));
    double steady = median(t);
    worst = std::max({worst, first, *std::max_element(t.begin(), t.end())});
    printf("%-34s %9.2f ms %9.2f ms\n", z.name, first, steady);
  }
  printf("worst frame: %.2f ms\n", worst);
  // The pieces of a zoom change, alone (exact proportions at the fitted zoom).
  {
    views::HeapPicture pic;
    views::build_picture(a.doc().replay().model(), a.doc().policy(),
                         &pic); // the app reuses its picture's memory
    auto t = Clock::now();
    views::build_picture(a.doc().replay().model(), a.doc().policy(), &pic);
    double tb = ms_since(t);
    views::MapView v = a.chunk_map().view;
    v.min_px = 0;
    v.cells = false;
    t = Clock::now();
    v.bpp = views::fit_bpp(pic, v, 500);
    double tf = ms_since(t);
    views::MapLayout l;
    views::layout_map(pic, v, &l); // likewise its layout's
    t = Clock::now();
    views::layout_map(pic, v, &l);
    double tl = ms_since(t);
    std::vector<views::MapRect> r;
    t = Clock::now();
    views::visible_rects(pic, l, v, 0, 500, &r);
    double tr = ms_since(t);
    printf("pieces: build_picture %.1f ms (per seek), fit %.1f ms, layout %.1f ms, visible rects %.1f ms "
           "(%zu rects)\n",
           tb, tf, tl, tr, r.size());
  }
  ImGui::DestroyContext();
  return 0;
}

} // namespace

// The Playground (app/playground.cpp): a line appended to a scenario, 30 times; each time, the
// time from the edit until a frame shows the new heap (the 120 ms pause that waits for typing to
// stop included, and without it: the run itself).
int playground(const char* path) {
  imgui_headless(1600, 900);
  app::App a(true);
  a.start_playground(path);
  for (int i = 0; i < 2000 && (a.doc().state() != session::Document::State::Ready || a.simulating()); ++i) {
    frame(a);
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, nullptr);
  }
  if (a.doc().state() != session::Document::State::Ready) {
    fprintf(stderr, "bench_gui: %s: %s\n", path, a.playground().error.c_str());
    return 2;
  }
  size_t lines = size_t(std::count(a.playground().text.begin(), a.playground().text.end(), '\n'));
  std::vector<double> with_pause, run;
  for (int k = 0; k < 30; ++k) {
    const uint64_t before = a.doc().events();
    a.playground().text += "bench" + std::to_string(k) + " = malloc 24\n";
    a.playground().edited = true;
    ++a.playground().generation; // (a change from outside the editor, as File > Open makes)
    auto t = Clock::now();
    Clock::time_point started{};
    for (int guard = 0; a.doc().events() == before; ++guard) {
      if (guard == 5000) {
        fprintf(stderr, "bench_gui: edit %d never showed (text %zu bytes, error '%s')\n", k,
                a.playground().text.size(), a.playground().error.c_str());
        return 2;
      }
      frame(a);
      if (started == Clock::time_point{} && a.playground().simulating) started = Clock::now();
      struct timespec ts = {0, 1000000};
      nanosleep(&ts, nullptr);
    }
    frame(a); // the frame that shows it
    with_pause.push_back(ms_since(t));
    run.push_back(ms_since(started));
  }
  std::sort(with_pause.begin(), with_pause.end());
  std::sort(run.begin(), run.end());
  printf("playground %s: %zu lines, %llu events; edit to new heap on screen: median %.0f ms, max %.0f ms "
         "(the run itself: median %.1f ms, max %.1f ms; the rest is the %s pause for typing)\n",
         path, lines, (unsigned long long)a.doc().events(), median(with_pause), with_pause.back(),
         median(run), run.back(), "120 ms");
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 4 && strcmp(argv[1], "gen") == 0)
    return gen(strtoull(argv[2], nullptr, 0), argv[3], argc > 4 ? atoi(argv[4]) : 4,
               argc > 5 ? size_t(strtoull(argv[5], nullptr, 0)) : 4096);
  if (argc == 3 && strcmp(argv[1], "load") == 0) return load(argv[2]);
  if (argc == 3 && strcmp(argv[1], "frames") == 0) return frames(argv[2]);
  if (argc == 3 && strcmp(argv[1], "playground") == 0) return playground(argv[2]);
  if (argc == 3 && strcmp(argv[1], "picture") == 0) { // profiling aid: 20 picture builds
    app::App a(true);
    a.open(argv[2]);
    a.doc().wait();
    views::HeapPicture pic;
    std::vector<double> ms;
    for (int i = 0; i < 20; ++i) {
      auto t = Clock::now();
      views::build_picture(a.doc().replay().model(), a.doc().policy(), &pic);
      ms.push_back(ms_since(t));
    }
    printf("build_picture of %zu chunks: median %.1f ms\n", a.doc().replay().model().chunk_count(),
           median(ms));
    return 0;
  }
  fprintf(stderr, "usage: bench_gui gen EVENTS FILE [THREADS] [LIVE] | load FILE | frames FILE\n");
  return 2;
}
