// malloc_real.cpp - instantiates the allocator on the process's real memory (libhvalloc.so only).
#include "malloc_core_impl.h"

template class hv::alloc::MallocCore<hv::alloc::RealPlatform>;
