// cmd_gui.cpp - what the command line needs from the app: `heapviz view [FILE]` (or `heapviz
// FILE`), `heapviz shot`, and following a live process (attach, run): argument parsing, then
// app/shell.cpp does the rest. Compiled only with -DHV_GUI=ON; cmd_gui_off.cpp stands in otherwise.
#include "cli/commands.h"

#include "app/shell.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace hv::cli {

bool has_gui() {
  return true;
}

// A UI scale as typed: 0.75 to 3.
static bool parse_scale(const char* v, float* out) {
  char* end = nullptr;
  float s = strtof(v, &end);
  if (*end || !(s >= 0.75f && s <= 3.0f)) return false;
  *out = s;
  return true;
}

int cmd_view(int argc, char** argv) {
  Args args;
  if (int rc = args.parse(kViewSpec, argc, argv); rc >= 0) return rc;
  std::string path = args.positionals().empty() ? "" : args.positionals()[0];
  std::string policies = args.value("--policies") ? args.value("--policies") : ""; // checked by the app
  bool predict = args.has("--predict"), playground = args.has("--playground");
  float ui_scale = 0;
  if (const char* v = args.value("--ui-scale"); v && !parse_scale(v, &ui_scale))
    return usage_error(kViewSpec, std::string("--ui-scale '") + v + "': a scale from 0.75 to 3");
  app::ViewOptions o;
  o.path = path;
  o.policies = policies;
  o.predict = predict;
  o.playground = playground;
  o.ui_scale = ui_scale;
  return app::run_viewer(o);
}

static bool parse_u64(const char* s, uint64_t* v) {
  if (!*s || *s == '-' || *s == '+' || *s == ' ') return false; // strtoull would take "-5" as 2^64-5
  char* end = nullptr;
  errno = 0;
  *v = strtoull(s, &end, 0);
  return errno == 0 && *end == '\0';
}

int cmd_shot(int argc, char** argv) {
  Args args;
  if (int rc = args.parse(kShotSpec, argc, argv); rc >= 0) return rc;
  app::ShotOptions o;
  if (!args.positionals().empty()) o.file = args.positionals()[0];
  for (const auto& option : args.given()) {
    const char *name = option.first, *v = option.second; // (clang 14: no bindings in lambdas)
    const std::string a = name;
    if (a == "--at") {
      o.at_given = true;
      o.at_text = v; // resolved by run_shot on the loaded trace
    } else if (a == "--ui-scale") {
      if (!parse_scale(v, &o.ui_scale))
        return usage_error(kShotSpec, std::string("--ui-scale '") + v + "': a scale from 0.75 to 3");
    } else if (a == "--select") {
      if (!parse_u64(v, &o.select)) {
        fprintf(stderr, "heapviz shot: --select '%s' is not an address\n", v);
        return 2;
      }
    } else if (a == "--size") {
      if (sscanf(v, "%dx%d", &o.width, &o.height) != 2 || o.width < 320 || o.height < 240 || o.width > 8192 ||
          o.height > 8192) {
        fprintf(stderr, "heapviz shot: --size '%s': expected WxH between 320x240 and 8192x8192\n", v);
        return 2;
      }
    } else if (a == "-o" || a == "--output") {
      o.out = v;
    } else if (a == "--by-site") {
      o.by_site = true;
    } else if (a == "--color" || a == "--colour") {
      if (strcmp(v, "state") != 0 && strcmp(v, "site") != 0) {
        fprintf(stderr, "heapviz shot: %s '%s': give state or site\n", a.c_str(), v);
        return 2;
      }
      o.by_site = strcmp(v, "site") == 0;
    } else if (a == "--cells") { // the older spelling of --mode one-cell
      o.mode = "one-cell";
    } else if (a == "--mode") {
      o.mode = v; // checked by run_shot
    } else if (a == "--shorten-top") {
      o.shorten_top = true;
    } else if (a == "--region") {
      uint64_t r = 0;
      if (!parse_u64(v, &r) || r > 1000000) {
        fprintf(stderr, "heapviz shot: --region '%s' is not a region number (0 = the first on the map)\n", v);
        return 2;
      }
      o.region = int32_t(r);
    } else if (a == "--range") {
      o.range = v; // checked by run_shot
    } else if (a == "--diff") {
      o.diff_text = v; // A:B, each N|end|peak|mark:LABEL: resolved by run_shot on the loaded trace
    } else if (a == "--tree") {
      o.sites_view = strcmp(v, "bottom-up") == 0 ? 1 : strcmp(v, "top-down") == 0 ? 2 : -1;
      if (o.sites_view < 0) {
        fprintf(stderr, "heapviz shot: --tree '%s': give bottom-up or top-down\n", v);
        return 2;
      }
    } else if (a == "--function") {
      o.function = v;
    } else if (a == "--tab") {
      o.tab = strcmp(v, "sites") == 0   ? 0
              : strcmp(v, "leaks") == 0 ? 1
              : strcmp(v, "frag") == 0  ? 2
              : strcmp(v, "diff") == 0  ? 3
                                        : -2;
      if (o.tab == -2) {
        fprintf(stderr, "heapviz shot: --tab '%s': give sites, leaks, frag or diff\n", v);
        return 2;
      }
    } else if (a == "--row") {
      uint64_t r = 0;
      if (!parse_u64(v, &r) || r == 0 || r > 100000) {
        fprintf(stderr, "heapviz shot: --row '%s' is not a row number (1 = the first)\n", v);
        return 2;
      }
      o.row = int(r);
    } else if (a == "--error") {
      uint64_t k = 0;
      if (!parse_u64(v, &k) || k == 0 || k > 1000000) {
        fprintf(stderr, "heapviz shot: --error '%s' is not an error number (1 = the first)\n", v);
        return 2;
      }
      o.error = int(k);
    } else if (a == "--lesson") {
      o.lesson = v;
    } else if (a == "--step") {
      uint64_t k = 0;
      if (!parse_u64(v, &k) || k == 0 || k > 10000) {
        fprintf(stderr, "heapviz shot: --step '%s' is not a step number (1 = the first)\n", v);
        return 2;
      }
      o.step = int(k - 1);
    } else if (a == "--breakpoints") {
      o.breakpoints = true;
    } else if (a == "--predict") {
      uint64_t k = 0;
      if (!parse_u64(v, &k) || k == 0 || k > 1000000000) {
        fprintf(stderr, "heapviz shot: --predict needs an allocation number (1 = the first), not '%s'\n", v);
        return 2;
      }
      o.predict = int(k);
    } else if (a == "--answer") {
      o.answer = v;
    } else if (a == "--policies") {
      o.policies = v;
    } else if (a == "--geometry") {
      o.geometry = v;
    }
  }
  if (!o.lesson.empty()) {
    if (!o.file.empty() || o.at_given) {
      fprintf(stderr, "heapviz shot: --lesson shows a lesson's step: no FILE or --at with it\n");
      return 2;
    }
    std::string path;
    if (!resolve_lesson("heapviz shot", o.lesson, &path)) return 2;
    o.lesson = path;
    o.file = path;
  } else if (o.step) {
    fprintf(stderr, "heapviz shot: --step goes with --lesson\n");
    return 2;
  }
  if (o.file.empty()) return usage_error(kShotSpec, "missing FILE (or --lesson NAME)");
  if (!o.answer.empty() && o.predict == 0) return usage_error(kShotSpec, "--answer goes with --predict K");
  if (o.row > 0 && o.tab != 0 && o.tab != 2)
    return usage_error(kShotSpec, "--row K goes with --tab sites or --tab frag (the row to select)");
  return app::run_shot(o);
}

int lesson_in_app(const std::string& path, int step) {
  app::ViewOptions o;
  o.lesson = path;
  o.step = step;
  return app::run_viewer(o);
}

int follow_in_app(const char*, int pid, const std::string& capture, const std::string& shot,
                  double shot_seconds) {
  app::LiveOptions o;
  o.pid = pid;
  o.capture = capture;
  o.shot = shot;
  o.shot_seconds = shot_seconds;
  return app::run_live(o);
}

} // namespace hv::cli
