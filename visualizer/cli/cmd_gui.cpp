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

int cmd_view(int argc, char** argv) {
  std::string path;
  std::string policies; // checked by the app (session::parse_policy_list)
  bool predict = false, playground = false;
  for (int i = 0; i < argc; ++i) {
    if (strcmp(argv[i], "--predict") == 0) {
      predict = true;
      continue;
    }
    if (strcmp(argv[i], "--playground") == 0) {
      playground = true;
      continue;
    }
    if (strcmp(argv[i], "--policies") == 0 || strncmp(argv[i], "--policies=", 11) == 0) {
      const char* list = argv[i][10] == '=' ? argv[i] + 11 : i + 1 < argc ? argv[++i] : nullptr;
      if (!list || !*list) {
        fprintf(stderr, "heapviz view: --policies needs a list of policies (glibc,first-fit,buddy)\n"
                        "usage: heapviz view [--policies A,B,...] [--predict] [--playground] [FILE]\n");
        return 2;
      }
      policies = list;
      continue;
    }
    if (argv[i][0] == '-' && argv[i][1]) {
      fprintf(stderr,
              "heapviz view: unknown option '%s'\nusage: heapviz view [--policies A,B,...] [--predict] "
              "[--playground] [FILE]\n",
              argv[i]);
      return 2;
    }
    if (!path.empty()) {
      fprintf(stderr, "heapviz view: one file at a time ('%s' is extra)\n", argv[i]);
      return 2;
    }
    path = argv[i];
  }
  app::ViewOptions o;
  o.path = path;
  o.policies = policies;
  o.predict = predict;
  o.playground = playground;
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
  static const char* kUsage =
      "usage: heapviz shot FILE [--at N|end] [--select ADDR] [--size WxH]\n"
      "                         [--mode exact|min-width|one-cell] [--shorten-top] [--region N]\n"
      "                         [--range ADDR-ADDR] [--color state|site] [--function NAME]\n"
      "                         [--diff A:B] [--tab sites|leaks|frag|diff [--row K]]\n"
      "                         [--tree bottom-up|top-down] [--error K] [--breakpoints]\n"
      "                         [--policies A,B,...] [--predict K [--answer ADDR|grows|mapping|null]]\n"
      "                         [--lesson NAME [--step K]]\n"
      "                         -o OUT.png\n"
      "                         [--geometry OUT.txt]\n";
  app::ShotOptions o;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* what) -> const char* {
      if (i + 1 >= argc) {
        fprintf(stderr, "heapviz shot: %s needs %s\n%s", a.c_str(), what, kUsage);
        return nullptr;
      }
      return argv[++i];
    };
    if (a == "--at") {
      const char* v = value("an event number or 'end'");
      if (!v) return 2;
      o.at_given = true;
      if (strcmp(v, "end") == 0)
        o.at_end = true;
      else if (parse_u64(v, &o.at))
        o.at_end = false;
      else {
        fprintf(stderr, "heapviz shot: --at '%s' is not an event number\n", v);
        return 2;
      }
    } else if (a == "--select") {
      const char* v = value("a chunk address");
      if (!v) return 2;
      if (!parse_u64(v, &o.select)) {
        fprintf(stderr, "heapviz shot: --select '%s' is not an address\n", v);
        return 2;
      }
    } else if (a == "--size") {
      const char* v = value("WIDTHxHEIGHT");
      if (!v) return 2;
      if (sscanf(v, "%dx%d", &o.width, &o.height) != 2 || o.width < 320 || o.height < 240 || o.width > 8192 ||
          o.height > 8192) {
        fprintf(stderr, "heapviz shot: --size '%s': expected WxH between 320x240 and 8192x8192\n", v);
        return 2;
      }
    } else if (a == "-o" || a == "--output") {
      const char* v = value("a file name");
      if (!v) return 2;
      o.out = v;
    } else if (a == "--by-site") {
      o.by_site = true;
    } else if (a == "--color" || a == "--colour") {
      const char* v = value("state or site");
      if (!v) return 2;
      if (strcmp(v, "state") != 0 && strcmp(v, "site") != 0) {
        fprintf(stderr, "heapviz shot: %s '%s': give state or site\n", a.c_str(), v);
        return 2;
      }
      o.by_site = strcmp(v, "site") == 0;
    } else if (a == "--cells") { // the older spelling of --mode one-cell
      o.mode = "one-cell";
    } else if (a == "--mode") {
      const char* v = value("exact, min-width or one-cell");
      if (!v) return 2;
      o.mode = v; // checked by run_shot
    } else if (a == "--shorten-top") {
      o.shorten_top = true;
    } else if (a == "--region") {
      const char* v = value("a region number (0 = the first on the map)");
      if (!v) return 2;
      uint64_t r = 0;
      if (!parse_u64(v, &r) || r > 1000000) {
        fprintf(stderr, "heapviz shot: --region '%s' is not a region number (0 = the first on the map)\n", v);
        return 2;
      }
      o.region = int32_t(r);
    } else if (a == "--range") {
      const char* v = value("ADDR-ADDR");
      if (!v) return 2;
      o.range = v; // checked by run_shot
    } else if (a == "--diff") {
      const char* v = value("A:B, two event numbers");
      if (!v) return 2;
      unsigned long long x = 0, y = 0;
      char end = 0;
      if (sscanf(v, "%llu:%llu%c", &x, &y, &end) != 2) {
        fprintf(stderr, "heapviz shot: --diff '%s': expected A:B, two event numbers\n", v);
        return 2;
      }
      o.mark_a = int64_t(x);
      o.mark_b = int64_t(y);
    } else if (a == "--tree") {
      const char* v = value("bottom-up or top-down");
      if (!v) return 2;
      o.sites_view = strcmp(v, "bottom-up") == 0 ? 1 : strcmp(v, "top-down") == 0 ? 2 : -1;
      if (o.sites_view < 0) {
        fprintf(stderr, "heapviz shot: --tree '%s': give bottom-up or top-down\n", v);
        return 2;
      }
    } else if (a == "--function") {
      const char* v = value("a function name");
      if (!v) return 2;
      o.function = v;
    } else if (a == "--tab") {
      const char* v = value("sites, leaks or frag");
      if (!v) return 2;
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
      const char* v = value("a row number (1 = the first)");
      if (!v) return 2;
      uint64_t r = 0;
      if (!parse_u64(v, &r) || r == 0 || r > 100000) {
        fprintf(stderr, "heapviz shot: --row '%s' is not a row number (1 = the first)\n", v);
        return 2;
      }
      o.row = int(r);
    } else if (a == "--error") {
      const char* v = value("an error number (1 = the first)");
      if (!v) return 2;
      uint64_t k = 0;
      if (!parse_u64(v, &k) || k == 0 || k > 1000000) {
        fprintf(stderr, "heapviz shot: --error '%s' is not an error number (1 = the first)\n", v);
        return 2;
      }
      o.error = int(k);
    } else if (a == "--lesson") {
      const char* v = value("a lesson's name, number or file");
      if (!v) return 2;
      o.lesson = v;
    } else if (a == "--step") {
      const char* v = value("a step number (1 = the first)");
      if (!v) return 2;
      uint64_t k = 0;
      if (!parse_u64(v, &k) || k == 0 || k > 10000) {
        fprintf(stderr, "heapviz shot: --step '%s' is not a step number (1 = the first)\n", v);
        return 2;
      }
      o.step = int(k - 1);
    } else if (a == "--breakpoints") {
      o.breakpoints = true;
    } else if (a == "--predict") {
      const char* v = value("an allocation number (1 = the first)");
      if (!v) return 2;
      uint64_t k = 0;
      if (!parse_u64(v, &k) || k == 0 || k > 1000000000) {
        fprintf(stderr, "heapviz shot: --predict needs an allocation number (1 = the first), not '%s'\n", v);
        return 2;
      }
      o.predict = int(k);
    } else if (a == "--answer") {
      const char* v = value("grows, mapping, null or an address");
      if (!v) return 2;
      o.answer = v;
    } else if (a == "--policies") {
      const char* v = value("a list of policies (glibc,first-fit,buddy)");
      if (!v) return 2;
      o.policies = v;
    } else if (a == "--geometry") {
      const char* v = value("a file name");
      if (!v) return 2;
      o.geometry = v;
    } else if (a[0] == '-' && a.size() > 1) {
      fprintf(stderr, "heapviz shot: unknown option '%s'\n%s", a.c_str(), kUsage);
      return 2;
    } else if (o.file.empty()) {
      o.file = a;
    } else {
      fprintf(stderr, "heapviz shot: one file at a time ('%s' is extra)\n", a.c_str());
      return 2;
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
  if (o.file.empty() || o.out.empty()) {
    fputs(kUsage, stderr);
    return 2;
  }
  if (!o.answer.empty() && o.predict == 0) {
    fprintf(stderr, "heapviz shot: --answer goes with --predict K\n%s", kUsage);
    return 2;
  }
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
