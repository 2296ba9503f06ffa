// live_server.h - the listening side of live attach (HEAPVIZ_LIVE=1; docs/live.md).
//
// Owns: the per-user socket directory and this process's socket, the live thread (accepts
// viewers, checks their uid, fans the event stream out to them, syncs 20 times a second), the
// mapped ring (and its eventfd) the allocator's threads put finished trace blocks into, attach
// (stop the world, baseline snapshot), detach, and the goodbye at exit.
// Must not: allocate from the heap it watches (the thread is created with the allocator's
// private allocation on, and it uses system calls and snprintf into its own buffers only), or
// ever stop the program for longer than a stuck viewer's timeout.
#pragma once

namespace hv::alloc {

template <class P> class MallocCore;
class RealPlatform;

namespace live_server {
// Starts listening if HEAPVIZ_LIVE=1 (and HEAPVIZ_OUT is not set). Called once, from the
// library's constructor, while the process is still single-threaded.
void start(MallocCore<RealPlatform>* core);
// Process exit (or exec): a last sync with an exact snapshot, an Exit frame, then the viewers
// are closed and the socket removed. Waits at most a few seconds.
void stop();
// Before the process stops itself (a breakpoint) or aborts on a heap error, from inside an
// allocator call: the calling thread leaves the live gate for good, and waits (at most 1.5 s)
// for the live thread's next sync, so that the viewers' stream is complete up to the error
// (a stream that ends without a goodbye is kept up to its last sync). Nothing when not live.
void settle();
// In a forked child: the live thread did not survive; close what the parent's was using.
void after_fork_child();
} // namespace live_server

} // namespace hv::alloc
