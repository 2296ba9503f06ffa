// checker.cpp - instantiates the heap walk and checker for the simulated allocator.
#include "heap_walk.h"

template class hv::alloc::HeapWalk<hv::alloc::SimPlatform>;
