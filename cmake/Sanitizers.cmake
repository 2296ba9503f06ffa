# Sanitizers: HV_SANITIZE builds our own code under a sanitizer, for the tests (scripts/test's
# asan and tsan legs, CONTRIBUTING.md "Sanitizers and the CI matrix").
#
#   -DHV_SANITIZE=OFF            (default) nothing
#   -DHV_SANITIZE=ON | address   ASan + UBSan, any UB fatal: -fsanitize=address,undefined
#                                -fno-sanitize-recover=undefined -fno-omit-frame-pointer
#   -DHV_SANITIZE=thread         TSan: -fsanitize=thread -fno-omit-frame-pointer
#
# The flags go to every target of the build (compile and link), except a target that sets the
# property HV_NO_SANITIZE: libhvalloc.so and the programs that run with it LD_PRELOADed (a
# sanitizer's runtime replaces malloc itself and must come first in the process; the two cannot
# share one). Targets that set their own COMPILE_OPTIONS and LINK_OPTIONS (the glibc runner, the
# bench workloads) replace what they would inherit and stay unsanitized as well.
# Must not: choose optimisation or debug flags (the build type does), or add tests.
include_guard(GLOBAL)

set(HV_SANITIZE OFF CACHE STRING "Sanitize the build's own code (tests only; never libhvalloc.so): OFF, ON (= address), address (ASan+UBSan), thread (TSan)")
set_property(CACHE HV_SANITIZE PROPERTY STRINGS OFF ON address thread)

string(TOLOWER "${HV_SANITIZE}" _hv_san)
if(_hv_san MATCHES "^(on|address|asan|true|yes|1)$")
  set(HV_SANITIZER address)
  set(_hv_san_compile -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  set(_hv_san_link -fsanitize=address,undefined)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 under -fsanitize=null (or nonnull-attribute, returns-nonnull-attribute) no longer takes
    # the address of a constexpr object's member as non-null in constant evaluation, and rejects
    # trace/seq_scatter.h's `constexpr PackMasks` ("is not a constant expression"). Those three
    # checks are off with GCC; ASan still reports a null dereference (as a SEGV, with its stack).
    list(APPEND _hv_san_compile -fno-sanitize=null,nonnull-attribute,returns-nonnull-attribute)
  endif()
elseif(_hv_san MATCHES "^(thread|tsan)$")
  set(HV_SANITIZER thread)
  set(_hv_san_compile -fsanitize=thread -fno-omit-frame-pointer)
  set(_hv_san_link -fsanitize=thread)
elseif(_hv_san MATCHES "^(off|false|no|0|)$")
  set(HV_SANITIZER "")
else()
  message(FATAL_ERROR "HV_SANITIZE=${HV_SANITIZE}: expected OFF, ON, address or thread")
endif()

if(HV_SANITIZER)
  message(STATUS "HV_SANITIZE: ${HV_SANITIZER} (${_hv_san_compile}); targets with HV_NO_SANITIZE excluded")
  set(_hv_san_on "$<NOT:$<BOOL:$<TARGET_PROPERTY:HV_NO_SANITIZE>>>")
  foreach(_flag IN LISTS _hv_san_compile)
    add_compile_options("$<${_hv_san_on}:${_flag}>")
  endforeach()
  foreach(_flag IN LISTS _hv_san_link)
    add_link_options("$<${_hv_san_on}:${_flag}>")
  endforeach()
endif()

# hv_no_sanitize(target...): the target is built without the sanitizer (see above).
function(hv_no_sanitize)
  set_target_properties(${ARGN} PROPERTIES HV_NO_SANITIZE ON)
endfunction()
