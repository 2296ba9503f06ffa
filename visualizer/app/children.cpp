// children.cpp - File > Open child: the traces `heapviz record` wrote for the processes that the
// open trace's process started (PATH.<pid> beside PATH), as a tree, each with its pid and
// command line; a click opens one. The list comes from trace/process_tree.h.
//
// Must not: read more of those files than their headers (the list is re-read each time the File
// menu opens), or open anything but the one picked.
#include "app/app.h"

#include "imgui.h"

#include <algorithm>

namespace hv::app {

namespace {
std::array<float, 4> item_rect() {
  ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
  return {a.x, a.y, b.x, b.y};
}
} // namespace

void App::draw_children_menu() {
  const std::string& path = doc_->path();
  if (ImGui::IsWindowAppearing()) // the File menu has just opened
    children_.list = path.empty() || doc_->is_scenario() || live_ ? std::vector<trace::ProcessTrace>{}
                                                                  : trace::child_traces(path);
  bool shown = ImGui::BeginMenu("Open child", !children_.list.empty());
  children_.item = item_rect();
  if (!shown) {
    if (children_.list.empty() && ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
      ImGui::SetTooltip("No traces of child processes beside this one: `heapviz record` writes one per "
                        "process it starts, as FILE.<pid>");
    return;
  }
  children_.rows.clear();
  std::string pick;
  for (const trace::ProcessTrace& c : children_.list) {
    std::string label = std::string(size_t(2 * std::min(c.depth - 1, 8)), ' ');
    label += c.error.empty() ? "pid " + std::to_string(c.pid) + ": " + trace::short_cmdline(c.cmdline, 70)
                             : c.path + ": " + c.error;
    ImGui::PushID(c.path.c_str());
    if (ImGui::MenuItem(label.c_str(), nullptr, false, c.error.empty())) pick = c.path;
    ImGui::PopID();
    children_.rows.push_back(item_rect());
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s (parent pid %u)", c.path.c_str(), c.ppid);
  }
  ImGui::EndMenu();
  if (!pick.empty()) open(pick);
}

} // namespace hv::app
