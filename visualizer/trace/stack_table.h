// stack_table.h - the call stacks of a trace: the stack tree's nodes and the modules, as the
// STACK and MODULE events define them (docs/trace-format.md, "Call stacks").
//
// Owns: reading those two events (every byte checked: a malformed one is an error naming its
// offset), the node table (id -> parent, return address), the frames of a stack, one canonical id
// per distinct stack (threads may define the same edge twice), and the module list (which file,
// build-id and segment a return address lies in).
// Must not: symbolize (symbols/ does, at read time), or know the heap model.
#pragma once

#include "trace/event_decoder.h"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace hv::trace {

struct ModuleSegment {
  uint64_t vaddr, memsz; // the segment spans [base + vaddr, base + vaddr + memsz)
  uint8_t flags;         // p_flags: 1 execute, 2 write, 4 read
};
struct ModuleInfo {
  uint64_t base = 0;    // load bias (dlpi_addr)
  std::string path;     // "[vdso]" for the vDSO
  std::string build_id; // raw bytes (empty: none)
  std::vector<ModuleSegment> segments;
  uint64_t lo = 0, hi = 0; // the span of its segments
  uint64_t seq = 0;        // the MODULE event's
  std::string build_id_hex() const;
};

class StackTable {
public:
  // Takes a STACK or MODULE event (others are ignored). False, with *error set to a message that
  // names the event's offset, if it is malformed or names a parent that is not defined.
  bool add(const Event& e, std::string* error);

  // Whether id names a stack: 0 (none) or a defined node.
  bool known(uint32_t id) const { return id == 0 || node(id) != nullptr; }
  size_t nodes() const { return defined_; }
  // The return addresses of stack id, innermost first (empty for 0 or an unknown id).
  void frames(uint32_t id, std::vector<uint64_t>& out) const;
  // One number per distinct stack (same frames, whichever thread defined it): 0 for none or an
  // unknown id. Canonical numbers are dense: 1 .. distinct().
  uint32_t canonical(uint32_t id) const {
    const Node* n = node(id);
    return n ? n->canon : 0;
  }
  size_t distinct() const { return canon_parent_.size(); }
  // A canonical stack's innermost frame and the canonical stack of the rest (its caller's).
  uint64_t canonical_ip(uint32_t canon) const { return canon ? canon_ip_[canon - 1] : 0; }
  uint32_t canonical_parent(uint32_t canon) const { return canon ? canon_parent_[canon - 1] : 0; }
  void canonical_frames(uint32_t canon, std::vector<uint64_t>& out) const;

  const std::vector<ModuleInfo>& modules() const { return modules_; }
  // The module whose segments contain ip (the latest one named, if several did), or nullptr.
  const ModuleInfo* module_of(uint64_t ip) const;

private:
  struct Node {
    uint64_t ip = 0;
    uint32_t parent = 0, canon = 0;
    bool defined = false;
  };
  bool add_nodes(const Event& e, std::string* error);
  bool add_module(const Event& e, std::string* error);
  // Node ids come from one counter per process, so a trace's ids need not start at 1 (a forked
  // child's continue its parent's): nodes_[i] is node offset_ + i.
  const Node* node(uint32_t id) const {
    uint64_t i = uint64_t(id) - offset_;
    return id != 0 && id >= offset_ && i < nodes_.size() && nodes_[i].defined ? &nodes_[i] : nullptr;
  }
  Node* slot(uint64_t id); // grows the table to hold id (nullptr: implausibly far away)

  std::vector<Node> nodes_;
  uint64_t offset_ = 0;
  size_t defined_ = 0;
  std::vector<uint32_t> canon_parent_;
  std::vector<uint64_t> canon_ip_;
  // (canonical parent, ip) -> canonical id
  struct PairHash {
    size_t operator()(const std::pair<uint32_t, uint64_t>& k) const {
      return std::hash<uint64_t>()(k.second * 0x9e3779b97f4a7c15ull ^ k.first);
    }
  };
  std::unordered_map<std::pair<uint32_t, uint64_t>, uint32_t, PairHash> canon_;
  std::vector<ModuleInfo> modules_;
};

} // namespace hv::trace
