// bin_lists.h - reading the allocator's bin lists from BIN_LISTS events (docs/trace-format.md,
// "Bin order"): each list's kind, index and owner, and its chunks head first.
//
// Owns: parsing one event's record (bounds-checked: a record that runs short, a bin kind out of
// range or a count past the record is an error), and joining the parts of one snapshot's lists.
// Must not: know the heap model (the model applies a baseline's lists; analysis::SnapshotCheck
// compares the others).
#pragma once

#include "trace/event_decoder.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hv::trace {

struct BinListRecord {
  BinKind kind;
  uint8_t index;
  uint32_t owner;               // the arena's trace index; for a tcache, its thread's id (0: unknown)
  std::vector<uint64_t> chunks; // head first
};

// The flags of a BIN_LISTS event (SnapshotFlags: coarse, baseline, more); 0 for an empty record.
uint8_t bin_lists_flags(const Event& e);

// Appends the lists of one BIN_LISTS event to *lists; a list that continues the last one of
// *lists (same kind, index and owner, at the start of a record whose previous part had the flag
// kSnapshotMore: pass `continues`) is appended to it. False with *error when the record is
// malformed (lists already read stay).
bool read_bin_lists(const Event& e, bool continues, std::vector<BinListRecord>* lists, std::string* error);

// A snapshot's lists, its parts joined.
struct BinLists {
  uint64_t seq = 0, offset = 0; // of the last part
  uint8_t flags = 0;            // of the first part, without kSnapshotMore
  std::vector<BinListRecord> lists;
};
class BinListsAssembler {
public:
  // Feeds one BIN_LISTS event; true when a whole snapshot's lists are ready in lists() (or, with
  // error() set, when a part was malformed: the lists read so far).
  bool feed(const Event& e);
  const BinLists& lists() const { return lists_; }
  const std::string& error() const { return error_; }

private:
  BinLists lists_;
  std::string error_;
  bool open_ = false;
};

} // namespace hv::trace
