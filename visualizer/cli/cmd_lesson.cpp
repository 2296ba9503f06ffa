// cmd_lesson.cpp - `heapviz lesson`: list the lessons (assets/lessons/, docs/lessons.md), check
// that each runs on its policies with every claim true, or open the app at a lesson's step.
// Must not: parse lesson files or run scenarios itself (session/lesson.h does), or draw.
#include "cli/commands.h"

#include "session/lesson.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace hv::cli {
namespace {

const char* kUsage = "usage: heapviz lesson --list\n"
                     "       heapviz lesson --check [NAME...]\n"
                     "       heapviz lesson NAME|NUMBER [--step K]\n";

std::string names_of(const std::vector<session::Lesson>& ls) {
  std::string s;
  for (const session::Lesson& l : ls)
    s += (s.empty() ? "" : ", ") + l.name;
  return s;
}

} // namespace

// The lesson a name, a number or a file path means; on failure says why on stderr (listing the
// lessons) and returns false. Shared with `heapviz shot --lesson`.
bool resolve_lesson(const char* command, const std::string& name, std::string* path) {
  if (name.find('/') != std::string::npos || (name.size() > 4 && name.substr(name.size() - 4) == ".hvs")) {
    *path = name; // a file of one's own
    return true;
  }
  std::string dir = session::lessons_dir();
  if (dir.empty()) {
    fprintf(stderr,
            "%s: cannot find the lessons: no share/heapviz/lessons beside this heapviz, nor assets/lessons "
            "in its source tree (set HEAPVIZ_LESSONS to the directory)\n",
            command);
    return false;
  }
  std::vector<std::string> errors;
  std::vector<session::Lesson> ls = session::list_lessons(dir, &errors);
  if (const session::Lesson* l = session::find_lesson(ls, name)) {
    *path = l->path;
    return true;
  }
  fprintf(stderr,
          "%s: no lesson '%s'; the lessons are: %s\n(heapviz lesson --list says what each is about)\n",
          command, name.c_str(), names_of(ls).c_str());
  return false;
}

int cmd_lesson(int argc, char** argv) {
  bool list = false, check = false;
  std::vector<std::string> names;
  int step = 1;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--list") {
      list = true;
    } else if (a == "--check") {
      check = true;
    } else if (a == "--step") {
      char* end = nullptr;
      long k = i + 1 < argc ? strtol(argv[i + 1], &end, 10) : 0;
      if (i + 1 >= argc || *end || k < 1 || k > 10000) {
        fprintf(stderr, "heapviz lesson: --step needs a step number (1 = the first)\n%s", kUsage);
        return 2;
      }
      step = int(k);
      ++i;
    } else if (a == "-h" || a == "--help") {
      fputs(kUsage, stdout);
      return 0;
    } else if (a[0] == '-' && a.size() > 1) {
      fprintf(stderr, "heapviz lesson: unknown option '%s'\n%s", a.c_str(), kUsage);
      return 2;
    } else {
      names.push_back(a);
    }
  }
  if (!list && !check && names.size() != 1) {
    fputs(kUsage, stderr);
    return 2;
  }
  std::string dir = session::lessons_dir();
  if (list || check) {
    if (dir.empty()) {
      fprintf(stderr,
              "heapviz lesson: cannot find the lessons: no share/heapviz/lessons beside this heapviz, nor "
              "assets/lessons in its source tree (set HEAPVIZ_LESSONS to the directory)\n");
      return 2;
    }
    std::vector<std::string> errors;
    std::vector<session::Lesson> ls = session::list_lessons(dir, &errors);
    for (const std::string& e : errors)
      fprintf(stderr, "heapviz lesson: %s\n", e.c_str());
    if (list) {
      for (const session::Lesson& l : ls) {
        printf("%2d  %-17s %s\n", l.number, l.name.c_str(), l.title.c_str());
        if (!l.summary.empty()) printf("                      %s\n", l.summary.c_str());
      }
      if (!check) return errors.empty() ? 0 : 1;
    }
    int failed = int(errors.size());
    for (const std::string& n : names)
      if (!session::find_lesson(ls, n)) {
        fprintf(stderr, "heapviz lesson: no lesson '%s'; the lessons are: %s\n", n.c_str(),
                names_of(ls).c_str());
        return 2;
      }
    for (const session::Lesson& l : ls) {
      bool wanted = names.empty();
      for (const std::string& n : names)
        wanted |= session::find_lesson(ls, n) == &l;
      if (!wanted) continue;
      std::string err;
      if (!session::simulate_lesson(l, &err)) {
        fprintf(stderr, "%s\n", err.c_str());
        ++failed;
        continue;
      }
      std::string pols;
      for (const std::string& p : l.policies)
        pols += (pols.empty() ? "" : " ") + p;
      printf("ok  %-17s %zu steps on %s\n", l.name.c_str(), l.steps.size(), pols.c_str());
    }
    return failed ? 1 : 0;
  }
  std::string path;
  if (!resolve_lesson("heapviz lesson", names[0], &path)) return 2;
  session::Lesson l;
  std::string err;
  if (!session::load_lesson(path, &l, &err)) {
    fprintf(stderr, "heapviz lesson: %s\n", err.c_str());
    return 2;
  }
  if (size_t(step) > l.steps.size()) {
    fprintf(stderr, "heapviz lesson: --step %d: lesson '%s' has %zu steps\n", step, l.name.c_str(),
            l.steps.size());
    return 2;
  }
  return lesson_in_app(path, step - 1);
}

} // namespace hv::cli
