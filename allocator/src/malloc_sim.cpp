// malloc_sim.cpp - instantiates the allocator on the simulated memory source (heapviz sim, tests).
#include "malloc_core_impl.h"

template class hv::alloc::MallocCore<hv::alloc::SimPlatform>;
