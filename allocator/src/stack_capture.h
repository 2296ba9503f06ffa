// stack_capture.h - call stacks for the real process: each API call's stack, taken at the call,
// interned into the trace's stack tree, with the modules the frames lie in.
//
// Owns: the walk (unwind.h: the allocator's own DWARF-CFI walker, with each thread's cache of
// rules per pc), dropping the allocator's own frames, recognising a stack walked before without
// walking it (by the program's frame the entry point named, HV_CALLER, and the words the walk
// read: each thread's last walks, and its few latest stacks in TraceThread::memo, which
// TraceWriter::take_stack checks inline), the per-thread interning of stacks into
// tree nodes (docs/trace-format.md, "Call stacks": STACK events), and the module list (MODULE
// events, from dl_iterate_phdr: path, build-id, segments; modules loaded later are found when a
// frame lies outside every module named so far).
// Must not: call malloc or change the program's heap in any way (a recording with stacks lays
// chunks out exactly as glibc does: unwind.h says why that rules out libunwind), symbolize
// (readers do that), take a lock on a call whose stack and pcs the thread has seen before (the
// module list's spin lock and the loader's are taken only for new nodes and new pcs), or change
// errno.
#pragma once

#include <cstdint>

namespace hv::alloc {

class TraceWriter;

namespace stacks {

// The most frames a stack keeps (HEAPVIZ_STACK_DEPTH is clamped to it).
inline constexpr unsigned kMaxDepth = 256;

// Makes w take the stack of every API call from now on, at most `depth` frames (the innermost
// ones). Call it before threads record. False, with `why` set, if stacks cannot be taken here
// (w then records none); errno is unchanged either way.
bool enable(TraceWriter& w, unsigned depth, const char** why);

// In a forked child: the module list's lock may have been held by a thread that did not survive.
void after_fork_child();

} // namespace stacks
} // namespace hv::alloc
