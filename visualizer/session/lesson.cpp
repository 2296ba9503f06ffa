// lesson.cpp - lessons: files, steps, checks and positions (see lesson.h, docs/lessons.md).
#include "session/lesson.h"

#include "session/data_dir.h"

#include "sim/policy.h"
#include "sim/runner.h"
#include "sim/scenario.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace hv::session {
namespace {

namespace fs = std::filesystem;

bool read_file(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

bool is_dir(const std::string& p) {
  std::error_code ec;
  return !p.empty() && fs::is_directory(p, ec);
}

// "05-tcache" -> 5, "tcache"; "demo" -> 0, "demo".
void split_stem(const std::string& stem, int* number, std::string* name) {
  size_t i = 0;
  while (i < stem.size() && stem[i] >= '0' && stem[i] <= '9')
    ++i;
  if (i > 0 && i < stem.size() && stem[i] == '-') {
    *number = std::atoi(stem.substr(0, i).c_str());
    *name = stem.substr(i + 1);
  } else {
    *number = 0;
    *name = stem;
  }
}

} // namespace

std::string lessons_dir() {
  if (const char* env = getenv("HEAPVIZ_LESSONS"); env && *env) return is_dir(env) ? env : "";
  std::string data = data_dir();
  if (data.empty()) return "";
  std::string dir = (fs::path(data) / "lessons").string();
  return is_dir(dir) ? dir : "";
}

bool load_lesson(const std::string& path, Lesson* out, std::string* error) {
  std::string text;
  if (!read_file(path, &text)) {
    *error = path + ": cannot open";
    return false;
  }
  std::vector<sim::Op> ops;
  sim::ParseError perr;
  if (!sim::parse_scenario(text, &ops, &perr)) {
    *error = path + ":" + std::to_string(perr.line) + ": " + perr.message;
    return false;
  }
  Lesson l;
  l.path = path;
  split_stem(fs::path(path).stem().string(), &l.number, &l.name);
  auto fail = [&](int line, const std::string& msg) {
    *error = path + ":" + std::to_string(line) + ": " + msg;
    return false;
  };
  const std::vector<std::string> known = sim::policy_names();
  // Pass 1: the header lines, and the marks with their narration.
  struct MarkText {
    int line;
    std::string label;
    std::vector<const sim::Op*> lines; // Say and Show ops after it
  };
  std::vector<MarkText> marks;
  for (const sim::Op& op : ops) {
    switch (op.kind) {
    case sim::OpKind::Title:
      l.title = op.label;
      break;
    case sim::OpKind::Summary:
      l.summary = op.label;
      break;
    case sim::OpKind::Policies:
      if (!l.policies.empty()) return fail(op.line, "a second policy line (name them all on one)");
      for (const std::string& p : op.args) {
        if (std::find(known.begin(), known.end(), p) == known.end()) {
          std::string err;
          sim::make_policy(p, &err);
          return fail(op.line, err);
        }
        l.policies.push_back(p);
      }
      break;
    case sim::OpKind::Mark:
      marks.push_back(MarkText{op.line, op.label, {}});
      break;
    case sim::OpKind::Say:
    case sim::OpKind::Show:
      if (marks.empty())
        return fail(op.line, std::string(op.kind == sim::OpKind::Say ? "say" : "show") +
                                 " before the first mark: narration belongs to a mark");
      marks.back().lines.push_back(&op);
      break;
    default:
      break;
    }
  }
  if (l.policies.empty()) l.policies.push_back("glibc");
  for (const sim::Op& op : ops)
    for (const std::string& p : op.only)
      if (std::find(l.policies.begin(), l.policies.end(), p) == l.policies.end())
        return fail(op.line, "under " + p + ": the lesson's policy line does not name it");
  if (l.title.empty()) l.title = l.name;
  // Pass 2: the steps.
  std::string current = l.policies.front();
  for (size_t m = 0; m < marks.size(); ++m) {
    const MarkText& mt = marks[m];
    if (mt.lines.empty()) continue;
    bool specific = false;
    for (const sim::Op* op : mt.lines)
      specific |= !op->only.empty();
    std::vector<std::string> under;
    if (specific) {
      for (const std::string& p : l.policies)
        for (const sim::Op* op : mt.lines)
          if (!op->only.empty() && op->applies_to(p)) {
            under.push_back(p);
            break;
          }
    } else {
      under.push_back(current);
    }
    for (const std::string& p : under) {
      LessonStep s;
      s.mark = int(m);
      s.line = mt.line;
      s.label = mt.label;
      s.policy = p;
      for (int pass = 0; pass < 2; ++pass) // the lines for every policy first, then this one's
        for (const sim::Op* op : mt.lines) {
          if (op->only.empty() != (pass == 0) || !op->applies_to(p)) continue;
          if (op->kind == sim::OpKind::Say)
            s.text.push_back(op->label);
          else
            for (const std::string& n : op->args)
              if (std::find(s.show.begin(), s.show.end(), n) == s.show.end()) s.show.push_back(n);
        }
      l.steps.push_back(std::move(s));
      current = p;
    }
  }
  if (l.steps.empty()) return fail(1, "no narrated mark: a lesson needs a mark followed by say lines");
  *out = std::move(l);
  return true;
}

std::vector<Lesson> list_lessons(const std::string& dir, std::vector<std::string>* errors) {
  std::vector<Lesson> out;
  std::error_code ec;
  if (!is_dir(dir)) return out;
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".hvs") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) {
    Lesson l;
    std::string err;
    if (load_lesson(f, &l, &err))
      out.push_back(std::move(l));
    else if (errors)
      errors->push_back(err);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Lesson& a, const Lesson& b) { return a.number < b.number; });
  return out;
}

const Lesson* find_lesson(const std::vector<Lesson>& lessons, const std::string& name) {
  for (const Lesson& l : lessons)
    if (l.name == name || fs::path(l.path).stem().string() == name ||
        (l.number > 0 && std::to_string(l.number) == name))
      return &l;
  return nullptr;
}

bool simulate_lesson(const Lesson& lesson, std::string* error) {
  std::string text;
  if (!read_file(lesson.path, &text)) {
    *error = lesson.path + ": cannot open";
    return false;
  }
  std::vector<sim::Op> ops;
  sim::ParseError perr;
  if (!sim::parse_scenario(text, &ops, &perr)) {
    *error = lesson.path + ":" + std::to_string(perr.line) + ": " + perr.message;
    return false;
  }
  for (const std::string& p : lesson.policies) {
    std::string err;
    sim::PolicyOptions opts;
    sim::scenario_policy_options(ops, &opts);
    auto policy = sim::make_policy(p, &err, opts);
    if (!policy) {
      *error = lesson.path + ": " + err;
      return false;
    }
    sim::ScenarioRunner runner(*policy);
    int line = 0;
    std::string msg;
    auto checked = [&](const sim::StepResult&, std::string* why) {
      std::string bad = policy->check();
      if (bad.empty()) return true;
      *why = "heap check failed: " + bad;
      return false;
    };
    if (!runner.run(ops, &line, &msg, checked)) {
      *error = lesson.path + ":" + std::to_string(line) + ": " + msg + " (policy " + p + ")";
      return false;
    }
  }
  return true;
}

int64_t step_position(const Document& doc, const LessonStep& step) {
  const auto& marks = doc.index().marks();
  if (step.mark < 0 || size_t(step.mark) >= marks.size()) return -1;
  return int64_t(marks[size_t(step.mark)].index + 1);
}

std::vector<std::pair<std::string, uint64_t>> step_blocks(const Document& doc, const LessonStep& step) {
  std::vector<std::pair<std::string, uint64_t>> out;
  const auto& marks = doc.scenario_marks();
  if (step.mark < 0 || size_t(step.mark) >= marks.size()) return out;
  for (const std::string& n : step.show)
    if (uint64_t p = marks[size_t(step.mark)].pointer(n)) out.emplace_back(n, p);
  return out;
}

} // namespace hv::session
