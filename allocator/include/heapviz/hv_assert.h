// hv_assert.h - HV_ASSERT(cond): an invariant check for the allocator and the visualizer.
//
// Owns: the one assert macro of the project. It checks when HV_ASSERTS is 1: by default in any
// build without NDEBUG (Debug; CMake's Release and RelWithDebInfo define NDEBUG), or in any build
// given -DHV_ASSERTS=1. Otherwise the condition is not evaluated (only type-checked) and costs
// nothing. A failed check writes "FILE:LINE: HV_ASSERT(cond) failed: what" to fd 2 with one
// write(2) of a string literal, then abort()s.
// Must not: allocate, lock or format (it runs inside malloc, under libhvalloc.so's locks).
// Assert invariants of our own code, never properties of input: a corrupt heap is glibc's
// error path (corrupt()), a bad trace is an anomaly or a read error; neither is an assert.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#ifndef HV_ASSERTS
#ifdef NDEBUG
#define HV_ASSERTS 0
#else
#define HV_ASSERTS 1
#endif
#endif

#define HV_ASSERT_STR2_(x) #x
#define HV_ASSERT_STR_(x) HV_ASSERT_STR2_(x)

#if HV_ASSERTS
// Out of line and cold: at the call site a check is one compare and a branch never taken.
__attribute__((noreturn, cold, noinline)) static inline void hv_assert_fail(const char* msg,
                                                                            unsigned long len) {
  ssize_t w = write(2, msg, len);
  (void)w;
  abort();
}
#define HV_ASSERT_FAIL_(lit) hv_assert_fail(lit, sizeof(lit) - 1)
#define HV_ASSERT_CHECK_(cond, text, tail)                                                                   \
  (__builtin_expect(!!(cond), 1)                                                                             \
       ? (void)0                                                                                             \
       : HV_ASSERT_FAIL_(__FILE__ ":" HV_ASSERT_STR_(__LINE__) ": HV_ASSERT(" text ") failed" tail "\n"))
#else
#define HV_ASSERT_CHECK_(cond, text, tail) ((void)sizeof(!(cond)))
#endif

// HV_ASSERT(cond), or HV_ASSERT_MSG(cond, "what the caller probably did wrong") (a literal).
#define HV_ASSERT(cond) HV_ASSERT_CHECK_(cond, #cond, "")
#define HV_ASSERT_MSG(cond, what) HV_ASSERT_CHECK_(cond, #cond, ": " what)
