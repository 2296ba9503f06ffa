// malloclab.h - CMU malloclab traces (.rep, docs/malloclab.md) read as scenario operations.
//
// Owns: the .rep format (both header orders, `a`/`r`/`f` lines, `f -1`), its rules for ids
// (never allocated, freed, out of range) and its `FILE:LINE` errors; the translation of a trace
// into the scenario parser's Op list (id 17 becomes the name `b17`) and back into scenario text,
// and the choice between the two parsers by file name. Must not: run anything, know any allocator, or print.
#pragma once

#include "sim/scenario.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hv::sim {

// The four header numbers, named after the order they came in.
struct MalloclabHeader {
  bool weight_first = false;  // `weight num_ids num_ops ignore_ranges` (else the 2002 order)
  uint64_t sugg_heapsize = 0; // 2002 order only (mdriver ignores it)
  uint64_t num_ids = 0;
  uint64_t num_ops = 0;
  uint64_t weight = 0;
  uint64_t ignore_ranges = 0; // weight-first order only: the fourth number, whatever it means
};

// True for a name that ends in ".rep": `heapviz sim`, simulate_to_trace and the app read it as
// a malloclab trace, anything else as a scenario.
bool is_malloclab_path(std::string_view path);

// Parses a whole .rep file into operations (Malloc/Realloc/Free, line numbers of the file). On
// failure returns false and fills `err` with the first error. `header` may be null.
bool parse_malloclab(std::string_view text, std::vector<Op>* ops, ParseError* err,
                     MalloclabHeader* header = nullptr);

// The operations of a parsed .rep as scenario text (docs/scenarios.md), one line per operation
// with its .rep line in a comment: `b0 = realloc b0 640   # line 8`. `heapviz sim --as-scenario`
// prints it; the fidelity tests run it on the real glibc.
std::string malloclab_scenario_text(const std::vector<Op>& ops);

// parse_malloclab for a .rep path, parse_scenario for anything else.
bool parse_ops_for_path(std::string_view path, std::string_view text, std::vector<Op>* ops, ParseError* err);

// The text of a scenario or .rep file. False, with *err ("PATH: cannot open: ...", "PATH: is a
// directory", ...), for anything that is not a readable regular file's text.
bool read_ops_file(const std::string& path, std::string* text, std::string* err);

} // namespace hv::sim
