// app.h - the heapviz desktop app: the document, the windows and their layout, menus, keys,
// the open-file dialog and the loading screen. Platform-free: app/shell.cpp owns the GLFW
// window and the GL context and calls frame() between ImGui::NewFrame() and ImGui::Render().
//
// Must not: call GLFW or GL (the shell does), or change the model except through
// Document::seek (the intent the views leave in Cursor).
#pragma once

#include "session/document.h"
#include "session/why_log.h"
#include "trace/process_tree.h"
#include "views/views.h"

#include <array>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace hv::live {
class Capture;
}

namespace hv::app {

class App {
public:
  // fixed_layout: windows always at their default places (shots, tests); else the user's
  // layout (imgui.ini) wins after the first run.
  explicit App(bool fixed_layout);
  // Stops any loading first: a loading thread calls back into this object (the preview).
  ~App();

  // Opens a trace or a scenario (on glibc), closing any lesson.
  void open(const std::string& path);
  // One scenario on several allocator policies, side by side (the Policies window): the app's
  // document shows the first policy; the others follow it. False, with open_error(), when the
  // scenario cannot be run.
  bool open_policies(const std::string& scenario, const std::vector<std::string>& policies);
  session::SideBySide& side() { return side_; }
  views::PoliciesState& policies_view() { return policies_; }
  session::WhyLog& why() { return why_; }
  views::PredictState& predict() { return predict_; }
  // The Playground (app/playground.cpp): an editor whose scenario re-simulates as it is typed.
  // path: a scenario to edit ("": the shown scenario, or a starter).
  void start_playground(const std::string& path = "");
  views::PlaygroundState& playground() { return playground_; }
  // The playground has an edit waiting to run, or a run in flight (the shell draws at 30 Hz).
  bool simulating() const { return pg_dirty_ || pg_doc_ != nullptr; }
  // A window's search (the Chunk window's history, the Events filter: session::QueryJob) is
  // still running on its thread: the shell draws at 30 Hz for its progress bar, and a shot waits.
  bool searching() const { return doc_->state() == session::Document::State::Ready && doc_->searching(); }
  // Lessons (app/lessons.cpp, docs/lessons.md): opens the lesson file at path at its step (0 =
  // the first); the document follows the step's policy and mark.
  void open_lesson(const std::string& path, int step);
  // Brings the document to the lesson's step now if it has loaded (for `shot --lesson`, after
  // Document::wait()); true when the step is shown.
  bool lesson_settle();
  views::LessonState& lesson() { return lesson_; }
  // App-level keys, queued by the shell from the window's key events so that a press is never
  // lost, however short (ImGui 1.86 samples key state once per frame). Applied next frame,
  // unless a text field has the keyboard.
  enum class Key { Left, Right, Home, End, Space, Open, Save, Quit };
  void key(Key k) { keys_.push_back(k); }
  // One frame of UI; dt in seconds since the previous frame.
  void frame(float dt);
  bool quit_requested() const { return quit_; }
  // View > UI scale (ui_scale.cpp): the scale asked for since the last call (0: none), which the
  // shell applies between frames; set_ui_scale says which one is in effect.
  float take_ui_scale_request() { return std::exchange(ui_scale_request_, 0.0f); }
  void set_ui_scale(float s) { ui_scale_ = s; }
  // While loading: the position of the heap preview shown (0: none yet).
  uint64_t preview_position() const { return preview_pos_; }
  // Why the last File > Open failed ("" if none did).
  const std::string& open_error() const { return open_error_; }

  session::Document& doc() { return *doc_; }
  // A file being opened while another is shown (it replaces it only once it loads).
  const session::Document* pending() const { return pending_.get(); }
  views::Cursor& cursor() { return cursor_; }
  views::ChunkMapState& chunk_map() { return map_; }
  views::SitesState& sites_view() { return sites_view_; }
  views::ErrorsState& errors_view() { return errors_view_; }
  views::InspectorState& inspector() { return inspector_; }
  views::EventListState& events_view() { return events_; }
  views::BreakpointsState& breakpoints() { return breaks_; }
  views::TimelineState& timeline() { return timeline_; }
  session::SiteView& sites() { return sites_; }
  const views::HeapPicture& picture() const { return picture_; }
  // Seeks now (not at the end of the next frame): for `shot --at`.
  void seek_now(uint64_t pos);

  // Live mode (docs/live.md): the app follows a capture of a running process. The capture file
  // is reopened up to its last sync point every so often (a background load; the shown history
  // stays until the newer one is ready). Following puts the position at the newest event; any
  // seek elsewhere pauses following; End or the Follow button resumes it.
  void start_live(std::unique_ptr<live::Capture> cap, bool follow = true);
  live::Capture* live_capture() { return live_.get(); }
  bool following() const { return live_follow_; }
  const std::string& save_message() const { return save_msg_; } // the last Save trace as
  void set_following(bool f);

  // File > Open child (children.cpp): the traces of the processes the open trace's process
  // started (trace/process_tree.h), read each time the File menu opens, and where the menu drew
  // its rows (x0, y0, x1, y1), for the in-process tests.
  struct ChildrenMenu {
    std::vector<trace::ProcessTrace> list;
    std::array<float, 4> item{}; // "Open child" itself
    std::vector<std::array<float, 4>> rows;
  };
  const ChildrenMenu& children_menu() const { return children_; }

private:
  void draw_children_menu(); // File > Open child
  ChildrenMenu children_;
  // Opens path, a scenario simulated on policy (a trace ignores it).
  void open_doc(const std::string& path, const std::string& policy);
  void lesson_tick();       // the Lesson window's intent, and the document brought to the step
  void read_lessons();      // the catalog, once
  void draw_lessons_menu(); // the Lessons menu (and the one-click start in the menu bar)
  void apply_intent(float dt);
  // Breakpoints: turns a run, a play step or a stopping seek into a search, and steps it for at
  // most kBreakBudgetMs a frame; where it stops becomes the seek.
  void breakpoint_intent(uint64_t play_to);
  static constexpr double kBreakBudgetMs = 8;
  void refresh_picture();
  void draw_menu();
  void draw_compare_menu();  // View > Compare policies (a scenario on several policies)
  void draw_ui_scale_menu(); // View > UI scale (ui_scale.cpp)
  float ui_scale_ = 1, ui_scale_request_ = 0;
  void draw_open_dialog();
  void draw_status();   // loading progress, or the error of a file that cannot be shown
  void after_growth();  // the live document grew in place
  void adopt_pending(); // a file opened from the menu: swap it in once loaded, or report why not
  void reset_views();
  void keyboard();
  void place(const char* name, float x, float y, float w, float h);
  void live_tick();     // adopt a loaded refresh, or start the next one
  void draw_live_bar(); // in the menu bar: state, counts, Follow/Pause, Detach, Save
  void draw_save_dialog();

  bool fixed_;
  bool quit_ = false;
  std::unique_ptr<session::Document> doc_ = std::make_unique<session::Document>();
  std::unique_ptr<session::Document> pending_; // see pending()
  std::string open_error_;                     // a failed File > Open, shown in a popup
  views::Cursor cursor_;
  views::HeapPicture picture_;
  views::ChunkMapState map_;
  views::TimelineState timeline_;
  views::EventListState events_;
  views::InspectorState inspector_;
  views::BinsState bins_;
  views::ArenasState arenas_;
  views::SitesState sites_view_;
  views::ErrorsState errors_view_;
  views::BreakpointsState breaks_;
  session::SideBySide side_;
  session::WhyLog why_; // each allocation's "why" (the event list, the inspector, predict mode)
  views::PredictState predict_;
  views::PlaygroundState playground_;
  void playground_tick();
  std::unique_ptr<session::Document> pg_doc_; // the text being simulated (none: idle)
  std::chrono::steady_clock::time_point pg_edit_, pg_started_;
  bool pg_dirty_ = false;
  std::string pg_dir_; // the scratch scenario's directory
  views::PoliciesState policies_;
  bool show_policies_ = true;
  // View > Compare policies: the policies ticked for the scenario shown.
  std::vector<std::string> compare_pick_;
  views::LessonState lesson_;
  std::string lesson_opened_; // the "path|policy" the lesson last opened the document on
  session::SiteView sites_;
  session::DiffMarks diff_;
  double play_accum_ = 0;
  bool show_events_ = true, show_inspector_ = true, show_bins_ = true, show_arenas_ = true,
       show_metrics_ = true, show_timeline_ = true, show_help_ = false, show_sites_ = true,
       show_errors_ = true, show_breaks_ = false;
  bool open_dialog_ = false;
  bool open_all_files_ = false;
  bool show_open_error_ = false;
  char open_path_[1024] = "";
  std::string open_dir_;
  std::vector<std::string> recent_;
  std::vector<Key> keys_;
  // While a big file loads: the heap replayed so far, built on the loading thread.
  std::mutex preview_mu_;
  views::HeapPicture preview_in_, preview_;
  views::HeapPicture preview_work_;                    // the loading thread's own
  std::chrono::steady_clock::time_point preview_next_; // no preview before this
  uint64_t preview_in_pos_ = 0, preview_pos_ = 0;
  bool preview_fresh_ = false;
  void attach_preview(session::Document& d);

  // A live refresh replays new events for at most this long a frame, in steps of this many
  // events (Document::extend): the rest waits for the next frame. With 0.04 s, a program making
  // 20 M events/s on 2 cores was shown at 24-28% of what was received after 5 s; with 0.1 s at
  // 41-48% (the window then draws about 10 frames a second while it catches up).
  static constexpr double kLiveSecondsPerFrame = 0.100;
  static constexpr uint64_t kLiveEventsPerStep = 100000;
  std::unique_ptr<live::Capture> live_;
  bool live_follow_ = true;
  bool pending_live_ = false;                       // pending_ is a live refresh: adopted quietly, views kept
  uint64_t live_loaded_ = 0;                        // capture bytes shown (or being loaded)
  std::chrono::steady_clock::time_point live_next_; // no refresh before this
  std::string live_error_;                          // the last refresh that failed
  uint64_t live_socket_ = 0;                        // the process's socket when we attached (live::socket_id)
  bool save_dialog_ = false;
  char save_path_[1024] = "";
  std::string save_msg_;
};

} // namespace hv::app
