// salvage.h - the thread buffers a killed process leaves behind (HEAPVIZ_SALVAGE=DIR, set by
// `heapviz record`; the file's layout: heapviz/trace_format.h, "Salvage files").
//
// Owns: each salvageable TraceThread's file in DIR (created, pointed at the trace its events go
// to, moved to a forked child's own file, unlinked when its thread ends) and the shared mapping
// that holds the TraceThread. A process killed before it could flush (SIGKILL, the OOM killer)
// leaves its files, and record appends the events in them to the traces.
// Must not: call malloc, change errno, or run on the event path (only when a buffer is made,
// pointed, moved or dropped).
#pragma once

#include <cstddef>
#include <cstdint>

namespace hv::alloc::salvage {

// The directory (nullptr or "": salvage off). Called before the trace opens.
void set_dir(const char* dir);
bool on();

// A zeroed mapping of `bytes` for a thread's buffer, backed by a new file of DIR (after a head of
// its own), or nullptr if salvage is off or the file cannot be made (the caller maps anonymous
// memory instead). errno is unchanged.
void* map(size_t bytes, uint32_t tid);
// Says in mem's head which trace its events go to (its path, its header's start time) and where
// in mem the encoder keeps its block (offsets from mem: trace::SalvageHead).
struct Where {
  size_t whole, header, clocked, payload;
  uint32_t payload_cap;
};
void point(void* mem, uint32_t tid, const Where& w, const char* trace_path, uint64_t trace_start_ns);
// Unlinks mem's file and unmaps it (its thread's events are flushed).
void unmap(void* mem, size_t bytes);
// In a forked child: mem is the parent's (shared, and its thread goes on writing it); unmaps it
// here without touching the file or the parent's mapping.
void forget(void* mem, size_t bytes);

} // namespace hv::alloc::salvage
