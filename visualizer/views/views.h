// views.h - the app's windows, one file each (views/<window>.cpp), and the state each keeps.
//
// Every view reads the document (the replay at the current position, the event index) and
// writes nothing back but user intent into Cursor: a position to seek to, a chunk to select,
// play/pause. The app applies the intent after the frame.
// Must not: change the model, open files, or talk to GLFW (app/ does).
#pragma once

#include "analysis/event_query.h"
#include "analysis/frag.h"
#include "session/breakpoints.h"
#include "session/diff_marks.h"
#include "session/document.h"
#include "session/lesson.h"
#include "session/predict.h"
#include "session/side_by_side.h"
#include "session/site_tree.h"
#include "session/site_view.h"
#include "session/why_log.h"
#include "views/chunk_layout.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hv::views {

// User intent, shared by the views and applied by the app.
struct Cursor {
  int64_t seek = -1;     // position to move to (-1: none)
  uint64_t selected = 0; // chunk address of the selected chunk (0: none)
  bool reveal = false;   // scroll the map so that the selection is visible
  bool playing = false;
  float speed = 20;  // events per second while playing
  int64_t site = -1; // the allocation site selected in Sites (its chunks stand out on the map)
  // A function clicked in a stack: Sites lists only the sites whose stack has it, and the map
  // dims the chunks of the others ("": no filter).
  std::string function;
  // Chunks the Fragmentation tab outlines on the map: a blame row's pinning chunks (live) and
  // the free chunks they keep apart.
  std::vector<uint64_t> pinning, pinned;
  // Diff marks A and B on the timeline (positions; -1: not set): with both, the map compares each
  // chunk with A and Sites lists what changed per site. The app computes the diff.
  int64_t mark_a = -1, mark_b = -1;
  // The heap error selected in Errors or on the timeline (an index into Document::errors(); -1:
  // none): the map draws its block's corrupted bytes.
  int64_t error = -1;
  // Run to the next (+1) or previous (-1) event that meets the breakpoints (the app searches, a
  // frame's budget at a time, then seeks there); 2: stop the search in progress; 0: none.
  int run = 0;
  // The seek in `seek` comes from the transport (timeline, keys): with Breakpoints::stop_seeks it
  // stops at the first breakpoint on the way. Other seeks (an event clicked in a list) go there.
  bool seek_stops = false;
  bool open_breakpoints = false; // show or hide the Breakpoints window (the timeline's "run to...")
  // The blocks the current lesson step names (outlined and labelled on the map): a user pointer
  // (any address inside the chunk) and its name in the scenario. Set by the app.
  struct Callout {
    uint64_t addr;
    std::string name;
  };
  std::vector<Callout> callouts;
  int lesson_step = -1; // go to this step of the open lesson (-1: none)
  int lesson_open = -1; // open this lesson of LessonState::catalog at its first step (-1: none)
  bool lesson_close = false;
};

// The heap picture at the current position, shared by the map, the inspector and the bins.
struct Frame {
  session::Document& doc;
  const HeapPicture& picture;
  // Chunks the last applied event changed (chunk addresses), to highlight.
  uint64_t changed[2];
  // The allocator the picture shows (from the trace header: header size, flags, bins, own chunks).
  const model::PolicyInfo& policy() const { return picture.policy; }
  // The document's allocation sites (nullptr: none, e.g. while loading). A view that shows
  // sites brings it to the current position (update) within its frame budget.
  session::SiteView* sites;
  // The diff of marks A and B, once computed (nullptr: none).
  const session::DiffMarks* diff;
  // Why each allocation's block landed where it did (nullptr: none; built in the background).
  const session::WhyLog* why = nullptr;
  // Predict mode: events from this index on are not shown yet (their results are the answer).
  uint64_t hide_from = UINT64_MAX;
};

struct ChunkMapState {
  MapView view;
  MapLayout layout;
  uint64_t layout_position = UINT64_MAX; // the picture position the layout was made for
  MapView layout_view;
  bool fit_pending = true; // zoom to fit on the next frame
  bool fit_each = true;    // zoom to fit at every event (until the user zooms by hand)
  float scroll_y = 0;
  bool legend = true;
  bool by_site = false;     // in-use chunks coloured by allocation site (a stable colour per site)
  char range_text[64] = ""; // View... > address range, as typed
  bool range_error = false;
  std::vector<MapRect> rects, scratch;
  std::vector<ReleasedRect> released; // the released pages among them (hatched)
  float rects_y0 = -1, rects_y1 = -1; // the visible band rects was computed for (a cache)
  // The diff marks of rects (session::DiffMarks: 0 unchanged, 1 born or died, 2 reused; +8 for a
  // pooled pixel's; -1 none), and what they were computed for.
  std::vector<int8_t> diff_k;
  uint64_t rects_gen = 0, diff_gen = UINT64_MAX; // rects computed; the rects diff_k is for
  uint64_t diff_pos = UINT64_MAX, diff_a = UINT64_MAX, diff_b = UINT64_MAX;
  // For `heapviz shot --geometry`: where the last frame drew each visible item (screen pixels).
  bool record_geometry = false;
  struct Drawn {
    int32_t item;
    Paint paint;
    float x0, y0, x1, y1;
  };
  std::vector<Drawn> drawn;
  // ... and where the map and each shown group's rows were (screen pixels): the rows' band is
  // heap bytes, the rest (titles, gaps, ticks) is not.
  float map_x0 = 0, map_y0 = 0, map_x1 = 0, map_y1 = 0;
  struct DrawnRows {
    float y0, pitch, row_h;
    uint32_t rows;
  };
  std::vector<DrawnRows> drawn_rows;
  std::vector<ReleasedRect> drawn_released; // the hatched pieces (screen pixels)
  // The error's corrupted bytes as drawn (screen pixels; addr, len: the run of bytes) and the
  // error whose block they belong to (-1: none drawn).
  struct DrawnBytes {
    uint64_t addr, len;
    float x0, y0, x1, y1;
  };
  std::vector<DrawnBytes> drawn_error_bytes;
  int64_t drawn_error = -1;
};
void draw_chunk_map(const Frame& f, ChunkMapState& s, Cursor& c);

struct TimelineState {
  int jump_kind = 0;                   // bit index of session::Kind
  std::vector<float> heap, live, frag; // curves resampled to the plot's width
  std::vector<float> resident;         // footprint - released (SeriesPoint::resident)
  float peak = 1;                      // the highest heap value among them
  float curves_width = 0;
  uint64_t curves_samples = 0, curves_total = 0; // what the curves were resampled for
  bool on_error_mark = false; // the press on the curves began on an error's mark (no drag-seek)
  // Where the last frame drew each error's mark (screen x; for `heapviz shot --geometry`) and the
  // curves' band (screen pixels).
  std::vector<float> drawn_error_x;
  float curves_x0 = 0, curves_y0 = 0, curves_x1 = 0, curves_y1 = 0;
};
void draw_timeline(const Frame& f, TimelineState& s, Cursor& c);

struct EventListState {
  uint32_t kinds = session::kAllKinds;
  char addr_text[32] = "";
  char size_text[32] = "";
  int size_of = 0; // what the size filter compares: 0 either size, 1 requested, 2 chunk (SizeOf)
  char tid_text[16] = "";
  bool filtered = false;                    // a filter is set (else every event is listed)
  std::shared_ptr<session::QueryJob> query; // the matching event indices, when filtered
  uint64_t follow_position = UINT64_MAX;    // scroll to the current event when it changes
  uint64_t top = 0;                         // the first row shown
  std::vector<session::Event> window;       // decoded rows
  uint64_t window_first = UINT64_MAX;
  std::string error;
};
void draw_event_list(const Frame& f, EventListState& s, Cursor& c);

// The Sites window's tabs: Sites (at this event), Leaks (live at the end) and Fragmentation
// (the blame at this event).
struct SitesState {
  int tab = 0; // 0 sites, 1 leaks, 2 fragmentation, 3 diff (the tab shown; a request for shots)
  bool tab_request = false;
  int by = 0; // the column sorted by: 0 live bytes, 1 allocations, 2 bytes allocated, 3 temporary
  std::vector<uint32_t> order; // sites, sorted
  uint64_t order_position = UINT64_MAX, order_generation = UINT64_MAX;
  int order_by = -1;
  std::string order_function;
  int view = 0; // 0 a list of sites, 1 bottom-up (allocating function first), 2 top-down (main first)
  std::vector<session::SiteTreeNode> tree;
  uint64_t tree_position = UINT64_MAX, tree_generation = UINT64_MAX;
  int tree_view = -1;
  session::SiteView at_end; // the site table at the trace's end, for Leaks
  std::vector<uint32_t> leaks;
  uint64_t leaks_generation = UINT64_MAX;
  analysis::FragReport frag;            // at frag_position
  std::vector<std::string> blame_names; // the names of frag.blame's rows (SiteView::distinct_names)
  uint64_t frag_position = UINT64_MAX, frag_generation = UINT64_MAX;
  int blame_row = -1;
  bool blame_reveal = false; // scroll the blame table to blame_row once (set with it from outside)
};
void draw_sites(const Frame& f, SitesState& s, Cursor& c);
// The Fragmentation tab's report at doc's position (sv's table must be ready), and the names of
// its first kBlameRows blame rows (SiteView::distinct_names): the tab does it when the position
// moves, `heapviz shot --tab frag` before its one frame.
inline constexpr size_t kBlameRows = 500;
void update_frag(SitesState& s, session::SiteView& sv, const session::Document& doc);

struct InspectorState {
  uint64_t history_addr = 0;                  // the chunk whose history is listed
  std::shared_ptr<session::QueryJob> history; // the events touching it (analysis::touches)
  std::vector<session::Event> rows;           // decoded history rows on screen, from rows_first
  int rows_first = -1;
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0; // where the window was drawn (for shots' geometry)
};
void draw_inspector(const Frame& f, InspectorState& s, Cursor& c);

struct BinsState {
  int arena = 0;
  // The lists of `arena`'s bins and every thread's tcache at picture position `position`, by
  // owner, kind and index; each list's chunks head first (model::BinOrder).
  uint64_t position = UINT64_MAX;
  int built_arena = -1;
  struct Bin {
    uint8_t kind, index;                 // a trace::BinKind and its index (1 for the unsorted bin)
    uint32_t owner;                      // the arena; for a tcache, its thread
    std::vector<uint64_t> chunks, sizes; // head first
    uint64_t lo, hi, bytes;
  };
  std::vector<Bin> bins;
};
void draw_bins(const Frame& f, BinsState& s, Cursor& c);

// The Errors window: the heap errors the trace records, one row each; the selected one's report
// (kind, message, where the pointer lies, the bytes that differ) and stacks (the faulting call's,
// the block's allocation and its earlier free).
struct ErrorsState {
  bool scroll_to_selected = false; // bring Cursor::error's row into view (a shot, the timeline)
  int64_t shown = -1;              // the error whose report the last frame showed (selected, or at the event)
  // Where the last frame drew the window (screen pixels; for `heapviz shot --geometry`).
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};
void draw_errors(const Frame& f, ErrorsState& s, Cursor& c);

// Policies (views/policies.cpp): one scenario on several policies, a map each, in step.
struct PoliciesState {
  std::vector<HeapPicture> pictures; // [i] for i >= 1 (the first policy's is the app's picture)
  bool same_scale = false;           // every map at the same bytes per pixel
  MapLayout layout;                  // scratch
  std::vector<MapRect> rects, outline;
  // For `heapviz shot --geometry`: where each policy's map was drawn (screen pixels) and the
  // first segment of its outlined block (sel_item -1: none).
  bool record_geometry = false;
  struct DrawnMap {
    std::string policy;
    float x0, y0, x1, y1;
    int64_t sel_item;
    float sx0, sy0, sx1, sy1;
  };
  std::vector<DrawnMap> drawn;
};
void draw_policies(const Frame& f, PoliciesState& s, session::SideBySide& side, Cursor& c);

// Predict (views/predict.cpp): before each allocation the student clicks where its block will
// land; the view reveals it, keeps the score and says why.
struct PredictState {
  session::PredictGame game;
  bool requested = false;      // start at the current position (View > Predict, view --predict)
  bool next_requested = false; // the app's Right key while predicting: the next allocation
  uint64_t seen_selection = 0; // the selection when the question was asked (a new one answers it)
  std::string message;         // why the game could not start
  // For `heapviz shot --geometry` and the xdotool test: where the last frame drew each button
  // (screen pixels): "grows", "mapping", "null", "next".
  struct Button {
    const char* name;
    float x0, y0, x1, y1;
  };
  std::vector<Button> drawn;
};
void draw_predict(const Frame& f, PredictState& s, Cursor& c);

// Playground (views/playground.cpp): a scenario editor; the app re-simulates the text as it is
// typed (app/playground.cpp) and shows the heap of the last text that ran.
struct PlaygroundState {
  bool open = false;
  std::string text; // the editor's buffer
  std::string path; // the file Save writes ("": not saved yet)
  char path_buf[1024] = "";
  std::vector<std::string> policies; // the app fills it (glibc first)
  int policy = 0;
  // Intents for the app: the text changed, Save, Open (path_buf), the policy changed.
  bool edited = false, save = false, open_file = false;
  // From the app: the error of the last run ("" if none) and its line (0: none), what it did.
  std::string error, status;
  int error_line = 0;
  bool unsaved_new = false; // path is a file that does not exist yet (opened as a new one)
  bool simulating = false;
  bool focus = false;  // give the editor the keyboard next frame
  bool typing = false; // the editor has the keyboard (it had it in the last frame)
  // Bumped when the text is replaced from outside the editor (Open): an active editor keeps its own
  // copy of the text and would write it back, so the editor becomes a new widget.
  int generation = 0;
};
void draw_playground(const Frame& f, PlaygroundState& s, Cursor& c);

// The Breakpoints window: the "run to" conditions, run forward or back, and whether play and
// seeks stop at them. The search itself is the app's (it steps it each frame and seeks).
struct BreakpointsState {
  session::Breakpoints bp;
  char kinds_text[96] = "free";
  char addr_text[32] = "";
  char size_text[48] = "";
  char function_text[128] = "";
  std::string error;           // what is wrong with a field, in words
  session::BreakSearch search; // a run, a play step or a stopping seek in progress
  int64_t seek_to = -1;        // a stopping seek's target (position); -1: a run
  bool play = false;           // the search is a play step (play stops at a hit)
  std::string message;         // the last run's outcome ("stopped at event N: ...", "none ...")
};
void draw_breakpoints(const Frame& f, BreakpointsState& s, Cursor& c);

// The Lesson window: the open lesson's current step (title, narration, the blocks it names),
// Prev and Next, and the next lesson at the end. The app opens the document on the step's policy
// and seeks to its mark; the view only asks for a step (Cursor::lesson_step).
struct LessonState {
  std::vector<session::Lesson> catalog; // assets/lessons/, read once (LessonState::dir)
  std::string dir;
  std::vector<std::string> catalog_errors; // lesson files that do not load
  bool catalog_read = false;
  bool active = false;
  session::Lesson lesson;
  int step = 0;         // the step shown (or being opened)
  bool applied = false; // the document is at the step (its policy, its mark) and its blocks outlined
  std::string problem;  // why the step cannot be shown ("" when all is well)
  // The step's position and blocks: outlined (Cursor::callouts) only while the document is at
  // that position (elsewhere a pointer may lie in another chunk, or in top).
  int64_t position = -1;
  std::vector<Cursor::Callout> callouts;
  bool scroll_top = false;
  // Where the last frame drew the menu bar's "Start lesson 1" (screen pixels; x1 <= x0: not
  // drawn), for the tests that click it.
  float start_x0 = 0, start_y0 = 0, start_x1 = 0, start_y1 = 0;
};
void draw_lesson(const Frame& f, LessonState& s, Cursor& c);

struct ArenasState {
  uint64_t position = UINT64_MAX;
  struct Sum {
    uint64_t chunks = 0, used = 0, free = 0, heaps = 0, heap_bytes = 0;
  };
  std::vector<Sum> sums;
  uint64_t mm_n = 0, mm_bytes = 0;
};
void draw_arenas(const Frame& f, ArenasState& s, Cursor& c);
// The height at which the Arenas window shows a row for every arena at this position (the
// layout's: it shares its column with Bins).
float arenas_height(const Frame& f);
void draw_metrics(const Frame& f);
// The height at which a Metrics window `width` wide shows all its rows at this position, wrapped
// values included, without a scrollbar (the layout's).
float metrics_height(const Frame& f, float width);

// Shared formatting (a chunk's state in words: state_text in chunk_layout.h).
// The chunk addresses an event changed (an API event's user pointer less the policy's header).
uint32_t changed_chunks(const session::Event* e, const model::PolicyInfo& policy, uint64_t out[2]);
// A hint in the disabled colour, wrapped at the window's edge (never clipped in a narrow window).
void hint_wrapped(const char* text);
// SameLine() (`spacing` px after the last item; -1: the style's), or a new line when the next
// item (width px) would not fit: a bar wraps, never clips.
void same_line_or_wrap(float width, float spacing = -1.0f);
// The width ImGui::Button(label) takes (its text and frame padding), for same_line_or_wrap.
float button_width(const char* label);

} // namespace hv::views
