// app_test.cpp - the app driven in-process: the real App and views with Dear ImGui headless (no
// window, no GL: ImGui builds its draw lists and nothing draws them), frames stepped by hand with
// synthetic input (keys queued as the shell queues them, the mouse through ImGuiIO), asserting on
// what the user would see change: the position, the selection, the zoom, playing. Deterministic:
// time is the dt each frame is given. One xdotool smoke per mode stays (tests/gui/interact_test.sh,
// tests/live/live_interact_test.sh) to check the real window's input path.
#include "app/app.h"
#include "session/lesson.h"

#include "imgui.h"
#include "imgui_internal.h" // ImGuiWindow: what a window's items reach

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace hv;
using Key = app::App::Key;
using State = session::Document::State;

namespace {

const std::string kDemo = std::string(HV_SOURCE_DIR) + "/assets/scenarios/demo.hvs";

// An ImGui context of a 1600x900 window, as `heapviz shot` and the xdotool tests use (or of
// another size).
struct Headless {
  explicit Headless(ImVec2 size = ImVec2(1600, 900)) {
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;
    io.DisplaySize = size;
    io.DeltaTime = 1.0f / 60;
    unsigned char* px;
    int w, h;
    io.Fonts->GetTexDataAsRGBA32(&px, &w, &h); // builds the font atlas, as a backend would
  }
  ~Headless() { ImGui::DestroyContext(); }
};

struct Driven {
  Headless imgui;
  app::App a{true}; // the default layout, whatever the user's imgui.ini says
  explicit Driven(const std::string& path = kDemo, ImVec2 size = ImVec2(1600, 900)) : imgui(size) {
    a.open(path);
    // Loading runs in the background: wait for it by the clock, not by a count of frames (2000
    // frames without a pause were not enough while ctest ran other tests on both cores).
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (a.doc().state() == State::Loading && std::chrono::steady_clock::now() < give_up) {
      frame();
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    EXPECT_EQ(a.doc().state(), State::Ready) << a.doc().error();
    frames(3); // laid out, fitted
  }
  void frame(float dt = 1.0f / 60) {
    ImGui::GetIO().DeltaTime = dt;
    ImGui::NewFrame();
    a.frame(dt);
    ImGui::Render();
  }
  void frames(int n, float dt = 1.0f / 60) {
    for (int i = 0; i < n; ++i)
      frame(dt);
  }
  void key(Key k) {
    a.key(k);
    frame();
  }
  void mouse_to(float x, float y) {
    ImGui::GetIO().MousePos = ImVec2(x, y);
    frame();
  }
  void click(float x, float y) { // a press and a release a frame apart, as a hand does
    mouse_to(x, y);
    ImGui::GetIO().MouseDown[0] = true;
    frame();
    ImGui::GetIO().MouseDown[0] = false;
    frame();
  }
  void wheel(float x, float y, float notches) {
    mouse_to(x, y);
    ImGui::GetIO().MouseWheel = notches;
    frame();
    ImGui::GetIO().MouseWheel = 0;
    frame();
  }
  // The centre of where the map drew the chunk of `size` bytes that comes first, in use.
  bool find_chunk(uint64_t size, uint64_t* addr, float* x, float* y) {
    a.chunk_map().record_geometry = true;
    frame();
    a.chunk_map().record_geometry = false;
    const views::HeapPicture& pic = a.picture();
    for (const auto& d : a.chunk_map().drawn) {
      const auto& it = pic.items[size_t(d.item)];
      if (it.size == size && d.paint == views::Paint::InUse) {
        *addr = it.addr;
        *x = (d.x0 + d.x1) / 2;
        *y = (d.y0 + d.y1) / 2;
        return true;
      }
    }
    return false;
  }
};

} // namespace

TEST(AppInProcess, TheDemoOpensAtItsEnd) {
  Driven d;
  EXPECT_EQ(d.a.doc().events(), 141u);
  EXPECT_EQ(d.a.doc().position(), 141u);
  EXPECT_EQ(d.a.picture().position, 141u); // the map shows the heap at the end
  EXPECT_EQ(d.a.cursor().selected, 0u);
}

// In a small window (a laptop's half screen) every window's bars wrap their groups onto another
// line, and its hints wrap: no button, count or key runs past a window's right edge (where ImGui
// would clip it), at the demo's start and end, and on each tab of Sites. (Top-level windows; a
// window that scrolls sideways, Bins, is left out.)
TEST(AppInProcess, BarsWrapInANarrowWindowAndNothingIsClipped) {
  for (ImVec2 size : {ImVec2(900, 700), ImVec2(1600, 900)}) {
    Driven d(kDemo, size);
    for (int step = 0; step < 5; ++step) {
      // The start, the end, then the Sites window's other tabs at the end.
      if (step < 2) d.a.key(step == 0 ? Key::Home : Key::End);
      if (step >= 2) {
        d.a.sites_view().tab = step - 1;
        d.a.sites_view().tab_request = true;
      }
      d.frames(6); // a scrollbar that comes with the new content takes a frame more to settle
      SCOPED_TRACE("step " + std::to_string(step));
      int windows = 0;
      for (ImGuiWindow* w : ImGui::GetCurrentContext()->Windows) {
        if (!w->Active || w->ParentWindow || std::string(w->Name) == "##MainMenuBar") continue;
        ++windows;
        // Bins scrolls sideways instead (its rows keep their ends): nothing to clip there.
        if (w->Flags & ImGuiWindowFlags_HorizontalScrollbar) continue;
        EXPECT_LE(w->ContentSize.x, w->WorkRect.GetWidth() + 0.5f)
            << w->Name << " at " << size.x << "x" << size.y << ": its items reach past its right edge";
      }
      EXPECT_GE(windows, 8); // the map, timeline, events, sites, metrics, chunk, bins, arenas
    }
  }
}

TEST(AppInProcess, KeysStepSeekAndReturn) {
  Driven d;
  d.key(Key::Home);
  EXPECT_EQ(d.a.doc().position(), 0u);
  for (int i = 0; i < 12; ++i)
    d.key(Key::Right);
  d.key(Key::Left);
  EXPECT_EQ(d.a.doc().position(), 11u);
  EXPECT_EQ(d.a.picture().position, 11u); // and the picture followed
  d.key(Key::End);
  EXPECT_EQ(d.a.doc().position(), 141u);
  d.key(Key::Right); // past the end: stays
  EXPECT_EQ(d.a.doc().position(), 141u);
}

TEST(AppInProcess, AClickOnTheMapSelectsTheChunkUnderThePointer) {
  Driven d;
  uint64_t addr = 0;
  float x = 0, y = 0;
  ASSERT_TRUE(d.find_chunk(1008, &addr, &x, &y)) << "no in-use chunk of 0x3f0 bytes drawn";
  d.click(x, y);
  EXPECT_EQ(d.a.cursor().selected, addr);
  // Stepping keeps the selection; a click on empty space far from any chunk keeps it too (the
  // inspector stays on it until another chunk is clicked).
  d.key(Key::Left);
  EXPECT_EQ(d.a.cursor().selected, addr);
}

TEST(AppInProcess, TheWheelOverTheMapZoomsInAndStopsFitting) {
  Driven d;
  double fit = d.a.chunk_map().view.bpp;
  uint64_t addr = 0;
  float x = 0, y = 0;
  ASSERT_TRUE(d.find_chunk(1008, &addr, &x, &y));
  d.wheel(x, y, 1);
  double zoomed = d.a.chunk_map().view.bpp;
  EXPECT_LT(zoomed, fit * 0.9) << "one notch up zooms in";
  EXPECT_FALSE(d.a.chunk_map().fit_each); // zoomed by hand: steps no longer re-fit
  d.key(Key::Home);
  EXPECT_DOUBLE_EQ(d.a.chunk_map().view.bpp, zoomed);
  d.wheel(x, y, -1);
  EXPECT_GT(d.a.chunk_map().view.bpp, zoomed * 1.1) << "one notch down zooms out";
}

TEST(AppInProcess, SpacePlaysAtTwentyEventsASecondAndPauses) {
  Driven d;
  d.key(Key::Home);
  d.key(Key::Space);
  EXPECT_TRUE(d.a.cursor().playing);
  d.frames(60); // one second of frames at 60 Hz
  d.key(Key::Space);
  EXPECT_FALSE(d.a.cursor().playing);
  uint64_t pos = d.a.doc().position();
  EXPECT_GE(pos, 19u);
  EXPECT_LE(pos, 22u); // 20 events/s, give or take the frames around the presses
  d.frames(30);
  EXPECT_EQ(d.a.doc().position(), pos); // paused
  // Playing at the end stops at once.
  d.key(Key::End);
  d.key(Key::Space);
  d.frames(5);
  EXPECT_EQ(d.a.doc().position(), 141u);
  EXPECT_FALSE(d.a.cursor().playing);
}

TEST(AppInProcess, OpeningAMissingFileSaysWhyAndKeepsTheShownOne) {
  Driven d;
  d.key(Key::Home);
  d.key(Key::Right);
  std::string missing = "/nonexistent-dir/no-such-file.hvt";
  d.a.open(missing);
  for (int i = 0; i < 500 && d.a.pending(); ++i)
    d.frame();
  EXPECT_EQ(d.a.pending(), nullptr);
  EXPECT_NE(d.a.open_error().find(missing + ": offset 0: cannot open"), std::string::npos)
      << d.a.open_error();
  EXPECT_EQ(d.a.doc().events(), 141u); // the demo is still shown, where the user was
  EXPECT_EQ(d.a.doc().position(), 1u);
}

// Heap errors (tests/views/error_trace.h, written at build time by hv_make_error_trace): Run
// forward / back and play stop at them, and a click on a red mark of the timeline goes to one.
// The Metrics window shows every one of its rows in the default layout: no scrollbar hides the
// last ones (it was 210 px high, and cut "chunks" in half at 1600x900). On the demo (ten rows) and
// on a trace with heap errors (an eleventh), at a laptop's and a desktop's window size.
TEST(AppInProcess, MetricsShowsAllItsRowsWithoutScrolling) {
  for (const std::string& path : {kDemo, std::string(HV_ERROR_TRACE)})
    for (ImVec2 size : {ImVec2(1280, 720), ImVec2(1600, 900)}) {
      Driven d(path, size);
      d.key(Key::End);
      d.frames(4);
      ImGuiWindow* w = ImGui::FindWindowByName("Metrics");
      ASSERT_NE(w, nullptr);
      SCOPED_TRACE(path + " at " + std::to_string(int(size.x)) + "x" + std::to_string(int(size.y)));
      if (path != kDemo) {
        ASSERT_GT(d.a.doc().replay().model().errors(), 0u); // the eleventh row
      }
      EXPECT_TRUE(w->Active);
      EXPECT_FALSE(w->ScrollbarY) << "content " << w->ContentSize.y << " px in " << w->InnerRect.GetHeight();
      EXPECT_EQ(w->ScrollMax.y, 0.0f);
    }
}

// The Arenas window is as tall as its rows: a threaded program's arenas each show, without
// scrolling (it had 38% of what Metrics and Chunk leave, and showed the main arena's row only).
TEST(AppInProcess, ArenasShowsARowForEveryArena) {
  Driven d(std::string(HV_SOURCE_DIR) + "/tests/data/v2-threads.hvt");
  d.key(Key::End);
  d.frames(4);
  ASSERT_EQ(d.a.doc().replay().model().arena_count(), 2u);
  int tables = 0;
  for (ImGuiWindow* w : ImGui::GetCurrentContext()->Windows) {
    bool in_arenas = false;
    for (ImGuiWindow* p = w; p; p = p->ParentWindow)
      in_arenas |= std::string(p->Name) == "Arenas";
    if (!in_arenas || !w->Active) continue;
    tables += w->ParentWindow != nullptr; // the table's own scrolling child
    EXPECT_EQ(w->ScrollMax.y, 0.0f) << w->Name << ": " << w->ContentSize.y << " px in "
                                    << w->InnerRect.GetHeight();
  }
  EXPECT_EQ(tables, 1);
}

// A large UI scale in a small window: every window keeps room for its title and a line or two,
// and stays on the screen (Metrics as tall as its rows and a taller timeline left Bins, Arenas
// and Events negative heights at scale 2 in 1280x720).
TEST(AppInProcess, EveryWindowKeepsRoomAtALargeUiScale) {
  for (float scale : {1.0f, 1.5f, 2.0f}) {
    Driven d(kDemo, ImVec2(1280, 720));
    ImGui::GetIO().FontGlobalScale = scale;
    ImGui::GetStyle().ScaleAllSizes(scale);
    d.frames(4);
    SCOPED_TRACE("UI scale " + std::to_string(scale));
    int windows = 0;
    for (ImGuiWindow* w : ImGui::GetCurrentContext()->Windows) {
      if (!w->Active || w->ParentWindow || std::string(w->Name) == "##MainMenuBar") continue;
      ++windows;
      EXPECT_GE(w->Size.y, 2 * ImGui::GetFrameHeight()) << w->Name << ": " << w->Size.y << " px high";
      EXPECT_LE(w->Pos.y + w->Size.y, 720.5f) << w->Name << " ends below the window";
    }
    EXPECT_GE(windows, 8);
    // The map fits the heap in its rows, titles and rows grown with the scale: a zoom that shows
    // chunks (the titles overflowing the map once chose 219 GiB a pixel: no chunk drawn).
    EXPECT_LT(d.a.chunk_map().view.bpp, 65536.0) << "bytes a pixel";
    EXPECT_GE(d.a.chunk_map().view.title_h, ImGui::GetTextLineHeight());
  }
}

TEST(AppInProcess, RunToErrorsPlayStopsAndAClickOnAnErrorMark) {
  Driven d(HV_ERROR_TRACE);
  const session::ErrorList& el = d.a.doc().errors();
  ASSERT_EQ(el.size(), 3u);
  auto settle = [&] { // until the search (8 ms a frame) has stopped
    for (int i = 0; i < 100 && d.a.breakpoints().search.searching(); ++i)
      d.frame();
    d.frame();
  };
  d.key(Key::Home);
  d.a.cursor().run = 1;
  settle();
  EXPECT_EQ(d.a.doc().position(), el.event(0) + 1);
  EXPECT_EQ(d.a.cursor().error, 0);
  EXPECT_EQ(d.a.cursor().selected, el.at(0).chunk);
  d.a.cursor().run = 1;
  settle();
  EXPECT_EQ(d.a.doc().position(), el.event(1) + 1);
  EXPECT_EQ(d.a.cursor().error, 1);
  d.a.cursor().run = -1;
  settle();
  EXPECT_EQ(d.a.doc().position(), el.event(0) + 1);
  d.a.cursor().run = -1; // nothing before the first: stays, and says so
  settle();
  EXPECT_EQ(d.a.doc().position(), el.event(0) + 1);
  EXPECT_NE(d.a.breakpoints().message.find("no earlier event"), std::string::npos)
      << d.a.breakpoints().message;
  // Play stops at the next error (the default conditions), even at a million events a second.
  d.a.cursor().speed = 1e6;
  d.a.cursor().playing = true;
  d.frames(5);
  EXPECT_FALSE(d.a.cursor().playing);
  EXPECT_EQ(d.a.doc().position(), el.event(1) + 1);
  // A seek with the keys stops at an error on the way once "seeks stop" is ticked.
  d.key(Key::Home);
  d.a.breakpoints().bp.stop_seeks = true;
  d.key(Key::End);
  settle();
  EXPECT_EQ(d.a.doc().position(), el.event(0) + 1);
  d.a.breakpoints().bp.stop_seeks = false;
  // A click on error 3's mark on the timeline: its event, its block.
  d.key(Key::Home);
  const views::TimelineState& tl = d.a.timeline();
  ASSERT_EQ(tl.drawn_error_x.size(), 3u);
  d.click(tl.drawn_error_x[2], (tl.curves_y0 + tl.curves_y1) / 2);
  d.frame();
  EXPECT_EQ(d.a.cursor().error, 2);
  EXPECT_EQ(d.a.doc().position(), el.event(2) + 1);
  EXPECT_EQ(d.a.cursor().selected, el.at(2).chunk);
}

namespace {

// Frames until the open lesson shows its step (the document reopened on the step's policy, if it
// changed, on a loading thread).
bool settle_lesson(Driven& d) {
  for (int i = 0; i < 20000; ++i) {
    d.frame();
    const views::LessonState& l = d.a.lesson();
    if (l.active && l.applied && d.a.doc().state() == State::Ready && !d.a.pending() &&
        d.a.picture().position == d.a.doc().position())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1)); // the loading thread, not time
  }
  return false;
}

} // namespace

TEST(AppInProcess, OneClickFromTheDemoStartsLessonOneAtItsFirstStep) {
  Driven d; // the demo, as scripts/run opens it
  ASSERT_FALSE(d.a.lesson().catalog.empty()) << "no lessons found in " << d.a.lesson().dir;
  const views::LessonState& l = d.a.lesson();
  ASSERT_GT(l.start_x1, l.start_x0) << "the menu bar has no 'Start lesson 1'";
  d.click((l.start_x0 + l.start_x1) / 2, (l.start_y0 + l.start_y1) / 2);
  ASSERT_TRUE(settle_lesson(d));
  EXPECT_EQ(l.lesson.name, "vocabulary");
  EXPECT_EQ(l.step, 0);
  EXPECT_EQ(d.a.doc().path(), l.lesson.path);
  EXPECT_EQ(int64_t(d.a.doc().position()), session::step_position(d.a.doc(), l.lesson.steps[0]));
  ASSERT_EQ(d.a.cursor().callouts.size(), l.lesson.steps[0].show.size());
  EXPECT_EQ(d.a.cursor().callouts[0].name, "a");
  // The first block named is selected: its chunk holds the pointer the scenario bound to a.
  int64_t i = d.a.picture().find(d.a.cursor().callouts[0].addr);
  ASSERT_GE(i, 0);
  EXPECT_EQ(d.a.cursor().selected, d.a.picture().items[size_t(i)].addr);
  // Next: the following mark, its blocks.
  d.a.cursor().lesson_step = 1;
  ASSERT_TRUE(settle_lesson(d));
  EXPECT_EQ(l.step, 1);
  EXPECT_EQ(int64_t(d.a.doc().position()), session::step_position(d.a.doc(), l.lesson.steps[1]));
  EXPECT_EQ(d.a.cursor().callouts.size(), 3u); // a, b, c
  // Stepping away from the step's event hides the outlines (the pointers may lie elsewhere then);
  // coming back shows them again.
  d.key(Key::Home);
  d.frame();
  EXPECT_TRUE(d.a.cursor().callouts.empty());
  d.a.cursor().lesson_step = 1;
  ASSERT_TRUE(settle_lesson(d));
  EXPECT_EQ(d.a.cursor().callouts.size(), 3u);
  // Opening another file closes the lesson.
  d.a.open(kDemo);
  d.frame();
  EXPECT_FALSE(l.active);
}

TEST(AppInProcess, ALessonOnSeveralPoliciesFollowsEachStepsPolicy) {
  Driven d;
  d.a.open_lesson(std::string(HV_SOURCE_DIR) + "/assets/lessons/04-fits.hvs", 0);
  const views::LessonState& l = d.a.lesson();
  ASSERT_TRUE(l.active);
  ASSERT_GE(l.lesson.policies.size(), 4u);
  std::vector<std::string> seen;
  for (int k = 0; k < int(l.lesson.steps.size()); ++k) {
    d.a.cursor().lesson_step = k;
    ASSERT_TRUE(settle_lesson(d)) << "step " << k;
    const session::LessonStep& st = l.lesson.steps[size_t(k)];
    EXPECT_TRUE(l.problem.empty()) << l.problem;
    EXPECT_EQ(d.a.doc().scenario_policy(), st.policy) << "step " << k;
    EXPECT_EQ(std::string(d.a.doc().policy().name), st.policy) << "the trace header names the policy";
    EXPECT_EQ(int64_t(d.a.doc().position()), session::step_position(d.a.doc(), st));
    EXPECT_FALSE(d.a.cursor().callouts.empty());
    if (std::find(seen.begin(), seen.end(), st.policy) == seen.end()) seen.push_back(st.policy);
  }
  EXPECT_EQ(seen, l.lesson.policies); // every policy shown, in the lesson's order
}

TEST(AppInProcess, EveryStepOfEveryLessonShowsItsMarkAndBlocks) {
  Driven d;
  const views::LessonState& l = d.a.lesson();
  ASSERT_GE(l.catalog.size(), 10u);
  for (const session::Lesson& lesson : std::vector<session::Lesson>(l.catalog)) {
    d.a.open_lesson(lesson.path, 0);
    for (int k = 0; k < int(lesson.steps.size()); ++k) {
      d.a.cursor().lesson_step = k;
      ASSERT_TRUE(settle_lesson(d)) << lesson.name << " step " << k + 1;
      const session::LessonStep& st = lesson.steps[size_t(k)];
      EXPECT_TRUE(l.problem.empty()) << lesson.name << " step " << k + 1 << ": " << l.problem;
      EXPECT_TRUE(d.a.doc().error().empty()) << lesson.name << ": " << d.a.doc().error();
      EXPECT_EQ(d.a.doc().scenario_policy(), st.policy);
      EXPECT_EQ(int64_t(d.a.doc().position()), session::step_position(d.a.doc(), st));
      EXPECT_FALSE(st.text.empty()) << lesson.name << " step " << k + 1 << " says nothing";
      // Every block it names is on the map (in a chunk of the picture), unless it is NULL.
      int on_map = 0;
      for (const auto& c : d.a.cursor().callouts)
        on_map += d.a.picture().find(c.addr) >= 0;
      EXPECT_GE(on_map, 1) << lesson.name << " step " << k + 1 << " outlines nothing";
    }
  }
}

// tests/data/v1-sort.hvt as the trace of process pid whose parent is ppid (the header's fields).
void write_trace_as(const std::string& dst, uint32_t pid, uint32_t ppid) {
  FILE* in = fopen((std::string(HV_SOURCE_DIR) + "/tests/data/v1-sort.hvt").c_str(), "rb");
  ASSERT_NE(in, nullptr);
  std::vector<char> b(1 << 20);
  b.resize(fread(b.data(), 1, b.size(), in));
  fclose(in);
  ASSERT_GT(b.size(), 144u);
  memcpy(&b[112], &pid, 4);
  memcpy(&b[116], &ppid, 4);
  FILE* out = fopen(dst.c_str(), "wb");
  fwrite(b.data(), 1, b.size(), out);
  fclose(out);
}

TEST(AppInProcess, FileOpenChildListsTheChildProcessesTracesAndOpensOne) {
  char tmpl[] = "/tmp/hvchild_XXXXXX";
  const std::string dir = mkdtemp(tmpl), root = dir + "/rec.hvt";
  write_trace_as(root, 500, 1);
  write_trace_as(root + ".501", 501, 500); // a child
  write_trace_as(root + ".502", 502, 501); // its child
  Driven d(root);
  const app::App::ChildrenMenu& m = d.a.children_menu();
  auto centre = [&](const std::array<float, 4>& r) { return ImVec2((r[0] + r[2]) / 2, (r[1] + r[3]) / 2); };
  d.click(18, 9); // File, the menu bar's first item
  d.frames(2);
  ASSERT_EQ(m.list.size(), 2u);
  EXPECT_EQ(m.list[0].pid, 501u);
  EXPECT_EQ(m.list[0].depth, 1);
  EXPECT_EQ(m.list[1].pid, 502u);
  EXPECT_EQ(m.list[1].depth, 2);
  EXPECT_EQ(m.list[1].cmdline, "sort -n /tmp/in.txt");
  ASSERT_GT(m.item[2], m.item[0]) << "File has no 'Open child'";
  d.mouse_to(centre(m.item).x, centre(m.item).y); // the submenu opens on hover
  d.frames(2);
  ASSERT_EQ(m.rows.size(), 2u);
  ImVec2 row = centre(m.rows[1]);
  d.click(row.x, row.y);
  for (int i = 0; i < 2000 && (d.a.doc().path() != root + ".502" || d.a.doc().state() != State::Ready); ++i) {
    d.frame();
    std::this_thread::sleep_for(std::chrono::milliseconds(1)); // the loading thread
  }
  EXPECT_EQ(d.a.doc().path(), root + ".502");
  EXPECT_EQ(d.a.doc().state(), State::Ready);
  // The grandchild started nothing: its File > Open child is there, greyed out.
  d.click(18, 9);
  d.frames(2);
  EXPECT_TRUE(m.list.empty());
  EXPECT_GT(m.item[2], m.item[0]);
  (void)!system(("rm -rf '" + dir + "'").c_str());
}
