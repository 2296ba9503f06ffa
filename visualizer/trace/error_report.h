// error_report.h - reading ERROR_REPORT events (docs/trace-format.md, "Error reports"): what the
// error event before it found, as the allocator saw it at the faulting call.
//
// Owns: parsing one event's record, bounds-checked (a record that runs short, a kind or source out
// of range, a run longer than the record is an error naming the event's offset); the kinds' names.
// Must not: know the heap model or stacks (analysis/errors.h ties a report to its block and stacks).
#pragma once

#include "trace/event_decoder.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hv::trace {

struct ErrorBytes {
  uint64_t offset = 0; // from the chunk
  std::vector<uint8_t> expected, found;
};

struct ErrorReport {
  HeapErrorKind kind = HeapErrorKind::Corruption;
  HeapErrorSource source = HeapErrorSource::Glibc;
  uint8_t flags = 0;  // kErrorCallWritten: the faulting call is a free whose event came before
  uint32_t stack = 0; // the faulting call's stack node (0: none recorded)
  uint64_t ptr = 0;   // the pointer the check names
  uint64_t chunk = 0; // the chunk, when the check knew it (0: not known)
  std::string message;
  std::vector<ErrorBytes> bytes; // runs of bytes that differ from what they should hold
};

// False with *error ("error_report at offset N: ...") when the record is malformed.
bool read_error_report(const Event& e, ErrorReport* out, std::string* error);

// "double-free", "invalid-free", "heap-buffer-overflow", "write-after-free", "corruption"
// (`heapviz errors`' kinds, its JSON's "kind").
const char* error_kind_name(HeapErrorKind k);

} // namespace hv::trace
