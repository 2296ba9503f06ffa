// predict.cpp - the Predict window (docs/app.md, "Predict"): predict, then reveal. The map shows
// the heap before the next allocation; a click on the chunk where its block will land (or a
// button: the heap grows, a mapping of its own, NULL) reveals it: the map moves past the call,
// the block is selected, and the window says whether the guess was right and why
// (analysis/why.h), with the score.
//
// Must not: change the document; it seeks and selects through Cursor, as every view.
#include "views/views.h"

#include "imgui.h"

#include <cinttypes>

namespace hv::views {
namespace {

std::string call_text(const analysis::CallStory& s) {
  using trace::Ev;
  const std::string n = std::to_string(s.request);
  switch (s.type) {
  case Ev::Calloc:
    return "calloc(..., " + n + " B in all)";
  case Ev::Realloc:
    return "realloc(block, " + n + ")";
  case Ev::Memalign:
    return "memalign(..., " + n + ")";
  default:
    return "malloc(" + n + ")";
  }
}

} // namespace

void draw_predict(const Frame& f, PredictState& s, Cursor& c) {
  session::PredictGame& g = s.game;
  s.drawn.clear();
  auto button = [&](const char* label, const char* name) {
    bool pressed = ImGui::Button(label);
    ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
    s.drawn.push_back({name, a.x, a.y, b.x, b.y});
    return pressed;
  };
  if (s.requested) {
    if (!f.why || !f.why->ready()) {
      ImGui::TextDisabled("Reading the allocations...");
      return;
    }
    s.requested = false;
    s.message.clear();
    if (!g.start(&f.why->stories(), f.doc.position())) {
      s.message = f.why->note().empty() ? "No allocation after this event: go back (Home) and try again."
                                        : f.why->note();
    } else {
      c.seek = int64_t(g.position());
      c.selected = 0;
      s.seen_selection = 0;
    }
  }
  if (!g.active()) {
    ImGui::TextWrapped("%s", s.message.empty() ? "Predict mode: View > Predict starts it here."
                                               : s.message.c_str());
    if (ImGui::Button("Start here")) s.requested = true;
    return;
  }
  const analysis::CallStory& st = *g.current();
  if (s.next_requested) {
    s.next_requested = false;
    if (g.revealed() && g.next()) {
      c.seek = int64_t(g.position());
      c.selected = 0;
      s.seen_selection = 0;
    }
  }
  // The map stays where the game is (the timeline is the game's while predicting).
  if (c.seek < 0 && f.doc.position() != g.position()) c.seek = int64_t(g.position());

  ImGui::Text("Allocation %zu of %zu:", g.index() + 1, g.count());
  ImGui::SameLine();
  ImGui::TextColored(ImVec4(1, 0.92f, 0.23f, 1), "%s", call_text(*g.current()).c_str());
  ImGui::SameLine();
  ImGui::TextDisabled("score %d of %d", g.score(), g.asked());
  if (!g.revealed()) {
    ImGui::TextWrapped("Where will its block land? Click the chunk on the map it will come from, or:");
    using A = session::PredictGame::Answer;
    if (button("The heap grows for it", "grows")) g.answer(A::Grows);
    ImGui::SameLine();
    if (button("A mapping of its own", "mapping")) g.answer(A::Mapping);
    ImGui::SameLine();
    if (button("NULL", "null")) g.answer(A::Null);
    // A chunk clicked on the map (a new selection) is the answer.
    if (!g.revealed() && c.selected && c.selected != s.seen_selection &&
        f.picture.position == f.doc.position() && f.doc.position() == g.position()) {
      int64_t i = f.picture.find(c.selected);
      if (i >= 0) g.answer_chunk(f.picture.items[size_t(i)].addr, f.picture.items[size_t(i)].size);
      s.seen_selection = c.selected;
    }
    if (g.revealed()) { // the block, after the call
      c.seek = int64_t(g.position());
      c.selected = st.chunk;
      c.reveal = true;
      s.seen_selection = st.chunk;
    }
  } else {
    ImGui::PushStyleColor(ImGuiCol_Text,
                          g.last_hit() ? ImVec4(0.45f, 0.85f, 0.45f, 1) : ImVec4(0.94f, 0.45f, 0.40f, 1));
    ImGui::TextWrapped("%s", g.verdict().c_str());
    ImGui::PopStyleColor();
    if (!g.last_hit() && g.right_answer() != session::PredictGame::Answer::Chunk)
      ImGui::TextDisabled("The answer: %s.", session::PredictGame::answer_text(g.right_answer()));
    if (g.index() + 1 < g.count()) {
      if (button("Next (Right)", "next")) s.next_requested = true;
    } else {
      ImGui::TextDisabled("That was the last allocation.");
    }
  }
  ImGui::SameLine();
  if (ImGui::Button("Stop")) g.stop();
}

} // namespace hv::views
