// app.cpp - the app's frame: menus, window placement, keys, open dialog, loading screen, and
// the breakpoint searches (runs, play steps, stopping seeks) stepped a frame's budget at a time.
#include "app/app.h"

#include "live/live_client.h"
#include "trace/event_text.h"

#include "imgui.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace hv::app {

namespace fs = std::filesystem;

App::App(bool fixed_layout) : fixed_(fixed_layout) {
  char cwd[4096];
  open_dir_ = getcwd(cwd, sizeof cwd) ? cwd : "/";
}

App::~App() {
  why_.stop();
  if (pending_) pending_->close();
  doc_->close();
}

void App::reset_views() {
  picture_ = views::HeapPicture();
  map_.fit_pending = true;
  map_.layout_position = UINT64_MAX;
  cursor_ = views::Cursor();
  events_ = views::EventListState();
  inspector_ = views::InspectorState();
  timeline_ = views::TimelineState();
  bins_ = views::BinsState();
  arenas_ = views::ArenasState();
  sites_view_ = views::SitesState();
  errors_view_ = views::ErrorsState();
  breaks_.search.clear();
  breaks_.message.clear();
  predict_.game.stop(); // (its stories belong to the document shown before)
  predict_.next_requested = false;
  diff_ = session::DiffMarks();
}

void App::attach_preview(session::Document& d) {
  {
    std::lock_guard<std::mutex> g(preview_mu_);
    preview_fresh_ = false;
    preview_pos_ = 0;
    preview_ = views::HeapPicture();
    preview_in_ = views::HeapPicture();
  }
  preview_work_ = views::HeapPicture();
  preview_next_ = std::chrono::steady_clock::time_point();
  d.set_preview([this, &d](const model::HeapModel& m, uint64_t pos) {
    // On the loading thread. Built into a buffer only this thread touches (its memory is reused:
    // fresh pages are slow), then handed over without its scratch space. The next preview waits
    // at least ten times as long as this one took, so previews of a big heap cost the loading
    // at most a tenth of its time.
    auto t0 = std::chrono::steady_clock::now();
    if (t0 < preview_next_) return;
    views::build_picture(m, d.policy(), &preview_work_); // its policy is set before the replay
    preview_work_.position = pos;
    {
      std::lock_guard<std::mutex> g(preview_mu_);
      swap_content(preview_in_, preview_work_);
      preview_in_pos_ = pos;
      preview_fresh_ = true;
    }
    preview_next_ = std::chrono::steady_clock::now() + 10 * (std::chrono::steady_clock::now() - t0);
  });
}

void App::open(const std::string& path) {
  lesson_.active = false;
  open_doc(path, "glibc");
}

void App::open_doc(const std::string& path, const std::string& policy) {
  side_ = session::SideBySide(); // (open_policies sets it again once the first policy opens)
  recent_.erase(std::remove(recent_.begin(), recent_.end(), path), recent_.end());
  recent_.insert(recent_.begin(), path);
  if (recent_.size() > 8) recent_.resize(8);
  if (doc_->state() == session::Document::State::Ready) {
    // Keep showing this one until the new file has loaded; a file that fails leaves it alone.
    pending_ = std::make_unique<session::Document>();
    pending_->set_scenario_policy(policy);
    pending_->open(path);
    return;
  }
  pending_.reset();
  why_.stop(); // (it reads the file being closed)
  attach_preview(*doc_);
  doc_->set_scenario_policy(policy);
  doc_->open(path);
  reset_views();
}

void App::adopt_pending() {
  if (!pending_ || pending_live_) return;
  switch (pending_->state()) {
  case session::Document::State::Ready:
    why_.stop();
    doc_ = std::move(pending_);
    reset_views();
    break;
  case session::Document::State::Failed:
    open_error_ = pending_->error();
    pending_.reset();
    show_open_error_ = true;
    break;
  default:
    break;
  }
}

void App::seek_now(uint64_t pos) {
  doc_->seek(pos);
  refresh_picture();
}

void App::place(const char* name, float x, float y, float w, float h) {
  ImGuiCond cond = fixed_ ? ImGuiCond_Always : ImGuiCond_FirstUseEver;
  ImGui::SetNextWindowPos(ImVec2(x, y), cond);
  ImGui::SetNextWindowSize(ImVec2(w, h), cond);
  (void)name;
}

void App::keyboard() {
  std::vector<Key> keys;
  keys.swap(keys_);
  bool text = ImGui::GetIO().WantTextInput;
  for (Key k : keys) {
    if (k == Key::Open) open_dialog_ = true;
    if (k == Key::Save && live_ && live_->syncs() > 0) save_dialog_ = true;
    if (k == Key::Quit) quit_ = true;
    if (text || doc_->state() != session::Document::State::Ready) continue;
    if (predict_.game.active() && (k == Key::Right || k == Key::Left || k == Key::Home || k == Key::End)) {
      if (k == Key::Right) predict_.next_requested = true; // predicting: the game moves the timeline
      continue;
    }
    uint64_t total = doc_->events();
    uint64_t pos = cursor_.seek >= 0 ? uint64_t(cursor_.seek) : doc_->position(); // presses add up
    if (k == Key::Right || k == Key::Left || k == Key::Home || k == Key::End) cursor_.seek_stops = true;
    switch (k) {
    case Key::Right:
      cursor_.seek = int64_t(std::min(total, pos + 1));
      break;
    case Key::Left:
      cursor_.seek = pos ? int64_t(pos - 1) : 0;
      break;
    case Key::Home:
      cursor_.seek = 0;
      break;
    case Key::End:
      cursor_.seek = int64_t(total);
      if (live_) set_following(true); // live: End means "back to now"
      break;
    case Key::Space:
      cursor_.playing = !cursor_.playing;
      break;
    default:
      break;
    }
  }
}

void App::apply_intent(float dt) {
  if (doc_->state() != session::Document::State::Ready) return;
  uint64_t total = doc_->events();
  uint64_t play_to = UINT64_MAX; // where play goes this frame (UINT64_MAX: nowhere)
  if (cursor_.playing && cursor_.seek < 0 && !breaks_.search.searching()) {
    play_accum_ += double(cursor_.speed) * dt;
    uint64_t step = uint64_t(play_accum_);
    if (step) {
      play_accum_ -= double(step);
      play_to = std::min(total, doc_->position() + step);
      if (play_to == total) cursor_.playing = false;
    }
  } else if (!cursor_.playing) {
    play_accum_ = 0;
  }
  breakpoint_intent(play_to);
  // Live: looking anywhere but the newest event pauses following (the history stays put).
  if (live_ && live_follow_ && (cursor_.playing || (cursor_.seek >= 0 && uint64_t(cursor_.seek) != total)))
    live_follow_ = false;
  if (cursor_.seek >= 0) {
    doc_->seek(uint64_t(cursor_.seek));
    cursor_.seek = -1;
  }
  cursor_.seek_stops = false;
  // Diff marks: computed when both are set and one changed (it seeks the replay and back).
  if (cursor_.mark_a >= 0 && cursor_.mark_b >= 0) {
    uint64_t a = uint64_t(std::min(cursor_.mark_a, cursor_.mark_b)),
             b = uint64_t(std::max(cursor_.mark_a, cursor_.mark_b));
    if (!diff_.ready || diff_.a != a || diff_.b != b) session::compute_diff(*doc_, a, b, &diff_);
  } else if (diff_.ready) {
    diff_ = session::DiffMarks();
  }
  refresh_picture();
  if (side_.active()) side_.follow(doc_->position());
}

void App::breakpoint_intent(uint64_t play_to) {
  views::BreakpointsState& B = breaks_;
  const session::Breakpoints& bp = B.bp;
  const bool usable = bp.any() && B.error.empty();
  const uint64_t total = doc_->events(), pos = doc_->position();
  // The user went elsewhere (a seek of their own, or paused the play a search was stepping for):
  // the search in progress is dropped.
  if (B.search.searching() && (cursor_.seek >= 0 || (B.play && !cursor_.playing))) {
    B.search.clear();
    if (!B.play) B.message = "search stopped";
  }
  if (cursor_.run == 2) { // Stop
    B.search.clear();
    B.message = "search stopped";
  } else if (cursor_.run && usable) {
    // A run: from the event after the current one forward, or from the one before it backward.
    cursor_.playing = false;
    B.seek_to = -1;
    B.play = false;
    B.message.clear();
    if (cursor_.run > 0)
      B.search.start(bp, pos, total ? total - 1 : 0, true);
    else if (pos >= 2)
      B.search.start(bp, pos - 2, 0, false);
    else
      B.search.start(bp, 1, 2, false); // nothing before: an empty range
  }
  cursor_.run = 0;
  if (play_to != UINT64_MAX) {
    if (usable && bp.stop_play && play_to > pos) { // play stops at the first hit on its way
      B.search.start(bp, pos, play_to - 1, true);
      B.seek_to = int64_t(play_to);
      B.play = true;
    } else {
      cursor_.seek = int64_t(play_to);
    }
  }
  if (cursor_.seek >= 0 && cursor_.seek_stops && usable && bp.stop_seeks && uint64_t(cursor_.seek) != pos) {
    // A seek with the transport: to the first hit on the way (backward: before the current event).
    uint64_t to = std::min<uint64_t>(uint64_t(cursor_.seek), total);
    cursor_.seek = -1;
    B.seek_to = int64_t(to);
    B.play = false;
    if (to > pos)
      B.search.start(bp, pos, to - 1, true);
    else if (pos >= 2 && to <= pos - 2)
      B.search.start(bp, pos - 2, to, false);
    else
      cursor_.seek = int64_t(to);
  }
  if (!B.search.searching()) return;
  if (bp.on_site && !bp.function.empty()) sites_.update(*doc_, 0.002); // its stacks, for the symbolizer
  session::StackHasFunction has = [this](uint32_t stack, const std::string& fn) {
    for (const symbols::Frame& fr : sites_.stack_frames(stack))
      if (fr.function.find(fn) != std::string::npos) return true;
    return false;
  };
  using St = session::BreakSearch::State;
  St st = B.search.step(doc_->index(), has, kBreakBudgetMs);
  if (st == St::Found) {
    uint64_t i = B.search.found();
    cursor_.seek = int64_t(i + 1);
    if (B.play) cursor_.playing = false;
    session::Event e = doc_->index().at(i);
    B.message = "stopped at event " + std::to_string(i + 1) + ": " + trace::event_type_name(uint8_t(e.type));
    int64_t ek = doc_->errors().find_event(i);
    if (ek >= 0) {
      cursor_.error = ek; // an error: its block and bytes, as a click in Errors
      const analysis::HeapError& h = doc_->errors().at(size_t(ek));
      if (h.has_block && h.chunk) cursor_.selected = h.chunk, cursor_.reveal = true;
      B.message += std::string(" (") + trace::error_kind_name(h.report.kind) + ")";
    }
  } else if (st == St::NotFound) {
    if (B.seek_to >= 0) {
      cursor_.seek = B.seek_to;
    } else {
      B.message = B.search.forward() ? "no later event meets the conditions"
                                     : "no earlier event meets the conditions";
    }
  } else if (B.play) {
    cursor_.seek = int64_t(B.search.reached()); // not done in this frame's budget: play as far as it looked
  }
}

void App::draw_menu() {
  if (!ImGui::BeginMainMenuBar()) return;
  if (ImGui::BeginMenu("File")) {
    if (ImGui::MenuItem("Open...", "Ctrl+O")) open_dialog_ = true;
    if (ImGui::BeginMenu("Open recent", !recent_.empty())) {
      for (const std::string& r : recent_)
        if (ImGui::MenuItem(r.c_str())) {
          std::string p = r;
          open(p);
          break;
        }
      ImGui::EndMenu();
    }
    draw_children_menu(); // children.cpp
    if (ImGui::MenuItem("Reload", nullptr, false, !doc_->path().empty() && !live_)) {
      if (side_.active()) { // the scenario again, on the same policies
        std::vector<std::string> names;
        for (const auto& r : side_.runs())
          names.push_back(r.policy);
        std::string scenario = side_.scenario();
        open_policies(scenario, names);
      } else {
        open(std::string(doc_->path()));
      }
    }
    if (live_ && ImGui::MenuItem("Save trace as...", "Ctrl+S", false, live_->syncs() > 0))
      save_dialog_ = true;
    ImGui::Separator();
    if (ImGui::MenuItem("Quit", "Ctrl+Q")) quit_ = true;
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("View")) {
    ImGui::MenuItem("Timeline", nullptr, &show_timeline_);
    ImGui::MenuItem("Events", nullptr, &show_events_);
    ImGui::MenuItem("Chunk", nullptr, &show_inspector_);
    ImGui::MenuItem("Bins", nullptr, &show_bins_);
    ImGui::MenuItem("Arenas", nullptr, &show_arenas_, !show_breaks_); // (Breakpoints takes its place)
    ImGui::MenuItem("Metrics", nullptr, &show_metrics_);
    ImGui::MenuItem("Sites", nullptr, &show_sites_);
    ImGui::MenuItem("Errors", nullptr, &show_errors_);
    ImGui::MenuItem("Breakpoints", nullptr, &show_breaks_);
    ImGui::Separator();
    ImGui::MenuItem("Legend", nullptr, &map_.legend);
    if (side_.active()) ImGui::MenuItem("Policies side by side", nullptr, &show_policies_);
    if (ImGui::MenuItem("Playground", nullptr, playground_.open)) {
      if (playground_.open)
        playground_.open = false;
      else
        start_playground();
    }
    if (ImGui::MenuItem("Predict, then reveal", nullptr, predict_.game.active() || predict_.requested)) {
      if (predict_.game.active())
        predict_.game.stop();
      else
        predict_.requested = true;
    }
    draw_compare_menu();
    if (ImGui::MenuItem("Zoom to fit")) map_.fit_pending = true;
    draw_ui_scale_menu();
    ImGui::EndMenu();
  }
  draw_lessons_menu();
  if (ImGui::BeginMenu("Help")) {
    ImGui::MenuItem("Keys and mouse", nullptr, &show_help_);
    ImGui::EndMenu();
  }
  if (live_) {
    draw_live_bar();
    ImGui::EndMainMenuBar();
    return;
  }
  // The file and position, right-aligned.
  std::string right = doc_->path();
  if (playground_.open)
    right = "playground: " +
            (playground_.path.empty()
                 ? std::string("(not saved)")
                 : playground_.path + (playground_.unsaved_new ? " (new file, not saved yet)" : "")) +
            (doc_->state() == session::Document::State::Ready
                 ? std::string("  (simulated on ") + doc_->policy().name + ")"
                 : "");
  else if (side_.active())
    right = side_.scenario() + "  (scenario, side by side: " + std::to_string(side_.size()) +
            " policies; timeline, events and inspector: " + side_.runs()[0].policy + ")";
  else if (doc_->is_scenario())
    right += doc_->state() == session::Document::State::Ready
                 ? std::string("  (scenario, simulated on ") + doc_->policy().name + ")"
                 : std::string("  (scenario)");
  float w = ImGui::CalcTextSize(right.c_str()).x;
  ImGui::SameLine(std::max(ImGui::GetCursorPosX() + 20, ImGui::GetWindowWidth() - w - 12));
  ImGui::TextDisabled("%s", right.c_str());
  ImGui::EndMainMenuBar();
}

void App::draw_open_dialog() {
  if (open_dialog_) {
    ImGui::OpenPopup("Open a trace or scenario");
    open_dialog_ = false;
    if (!open_path_[0]) snprintf(open_path_, sizeof open_path_, "%s/", open_dir_.c_str());
  }
  ImVec2 ds = ImGui::GetIO().DisplaySize;
  ImGui::SetNextWindowSize(ImVec2(std::min(700.0f, ds.x - 40), std::min(480.0f, ds.y - 40)),
                           ImGuiCond_Appearing);
  if (!ImGui::BeginPopupModal("Open a trace or scenario", nullptr)) return;
  ImGui::TextDisabled(
      "a .hvt trace (heapviz record), a .hvs scenario (docs/scenarios.md) or a .rep malloclab trace");
  ImGui::SetNextItemWidth(-70);
  if (ImGui::IsWindowAppearing()) ImGui::SetKeyboardFocusHere(); // type a path right away
  bool enter =
      ImGui::InputText("##path", open_path_, sizeof open_path_, ImGuiInputTextFlags_EnterReturnsTrue);
  ImGui::SameLine();
  bool go = ImGui::Button("Open") || enter;
  std::error_code ec;
  fs::path dir = open_dir_;
  ImGui::Text("%s", dir.c_str());
  if (ImGui::BeginChild("##files", ImVec2(0, -30), true)) {
    if (ImGui::Selectable("..")) {
      open_dir_ = dir.parent_path().string();
      snprintf(open_path_, sizeof open_path_, "%s/", open_dir_.c_str());
    }
    std::vector<fs::directory_entry> entries;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
      entries.push_back(*it);
    std::sort(entries.begin(), entries.end(), [](const fs::directory_entry& a, const fs::directory_entry& b) {
      std::error_code e1, e2;
      bool da = a.is_directory(e1), db = b.is_directory(e2);
      if (da != db) return da;
      return a.path().filename() < b.path().filename();
    });
    for (const fs::directory_entry& e : entries) {
      std::error_code e1;
      bool d = e.is_directory(e1);
      std::string name = e.path().filename().string() + (d ? "/" : "");
      if (!d && name.size() && name[0] == '.') continue;
      // Traces and scenarios only, unless "all files" is ticked.
      std::string ext = e.path().extension().string();
      if (!d && !open_all_files_ && ext != ".hvt" && ext != ".hvs" && ext != ".rep" && ext != ".txt" &&
          name.find(".hvt.") == std::string::npos)
        continue;
      if (ImGui::Selectable(name.c_str(), false, ImGuiSelectableFlags_AllowDoubleClick)) {
        if (d) {
          open_dir_ = e.path().string();
          snprintf(open_path_, sizeof open_path_, "%s/", open_dir_.c_str());
        } else {
          snprintf(open_path_, sizeof open_path_, "%s", e.path().c_str());
          if (ImGui::IsMouseDoubleClicked(0)) go = true;
        }
      }
    }
    if (ec) ImGui::TextColored(ImVec4(0.94f, 0.33f, 0.31f, 1), "%s", ec.message().c_str());
  }
  ImGui::EndChild();
  if (ImGui::Button("Cancel") || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape)))
    ImGui::CloseCurrentPopup();
  ImGui::SameLine();
  ImGui::Checkbox("all files", &open_all_files_);
  if (go && open_path_[0]) {
    std::error_code e1;
    if (fs::is_directory(open_path_, e1)) {
      open_dir_ = open_path_;
    } else {
      open(open_path_);
      ImGui::CloseCurrentPopup();
    }
  }
  ImGui::EndPopup();
}

void App::draw_status() {
  ImVec2 ds = ImGui::GetIO().DisplaySize;
  // Centred; below the map when a loading preview is showing the heap.
  bool below = doc_->state() == session::Document::State::Loading && preview_pos_;
  ImGui::SetNextWindowPos(ImVec2(ds.x / 2, below ? ds.y * 0.78f : ds.y / 2), ImGuiCond_Always,
                          ImVec2(0.5f, 0.5f));
  ImGui::SetNextWindowSize(ImVec2(std::min(640.0f, ds.x - 40), 0), ImGuiCond_Always);
  ImGui::Begin("heapviz", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoMove);
  switch (doc_->state()) {
  case session::Document::State::Empty:
    ImGui::TextUnformatted("heapviz: see a glibc heap, chunk by chunk.");
    ImGui::TextDisabled(
        "Open a trace (heapviz record -- PROGRAM) or a scenario (.hvs): File > Open, Ctrl+O.");
    break;
  case session::Document::State::Loading: {
    std::string what;
    double f = doc_->progress(&what);
    ImGui::Text("Loading %s", doc_->path().c_str());
    ImGui::ProgressBar(float(f), ImVec2(-1, 0));
    ImGui::TextDisabled("%s", what.c_str());
    break;
  }
  case session::Document::State::Failed:
    ImGui::TextColored(ImVec4(0.94f, 0.33f, 0.31f, 1), "Cannot open this file");
    ImGui::TextWrapped("%s", doc_->error().c_str());
    ImGui::TextDisabled("File > Open another one (Ctrl+O).");
    if (ImGui::Button("Open...")) open_dialog_ = true;
    break;
  case session::Document::State::Ready:
    break;
  }
  ImGui::End();
}

void App::frame(float dt) {
  doc_->trim_pages();
  live_tick();
  adopt_pending();
  playground_tick();
  lesson_tick();
  keyboard();
  apply_intent(dt);
  draw_menu();
  ImVec2 ds = ImGui::GetIO().DisplaySize;
  float top = ImGui::GetFrameHeight();
  // The loading thread may finish at any moment: decide on one state for the whole frame, and
  // make sure the picture matches the replay before any view reads it.
  const session::Document::State state = doc_->state();
  if (state == session::Document::State::Ready) refresh_picture();
  if (state != session::Document::State::Loading && preview_pos_) { // loaded: previews are done with
    std::lock_guard<std::mutex> g(preview_mu_);
    preview_ = views::HeapPicture();
    preview_in_ = views::HeapPicture();
    preview_work_ = views::HeapPicture();
    preview_pos_ = 0;
  }
  if (state == session::Document::State::Loading) {
    // The heap replayed so far, if the loading thread has shown us one yet.
    {
      std::lock_guard<std::mutex> g(preview_mu_);
      if (preview_fresh_) {
        std::swap(preview_, preview_in_);
        preview_pos_ = preview_in_pos_;
        preview_fresh_ = false;
      }
    }
    if (preview_pos_) {
      float right_w = std::clamp(ds.x * 0.27f, 300.0f, 460.0f);
      place("Chunk map", 0, top, ds.x - right_w, std::floor((ds.y - top) * 0.55f));
      ImGui::Begin("Chunk map", nullptr,
                   (fixed_ ? ImGuiWindowFlags_NoSavedSettings : 0) | ImGuiWindowFlags_NoScrollbar |
                       ImGuiWindowFlags_NoScrollWithMouse);
      ImGui::TextColored(ImVec4(1, 0.92f, 0.23f, 1), "Loading: the heap after event %llu, as replayed so far",
                         (unsigned long long)preview_pos_);
      views::Cursor preview_cursor; // no selection or seeking while loading
      views::Frame pf{*doc_, preview_, {0, 0}, nullptr, nullptr};
      views::draw_chunk_map(pf, map_, preview_cursor);
      ImGui::End();
    }
    draw_status();
  } else if (state != session::Document::State::Ready) {
    draw_status();
  } else {
    if (!live_) why_.start(*doc_); // (a live trace grows under a reader: no stories)
    views::Frame f{*doc_, picture_, {0, 0}, &sites_, diff_.ready ? &diff_ : nullptr};
    f.why = &why_;
    if (predict_.game.active()) f.hide_from = predict_.game.position();
    views::changed_chunks(doc_->replay().last_event(), doc_->policy(), f.changed);
    const float em = ImGui::GetFontSize() / 15.0f; // the UI scale: fixed sizes grow with the text
    float right_w = std::clamp(ds.x * 0.27f, 300.0f * em, 460.0f * em);
    float left_w = ds.x - right_w;
    float map_h = std::floor((ds.y - top) * (lesson_.active ? 0.47f : 0.55f)); // a lesson: room to read
    // The curves get about 60 px of it (heap growth, read at a glance); Events and Sites below keep
    // at least 45% of what the map leaves (a large UI scale in a small window).
    float tl_h = std::floor(std::min(180 * em, (ds.y - top - map_h) * 0.55f));
    float ev_y = top + map_h + tl_h;
    ImGuiWindowFlags wf = fixed_ ? ImGuiWindowFlags_NoSavedSettings : 0;

    if (side_.active() && show_policies_) { // side by side: a map per policy where the map was
      place("Policies", 0, top, left_w, map_h);
      if (ImGui::Begin("Policies", &show_policies_,
                       wf | ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse))
        views::draw_policies(f, policies_, side_, cursor_);
      ImGui::End();
    } else {
      place("Chunk map", 0, top, left_w, map_h);
      ImGui::Begin("Chunk map", nullptr,
                   wf | ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
      std::string err = doc_->error();
      if (!err.empty()) ImGui::TextColored(ImVec4(0.94f, 0.33f, 0.31f, 1), "%s", err.c_str());
      views::draw_chunk_map(f, map_, cursor_);
      ImGui::End();
    }

    if (show_timeline_) {
      place("Timeline", 0, top + map_h, left_w, tl_h);
      if (ImGui::Begin("Timeline", &show_timeline_, wf | ImGuiWindowFlags_NoScrollbar))
        views::draw_timeline(f, timeline_, cursor_);
      ImGui::End();
    }
    // The bottom left: the Playground's editor or the Lesson, with Events beside it (their text
    // needs the room); else Errors (a trace with heap errors), Events, and Sites beside them.
    const bool play = playground_.open;
    const bool lesson = lesson_.active && !play;
    const bool panel = play || lesson;
    const bool errors = !panel && show_errors_ && !doc_->errors().empty();
    const bool sites = show_sites_ && !panel;
    float err_w = errors || panel ? std::floor(left_w * (panel ? 0.62f : 0.46f)) : 0;
    if (play) {
      place("Playground", 0, ev_y, err_w, ds.y - ev_y);
      if (playground_.focus) ImGui::SetNextWindowFocus(); // (the editor then takes the keyboard)
      if (ImGui::Begin("Playground", &playground_.open, wf)) views::draw_playground(f, playground_, cursor_);
      ImGui::End();
    }
    float rest_w = left_w - err_w;
    if (lesson) {
      place("Lesson", 0, ev_y, err_w, ds.y - ev_y);
      bool open = true;
      if (ImGui::Begin("Lesson", &open, wf)) views::draw_lesson(f, lesson_, cursor_);
      ImGui::End();
      if (!open) cursor_.lesson_close = true;
    }
    if (errors) {
      place("Errors", 0, ev_y, err_w, ds.y - ev_y);
      if (ImGui::Begin("Errors", &show_errors_, wf)) views::draw_errors(f, errors_view_, cursor_);
      ImGui::End();
    }
    float ev_w = sites ? std::floor(rest_w * (errors ? 0.56f : 0.52f)) : rest_w;
    if (show_events_) {
      place("Events", err_w, ev_y, ev_w, ds.y - ev_y);
      if (ImGui::Begin("Events", &show_events_, wf)) views::draw_event_list(f, events_, cursor_);
      ImGui::End();
    }
    if (sites) {
      float x = err_w + (show_events_ ? ev_w : 0);
      place("Sites", x, ev_y, left_w - x, ds.y - ev_y);
      if (ImGui::Begin("Sites", &show_sites_, wf)) views::draw_sites(f, sites_view_, cursor_);
      ImGui::End();
    }
    float y = top;
    // The right column: Metrics, Chunk, Bins and Arenas; with Breakpoints (View > Breakpoints, or
    // "run to..." on the timeline) the Chunk window is shorter and Breakpoints takes the place of
    // Arenas.
    if (cursor_.open_breakpoints) show_breaks_ = !show_breaks_;
    cursor_.open_breakpoints = false;
    // Metrics as tall as its rows, up to 36% of the column (it scrolls beyond); Bins and Arenas
    // (or Breakpoints) keep at least 22% of it whatever the UI scale.
    const float column = ds.y - top, fh = ImGui::GetFrameHeight(); // (fh: a title bar's height)
    float metrics_h = std::floor(std::min(views::metrics_height(f, right_w), column * 0.36f)),
          chunk_h = std::floor(std::min(column * (show_breaks_ ? 0.32f : 0.40f),
                                        column - metrics_h - std::max(column * 0.22f, 4 * fh))),
          rest_h = column - metrics_h - chunk_h,
          breaks_h = show_breaks_ ? std::floor(std::min(250.0f, rest_h * 0.68f)) : 0,
          // Arenas as tall as its rows (a threaded program's five showed one), up to 60% of what
          // Metrics and Chunk leave; Bins scrolls in the rest.
        bins_h =
            show_breaks_
                ? rest_h - breaks_h
                : rest_h - std::floor(std::min({views::arenas_height(f), rest_h * 0.6f, rest_h - 2 * fh}));
    if (predict_.game.active() || predict_.requested) { // predicting: the game where Metrics was
      place("Predict", left_w, y, right_w, metrics_h);
      bool open = true;
      if (ImGui::Begin("Predict", &open, wf)) views::draw_predict(f, predict_, cursor_);
      ImGui::End();
      if (!open) predict_.game.stop(), predict_.requested = false;
    } else if (show_metrics_) {
      place("Metrics", left_w, y, right_w, metrics_h);
      if (ImGui::Begin("Metrics", &show_metrics_, wf)) views::draw_metrics(f);
      ImGui::End();
    }
    y += metrics_h;
    if (show_inspector_) {
      place("Chunk", left_w, y, right_w, chunk_h);
      if (ImGui::Begin("Chunk", &show_inspector_, wf)) views::draw_inspector(f, inspector_, cursor_);
      ImGui::End();
    }
    y += chunk_h;
    if (show_bins_) {
      place("Bins", left_w, y, right_w, bins_h);
      // A list's rows (index, address, size, which end malloc takes) scroll sideways in a
      // narrow column rather than lose their ends.
      if (ImGui::Begin("Bins", &show_bins_, wf | ImGuiWindowFlags_HorizontalScrollbar))
        views::draw_bins(f, bins_, cursor_);
      ImGui::End();
    }
    y += bins_h;
    if (show_breaks_) {
      place("Breakpoints", left_w, y, right_w, ds.y - y);
      if (ImGui::Begin("Breakpoints", &show_breaks_, wf)) views::draw_breakpoints(f, breaks_, cursor_);
      ImGui::End();
    } else if (show_arenas_) {
      place("Arenas", left_w, y, right_w, ds.y - y);
      if (ImGui::Begin("Arenas", &show_arenas_, wf)) views::draw_arenas(f, arenas_, cursor_);
      ImGui::End();
    }
  }
  if (show_help_) {
    ImGui::SetNextWindowPos(ImVec2(ds.x / 2, ds.y / 2), ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
    if (ImGui::Begin("Keys and mouse", &show_help_, ImGuiWindowFlags_AlwaysAutoResize)) {
      ImGui::TextUnformatted("Left / Right     step back / forward one event\n"
                             "Home / End       first / last event\n"
                             "Space            play / pause\n"
                             "Ctrl+O           open a file       Ctrl+Q  quit\n"
                             "Chunk map        wheel: zoom at the cursor, drag: pan,\n"
                             "                 click: inspect, hover: details\n"
                             "Timeline         click or drag the curves to seek;\n"
                             "                 click a red mark: go to that heap error;\n"
                             "                 Ctrl+click the scrubber: type an event number\n"
                             "File > Reload    read the file again (a trace still being written)\n"
                             "View > UI scale  bigger text, for a projector\n"
                             "Breakpoints      run back / forward to an error, a kind,\n"
                             "                 an address, a size or a function\n"
                             "Events           click a row to go to that event");
    }
    ImGui::End();
  }
  draw_open_dialog();
  if (live_) draw_save_dialog();
  if (show_open_error_) {
    ImGui::OpenPopup("Cannot open the file");
    show_open_error_ = false;
  }
  if (ImGui::BeginPopupModal("Cannot open the file", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    ImGui::TextUnformatted(open_error_.c_str());
    ImGui::TextDisabled("The file shown before stays open.");
    if (ImGui::Button("OK") || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape)) ||
        ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Enter)))
      ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
  }
  if (pending_) {
    // Loading another file: a small progress box over the current one.
    std::string what;
    double fr = pending_->progress(&what);
    ImGui::SetNextWindowPos(ImVec2(ds.x - 12, ds.y - 12), ImGuiCond_Always, ImVec2(1, 1));
    ImGui::SetNextWindowSize(ImVec2(420, 0), ImGuiCond_Always);
    ImGui::Begin("##opening", nullptr, ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoSavedSettings);
    ImGui::Text("Opening %s", pending_->path().c_str());
    ImGui::ProgressBar(float(fr), ImVec2(-1, 0));
    ImGui::TextDisabled("%s", what.c_str());
    ImGui::End();
  }
}

} // namespace hv::app

namespace hv::app {

// ---- Live mode ----------------------------------------------------------------------------------

void App::start_live(std::unique_ptr<live::Capture> cap, bool follow) {
  live_ = std::move(cap);
  live_socket_ = live_->socket_id();
  live_follow_ = follow;
  live_loaded_ = 0;
  live_next_ = std::chrono::steady_clock::time_point();
  snprintf(save_path_, sizeof save_path_, "%s", live_->path().c_str());
}

void App::set_following(bool f) {
  live_follow_ = f;
  if (f) {
    cursor_.playing = false;
    if (doc_->state() == session::Document::State::Ready) cursor_.seek = int64_t(doc_->events());
    live_next_ = std::chrono::steady_clock::time_point(); // refresh now
  }
}

// The shown document grew (Document::extend): its replay is at the new end. Followers go there,
// anyone else back where they were; caches keyed by the event count are told.
void App::after_growth() {
  uint64_t n = doc_->events();
  if (live_follow_) {
    cursor_.seek = int64_t(n);
  } else if (cursor_.seek < 0) {
    cursor_.seek = int64_t(std::min(picture_.position, n));
  }
  picture_.position = UINT64_MAX; // the model moved: rebuild the picture at the next seek
  // (The searches of the Events and Chunk windows were resumed over the new events by extend.)
}

void App::live_tick() {
  if (!live_) return;
  using clock = std::chrono::steady_clock;
  auto now = clock::now();
  using State = session::Document::State;
  if (pending_ && pending_live_) {
    State st = pending_->state();
    if (st == State::Ready) {
      // The newer history replaces the shown one; the user's place, selection and zoom stay.
      uint64_t pos = doc_->state() == State::Ready ? doc_->position() : 0;
      views::Cursor keep = cursor_;
      why_.stop();
      doc_ = std::move(pending_);
      pending_live_ = false;
      events_ = views::EventListState();
      inspector_ = views::InspectorState();
      timeline_ = views::TimelineState();
      bins_ = views::BinsState();
      arenas_ = views::ArenasState();
      sites_view_ = views::SitesState();
      errors_view_ = views::ErrorsState();
      breaks_.search.clear();
      diff_ = session::DiffMarks();
      cursor_.mark_a = cursor_.mark_b = -1;
      picture_.position = UINT64_MAX;
      map_.layout_position = UINT64_MAX;
      cursor_ = keep;
      cursor_.seek = int64_t(live_follow_ ? doc_->events() : std::min(pos, doc_->events()));
      live_error_.clear();
      // Refresh about as often as a load takes to replay: a long history refreshes less often.
      double every = std::clamp(2 * doc_->load_seconds(), 0.25, 10.0);
      live_next_ = now + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(every));
    } else if (st == State::Failed) {
      live_error_ = pending_->error();
      pending_.reset();
      pending_live_ = false;
      live_next_ = now + std::chrono::seconds(1);
    }
    return;
  }
  if (pending_) return; // a File > Open in progress
  // The process exec'd a program that listens anew under the same pid (a launcher script, a
  // pyenv shim): follow the new program, into a file of its own.
  if (live_->end() == live::Capture::End::Lost) {
    uint64_t id = live::socket_id(live_->pid());
    if (id && id != live_socket_ && now >= live_next_) {
      live_next_ = now + std::chrono::milliseconds(500);
      live::Target t;
      std::string err;
      if (live::query(live_->pid(), &t, &err)) {
        std::string path = live::capture_name(t.cmdline, live_->pid());
        // Never an existing file: an earlier stage's may still be mapped by the shown history.
        std::string base = path.substr(0, path.size() - 4);
        for (int k = 2; access(path.c_str(), F_OK) == 0; ++k)
          path = base + "." + std::to_string(k) + ".hvt";
        auto cap = std::make_unique<live::Capture>();
        if (cap->start(live_->pid(), path, &err)) {
          live_->finish();
          // A launcher that exec'd at once (env, a shell script) leaves a file with next to
          // nothing in it: not worth keeping beside the real program's.
          if (live_->synced_events() < 100) unlink(live_->path().c_str());
          start_live(std::move(cap), live_follow_); // a paused user stays paused
          return;
        }
      }
      live_error_ = "the process exec'd, and attaching again failed: " + err;
    }
  }
  uint64_t synced = live_->synced_bytes();
  if (live_->syncs() == 0 || synced <= live_loaded_ || now < live_next_) return;
  if (!live_follow_ && doc_->state() == State::Ready) return; // paused: the history stays put
  State st = doc_->state();
  if (st == State::Loading) return;
  live_loaded_ = synced;
  if (st == State::Ready) {
    // The history grows in place: only the new events are replayed and indexed, and every
    // view keeps its state (selection, zoom, filters, scroll).
    // A frame replays new events for at most kLiveSecondsPerFrame (in steps of
    // kLiveEventsPerStep): a program that makes events faster than that is caught up with over
    // several frames, the window answering between them.
    using Growth = trace::TraceFile::Growth;
    Growth g = doc_->extend(synced, kLiveEventsPerStep);
    for (Growth more = g; more == Growth::Grown && doc_->catching_up() &&
                          std::chrono::duration<double>(clock::now() - now).count() < kLiveSecondsPerFrame;)
      more = doc_->extend(synced, kLiveEventsPerStep);
    if (g != Growth::Reopen) {
      if (g == Growth::Grown) after_growth();
      live_error_.clear();
      if (doc_->catching_up()) {
        live_loaded_ = 0; // come back next frame, whatever the capture says
        live_next_ = now;
      } else {
        live_next_ = now + std::chrono::milliseconds(250);
      }
      return;
    }
    // Cannot grow (the file was replaced or cut): load it afresh beside the shown one.
    pending_ = std::make_unique<session::Document>();
    pending_->open_prefix(live_->path(), synced);
    pending_live_ = true;
  } else { // the first picture: with the loading screen and its previews
    why_.stop();
    attach_preview(*doc_);
    doc_->open_prefix(live_->path(), synced);
    reset_views();
    live_next_ = now + std::chrono::milliseconds(250);
  }
}

void App::draw_live_bar() {
  using End = live::Capture::End;
  End end = live_->end();
  ImGui::SameLine(0, 24);
  // The command on one line (a `python3 -c` script has newlines), and not too long for the bar.
  std::string cmd = live_->cmdline();
  for (char& ch : cmd)
    if (static_cast<unsigned char>(ch) < 32) ch = ' ';
  if (cmd.size() > 60) cmd = cmd.substr(0, 57) + "...";
  char counts[256];
  snprintf(counts, sizeof counts, "pid %d  %s   %s events received   heap %s", live_->pid(), cmd.c_str(),
           views::human_count(live_->synced_events()).c_str(),
           views::human_bytes(live_->heap_bytes()).c_str());
  switch (end) {
  case End::Running:
    if (live_follow_)
      ImGui::TextColored(ImVec4(0.40f, 0.85f, 0.45f, 1), "LIVE: following");
    else
      ImGui::TextColored(ImVec4(1, 0.75f, 0.25f, 1), "LIVE: paused");
    break;
  case End::Exited:
    ImGui::TextColored(ImVec4(0.55f, 0.75f, 1, 1), "PROCESS EXITED");
    break;
  case End::Detached:
    ImGui::TextColored(ImVec4(0.7f, 0.7f, 0.7f, 1), "DETACHED");
    break;
  case End::Lost:
  case End::Failed:
    ImGui::TextColored(ImVec4(0.94f, 0.33f, 0.31f, 1), "CONNECTION LOST");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", live_->message().c_str());
    break;
  }
  ImGui::SameLine();
  ImGui::TextUnformatted(counts);
  // What is shown lags the stream by at most a refresh; say so when it does.
  if (doc_->state() == session::Document::State::Ready) {
    uint64_t shown = doc_->events(), got = live_->synced_events();
    if (got > shown && live_follow_) {
      ImGui::SameLine();
      ImGui::TextDisabled("(showing %s)", views::human_count(shown).c_str());
    }
  }
  ImGui::SameLine(0, 16);
  if (end == End::Running || doc_->position() != doc_->events() || !live_follow_) {
    if (live_follow_) {
      if (ImGui::SmallButton("Pause")) set_following(false);
    } else if (ImGui::SmallButton(end == End::Running ? "Follow (End)" : "Go to end (End)")) {
      set_following(true);
    }
  }
  if (end == End::Running) {
    ImGui::SameLine();
    if (ImGui::SmallButton("Detach")) live_->detach();
  }
  ImGui::SameLine();
  ImGui::TextDisabled("history: %s", live_->path().c_str());
  if (!live_error_.empty()) {
    ImGui::SameLine();
    ImGui::TextColored(ImVec4(0.94f, 0.33f, 0.31f, 1), "refresh failed");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", live_error_.c_str());
  }
}

// File > Save trace as: the received history up to the last sync point, as a normal trace.
void App::draw_save_dialog() {
  bool opened = false;
  if (save_dialog_) {
    ImGui::OpenPopup("Save the received history");
    save_dialog_ = false;
    save_msg_.clear();
    opened = true;
  }
  if (!ImGui::BeginPopupModal("Save the received history", nullptr, ImGuiWindowFlags_AlwaysAutoResize))
    return;
  ImGui::Text("%s events so far, complete up to the last sync point.",
              views::human_count(live_->synced_events()).c_str());
  ImGui::SetNextItemWidth(520);
  if (opened) ImGui::SetKeyboardFocusHere(); // the name field: type at once
  bool enter =
      ImGui::InputText("##path", save_path_, sizeof save_path_, ImGuiInputTextFlags_EnterReturnsTrue);
  if (ImGui::Button("Save") || enter) {
    uint64_t n = live_->synced_bytes();
    std::ifstream in(live_->path(), std::ios::binary);
    std::string dst = save_path_;
    // Never over a file this app reads: the capture (still being written) or a history on screen
    // (mapped: cutting it would crash us). Compared as files, not as names. Written beside the
    // destination first and renamed, so a failure leaves what was there.
    auto same_file = [](const std::string& a, const std::string& b) {
      struct stat sa, sb;
      return !b.empty() && stat(a.c_str(), &sa) == 0 && stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
             sa.st_ino == sb.st_ino;
    };
    if (same_file(dst, live_->path()) || same_file(dst, doc_->path()) ||
        (pending_ && same_file(dst, pending_->path()))) {
      save_msg_ =
          "that is a file the app is reading (the capture, or the history on screen): choose another name";
    } else {
      std::string tmp = dst + ".part";
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      std::vector<char> buf(1 << 20);
      uint64_t left = n;
      while (in && out && left) {
        size_t k = size_t(std::min<uint64_t>(left, buf.size()));
        in.read(buf.data(), std::streamsize(k));
        out.write(buf.data(), in.gcount());
        left -= uint64_t(in.gcount());
        if (in.gcount() == 0) break;
      }
      out.close();
      if (left == 0 && out && rename(tmp.c_str(), dst.c_str()) == 0) {
        save_msg_ = "saved " + views::human_bytes(n) + " to " + dst;
      } else {
        unlink(tmp.c_str());
        save_msg_ = "could not write " + dst + ": " + strerror(errno);
      }
    }
  }
  ImGui::SameLine();
  if (ImGui::Button("Close") || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape)))
    ImGui::CloseCurrentPopup();
  if (!save_msg_.empty()) ImGui::TextWrapped("%s", save_msg_.c_str());
  ImGui::EndPopup();
}

} // namespace hv::app
