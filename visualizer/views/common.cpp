// common.cpp - formatting shared by the views (views.h).
#include "views/views.h"

#include "imgui.h"

#include <cstdio>

namespace hv::views {

using trace::Ev;

// The chunks the event table says the event changes.
uint32_t changed_chunks(const session::Event* e, const model::PolicyInfo& policy, uint64_t out[2]) {
  out[0] = out[1] = 0;
  if (!e || e->type == Ev::Unknown) return 0;
  switch (e->info().chunks) {
  case trace::EvChunks::None:
  case trace::EvChunks::Gone:
    return 0;
  case trace::EvChunks::Chunk:
    out[0] = e->chunk();
    return 1;
  case trace::EvChunks::Split:
    out[0] = e->chunk();
    out[1] = e->rest_chunk();
    return 2;
  case trace::EvChunks::Moved:
    out[0] = e->to();
    return 1;
  case trace::EvChunks::User:
    if (e->ptr() >= policy.header_bytes) out[0] = e->ptr() - policy.header_bytes;
    return out[0] ? 1 : 0;
  }
  return 0;
}

void same_line_or_wrap(float width, float spacing) {
  ImGui::SameLine(0, spacing);
  if (ImGui::GetContentRegionAvail().x < width) ImGui::NewLine();
}

float button_width(const char* label) {
  return ImGui::CalcTextSize(label).x + ImGui::GetStyle().FramePadding.x * 2;
}

void hint_wrapped(const char* text) {
  ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyle().Colors[ImGuiCol_TextDisabled]);
  ImGui::TextWrapped("%s", text);
  ImGui::PopStyleColor();
}

} // namespace hv::views
