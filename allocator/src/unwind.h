// unwind.h - the allocator's own stack walker for x86-64 Linux: return addresses from DWARF call
// frame information (.eh_frame, found through each module's .eh_frame_hdr), without allocating.
//
// Owns: finding a pc's FDE (dl_iterate_phdr, the binary-search table of .eh_frame_hdr),
// interpreting its CFA program up to the pc (the rules of the CFA, of rbp and of the return
// address; the subset GCC and clang emit, plus the realigned-stack pattern of main), and one step
// of the walk with a rule. Why not libunwind: it must be dlopen'ed (it exports _Unwind_*, which
// must not take the place of libgcc's), and both that dlopen and its thread-local storage
// allocate in the program's heap (ld.so sizes every new thread's DTV by the number of TLS
// modules): a recording would no longer lay the heap out as glibc does.
// Must not: call malloc or anything that may, keep state (callers cache rules), or read memory
// it has not checked lies within the current stack's plausible range.
#pragma once

#include <cstdint>

namespace hv::alloc::unwind {

// How to find a frame's caller at one pc: CFA = reg + cfa_off (reg rsp or rbp), or *(reg +
// cfa_off) with kCfaDeref; the return address at CFA - 8; rbp saved at CFA + rbp_off with
// kRbpSaved, unknown with kRbpLost (saved by an expression), else unchanged.
struct Rule {
  int32_t cfa_off = 0;
  int16_t rbp_off = 0;
  uint8_t cfa_reg = 0; // DWARF register: 6 rbp, 7 rsp
  uint8_t flags = 0;
};
inline constexpr uint8_t kRbpSaved = 1, kCfaDeref = 2, kOutermost = 4, kRbpLost = 8;

// The rule at pc. False when there is none: no module or FDE contains pc, or its CFI uses what
// this walker does not follow (a signal frame, a CFA expression other than *(reg + off)).
// kOutermost: the return address is undefined there (_start, a thread's start): the walk ends.
// Takes the loader's module list lock (dl_iterate_phdr): callers cache rules per pc.
bool find_rule(uintptr_t pc, Rule* out);

// Registers of one frame during a walk.
struct Regs {
  uintptr_t rip, rsp, rbp;
};
// One step with the rule of r's frame: r becomes its caller's registers. False when the walk
// cannot go on (an implausible CFA or return address, or the outermost frame). read(addr, value,
// is_rbp) is told each word of memory the step read (is_rbp: the caller's saved rbp, which
// matters only if a later rule uses rbp): a walk from the same registers over the same words
// gives the same frames (callers use that to recognise a stack they have walked before).
template <class Read> inline bool step(Regs& r, const Rule& rule, Read&& read) {
  if (rule.flags & kOutermost) return false;
  uintptr_t base = rule.cfa_reg == 7 ? r.rsp : r.rbp;
  if (rule.cfa_reg == 6 && (base < r.rsp || base - r.rsp > (uintptr_t(1) << 26))) return false;
  uintptr_t cfa = base + uintptr_t(intptr_t(rule.cfa_off));
  if (rule.flags & kCfaDeref) {
    if ((cfa & 7) || cfa <= r.rsp || cfa - r.rsp > (uintptr_t(1) << 26)) return false;
    uintptr_t at = cfa;
    cfa = *reinterpret_cast<const uintptr_t*>(at);
    read(at, cfa, false);
  }
  // The caller's frame lies above this one on the same stack (at most 64 MiB of it).
  if ((cfa & 7) || cfa <= r.rsp || cfa - r.rsp > (uintptr_t(1) << 26)) return false;
  uintptr_t ra = *reinterpret_cast<const uintptr_t*>(cfa - 8);
  read(cfa - 8, ra, false);
  if (rule.flags & kRbpSaved) {
    r.rbp = *reinterpret_cast<const uintptr_t*>(cfa + intptr_t(rule.rbp_off));
    read(cfa + intptr_t(rule.rbp_off), r.rbp, true);
  } else if (rule.flags & kRbpLost)
    r.rbp = 0; // not followed: a caller whose CFA needs it ends the walk
  r.rsp = cfa;
  r.rip = ra;
  return ra > 4096;
}

} // namespace hv::alloc::unwind
