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

std::string names_of(const std::vector<session::Lesson>& ls) {
  std::string s;
  for (const session::Lesson& l : ls)
    s += (s.empty() ? "" : ", ") + l.name;
  return s;
}

// A lesson of one's own: a path, or NAME.hvs (taken as it is, never looked up by name).
bool names_a_file(const std::string& n) {
  return n.find('/') != std::string::npos || (n.size() > 4 && n.substr(n.size() - 4) == ".hvs");
}

} // namespace

// The lesson a name, a number or a file path means; on failure says why on stderr (listing the
// lessons) and returns false. Shared with `heapviz shot --lesson`.
bool resolve_lesson(const char* command, const std::string& name, std::string* path) {
  if (names_a_file(name)) {
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

const CommandSpec kLessonSpec = {
    .name = "lesson",
    .brief = "list, check or open the lessons",
    .synopsis = "--list | NAME [--step K] | --check [NAME...]",
    .summary = "the lessons (docs/lessons.md): list them, open the app at one, or check that every\n"
               "lesson runs on its policies with every claim true",
    .options = {{"--list", nullptr, nullptr, "list the lessons with what each is about"},
                {"--check", nullptr, nullptr, "run the lessons (or those named) and check their claims"},
                {"--step", nullptr, "K", "open the lesson at step K (1 = the first)"}},
    .examples = "heapviz lesson --list\n"
                "heapviz lesson tcache\n"
                "heapviz lesson 3 --step 4\n"
                "heapviz lesson --check",
    .min_args = 0,
    .max_args = -1,
    .see = "docs/lessons.md",
};

int cmd_lesson(int argc, char** argv) {
  Args args;
  if (int rc = args.parse(kLessonSpec, argc, argv); rc >= 0) return rc;
  bool list = args.has("--list"), check = args.has("--check");
  std::vector<std::string> names(args.positionals().begin(), args.positionals().end());
  int step = 1;
  if (const char* v = args.value("--step")) {
    char* end = nullptr;
    long k = strtol(v, &end, 10);
    if (*end || k < 1 || k > 10000)
      return usage_error(kLessonSpec, std::string("--step '") + v + "' is not a step number (1 = the first)");
    step = int(k);
  }
  if (!list && !check && names.size() != 1)
    return usage_error(kLessonSpec,
                       names.empty() ? "which lesson? (heapviz lesson --list)" : "one lesson at a time");
  // Lessons of one's own (names_a_file): `--check` and opening one take it as it is.
  bool only_paths = check && !list && !names.empty();
  for (const std::string& n : names)
    only_paths = only_paths && names_a_file(n);
  std::string dir = session::lessons_dir();
  if (list || check) {
    if (dir.empty() && !only_paths) {
      fprintf(stderr,
              "heapviz lesson: cannot find the lessons: no share/heapviz/lessons beside this heapviz, nor "
              "assets/lessons in its source tree (set HEAPVIZ_LESSONS to the directory)\n");
      return 2;
    }
    std::vector<std::string> errors;
    std::vector<session::Lesson> ls =
        dir.empty() ? std::vector<session::Lesson>{} : session::list_lessons(dir, &errors);
    if (names.empty() || list)
      for (const std::string& e : errors)
        fprintf(stderr, "heapviz lesson: %s\n", e.c_str());
    if (list) {
      for (const session::Lesson& l : ls) {
        printf("%2d  %-17s %s\n", l.number, l.name.c_str(), l.title.c_str());
        if (!l.summary.empty()) printf("                      %s\n", l.summary.c_str());
      }
      if (!check) return errors.empty() ? 0 : 1;
    }
    int failed = names.empty() ? int(errors.size()) : 0;
    std::vector<session::Lesson> todo; // the lessons to check, in the order named (all: the list's)
    if (names.empty()) todo = ls;
    for (const std::string& n : names) {
      if (names_a_file(n)) {
        session::Lesson l;
        std::string err;
        if (!session::load_lesson(n, &l, &err)) {
          fprintf(stderr, "heapviz lesson: %s\n", err.c_str());
          return 2;
        }
        todo.push_back(std::move(l));
      } else if (const session::Lesson* l = session::find_lesson(ls, n)) {
        todo.push_back(*l);
      } else {
        for (const std::string& e : errors) // (a lesson that does not load may be the one named)
          fprintf(stderr, "heapviz lesson: %s\n", e.c_str());
        fprintf(stderr, "heapviz lesson: no lesson '%s'; the lessons are: %s\n", n.c_str(),
                names_of(ls).c_str());
        return 2;
      }
    }
    for (const session::Lesson& l : todo) {
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
