// ui_scale.h - the UI scale: the font's size, and every padding and spacing with it, as a
// setting (View > UI scale; `view --ui-scale S`; HEAPVIZ_UI_SCALE), for teaching on a projector.
//
// Owns: the setting's file ($XDG_CONFIG_HOME/heapviz/settings.ini, a line `ui_scale=1.5`), the
// environment variable, and applying a scale to Dear ImGui between frames: the font is rebuilt
// at its size (sharp), not stretched, and the style's sizes are scaled from the defaults.
// Must not: draw, or be called inside a frame.
#pragma once

#include <string>

namespace hv::app {

// $XDG_CONFIG_HOME/heapviz (or ~/.config/heapviz): the settings and the windows' layout live
// there. create: make it if missing. "" when there is no such place.
std::string config_dir(bool create);

inline constexpr float kUiScaleMin = 0.75f, kUiScaleMax = 3.0f;
// HEAPVIZ_UI_SCALE, else the saved setting, else 1 (always within [kUiScaleMin, kUiScaleMax]).
float saved_ui_scale();
// Keeps s as the setting for the next start; false when the file cannot be written.
bool save_ui_scale(float s);
// The fonts and style at scale s. rebuild_texture: the GL backend already made its font texture
// (after the first frame): remake it.
void apply_ui_scale(float s, bool rebuild_texture);

} // namespace hv::app
