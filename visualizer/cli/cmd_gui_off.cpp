// cmd_gui_off.cpp - the GUI commands in a heapviz built with -DHV_GUI=OFF (no GLFW, GL or ImGui):
// each says it needs the GUI and returns 2. Stands in for cmd_gui.cpp; see commands.h.
#include "cli/commands.h"

namespace hv::cli {

bool has_gui() {
  return false;
}

int cmd_view(int, char**) {
  return no_gui("view");
}

int cmd_shot(int, char**) {
  return no_gui("shot");
}

int lesson_in_app(const std::string&, int) {
  return no_gui("lesson",
                "heapviz lesson --list and --check work without it; heapviz sim runs a lesson's file");
}

int follow_in_app(const char* command, int, const std::string&, const std::string&, double) {
  return no_gui(command, "capture with --out FILE instead");
}

} // namespace hv::cli
