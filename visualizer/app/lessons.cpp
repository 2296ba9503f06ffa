// lessons.cpp - the app's side of the lessons (docs/lessons.md): the Lessons menu and its
// one-click start, opening a lesson, and bringing the document to a step: the step's policy
// (the scenario simulated again on it when it changes), its mark, and its blocks outlined.
// Must not: read lesson files itself (session/lesson.h does) or draw the Lesson window
// (views/lesson.cpp does).
#include "app/app.h"

#include "imgui.h"

namespace hv::app {

void App::read_lessons() {
  if (lesson_.catalog_read) return;
  lesson_.catalog_read = true;
  lesson_.dir = session::lessons_dir();
  if (!lesson_.dir.empty()) lesson_.catalog = session::list_lessons(lesson_.dir, &lesson_.catalog_errors);
}

void App::open_lesson(const std::string& path, int step) {
  read_lessons();
  session::Lesson l;
  std::string err;
  if (!session::load_lesson(path, &l, &err)) {
    open_error_ = err;
    show_open_error_ = true;
    return;
  }
  lesson_.lesson = std::move(l);
  lesson_.active = true;
  // The top chunk and gaps one row at most: the map zooms on the chunks the lesson is about.
  map_.view.shorten_rows = 1.0f;
  map_.fit_pending = true;
  lesson_.step = std::clamp(step, 0, int(lesson_.lesson.steps.size()) - 1);
  lesson_.applied = false;
  lesson_.problem.clear();
  lesson_opened_.clear();
  lesson_.position = -1;
  lesson_.callouts.clear();
  cursor_.callouts.clear();
  lesson_tick();
}

bool App::lesson_settle() {
  lesson_tick();
  return lesson_.active && lesson_.applied;
}

void App::lesson_tick() {
  // The Lesson window's intent (from the last frame).
  if (cursor_.lesson_close) {
    cursor_.lesson_close = false;
    lesson_.active = false;
    cursor_.callouts.clear();
  }
  if (cursor_.lesson_open >= 0) {
    int k = cursor_.lesson_open;
    cursor_.lesson_open = -1;
    read_lessons();
    if (size_t(k) < lesson_.catalog.size()) open_lesson(lesson_.catalog[size_t(k)].path, 0);
    return;
  }
  if (cursor_.lesson_step >= 0 && lesson_.active) {
    lesson_.step = std::min(cursor_.lesson_step, int(lesson_.lesson.steps.size()) - 1);
    lesson_.applied = false;
    lesson_.problem.clear();
  }
  cursor_.lesson_step = -1;
  if (lesson_.active && lesson_.applied && doc_->state() == session::Document::State::Ready) {
    // Outlines at the step's position only: stepping away (the timeline, the keys) hides them.
    const bool here = int64_t(doc_->position()) == lesson_.position;
    if (here && cursor_.callouts.empty() && !lesson_.callouts.empty())
      cursor_.callouts = lesson_.callouts;
    else if (!here && !cursor_.callouts.empty())
      cursor_.callouts.clear();
  }
  if (!lesson_.active || lesson_.applied) return;

  // The document must be the lesson's file simulated on the step's policy.
  const session::LessonStep& st = lesson_.lesson.steps[size_t(lesson_.step)];
  const std::string want = lesson_.lesson.path + "|" + st.policy;
  const bool right = doc_->path() == lesson_.lesson.path && doc_->scenario_policy() == st.policy &&
                     doc_->state() != session::Document::State::Empty;
  if (!right) {
    if (pending_ && pending_->path() == lesson_.lesson.path && pending_->scenario_policy() == st.policy)
      return;                     // loading it
    if (lesson_opened_ == want) { // opened, and it failed (the popup says why)
      lesson_.problem = "This step cannot be shown: " + open_error_;
      lesson_.applied = true;
      return;
    }
    lesson_opened_ = want;
    const bool keep = lesson_.active; // open_doc keeps the lesson (App::open would close it)
    open_doc(lesson_.lesson.path, st.policy);
    lesson_.active = keep;
    return;
  }
  if (doc_->state() == session::Document::State::Loading) return;
  if (doc_->state() == session::Document::State::Failed) {
    lesson_.problem = "This step cannot be shown: " + doc_->error();
    lesson_.applied = true;
    return;
  }
  int64_t pos = session::step_position(*doc_, st);
  if (pos < 0) {
    lesson_.problem = "The scenario stopped before the mark '" + st.label + "': " + doc_->error();
    lesson_.applied = true;
    return;
  }
  cursor_.playing = false;
  cursor_.seek = -1;
  seek_now(uint64_t(pos));
  lesson_.position = pos;
  lesson_.callouts.clear();
  for (auto& [name, p] : session::step_blocks(*doc_, st))
    lesson_.callouts.push_back(views::Cursor::Callout{p, name});
  cursor_.callouts = lesson_.callouts;
  // The first block named is selected: the Chunk window shows its header, word by word.
  cursor_.selected = 0;
  if (!cursor_.callouts.empty()) {
    int64_t i = picture_.find(cursor_.callouts.front().addr);
    if (i >= 0) {
      cursor_.selected = picture_.items[size_t(i)].addr;
      cursor_.reveal = true;
    }
  }
  lesson_.applied = true;
  lesson_.scroll_top = true;
}

void App::draw_lessons_menu() {
  if (ImGui::BeginMenu("Lessons")) {
    read_lessons();
    if (lesson_.catalog.empty())
      ImGui::TextDisabled(
          lesson_.dir.empty()
              ? "No lessons found (share/heapviz/lessons, assets/lessons, or $HEAPVIZ_LESSONS)"
              : "No lesson in %s",
          lesson_.dir.c_str());
    for (size_t i = 0; i < lesson_.catalog.size(); ++i) {
      const session::Lesson& l = lesson_.catalog[i];
      char label[256];
      snprintf(label, sizeof label, "%2d. %s", l.number, l.title.c_str());
      bool current = lesson_.active && lesson_.lesson.path == l.path;
      if (ImGui::MenuItem(label, nullptr, current)) cursor_.lesson_open = int(i);
      if (!l.summary.empty() && ImGui::IsItemHovered()) ImGui::SetTooltip("%s", l.summary.c_str());
    }
    for (const std::string& e : lesson_.catalog_errors)
      ImGui::TextColored(ImVec4(0.94f, 0.33f, 0.31f, 1), "%s", e.c_str());
    if (lesson_.active) {
      ImGui::Separator();
      if (ImGui::MenuItem("Close the lesson")) cursor_.lesson_close = true;
    }
    ImGui::EndMenu();
  }
  // One click from the demo to the first lesson.
  lesson_.start_x1 = lesson_.start_x0;
  if (!lesson_.active && !live_) {
    read_lessons();
    if (!lesson_.catalog.empty()) {
      ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.31f, 0.89f, 1.0f, 1));
      if (ImGui::MenuItem("Start lesson 1 >")) cursor_.lesson_open = 0;
      ImGui::PopStyleColor();
      lesson_.start_x0 = ImGui::GetItemRectMin().x, lesson_.start_y0 = ImGui::GetItemRectMin().y;
      lesson_.start_x1 = ImGui::GetItemRectMax().x, lesson_.start_y1 = ImGui::GetItemRectMax().y;
      if (ImGui::IsItemHovered())
        ImGui::SetTooltip("%s: %s", lesson_.catalog.front().title.c_str(),
                          lesson_.catalog.front().summary.c_str());
    }
  }
}

} // namespace hv::app
