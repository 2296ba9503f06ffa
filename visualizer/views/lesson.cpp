// lesson.cpp - the Lesson window: the open lesson's current step, its narration and the blocks
// it names (each with its chunk, state and size; a click selects it on the map), Prev / Next,
// and at the last step the next lesson. docs/lessons.md describes the lessons.
// Must not: open documents or seek (it asks for a step through Cursor; the app does the rest).
#include "views/views.h"

#include "imgui.h"

#include <cinttypes>

namespace hv::views {

void draw_lesson(const Frame& f, LessonState& s, Cursor& c) {
  if (!s.active || s.lesson.steps.empty()) {
    ImGui::TextWrapped("No lesson is open. Lessons > a lesson, or:");
    if (!s.catalog.empty() && ImGui::Button("Start lesson 1")) c.lesson_open = 0;
    return;
  }
  const session::Lesson& l = s.lesson;
  const int n = int(l.steps.size());
  const session::LessonStep& st = l.steps[size_t(s.step)];
  // The buttons first, so that they stay put whatever the text's length.
  ImGui::BeginDisabled(s.step == 0);
  if (ImGui::Button("< Prev")) c.lesson_step = s.step - 1;
  ImGui::EndDisabled();
  ImGui::SameLine();
  int next_lesson = -1;
  for (size_t i = 0; i + 1 < s.catalog.size(); ++i)
    if (s.catalog[i].path == l.path) next_lesson = int(i + 1);
  if (s.step + 1 < n) {
    if (ImGui::Button("Next >")) c.lesson_step = s.step + 1;
  } else if (next_lesson >= 0) {
    std::string label = "Next lesson: " + s.catalog[size_t(next_lesson)].title + " >";
    if (ImGui::Button(label.c_str())) c.lesson_open = next_lesson;
  } else {
    ImGui::BeginDisabled();
    ImGui::Button("Next >");
    ImGui::EndDisabled();
  }
  ImGui::SameLine();
  ImGui::TextDisabled("step %d of %d", s.step + 1, n);
  ImGui::SameLine();
  if (ImGui::SmallButton("close")) c.lesson_close = true;

  ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.31f, 0.89f, 1.0f, 1));
  if (l.number > 0)
    ImGui::TextWrapped("Lesson %d: %s", l.number, l.title.c_str());
  else
    ImGui::TextWrapped("%s", l.title.c_str());
  ImGui::PopStyleColor();
  if (l.policies.size() > 1 || st.policy != "glibc")
    ImGui::TextDisabled("mark '%s', on %s", st.label.c_str(),
                        st.policy == "glibc" ? "glibc 2.36" : st.policy.c_str());
  else
    ImGui::TextDisabled("mark '%s'", st.label.c_str());
  ImGui::Separator();
  ImGui::BeginChild("##narration", ImVec2(0, 0), false);
  if (s.scroll_top) {
    ImGui::SetScrollY(0);
    s.scroll_top = false;
  }
  if (!s.problem.empty()) ImGui::TextColored(ImVec4(0.94f, 0.33f, 0.31f, 1), "%s", s.problem.c_str());
  for (const std::string& p : st.text) {
    ImGui::TextWrapped("%s", p.c_str());
    ImGui::Spacing();
  }
  // The blocks the step names: where they are now.
  if (s.applied && c.callouts.empty() && !s.callouts.empty() && int64_t(f.doc.position()) != s.position) {
    ImGui::Separator();
    ImGui::TextDisabled("The step is at event %lld; you are at event %llu.", (long long)s.position,
                        (unsigned long long)f.doc.position());
    ImGui::SameLine();
    if (ImGui::SmallButton("back to the step")) c.lesson_step = s.step;
  }
  if (s.applied && !c.callouts.empty()) {
    ImGui::Separator();
    ImGui::TextDisabled("Outlined on the map (click to inspect):");
    const HeapPicture& pic = f.picture;
    const uint64_t base = f.doc.file().header().heap_base;
    for (const Cursor::Callout& co : c.callouts) {
      int64_t i = pic.find(co.addr);
      std::string where;
      char buf[160];
      if (i < 0) {
        snprintf(buf, sizeof buf, "pointer 0x%" PRIx64 ", in no chunk", co.addr);
        where = buf;
      } else {
        const HeapPicture::Item& it = pic.items[size_t(i)];
        const bool in_heap = base && it.addr >= base && it.addr - base < (uint64_t(1) << 32);
        if (in_heap)
          snprintf(buf, sizeof buf,
                   "pointer at +0x%" PRIx64 ", chunk at +0x%" PRIx64 " (size 0x%" PRIx64 "): ",
                   co.addr - base, it.addr - base, it.size);
        else
          snprintf(buf, sizeof buf, "chunk at 0x%" PRIx64 " (size 0x%" PRIx64 "): ", it.addr, it.size);
        where = std::string(buf) + chunk_text(it, f.policy());
      }
      ImGui::PushID(co.name.c_str());
      if (ImGui::SmallButton(co.name.c_str()) && i >= 0) {
        c.selected = pic.items[size_t(i)].addr;
        c.reveal = true;
      }
      ImGui::PopID();
      ImGui::SameLine();
      ImGui::TextWrapped("%s", where.c_str());
    }
  }
  ImGui::EndChild();
}

} // namespace hv::views
