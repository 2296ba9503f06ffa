// shell.h - the platform shell: a GLFW window with an OpenGL 3.3 core context (glad), Dear
// ImGui's GLFW and OpenGL3 backends as Debian ships them, and the frame loop around App.
// Also the offscreen renderer behind `heapviz shot` (the same App and views, into a
// framebuffer object, written as a PNG).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hv::app {

// Opens the app on path (empty: no file yet). Returns the process exit status: 0, or 2 with
// one line on stderr when there is no display or no OpenGL 3.3.
struct ViewOptions {
  std::string path;        // a trace or a scenario ("": the demo, session/data_dir.h)
  std::string policies;    // "A,B,C": the scenario on those policies side by side ("": no)
  bool predict = false;    // predict mode (View > Predict, then reveal) from the first allocation
  bool playground = false; // the Playground's editor on the scenario (or a starter)
  std::string lesson;      // a lesson file: the app opens it at its step instead of path
  int step = 0;            // the lesson's step (0 = the first)
  float ui_scale = 0;      // the UI scale (0: the saved setting, ui_scale.h)
};
int run_viewer(const ViewOptions& o);

struct ShotOptions {
  std::string file;
  std::string out;      // PNG
  std::string geometry; // optional: where each visible chunk was drawn, as text
  bool at_end = true;
  uint64_t at = 0;                  // position: the heap after this many events
  float ui_scale = 1;               // the UI scale (a shot never takes the saved setting)
  bool say_output = false;          // out was chosen by run_shot: say where the PNG went
  std::string at_text;              // --at as written (N|end|peak|mark:LABEL): resolved on the trace
  uint64_t select = 0;              // chunk address to select (0: none)
  bool by_site = false;             // the map coloured by allocation site
  std::string mode;                 // the map's scale: exact, min-width or one-cell (empty: as the app opens)
  bool shorten_top = false;         // the top chunk and gaps at most one row long
  int32_t region = -1;              // show one region (the map's group, 0 = the first; -1: all)
  std::string range;                // show the chunks that overlap [LO, HI): "LO-HI" (empty: all)
  std::string function;             // show only the sites whose stack has this function
  int64_t mark_a = -1, mark_b = -1; // diff marks (positions; -1: none)
  std::string diff_text;            // --diff as written (A:B, positions as --at's): resolved on the trace
  int tab = -1;       // the Sites window's tab: 0 sites, 1 leaks, 2 fragmentation, 3 diff (-1: as it opens)
  int row = 0;        // in that tab, the row to select (1 = the first; 0: none)
  int sites_view = 0; // the Sites tab as a list (0), bottom-up (1) or top-down (2)
  // The heap error to show (1 = the first; 0: none): selected in Errors, its event (unless --at
  // says another), its block selected and its corrupted bytes drawn on the map.
  int error = 0;
  bool at_given = false;    // --at was given
  bool breakpoints = false; // show the Breakpoints window
  // A scenario on several policies side by side (the Policies window; --at counts the first
  // policy's events).
  std::string policies; // "A,B,C" ("": no)
  // Predict mode at allocation K (1 = the first; 0: off), and optionally the answer that reveals
  // it: "grows", "mapping", "null", or an address on the map (the chunk holding it).
  int predict = 0;
  std::string answer;
  std::string lesson; // a lesson file: file is the lesson, shown at its step (--at is refused)
  int step = 0;       // the lesson's step (0 = the first)
  int width = 1600, height = 900;
};
// Renders one screenshot. Exit status: 0; 1 the file is damaged (the readable prefix was
// drawn and written; the message is on stderr); 2 it cannot be shown at all, bad options, or
// no display / GL.
int run_shot(const ShotOptions& o);

// Live mode (`heapviz attach PID`, `heapviz run`): the app follows a running process's heap.
struct LiveOptions {
  int pid = 0;
  std::string capture;     // the received stream is kept here (a normal trace file)
  std::string shot;        // optional: after shot_seconds, save a PNG of the window and quit
  double shot_seconds = 0; // with shot; without it, a limit on how long to follow (0: none)
};
int run_live(const LiveOptions& o);

} // namespace hv::app
