/* tls_twin.c - a library with one thread-local variable and nothing else, preloaded into the
 * glibc side of malloc_info_test.sh. libhvalloc.so has thread-local storage, and ld.so sizes
 * each new thread's DTV (calloc'ed by pthread_create, in the creating thread's arena) by the
 * number of modules with TLS: without a twin, every thread created under glibc would take a
 * DTV 16 bytes smaller than under LD_PRELOAD=libhvalloc.so, and the heaps would differ by that. */
__thread int hv_tls_twin_slot;
int hv_tls_twin_touch(void) {
  return ++hv_tls_twin_slot;
}
