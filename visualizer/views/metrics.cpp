// metrics.cpp - the "Metrics" window: the heap's numbers at the current event, with the trace's
// peaks.
#include "views/views.h"

#include "imgui.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <string>
#include <vector>

namespace hv::views {

namespace {

struct Row {
  const char* name;
  std::string value;
  const char* help;
};

// The rows of the window at this position: what draw_metrics shows and metrics_height measures.
std::vector<Row> rows_of(const Frame& f) {
  const model::Replay& r = f.doc.replay();
  const model::HeapModel& m = r.model();
  model::Metrics x = m.metrics();
  std::vector<Row> out;
  auto row = [&](const char* name, std::string value, const char* help) {
    out.push_back(Row{name, std::move(value), help});
  };
  // The peaks up to this position (the series' highest points so far, and now), and the trace's
  // when it is higher: at a lesson's step, "peak 328 KiB" told of a heap the student had not met
  // yet. (A series point covers the events since the one before: exact for a lesson's few
  // events, and for a long trace as of the latest point.)
  const uint64_t pos = f.doc.position();
  uint64_t heap_so_far = x.heap_bytes, live_so_far = x.live_bytes;
  for (const analysis::SeriesPoint& sp : f.doc.series()) {
    if (sp.pos > pos) break;
    heap_so_far = std::max(heap_so_far, sp.heap);
    live_so_far = std::max(live_so_far, sp.live);
  }
  auto peak = [](uint64_t now, uint64_t so_far, uint64_t trace_peak) {
    std::string t = human_bytes(now) + " (peak " + human_bytes(so_far);
    if (trace_peak > so_far) t += " so far, " + human_bytes(trace_peak) + " in the trace";
    return t + ")";
  };
  char b[96];
  snprintf(b, sizeof b, "%s", peak(x.heap_bytes, heap_so_far, f.doc.summary().peak_heap()).c_str());
  row("footprint", b, "heap regions (sbrk heap, mmapped heaps) plus mmapped chunks");
  row("released to the OS", human_bytes(x.released_bytes),
      "pages inside the footprint handed back with madvise(MADV_DONTNEED): malloc_trim's free chunks,\n"
      "the tail of a shrunk heap. They are no longer resident, until a chunk over them is used again\n"
      "(hatched on the map)");
  snprintf(b, sizeof b, "%s (%.1f %% of the footprint)", human_bytes(x.resident_bytes()).c_str(),
           x.heap_bytes ? 100.0 * double(x.resident_bytes()) / double(x.heap_bytes) : 0.0);
  row("resident estimate", b,
      "footprint - released: what the heap can hold in RAM. Pages never touched since the heap grew\n"
      "are not resident either, so the process's RSS for the heap may be lower still");
  const HeapPicture& p = f.picture;
  char lb[160];
  const std::string live = peak(x.live_bytes, live_so_far, f.doc.summary().peak_live());
  if (p.before_blocks) // attached to a running process: its earlier blocks, on this row (no row more)
    snprintf(lb, sizeof lb, "%s + %s from before the trace", live.c_str(),
             human_bytes(p.before_bytes).c_str());
  else
    snprintf(lb, sizeof lb, "%s", live.c_str());
  row("live requested", lb,
      p.before_blocks
          ? "bytes the program asked for and has not freed, in blocks made during the trace.\n"
            "From before the trace: blocks in use since before heapviz attached (their chunk\n"
            "sizes); their requests and call stacks are unknown, so they are in neither the\n"
            "live bytes, their peak, nor \"overhead\", and the map draws them whole, in brown grey"
          : "bytes the program asked for and has not freed");
  row("free in bins", human_bytes(x.free_bytes),
      "chunks in any bin: tcachebins, fastbins, unsortedbin, smallbins, largebins (not top)");
  row("largest free", human_bytes(x.largest_free), "the largest chunk in any bin");
  snprintf(b, sizeof b, "%.1f %%", 100.0 * x.fragmentation());
  row("external fragmentation", b, "1 - largest free / total free");
  snprintf(b, sizeof b, "%.1f %%  (%s)",
           p.in_use_bytes ? 100.0 * double(p.in_use_bytes - p.in_use_requested) / double(p.in_use_bytes)
                          : 0.0,
           human_bytes(p.in_use_bytes - p.in_use_requested).c_str());
  row("overhead", b, "of the chunks in use (mmapped included): headers and slack, the bytes not requested");
  // Blocks from before the trace count whole (their requests are unknown): counted as not live,
  // an attach to a long-running process read as 85% waste that was its live data.
  const uint64_t live_all = x.live_bytes + p.before_bytes;
  snprintf(b, sizeof b, "%.1f %%",
           x.heap_bytes
               ? 100.0 * double(x.heap_bytes - std::min(x.heap_bytes, live_all)) / double(x.heap_bytes)
               : 0.0);
  row("footprint not live", b,
      p.before_blocks
          ? "1 - (live requested + the blocks from before the trace) / footprint: free chunks, top,\n"
            "headers, slack, metadata. The blocks from before the trace count whole (their chunk\n"
            "sizes: their requests are unknown), so their headers and slack are not in it"
          : "1 - live requested / footprint: free chunks, top, headers, slack, metadata");
  snprintf(b, sizeof b, "%" PRIu64 " (%" PRIu64 " in use)", x.chunks, x.in_use);
  row("chunks", b, "chunk records of every state, top and fenceposts included");
  if (m.errors()) {
    snprintf(b, sizeof b, "%" PRIu64, m.errors());
    row("heap errors", b, "errors the allocator detected up to this event");
  }
  if (m.anomalies()) {
    snprintf(b, sizeof b, "%" PRIu64, m.anomalies());
    row("replay anomalies", b, m.first_anomaly().c_str());
  }
  return out;
}

float name_width() {
  return ImGui::GetFontSize() * 10; // 150 px at 15
}

} // namespace

void draw_metrics(const Frame& f) {
  if (!ImGui::BeginTable("##metrics", 2, ImGuiTableFlags_RowBg)) return;
  ImGui::TableSetupColumn("name", ImGuiTableColumnFlags_WidthFixed, name_width());
  ImGui::TableSetupColumn("value", ImGuiTableColumnFlags_WidthStretch);
  for (const Row& row : rows_of(f)) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(row.name);
    if (row.help && ImGui::IsItemHovered()) ImGui::SetTooltip("%s", row.help);
    ImGui::TableNextColumn();
    ImGui::TextWrapped("%s", row.value.c_str()); // a narrow window wraps the value, never clips it
  }
  ImGui::EndTable();
}

float metrics_height(const Frame& f, float width) {
  const ImGuiStyle& st = ImGui::GetStyle();
  // The value column: the window's width less its padding, the name column and the cells'
  // padding (a little less, so that a value measured to fit does not wrap after all).
  const float value_w = width - 2 * st.WindowPadding.x - name_width() - 4 * st.CellPadding.x - 4;
  float h = ImGui::GetFrameHeight() + 2 * st.WindowPadding.y; // the title bar and the padding
  for (const Row& row : rows_of(f)) {
    const float text = ImGui::CalcTextSize(row.value.c_str(), nullptr, false, std::max(1.0f, value_w)).y;
    h += std::max(ImGui::GetTextLineHeight(), text) + 2 * st.CellPadding.y;
  }
  return std::ceil(h + st.ItemSpacing.y);
}

} // namespace hv::views
