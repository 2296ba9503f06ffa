// symbolizer.h - names for the return addresses of a trace's stacks, at read time.
//
// Owns: elfutils' libdwfl session over the trace's modules (as the MODULE events name them:
// path, build-id, load address), the check that each file is the one recorded (its build-id;
// separate debug files under /usr/lib/debug/.build-id are found by libdwfl), and per address the
// frames it stands for: the function (demangled), file and line, and the functions inlined
// there (innermost first). Lazy and cached: a module is opened when an address in it is first
// asked for, an address is symbolized once.
// Must not: guess. An address whose module is missing, changed since recording (another
// build-id), or has no symbols is shown as `module+0xoffset`, and unresolved() says why.
#pragma once

#include "trace/stack_table.h"

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

struct Dwfl_Module; // elfutils/libdwfl.h

namespace hv::symbols {

struct Frame {
  std::string function; // demangled; "module+0xoffset" or "0xaddress" when unknown
  std::string file;     // source file ("" when unknown)
  int line = 0;         // 0 when unknown
  std::string module;   // the module's path ("" when no module contains the address)
  uint64_t address = 0; // the return address (for every frame of one address, the same)
  bool inlined = false; // inlined into the next frame (same address)
  bool resolved = false;
};

class Symbolizer {
public:
  // The table must outlive the symbolizer. root: a directory to find modules under instead of
  // their recorded paths (tests; "" for none).
  explicit Symbolizer(const trace::StackTable& table, std::string root = "");
  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;

  // The frames a return address stands for: innermost inlined function first, its containing
  // function last (one frame when nothing is inlined there).
  const std::vector<Frame>& frames(uint64_t ip);
  // For each module whose addresses could not be named: its path and why (file missing,
  // build-id differs, no symbols), in the order found.
  struct Problem {
    std::string module, why;
  };
  const std::vector<Problem>& problems() const { return problems_; }

private:
  void note_unnamed(const std::string& path, Dwfl_Module* mod);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::unordered_map<uint64_t, std::vector<Frame>> cache_;
  std::vector<Problem> problems_;
};

// Whether a frame is the allocation function itself or its wrappers (operator new, malloc's
// aliases, ...): a site starts at the first frame that is not.
bool is_allocation_function(const Frame& f);

} // namespace hv::symbols
