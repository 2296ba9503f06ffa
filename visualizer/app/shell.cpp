// shell.cpp - GLFW window, GL context, ImGui backends, the frame loop, offscreen shots.
#include "app/shell.h"

#include "analysis/position.h"
#include "app/app.h"
#include "app/ui_scale.h"
#include "live/live_client.h"
#include "session/data_dir.h"
#include "session/policy_compare.h"
#include "views/palette.h"

#include <glad/gl.h> // before any other GL header
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>

#include "imgui.h"
#include "imgui_impl_glfw.h"
#include "imgui_impl_opengl3.h"

#include <stb/stb_image_write.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace hv::app {

namespace {

std::string g_glfw_error;
void on_glfw_error(int code, const char* what) {
  g_glfw_error = std::to_string(code) + ": " + (what ? what : "?");
}

// $XDG_CONFIG_HOME/heapviz/imgui.ini (or ~/.config/heapviz/imgui.ini): where the layout lives.
std::string layout_file() {
  std::string dir = config_dir(true);
  return dir.empty() ? dir : dir + "/imgui.ini";
}

// The app's own keys, from GLFW's key events (installed before ImGui's backend, which chains to
// it): every press and auto-repeat is queued, even one released within the same frame.
App* g_key_target = nullptr;
void on_key(GLFWwindow*, int key, int, int action, int mods) {
  if (!g_key_target || (action != GLFW_PRESS && action != GLFW_REPEAT)) return;
  bool ctrl = mods & GLFW_MOD_CONTROL;
  switch (key) {
  case GLFW_KEY_LEFT:
    g_key_target->key(App::Key::Left);
    break;
  case GLFW_KEY_RIGHT:
    g_key_target->key(App::Key::Right);
    break;
  case GLFW_KEY_HOME:
    if (action == GLFW_PRESS) g_key_target->key(App::Key::Home);
    break;
  case GLFW_KEY_END:
    if (action == GLFW_PRESS) g_key_target->key(App::Key::End);
    break;
  case GLFW_KEY_SPACE:
    if (action == GLFW_PRESS) g_key_target->key(App::Key::Space);
    break;
  case GLFW_KEY_O:
    if (ctrl && action == GLFW_PRESS) g_key_target->key(App::Key::Open);
    break;
  case GLFW_KEY_S:
    if (ctrl && action == GLFW_PRESS) g_key_target->key(App::Key::Save);
    break;
  case GLFW_KEY_Q:
    if (ctrl && action == GLFW_PRESS) g_key_target->key(App::Key::Quit);
    break;
  default:
    break;
  }
}

struct Gui {
  GLFWwindow* window = nullptr;
  bool imgui = false;
  std::string ini;

  // One line on stderr and an exit status on failure; 0 when the window is up.
  int init(int w, int h, bool visible, const char* title, float scale = 1) {
    const char* d = getenv("DISPLAY");
    const char* wl = getenv("WAYLAND_DISPLAY");
    if ((!d || !*d) && (!wl || !*wl)) {
      fprintf(stderr,
              "heapviz: no display: set DISPLAY or run under xvfb-run (e.g. xvfb-run -a heapviz ...)\n");
      return 2;
    }
    glfwSetErrorCallback(on_glfw_error);
    if (!glfwInit()) {
      fprintf(stderr, "heapviz: cannot open the display %s (glfw %s)\n", d ? d : "", g_glfw_error.c_str());
      return 2;
    }
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
    glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
    glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
    glfwWindowHint(GLFW_VISIBLE, visible ? GLFW_TRUE : GLFW_FALSE);
    window = glfwCreateWindow(w, h, title, nullptr, nullptr);
    if (!window) {
      fprintf(stderr, "heapviz: cannot create an OpenGL 3.3 core window (glfw %s)\n", g_glfw_error.c_str());
      return 2;
    }
    glfwMakeContextCurrent(window);
    glfwSwapInterval(1);
    int v = gladLoadGL(glfwGetProcAddress);
    if (GLAD_VERSION_MAJOR(v) * 10 + GLAD_VERSION_MINOR(v) < 33) {
      fprintf(stderr, "heapviz: OpenGL 3.3 is needed, the driver gives %d.%d\n", GLAD_VERSION_MAJOR(v),
              GLAD_VERSION_MINOR(v));
      return 2;
    }
    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    imgui = true;
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;
    io.LogFilename = nullptr;
    apply_ui_scale(scale, false);       // the font at its size, the style (ui_scale.h)
    glfwSetKeyCallback(window, on_key); // before the backend, so that it chains to ours
    if (!ImGui_ImplGlfw_InitForOpenGL(window, true) || !ImGui_ImplOpenGL3_Init("#version 330 core")) {
      fprintf(stderr, "heapviz: Dear ImGui backend initialisation failed\n");
      return 2;
    }
    return 0;
  }

  ~Gui() {
    if (imgui) {
      ImGui_ImplOpenGL3_Shutdown();
      ImGui_ImplGlfw_Shutdown();
      ImGui::DestroyContext();
    }
    if (window) glfwDestroyWindow(window);
    glfwTerminate();
  }
};

} // namespace

// One frame of the app into the window's back buffer (the caller swaps).
// no_mouse: as if the pointer were elsewhere (screenshots show no hover effects).
static void render(Gui& g, App& app, double* last, bool no_mouse = false) {
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  if (no_mouse) ImGui::GetIO().MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
  ImGui::NewFrame();
  double now = glfwGetTime();
  app.frame(float(now - *last));
  *last = now;
  ImGui::Render();
  int w, h;
  glfwGetFramebufferSize(g.window, &w, &h);
  glViewport(0, 0, w, h);
  glClearColor(0.08f, 0.08f, 0.09f, 1);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
}

// The bound read framebuffer (w x h) as a PNG: GL's rows go bottom-up, PNG's top-down.
static bool write_png(const std::string& path, int w, int h) {
  std::vector<unsigned char> px(size_t(w) * size_t(h) * 4);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, px.data());
  std::vector<unsigned char> img(px.size());
  size_t stride = size_t(w) * 4;
  for (int y = 0; y < h; ++y)
    memcpy(&img[size_t(y) * stride], &px[size_t(h - 1 - y) * stride], stride);
  for (size_t i = 3; i < img.size(); i += 4)
    img[i] = 255; // opaque throughout
  return stbi_write_png(path.c_str(), w, h, 4, img.data(), int(stride)) != 0;
}

int run_viewer(const ViewOptions& o) {
  std::string path = o.path;
  const std::string& policy_list = o.policies;
  std::vector<std::string> policies;
  std::string perr;
  if (!policy_list.empty() && !session::parse_policy_list(policy_list, &policies, &perr)) {
    fprintf(stderr, "heapviz view: --policies: %s\n", perr.c_str());
    return 2;
  }
  if (!policies.empty() && path.empty()) {
    fprintf(stderr, "heapviz view: --policies needs a scenario file (FILE.hvs)\n");
    return 2;
  }
  // No file: the bundled demo (session/data_dir.h), as scripts/run and the desktop entry open it.
  if (path.empty() && o.lesson.empty() && !o.playground) path = session::demo_scenario();
  Gui g;
  const float scale = o.ui_scale > 0 ? o.ui_scale : saved_ui_scale();
  if (int rc = g.init(1600, 900, true, "heapviz", scale)) return rc;
  g.ini = layout_file();
  ImGui::GetIO().IniFilename = g.ini.empty() ? nullptr : g.ini.c_str();
  App app(false);
  app.set_ui_scale(scale);
  g_key_target = &app;
  if (!o.lesson.empty())
    app.open_lesson(o.lesson, o.step);
  else if (!path.empty() && !policies.empty())
    app.open_policies(path, policies);
  else if (!path.empty())
    app.open(path);
  if (o.playground) app.start_playground(path);
  if (o.predict) { // from the first allocation
    app.predict().requested = true;
    app.cursor().seek = 0;
  }
  // For tests. HEAPVIZ_TEST_FRAMES=N: draw N frames once loading has ended, then exit 0.
  // HEAPVIZ_TEST_REPORT=1: print the app's state (document, position, selection, zoom) on stdout
  // when it exits, however it exits (Ctrl+Q, the window closed, the frames run out).
  long test_frames = -1;
  if (const char* t = getenv("HEAPVIZ_TEST_FRAMES")) test_frames = strtol(t, nullptr, 10);
  bool report = test_frames >= 0 || getenv("HEAPVIZ_TEST_REPORT");
  double last = glfwGetTime();
  while (!glfwWindowShouldClose(g.window) && !app.quit_requested()) {
    if (test_frames >= 0 && app.doc().state() != session::Document::State::Loading && test_frames-- == 0)
      break;
    // Idle politely: wake for input, or at 60 Hz while something moves (loading, playing).
    bool busy = app.doc().state() == session::Document::State::Loading || app.pending() || app.simulating() ||
                app.searching() || app.cursor().playing;
    // Loading: 30 frames a second are plenty for a progress bar, and leave the CPU to the loader
    // (under software GL a frame costs tens of milliseconds).
    bool loading = app.doc().state() == session::Document::State::Loading || app.pending() ||
                   app.simulating() || app.searching();
    if (app.cursor().playing)
      glfwPollEvents();
    else
      glfwWaitEventsTimeout(busy && loading ? 1.0 / 30 : 0.25);
    if (float s = app.take_ui_scale_request()) { // View > UI scale: between frames
      apply_ui_scale(s, true);
      app.set_ui_scale(s);
      if (!save_ui_scale(s)) fprintf(stderr, "heapviz: cannot keep the UI scale in the settings file\n");
    }
    render(g, app, &last);
    glfwSwapBuffers(g.window);
  }
  g_key_target = nullptr;
  if (report) {
    static const char* const kState[] = {"empty", "loading", "ready", "failed"};
    printf("heapviz: state %s, events %llu, position %llu, selected 0x%llx, bytes per pixel %g, playing %d, "
           "last open error: %s, message: %s, ui scale %.2f\n",
           kState[int(app.doc().state())], (unsigned long long)app.doc().events(),
           (unsigned long long)app.doc().position(), (unsigned long long)app.cursor().selected,
           app.chunk_map().view.bpp, int(app.cursor().playing),
           app.open_error().empty() ? "none" : app.open_error().c_str(), app.doc().error().c_str(),
           double(ImGui::GetFontSize() / 15.0f));
    if (app.playground().open) { // its text's size, the last run, the error and its line's text
      const views::PlaygroundState& p = app.playground();
      printf("heapviz: playground %zu bytes, status '%s', typing %d, error line %d: %s\n", p.text.size(),
             p.status.c_str(), int(p.typing), p.error_line, p.error.empty() ? "none" : p.error.c_str());
      std::string line;
      size_t at = 0;
      for (int l = 1; l < p.error_line && at != std::string::npos; ++l)
        if ((at = p.text.find('\n', at)) != std::string::npos) ++at;
      if (p.error_line > 0 && at != std::string::npos) line = p.text.substr(at, p.text.find('\n', at) - at);
      printf("heapviz: playground line %d reads '%s'\n", p.error_line, line.c_str());
      printf("heapviz: playground file '%s'%s\n", p.path.c_str(),
             p.unsaved_new ? " (new, not saved yet)" : "");
    }
    const session::PredictGame& pg = app.predict().game;
    if (pg.asked() || pg.active())
      printf("heapviz: predict score %d of %d, allocation %zu of %zu, revealed %d\n", pg.score(), pg.asked(),
             pg.index() + 1, pg.count(), int(pg.revealed()));
    if (app.lesson().active)
      printf("heapviz: lesson %s, step %d of %zu, policy %s, outlined %zu\n",
             app.lesson().lesson.name.c_str(), app.lesson().step + 1, app.lesson().lesson.steps.size(),
             app.doc().scenario_policy().c_str(), app.cursor().callouts.size());
    fflush(stdout);
  }
  return 0;
}

int run_shot(const ShotOptions& given) {
  ShotOptions o = given; // the position and the output are settled below
  views::MapMode mode = views::MapMode::Exact;
  if (!o.mode.empty() && !views::parse_map_mode(o.mode.c_str(), &mode)) {
    fprintf(stderr, "heapviz shot: --mode '%s': give exact, min-width or one-cell\n", o.mode.c_str());
    return 2;
  }
  uint64_t range_lo = 0, range_hi = UINT64_MAX;
  if (!o.range.empty() && !views::parse_range(o.range.c_str(), &range_lo, &range_hi)) {
    fprintf(stderr, "heapviz shot: --range '%s': expected LO-HI, two addresses with LO < HI (0x hex)\n",
            o.range.c_str());
    return 2;
  }
  App app(true);
  if (!o.lesson.empty()) {
    app.open_lesson(o.lesson, o.step);
    if (!app.lesson().active) {
      fprintf(stderr, "heapviz shot: %s\n", app.open_error().c_str());
      return 2;
    }
    if (size_t(o.step) >= app.lesson().lesson.steps.size()) {
      fprintf(stderr, "heapviz shot: --step %d: lesson '%s' has %zu steps\n", o.step + 1,
              app.lesson().lesson.name.c_str(), app.lesson().lesson.steps.size());
      return 2;
    }
  } else if (!o.policies.empty()) {
    std::vector<std::string> policies;
    std::string perr;
    if (!session::parse_policy_list(o.policies, &policies, &perr)) {
      fprintf(stderr, "heapviz shot: --policies: %s\n", perr.c_str());
      return 2;
    }
    if (!app.open_policies(o.file, policies)) {
      fprintf(stderr, "heapviz shot: %s\n", app.open_error().c_str());
      return 2;
    }
    for (size_t i = 1; i < app.side().size(); ++i)
      if (app.side().doc(i)->wait() != session::Document::State::Ready) {
        fprintf(stderr, "heapviz shot: %s\n", app.side().doc(i)->error().c_str());
        return 2;
      }
    app.policies_view().record_geometry = !o.geometry.empty();
  } else {
    app.open(o.file);
  }
  if (app.doc().wait() != session::Document::State::Ready) {
    fprintf(stderr, "heapviz shot: %s\n", app.doc().error().c_str());
    return 2;
  }
  uint64_t total = app.doc().events();
  if (o.predict > 0 && (o.at_given || o.error > 0)) {
    fprintf(stderr, "heapviz shot: --predict sets the position itself (no --at or --error with it)\n");
    return 2;
  }
  if (!o.at_text.empty()) { // N, end, peak or mark:LABEL, on the trace as loaded (a scenario's too)
    analysis::Position p;
    std::string perr;
    if (!analysis::parse_position(o.at_text, &p, &perr) ||
        !analysis::resolve_position(app.doc().file(), p, &o.at, &perr)) {
      fprintf(stderr, "heapviz shot: --at %s: %s\n", o.at_text.c_str(), perr.c_str());
      return 2;
    }
    o.at_end = p.kind == analysis::Position::Kind::End;
    if (p.kind == analysis::Position::Kind::Events && p.events > total) o.at = p.events; // said below
  }
  if (!o.diff_text.empty()) { // A:B, each as --at (mark:LABEL has a colon of its own: try each)
    bool found = false;
    std::string why = "expected A:B, two positions of the trace (N, end, peak or mark:LABEL)";
    for (size_t i = o.diff_text.find(':'); i != std::string::npos && !found;
         i = o.diff_text.find(':', i + 1)) {
      analysis::Position pa, pb;
      std::string e;
      uint64_t a = 0, b = 0;
      if (!analysis::parse_position(o.diff_text.substr(0, i), &pa, &e) ||
          !analysis::parse_position(o.diff_text.substr(i + 1), &pb, &e))
        continue; // (not this colon)
      if (!analysis::resolve_position(app.doc().file(), pa, &a, &e) ||
          !analysis::resolve_position(app.doc().file(), pb, &b, &e)) {
        why = e; // both parse, one names nothing in the trace (a mark it does not have)
        continue;
      }
      found = true;
      o.mark_a = int64_t(a);
      o.mark_b = int64_t(b);
    }
    if (!found) {
      fprintf(stderr, "heapviz shot: --diff '%s': %s\n", o.diff_text.c_str(), why.c_str());
      return 2;
    }
    if (uint64_t(o.mark_b) > total) {
      fprintf(stderr, "heapviz shot: --diff '%s': past the end (the trace has %" PRIu64 " events)\n",
              o.diff_text.c_str(), total);
      return 2;
    }
    if (o.mark_a > o.mark_b) { // (the map would outline as died what is born)
      fprintf(stderr, "heapviz shot: --diff '%s': A comes after B; give the earlier position first\n",
              o.diff_text.c_str());
      return 2;
    }
  }
  if (o.out.empty()) { // FILE.at-N.png in the current directory (FILE's own may be read-only)
    const std::string base =
        o.file.substr(o.file.rfind('/') == std::string::npos ? 0 : o.file.rfind('/') + 1);
    o.out = base + ".at-" + std::to_string(o.at_end ? total : o.at) + ".png";
    if (o.predict > 0) o.out = base + ".predict-" + std::to_string(o.predict) + ".png";
    if (!o.lesson.empty()) o.out = base + ".step-" + std::to_string(o.step + 1) + ".png";
    o.say_output = true;
  }
  if (!o.at_end && o.at > total) {
    fprintf(stderr, "heapviz shot: --at %" PRIu64 " is past the end: %s has %" PRIu64 " events\n", o.at,
            o.file.c_str(), total);
    return 2;
  }
  const session::ErrorList& errors = app.doc().errors();
  if (o.error > 0 && size_t(o.error) > errors.size()) {
    fprintf(stderr, "heapviz shot: --error %d: %s has %zu heap error%s (1 = the first)\n", o.error,
            o.file.c_str(), errors.size(), errors.size() == 1 ? "" : "s");
    return 2;
  }
  Gui g;
  if (int rc = g.init(64, 64, false, "heapviz shot", o.ui_scale > 0 ? o.ui_scale : 1)) return rc;
  app.why().start(app.doc()); // every allocation's "why", before the frames (the shot waits)
  app.why().wait();
  if (o.predict > 0) {
    session::PredictGame& pg = app.predict().game;
    if (!pg.start(&app.why().stories(), 0) || size_t(o.predict) > pg.count()) {
      fprintf(stderr, "heapviz shot: --predict %d: %s has %zu allocation%s (1 = the first)\n", o.predict,
              o.file.c_str(), pg.count(), pg.count() == 1 ? "" : "s");
      return 2;
    }
    for (int k = 1; k < o.predict; ++k)
      pg.next();
    app.seek_now(pg.position());
    if (!o.answer.empty()) {
      using A = session::PredictGame::Answer;
      if (o.answer == "grows") {
        pg.answer(A::Grows);
      } else if (o.answer == "mapping") {
        pg.answer(A::Mapping);
      } else if (o.answer == "null") {
        pg.answer(A::Null);
      } else {
        char* end = nullptr;
        uint64_t a = strtoull(o.answer.c_str(), &end, 0);
        if (o.answer.empty() || *end != '\0') {
          fprintf(stderr,
                  "heapviz shot: --answer '%s': give a chunk's address (0x...), grows, mapping or null\n",
                  o.answer.c_str());
          return 2;
        }
        int64_t i = app.picture().find(a);
        if (i < 0) {
          fprintf(stderr, "heapviz shot: --answer %s: no chunk holds it before allocation %d\n",
                  o.answer.c_str(), o.predict);
          return 2;
        }
        pg.answer_chunk(app.picture().items[size_t(i)].addr, app.picture().items[size_t(i)].size);
      }
      app.seek_now(pg.position());
      app.cursor().selected = pg.current()->chunk;
      app.predict().seen_selection = pg.current()->chunk;
    }
  }
  if (!o.lesson.empty()) {
    if (!app.lesson_settle() || !app.lesson().problem.empty()) {
      fprintf(stderr, "heapviz shot: lesson step %d: %s\n", o.step + 1, app.lesson().problem.c_str());
      return 2;
    }
  } else if (o.predict > 0) {
    // (the game set the position)
  } else if (o.error > 0 && !o.at_given)
    app.seek_now(errors.event(size_t(o.error - 1)) + 1);
  else
    app.seek_now(o.at_end ? total : o.at);
  if (o.error > 0) {
    const analysis::HeapError& h = errors.at(size_t(o.error - 1));
    app.cursor().error = o.error - 1;
    app.errors_view().scroll_to_selected = true;
    if (h.has_block && h.chunk) {
      app.cursor().selected = h.chunk;
      app.cursor().reveal = true;
    }
    app.sites().update(app.doc(), 1e9); // the stacks' names
  }
  app.cursor().open_breakpoints = o.breakpoints; // (shown from the first frame on)
  if (o.select) {
    // Any address inside a chunk (a user pointer, say) selects that chunk.
    int64_t i = app.picture().find(o.select);
    app.cursor().selected = i >= 0 ? app.picture().items[size_t(i)].addr : o.select;
    if (i < 0)
      fprintf(stderr,
              "heapviz shot: note: no chunk holds 0x%" PRIx64 " at event %" PRIu64
              " (nothing selected on the map)\n",
              o.select, app.doc().position());
    app.cursor().reveal = true;
  }
  app.chunk_map().record_geometry = !o.geometry.empty();
  // Sites, leaks and the blame in full before the frames (the app reads them a slice per frame).
  app.chunk_map().by_site = o.by_site;
  views::MapView& mv = app.chunk_map().view;
  mv.set_mode(mode);
  if (o.lesson.empty()) mv.shorten_rows = o.shorten_top ? 1.0f : 0.0f; // (a lesson shortens them)
  mv.range_lo = range_lo;
  mv.range_hi = range_hi;
  if (o.region >= 0 && size_t(o.region) >= app.picture().groups.size()) {
    fprintf(stderr,
            "heapviz shot: --region %d: the map has %zu region%s at event %" PRIu64 " (0 = the first)\n",
            o.region, app.picture().groups.size(), app.picture().groups.size() == 1 ? "" : "s",
            app.doc().position());
    return 2;
  }
  mv.region = o.region;
  app.cursor().function = o.function;
  app.cursor().mark_a = o.mark_a;
  app.cursor().mark_b = o.mark_b;
  views::SitesState& ss = app.sites_view();
  // The whole table before the first frame: the Sites window of a PNG never shows a part of it
  // ("reading sites: event N of M", with totals that disagree with Metrics beside it).
  app.sites().update(app.doc(), 1e9);
  if (o.by_site || o.tab >= 0 || !o.function.empty())
    if (const char* p = app.sites().problem().c_str(); *p) fprintf(stderr, "heapviz shot: note: %s\n", p);
  if (o.tab >= 0) {
    ss.tab = o.tab;
    ss.tab_request = true;
  }
  ss.view = o.sites_view;
  const analysis::SiteTable* st = app.sites().table();
  if (o.tab == 0 && o.row > 0 && st) {
    std::vector<uint32_t> order;
    for (uint32_t k = 0; k < st->size(); ++k)
      if (st->site(k).allocs) order.push_back(k);
    std::stable_sort(order.begin(), order.end(),
                     [&](uint32_t a, uint32_t b) { return st->site(a).live_bytes > st->site(b).live_bytes; });
    if (size_t(o.row) <= order.size()) app.cursor().site = order[size_t(o.row) - 1];
  }
  if (o.tab == 1) ss.at_end.update(app.doc(), 1e9, app.doc().events());
  if (o.tab == 2 && st) {
    views::update_frag(ss, app.sites(), app.doc());
    if (o.row > 0 && size_t(o.row) <= ss.frag.blame.size()) {
      ss.blame_row = o.row - 1;
      ss.blame_reveal = true;
      app.cursor().pinning = ss.frag.blame[size_t(o.row) - 1].pinning;
      app.cursor().pinned = ss.frag.blame[size_t(o.row) - 1].pinned;
    }
  }

  GLuint fbo = 0, rb = 0;
  glGenFramebuffers(1, &fbo);
  glBindFramebuffer(GL_FRAMEBUFFER, fbo);
  glGenRenderbuffers(1, &rb);
  glBindRenderbuffer(GL_RENDERBUFFER, rb);
  glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8, o.width, o.height);
  glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, rb);
  if (glCheckFramebufferStatus(GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE) {
    fprintf(stderr, "heapviz shot: cannot create a %dx%d framebuffer\n", o.width, o.height);
    return 2;
  }
  ImGuiIO& io = ImGui::GetIO();
  // Several frames: windows settle (auto-sizing, the map's zoom to fit) before the one we keep.
  // Then until no window searches (a history or a filter on its thread: the PNG must show the
  // answer, never "searching..."): it waits for the searches, and draws again.
  for (int frame = 0, settled = 0;; ++frame) {
    if (app.searching()) {
      app.doc().wait_searches();
      settled = 0;
    }
    if (settled == 4 || frame == 100) break;
    ++settled;
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    io.DisplaySize = ImVec2(float(o.width), float(o.height));
    io.DisplayFramebufferScale = ImVec2(1, 1);
    io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX); // no hover effects from wherever the pointer is
    io.DeltaTime = 1.0f / 60;
    ImGui::NewFrame();
    app.frame(0);
    ImGui::Render();
    glBindFramebuffer(GL_FRAMEBUFFER, fbo);
    glViewport(0, 0, o.width, o.height);
    glClearColor(0.08f, 0.08f, 0.09f, 1);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
  }
  bool written = write_png(o.out, o.width, o.height);
  glDeleteRenderbuffers(1, &rb);
  glDeleteFramebuffers(1, &fbo);
  if (!written) {
    fprintf(stderr, "heapviz shot: cannot write %s: %s\n", o.out.c_str(), strerror(errno));
    return 1;
  }
  if (o.say_output) fprintf(stderr, "heapviz shot: wrote %s\n", o.out.c_str());
  if (!o.geometry.empty()) {
    FILE* f = fopen(o.geometry.c_str(), "w");
    if (!f) {
      fprintf(stderr, "heapviz shot: cannot write %s: %s\n", o.geometry.c_str(), strerror(errno));
      return 1;
    }
    fprintf(f, "# heapviz shot geometry: size %dx%d, position %" PRIu64 " of %" PRIu64 "\n", o.width,
            o.height, app.doc().position(), total);
    for (size_t p = 0; p < size_t(views::Paint::Count); ++p)
      fprintf(f, "paint %zu %06x %s\n", p, views::kPaintRgb[p], views::paint_name(views::Paint(p)));
    const views::HeapPicture& pic = app.picture();
    const views::ChunkMapState& cm = app.chunk_map();
    char scale[16];
    snprintf(scale, sizeof scale, "%.6g", cm.view.bpp);
    fprintf(f, "scale %s %s %s\n", scale, views::map_mode_name(cm.view.mode()),
            cm.view.to_scale() ? "to-scale" : "not-to-scale");
    fprintf(f, "map %.1f %.1f %.1f %.1f\n", cm.map_x0, cm.map_y0, cm.map_x1, cm.map_y1);
    for (const auto& r : cm.drawn_rows)
      fprintf(f, "rows %.1f %.1f %.1f %u\n", r.y0, r.pitch, r.row_h, r.rows);
    for (const auto& d : app.chunk_map().drawn) {
      const views::HeapPicture::Item& it = pic.items[size_t(d.item)];
      fprintf(f, "rect 0x%" PRIx64 " %" PRIu64 " %u %.1f %.1f %.1f %.1f\n", it.addr, it.size,
              unsigned(d.paint), d.x0, d.y0, d.x1, d.y1);
    }
    // Heap errors: the colour, each one's mark on the timeline, the selected one's bytes on the
    // map, and the Errors window.
    fprintf(f, "errorrgb %06x\n", views::kErrorRgb);
    const views::TimelineState& tl = app.timeline();
    fprintf(f, "curves %.1f %.1f %.1f %.1f\n", tl.curves_x0, tl.curves_y0, tl.curves_x1, tl.curves_y1);
    for (size_t k = 0; k < tl.drawn_error_x.size(); ++k)
      fprintf(f, "errormark %zu %" PRIu64 " %.1f\n", k + 1, app.doc().errors().event(k) + 1,
              tl.drawn_error_x[k]);
    for (const auto& d : cm.drawn_error_bytes)
      fprintf(f, "errorbytes %" PRId64 " 0x%" PRIx64 " %" PRIu64 " %.1f %.1f %.1f %.1f\n", cm.drawn_error + 1,
              d.addr, d.len, d.x0, d.y0, d.x1, d.y1);
    const views::ErrorsState& es = app.errors_view();
    if (es.x1 > es.x0) fprintf(f, "errorswindow %.1f %.1f %.1f %.1f\n", es.x0, es.y0, es.x1, es.y1);
    if (es.x1 > es.x0) fprintf(f, "errorreport %" PRId64 "\n", es.shown + 1); // 0: none shown
    fprintf(f, "hatch %06x\n", views::kReleasedRgb);
    // The searches: the Chunk window's history as saved (its event count, and whether it was
    // complete) and the colour of a search's progress bar (never in a shot: it waits for them).
    ImVec4 pc = ImGui::GetStyleColorVec4(ImGuiCol_PlotHistogram);
    fprintf(f, "progressrgb %02x%02x%02x\n", unsigned(pc.x * 255 + 0.5f), unsigned(pc.y * 255 + 0.5f),
            unsigned(pc.z * 255 + 0.5f));
    const views::InspectorState& is = app.inspector();
    if (is.x1 > is.x0) fprintf(f, "chunkwindow %.1f %.1f %.1f %.1f\n", is.x0, is.y0, is.x1, is.y1);
    if (is.history)
      fprintf(f, "history 0x%" PRIx64 " %zu %s\n", is.history_addr, is.history->matches().size(),
              is.history->running() ? "searching" : "complete");
    if (const views::EventListState& ev = app.events_view(); ev.query)
      fprintf(f, "eventfilter %zu %s\n", ev.query->matches().size(),
              ev.query->running() ? "searching" : "complete");
    for (const auto& b : app.predict().drawn)
      fprintf(f, "predictbutton %s %.1f %.1f %.1f %.1f\n", b.name, b.x0, b.y0, b.x1, b.y1);
    // Side by side: each policy's map, and the outlined block's first piece in it.
    for (const auto& m : app.policies_view().drawn) {
      fprintf(f, "policymap %s %.1f %.1f %.1f %.1f\n", m.policy.c_str(), m.x0, m.y0, m.x1, m.y1);
      if (m.sel_item >= 0)
        fprintf(f, "policysel %s %.1f %.1f %.1f %.1f\n", m.policy.c_str(), m.sx0, m.sy0, m.sx1, m.sy1);
    }
    // A lesson's step: the outline colour, and the blocks it names (name, pointer).
    fprintf(f, "lessonrgb %06x\n", views::kLessonRgb);
    for (const auto& co : app.cursor().callouts)
      fprintf(f, "callout %s 0x%" PRIx64 "\n", co.name.c_str(), co.addr);
    for (const auto& d : cm.drawn_released) {
      const views::HeapPicture::Item& it = pic.items[size_t(d.item)];
      fprintf(f, "released 0x%" PRIx64 " 0x%" PRIx64 " %" PRIu64 " %.1f %.1f %.1f %.1f\n", it.addr, d.addr,
              d.len, d.x0, d.y0, d.x1, d.y1);
    }
    fclose(f);
  }
  fprintf(stderr, "heapviz shot: %s (%dx%d) at event %" PRIu64 " of %" PRIu64 "\n", o.out.c_str(), o.width,
          o.height, app.doc().position(), total);
  // A damaged file: the picture of its readable prefix is written, and the exit status says so. A
  // torn tail only (a killed program's trace) is said and exits 0, as stats and sites do.
  std::string err = app.doc().error();
  if (!err.empty()) {
    fprintf(stderr, "heapviz shot: %s\n", err.c_str());
    return app.doc().only_truncated() ? 0 : 1;
  }
  return 0;
}

} // namespace hv::app

namespace hv::app {

int run_live(const LiveOptions& o) {
  auto cap = std::make_unique<live::Capture>();
  std::string err;
  if (!cap->start(o.pid, o.capture, &err)) {
    fprintf(stderr, "heapviz attach: %s\n", err.c_str());
    return 1;
  }
  fprintf(stderr, "heapviz attach: following pid %d (%s); the received history is kept in %s\n", o.pid,
          cap->cmdline().c_str(), o.capture.c_str());
  live::Capture* c = cap.get();
  int rc = 0;
  {
    Gui g;
    rc = g.init(1600, 900, true, "heapviz (live)");
    if (rc == 0) {
      bool shot = !o.shot.empty();
      if (!shot) {
        g.ini = layout_file();
        ImGui::GetIO().IniFilename = g.ini.empty() ? nullptr : g.ini.c_str();
      }
      App app(shot); // a shot uses the default layout, like `heapviz shot`
      g_key_target = &app;
      app.start_live(std::move(cap));
      double last = glfwGetTime(), t0 = last;
      while (!glfwWindowShouldClose(g.window) && !app.quit_requested()) {
        // Live: redraw a few times a second for the counters even without input.
        if (app.cursor().playing)
          glfwPollEvents();
        else
          glfwWaitEventsTimeout(1.0 / 15);
        render(g, app, &last, shot);
        bool settled =
            app.doc().state() == session::Document::State::Ready && !app.pending() && !app.searching();
        if (o.shot_seconds > 0 && glfwGetTime() - t0 >= o.shot_seconds && (!shot || settled)) {
          if (shot) {
            int w, h;
            glfwGetFramebufferSize(g.window, &w, &h);
            glReadBuffer(GL_BACK);
            if (!write_png(o.shot, w, h)) {
              fprintf(stderr, "heapviz attach: cannot write %s: %s\n", o.shot.c_str(), strerror(errno));
              rc = 1;
            } else {
              fprintf(stderr, "heapviz attach: %s (%dx%d) at event %" PRIu64 " of %" PRIu64 " received\n",
                      o.shot.c_str(), w, h, app.doc().position(), app.live_capture()->synced_events());
            }
          }
          break;
        }
        glfwSwapBuffers(g.window);
      }
      g_key_target = nullptr;
      c = app.live_capture();              // the program the process runs now, if it exec'd meanwhile
      if (getenv("HEAPVIZ_TEST_REPORT")) { // for tests: where the user left the app
        static const char* const kEnd[] = {"running", "exited", "lost", "detached", "failed"};
        printf("heapviz live: following %d, stream %s, position %" PRIu64 " of %" PRIu64 " shown\n",
               int(app.following()), kEnd[int(c->end())], app.doc().position(), app.doc().events());
        if (!app.save_message().empty()) printf("heapviz live: save: %s\n", app.save_message().c_str());
        fflush(stdout);
      }
      c->detach();
      std::string note = c->finish();
      fprintf(stderr, "heapviz attach: %s: %" PRIu64 " events received from pid %d\n", c->path().c_str(),
              c->synced_events(), o.pid);
      if (!note.empty()) fprintf(stderr, "heapviz attach: %s\n", note.c_str());
      return rc;
    }
  }
  cap->detach();
  cap->finish();
  return rc;
}

} // namespace hv::app
