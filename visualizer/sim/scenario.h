// scenario.h - the scenario language (docs/scenarios.md): parsing only.
//
// Owns: turning scenario text into a list of operations, with `FILE:LINE: message` errors.
// Must not: run anything or know any allocator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hv::sim {

enum class OpKind {
  Malloc,
  Calloc,
  Realloc,
  Memalign,
  Free,
  Mark,
  Mallopt,
  Tunable,
  MallocTrim,
  ThreadStart, // `thread N start`: the main thread creates thread N (Op::thread)
  ThreadExit,  // `thread N exit`: thread N returns, the main thread joins it
  // The kinds from Expect on have no heap effect (heapviz sim does not count them).
  Expect,
  // A lesson's lines (docs/lessons.md): no heap effect, `heapviz sim` only checks that `show`
  // names blocks that exist. Title, Summary, Say: `label` is the text. Policies, Show: `args`.
  Title,
  Summary,
  Policies,
  Say,
  Show,
  ArenaSize // `arena-size BYTES`: the arena of buddy or pool (as --arena-size); `a` is the size
};

// Scenario threads are numbered 1..kMaxThreadNumber; 0 is the main thread.
inline constexpr int kMaxThreadNumber = 64;
// At most this many `thread N start` lines in one scenario (a number may be started again
// after its exit).
inline constexpr int kMaxThreadStarts = 200;

struct Op {
  OpKind kind;
  int line;             // 1-based line in the file
  std::string name;     // result name (Malloc/Calloc/Realloc/Memalign), the freed name,
                        // the mallopt parameter (M_MXFAST) or the tunable (glibc.malloc.mxfast)
  std::string old_name; // Realloc: the name reallocated; empty means NULL. Expect: the other name
                        // (at, joins) or the state (in)
  uint64_t a = 0;       // size; Calloc: count; Memalign: alignment; Tunable: the value; MallocTrim: pad
  uint64_t b = 0;       // Calloc: element size; Memalign: size
  std::string label;    // Mark; Expect: the relation, "at", "in" or "joins"
  // Expect: "at NAME2 + a" (a is the offset; 0 without "+ N")
  int value = 0;  // Mallopt: the C int argument
  int thread = 0; // the thread that runs it (`thread N: ...`; 0: the main thread); ThreadStart and
                  // ThreadExit: the thread created or ended
  // Policies: the policy names; Show: the block names.
  std::vector<std::string> args;
  // Expect, Say, Show after `under POLICY[,POLICY...]`: the policies the line is for (empty: all).
  std::vector<std::string> only;
  // True when the line applies under the named policy.
  bool applies_to(std::string_view policy) const {
    if (only.empty()) return true;
    for (const std::string& p : only)
      if (p == policy) return true;
    return false;
  }
};

// The mallopt parameters a scenario may name (glibc's M_* names, <malloc.h>).
const std::vector<std::string_view>& mallopt_params();

struct ParseError {
  int line = 0;
  std::string message;
};

// The policy settings a scenario's own lines make (`arena-size`); a command-line option wins.
struct PolicyOptions;
void scenario_policy_options(const std::vector<Op>& ops, PolicyOptions* opts);

// Parses a whole scenario. On failure returns false and fills `err` (the first error).
bool parse_scenario(std::string_view text, std::vector<Op>* ops, ParseError* err);

} // namespace hv::sim
