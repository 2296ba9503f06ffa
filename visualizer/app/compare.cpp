// compare.cpp - the app's side of "policies side by side" (docs/policies.md, "Side by side"):
// running a scenario on several policies (session/side_by_side.h), showing the first one as the
// app's document, and View > Compare policies. The Policies window is views/policies.cpp.
//
// Must not: draw windows other than its menu, or seek the other policies' documents (the session
// keeps them in step).
#include "app/app.h"

#include "session/policy_compare.h"

#include "imgui.h"

#include <algorithm>

namespace hv::app {

bool App::open_policies(const std::string& scenario, const std::vector<std::string>& policies) {
  session::SideBySide side;
  std::string err;
  if (!side.start(scenario, policies, &err)) {
    open_error_ = err;
    show_open_error_ = true;
    return false;
  }
  const std::string first = side.runs()[0].trace_path;
  open(first);
  side_ = std::move(side); // (after open(), which ends any earlier comparison)
  policies_ = views::PoliciesState();
  show_policies_ = true;
  return true;
}

void App::draw_compare_menu() {
  const std::string scenario = side_.active() ? side_.scenario() : doc_->is_scenario() ? doc_->path() : "";
  if (!ImGui::BeginMenu("Compare policies", !scenario.empty())) {
    if (scenario.empty() && ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
      ImGui::SetTooltip("Open a scenario (.hvs) to run it on several allocator policies side by side");
    return;
  }
  if (compare_pick_.empty()) {
    if (side_.active())
      for (const auto& r : side_.runs())
        compare_pick_.push_back(r.policy);
    else
      compare_pick_ = {"glibc", "first-fit", "best-fit", "buddy"};
  }
  for (const std::string& name : session::known_policies()) {
    auto it = std::find(compare_pick_.begin(), compare_pick_.end(), name);
    bool on = it != compare_pick_.end();
    if (ImGui::MenuItem(name.c_str(), nullptr, &on, true)) {
      if (on)
        compare_pick_.push_back(name);
      else
        compare_pick_.erase(std::find(compare_pick_.begin(), compare_pick_.end(), name));
    }
  }
  ImGui::Separator();
  if (ImGui::MenuItem("Show side by side", nullptr, false, !compare_pick_.empty()))
    open_policies(scenario, compare_pick_);
  ImGui::EndMenu();
}

} // namespace hv::app
