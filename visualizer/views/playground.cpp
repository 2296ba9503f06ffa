// playground.cpp - the Playground window (docs/app.md, "Playground"): a scenario editor beside the
// heap. Every edit is an intent; the app re-simulates the text (app/playground.cpp) and the map,
// timeline and windows show the new heap, at its end. Errors show with their line.
//
// Must not: read or write files, or run anything (the app does, on the intents left here).
#include "views/views.h"

#include "imgui.h"

namespace hv::views {
namespace {

int resize(ImGuiInputTextCallbackData* d) {
  if (d->EventFlag == ImGuiInputTextFlags_CallbackResize) {
    auto* s = static_cast<std::string*>(d->UserData);
    s->resize(size_t(d->BufTextLen));
    d->Buf = s->data();
  }
  return 0;
}

} // namespace

void draw_playground(const Frame& /*f*/, PlaygroundState& s, Cursor& /*c*/) {
  // The policy, the file, and what the last run did.
  ImGui::SetNextItemWidth(130);
  if (!s.policies.empty() &&
      ImGui::BeginCombo("##policy",
                        s.policies[size_t(std::clamp(s.policy, 0, int(s.policies.size()) - 1))].c_str())) {
    for (int i = 0; i < int(s.policies.size()); ++i)
      if (ImGui::Selectable(s.policies[size_t(i)].c_str(), i == s.policy) && i != s.policy) {
        s.policy = i;
        s.edited = true;
      }
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(std::max(120.0f, ImGui::GetContentRegionAvail().x - 140));
  ImGui::InputTextWithHint("##path", "file.hvs", s.path_buf, sizeof s.path_buf);
  ImGui::SameLine();
  if (ImGui::Button("Save")) s.save = true;
  ImGui::SameLine();
  if (ImGui::Button("Open")) s.open_file = true;
  if (!s.error.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.94f, 0.33f, 0.31f, 1));
    if (s.error_line > 0) {
      // The line itself, quoted, then what is wrong with it.
      std::string text;
      size_t at = 0;
      for (int l = 1; l < s.error_line && at != std::string::npos; ++l)
        if ((at = s.text.find('\n', at)) != std::string::npos) ++at;
      if (at != std::string::npos && at <= s.text.size())
        text = s.text.substr(at, s.text.find('\n', at) == std::string::npos ? std::string::npos
                                                                            : s.text.find('\n', at) - at);
      ImGui::TextWrapped("line %d: %s   <- %s", s.error_line, text.c_str(), s.error.c_str());
    } else
      ImGui::TextWrapped("%s", s.error.c_str());
    ImGui::PopStyleColor();
  } else {
    ImGui::TextDisabled("%s", s.simulating ? "simulating..." : s.status.c_str());
  }
  // The text, with room to grow.
  if (s.text.capacity() < 4096) s.text.reserve(4096);
  if (s.focus) ImGui::SetKeyboardFocusHere(); // (asked again until the editor has the keyboard)
  ImVec2 size(-1, -1);
  ImGui::PushID(s.generation);
  if (ImGui::InputTextMultiline("##scenario", s.text.data(), s.text.capacity() + 1, size,
                                ImGuiInputTextFlags_CallbackResize | ImGuiInputTextFlags_AllowTabInput,
                                resize, &s.text))
    s.edited = true;
  s.typing = ImGui::IsItemActive();
  if (s.typing) s.focus = false;
  ImGui::PopID();
}

} // namespace hv::views
