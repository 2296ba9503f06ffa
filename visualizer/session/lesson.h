// lesson.h - a lesson (docs/lessons.md): a scenario with a title, the policies it runs on, and
// narration attached to its marks (say lines, and show lines naming the blocks to outline).
//
// Owns: finding the lessons (assets/lessons/), reading one into steps, running it on each of its
// policies (every expect and show line checked), and where a step is in an opened document (its
// mark's position, the addresses of the blocks it names).
// Must not: include ImGui or GL, or open documents (the app does; views read the steps).
#pragma once

#include "session/document.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hv::session {

// One step: a narrated mark, under one policy. A mark whose narration has `under POLICY` lines
// is a step for each policy it names (in the lesson's policy order); any other narrated mark is
// one step, under the policy of the step before it.
struct LessonStep {
  int mark = 0; // which mark of the scenario (0 = the first `mark` line)
  int line = 0; // the mark's line in the file
  std::string label;
  std::string policy;
  std::vector<std::string> text; // the say lines, in order (general first, then the policy's)
  std::vector<std::string> show; // the blocks to outline, by name
};

struct Lesson {
  std::string name; // the file's stem without its number: "tcache" for 05-tcache.hvs
  int number = 0;   // its number (05), the order of the list
  std::string path;
  std::string title, summary;
  std::vector<std::string> policies; // at least one ("glibc" when the file names none)
  std::vector<LessonStep> steps;
};

// The lessons directory: $HEAPVIZ_LESSONS, else data_dir()/lessons (session/data_dir.h: the
// installed PREFIX/share/heapviz, else the source tree's assets/). "" when none exists.
std::string lessons_dir();

// Reads one lesson file. False with *error ("FILE:LINE: message") when it does not parse, names
// an unknown policy, or has narration before its first mark or no narrated mark at all.
bool load_lesson(const std::string& path, Lesson* out, std::string* error);

// Every *.hvs in dir, sorted by number then name. A file that does not load is reported in
// *errors and left out.
std::vector<Lesson> list_lessons(const std::string& dir, std::vector<std::string>* errors);

// The lesson called name (or numbered, "3"), or nullptr.
const Lesson* find_lesson(const std::vector<Lesson>& lessons, const std::string& name);

// Runs the lesson on each of its policies, as `heapviz sim` would (every expect and show line
// checked), recording nothing. False with *error ("FILE:LINE: message (policy P)").
bool simulate_lesson(const Lesson& lesson, std::string* error);

// Where a step is in a document opened on the lesson's file with the step's policy: the position
// just after its mark (-1: the document has no such mark), and the blocks it names, as
// (name, user pointer) pairs (names bound to NULL are left out).
int64_t step_position(const Document& doc, const LessonStep& step);
std::vector<std::pair<std::string, uint64_t>> step_blocks(const Document& doc, const LessonStep& step);

} // namespace hv::session
