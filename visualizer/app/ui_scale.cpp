// ui_scale.cpp - the UI scale setting, and the View > UI scale menu (ui_scale.h).
#include "app/ui_scale.h"

#include "app/app.h"

#include "imgui.h"
#include "imgui_impl_opengl3.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/stat.h>

namespace hv::app {

namespace {

const char* const kFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
constexpr float kFontPixels = 15.0f; // at scale 1

std::string settings_file(bool create_dir) {
  std::string dir = config_dir(create_dir);
  return dir.empty() ? dir : dir + "/settings.ini";
}

float clamp_scale(float s) {
  return s > 0 ? std::clamp(s, kUiScaleMin, kUiScaleMax) : 1.0f;
}

} // namespace

std::string config_dir(bool create) {
  std::string dir;
  if (const char* x = getenv("XDG_CONFIG_HOME"); x && *x == '/')
    dir = x;
  else if (const char* h = getenv("HOME"); h && *h)
    dir = std::string(h) + "/.config";
  else
    return "";
  if (create) {
    mkdir(dir.c_str(), 0700);
    if (mkdir((dir + "/heapviz").c_str(), 0700) != 0 && errno != EEXIST) return "";
  }
  return dir + "/heapviz";
}

float saved_ui_scale() {
  if (const char* e = getenv("HEAPVIZ_UI_SCALE"); e && *e) return clamp_scale(strtof(e, nullptr));
  std::string path = settings_file(false);
  float s = 1;
  if (FILE* f = path.empty() ? nullptr : fopen(path.c_str(), "r")) {
    char line[128];
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "ui_scale=%f", &s) == 1) break;
    fclose(f);
  }
  return clamp_scale(s);
}

bool save_ui_scale(float s) {
  std::string path = settings_file(true);
  FILE* f = path.empty() ? nullptr : fopen(path.c_str(), "w");
  if (!f) return false;
  fprintf(f, "# heapviz settings (View > UI scale)\nui_scale=%.2f\n", double(clamp_scale(s)));
  return fclose(f) == 0;
}

void apply_ui_scale(float s, bool rebuild_texture) {
  s = clamp_scale(s);
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  struct stat sb;
  if (stat(kFont, &sb) == 0) {
    io.Fonts->AddFontFromFileTTF(kFont, kFontPixels * s);
  } else {
    ImFontConfig cfg;
    cfg.SizePixels = 13.0f * s; // ImGui's own font, at the size asked
    io.Fonts->AddFontDefault(&cfg);
  }
  io.Fonts->Build();
  if (rebuild_texture) {
    ImGui_ImplOpenGL3_DestroyFontsTexture();
    ImGui_ImplOpenGL3_CreateFontsTexture();
  }
  ImGuiStyle style; // the defaults, scaled; then the app's own touches
  ImGui::StyleColorsDark(&style);
  style.WindowRounding = 0;
  style.FrameRounding = 2;
  style.WindowBorderSize = 1;
  style.ScaleAllSizes(s);
  ImGui::GetStyle() = style;
}

void App::draw_ui_scale_menu() {
  if (!ImGui::BeginMenu("UI scale")) return;
  static const float kScales[] = {1.0f, 1.25f, 1.5f, 1.75f, 2.0f, 2.5f};
  for (float s : kScales) {
    char label[32];
    snprintf(label, sizeof label, "%d %%", int(s * 100 + 0.5f));
    if (ImGui::MenuItem(label, nullptr, std::abs(ui_scale_ - s) < 0.01f)) ui_scale_request_ = s;
  }
  ImGui::TextDisabled("the text's size, for a projector; kept for the next start");
  ImGui::EndMenu();
}

} // namespace hv::app
