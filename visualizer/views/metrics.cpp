// metrics.cpp - the "Metrics" window: the heap's numbers at the current event, with the trace's
// peaks.
#include "views/views.h"

#include "imgui.h"

#include <cinttypes>

namespace hv::views {

void draw_metrics(const Frame& f) {
  const model::Replay& r = f.doc.replay();
  const model::HeapModel& m = r.model();
  model::Metrics x = m.metrics();
  auto row = [](const char* name, const std::string& value, const char* help) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(name);
    if (help && ImGui::IsItemHovered()) ImGui::SetTooltip("%s", help);
    ImGui::TableNextColumn();
    ImGui::TextWrapped("%s", value.c_str()); // a narrow window wraps the value, never clips it
  };
  char b[64];
  if (!ImGui::BeginTable("##metrics", 2, ImGuiTableFlags_RowBg)) return;
  ImGui::TableSetupColumn("name", ImGuiTableColumnFlags_WidthFixed,
                          ImGui::GetFontSize() * 10); // 150 px at 15
  ImGui::TableSetupColumn("value", ImGuiTableColumnFlags_WidthStretch);
  snprintf(b, sizeof b, "%s (peak %s)", human_bytes(x.heap_bytes).c_str(),
           human_bytes(f.doc.summary().peak_heap()).c_str());
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
  snprintf(b, sizeof b, "%s (peak %s)", human_bytes(x.live_bytes).c_str(),
           human_bytes(f.doc.summary().peak_live()).c_str());
  row("live requested", b, "bytes the program asked for and has not freed");
  row("free in bins", human_bytes(x.free_bytes),
      "chunks in any bin: tcachebins, fastbins, unsortedbin, smallbins, largebins (not top)");
  row("largest free", human_bytes(x.largest_free), "the largest chunk in any bin");
  snprintf(b, sizeof b, "%.1f %%", 100.0 * x.fragmentation());
  row("external fragmentation", b, "1 - largest free / total free");
  const HeapPicture& p = f.picture;
  snprintf(b, sizeof b, "%.1f %%  (%s)",
           p.in_use_bytes ? 100.0 * double(p.in_use_bytes - p.in_use_requested) / double(p.in_use_bytes)
                          : 0.0,
           human_bytes(p.in_use_bytes - p.in_use_requested).c_str());
  row("overhead", b, "of the chunks in use (mmapped included): headers and slack, the bytes not requested");
  if (m.has_baseline()) { // attached to a running process: what it had allocated before
    snprintf(b, sizeof b, "%s in %s blocks", human_bytes(p.before_bytes).c_str(),
             human_count(p.before_blocks).c_str());
    row("before the trace", b,
        "blocks in use that the process allocated before heapviz attached (chunk sizes):\n"
        "their requests and call stacks are unknown, so they are in neither \"live requested\"\n"
        "nor \"overhead\", and the map draws them in use whole");
  }
  const uint64_t accounted = std::min(x.heap_bytes, x.live_bytes + p.before_bytes);
  snprintf(b, sizeof b, "%.1f %%",
           x.heap_bytes ? 100.0 * double(x.heap_bytes - accounted) / double(x.heap_bytes) : 0.0);
  row("footprint not live", b,
      m.has_baseline()
          ? "1 - (live requested + before the trace) / footprint: free chunks, top, headers, slack,\n"
            "metadata"
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
  ImGui::EndTable();
}

} // namespace hv::views
