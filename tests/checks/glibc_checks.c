/* glibc_checks.c MODE - one heap corruption per mode, each aimed at one of glibc 2.36's own checks
 * (a malloc_printerr or a malloc assert; docs/checks.md, "glibc's own checks"). verdict_test.sh
 * runs each natively and under libhvalloc: the same status (SIGABRT) and the same first line of
 * stderr. `glibc_checks list` prints the modes. The layouts rely on glibc 2.36's decisions, which
 * libhvalloc reproduces: tcache bins of 7, fastbins up to 0x80, the first chunk at 0x290 after
 * the tcache's.
 * Must not: depend on anything but the C library (it runs under both allocators). */
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void* keep(void* p) { /* the compiler must not see through the bugs */
  __asm__ volatile("" : "+r"(p) : : "memory");
  return p;
}
static size_t* hdr(void* mem) {
  return (size_t*)mem - 2;
} /* [0] prev_size, [1] size */
static size_t csize(void* mem) {
  return hdr(mem)[1] & ~(size_t)7;
}
/* A safe-linked next pointer (tcache, fastbin) stored at `at`, that decodes to `to`. */
static void set_link(void* at, uintptr_t to) {
  *(uintptr_t*)at = ((uintptr_t)at >> 12) ^ to;
}

/* A fake chunk for corrupted links to point at: every field zero. */
static uintptr_t fake[8] __attribute__((aligned(16)));

/* Fills the tcache bin of chunks of `usable` bytes with 7 chunks (so the next free of that size
 * goes to a fastbin or a bin). */
static void fill_tcache(size_t usable) {
  void* p[7];
  for (int i = 0; i < 7; ++i)
    p[i] = keep(malloc(usable));
  for (int i = 0; i < 7; ++i)
    free(p[i]);
}
/* Empties it again. */
static void drain_tcache(size_t usable) {
  for (int i = 0; i < 7; ++i)
    keep(malloc(usable));
}
static void* guard(void) {
  return keep(malloc(24));
} /* keeps its neighbours from merging */

/* Two chunks of 0x20 in the fastbin, y heading it (y->fd == x), the tcache bin full. */
static void two_fast(void** x, void** y) {
  *x = keep(malloc(24));
  guard();
  *y = keep(malloc(24));
  guard();
  fill_tcache(24);
  free(*x);
  free(*y);
}

static void* thread_unaligned_tcache(void* arg) {
  (void)arg;
  void* p = keep(malloc(24));
  void* q = keep(malloc(24));
  free(p);
  free(q);
  set_link(q, 0x1008); /* use after free: q's next, misaligned; the thread's exit walks the list */
  return NULL;
}
static void* thread_top_zero(void* arg) {
  (void)arg;
  char* a = keep(malloc(24)); /* the thread's own arena */
  hdr(a + csize(a))[1] = 0;
  keep(malloc(0x1000));
  return NULL;
}
/* A thread's arena with two heaps (64 MiB each, aligned to 64 MiB): a in the first, b the first
 * chunk of the second, followed by top. */
#define HEAP_OF(p) ((uintptr_t)(p) & ~(((uintptr_t)64 << 20) - 1))
static const char* thread_mode;
static void* thread_two_heaps(void* arg) {
  (void)arg;
  char* a = keep(malloc(120 << 10)); /* below the mmap threshold */
  uintptr_t h1 = HEAP_OF(a);
  char* b;
  while (HEAP_OF(b = keep(malloc(120 << 10))) == h1) {
  }
  size_t* post = (size_t*)(h1 + ((size_t*)h1)[2] - 16); /* heap 1's last fencepost (heap_info.size) */
  if (!strcmp(thread_mode, "free_heap_ar_ptr")) {
    keep(malloc(24));                    /* top stays in heap 2 */
    *(void**)HEAP_OF(b) = (void*)0x1000; /* heap 2's heap_info: its ar_ptr */
    free(a);                             /* 120 KiB freed: _int_free looks at top's heap */
  } else if (!strcmp(thread_mode, "heap_trim_fencepost")) {
    post[1] = 0x11;  /* an overflow at heap 1's end */
    free(b);         /* heap 2 is empty: heap_trim looks at heap 1's fenceposts */
  } else {           /* heap_trim_new_size */
    post[-1] = 0x41; /* the fencepost before it grows */
    free(b);
  }
  return NULL;
}
static void* nothing(void* arg) {
  return arg;
}
static void become_multithreaded(void) {
  pthread_t t;
  pthread_create(&t, NULL, nothing, NULL);
  pthread_join(t, NULL);
}

/* A 0x510 chunk freed into the unsorted bin between two live chunks: a before, g after. */
static void unsorted_between(void** a, void** c, void** g) {
  *a = keep(malloc(0x500));
  *c = keep(malloc(0x500));
  *g = keep(malloc(0x500));
  guard();
  free(*c);
}

/* a (0x440) alone in large bin 65, and b (0x470, the same bin) still in use. */
static void large_pair(void** a, void** b) {
  *a = keep(malloc(0x438));
  guard();
  *b = keep(malloc(0x468));
  guard();
  free(*a);
  keep(malloc(2000)); /* the unsorted scan sorts a into its bin */
}

/* A chunk l (0x11f0) in large bin 0x1000-0x11ff, and more chunks in the unsorted bin than one
 * scan sorts (10,000): the newest one, at the bin's head, is still there after the next malloc's
 * scan, with its bk corrupted (use after free). */
static void unsorted_left_behind(void) {
  enum { N = 10001 };
  static void* c[N];
  void* l = keep(malloc(0x11e8));
  guard();
  for (int i = 0; i < N; ++i) {
    c[i] = keep(malloc(0x88)); /* 0x90: beyond the fastbins */
    guard();
  }
  fill_tcache(0x88);
  free(l);
  keep(malloc(0x2000)); /* l sorted into its bin */
  for (int i = 0; i < N; ++i)
    free(c[i]);
  ((void**)c[N - 1])[1] = fake;
}

static int run(const char* mode) {
  /* ---- free() and _int_free ---- */
  if (!strcmp(mode, "free_invalid_pointer")) { /* free(): invalid pointer */
    char* a = keep(malloc(100));
    memset(a, 0, 100);
    free(keep(a + 8));
  } else if (!strcmp(mode, "free_invalid_size")) { /* free(): invalid size */
    char* a = keep(malloc(100));
    hdr(a + 32)[1] = 0x11; /* a fake chunk inside a, too small */
    free(keep(a + 32));
  } else if (!strcmp(mode, "free_fake_stack_chunk")) {
    /* A fake chunk on the stack with a plausible size: glibc checks no range, so the tcache takes
     * it, and a malloc of that size hands the stack out (house of spirit). No check fires. */
    size_t chunk[8] __attribute__((aligned(16))) = {0, 0x41};
    free(keep(malloc(24))); /* the heap exists (a trace then knows the stack is outside it) */
    free(keep(&chunk[2]));
    void* p = keep(malloc(0x38));
    printf("%s\n", p == &chunk[2] ? "the stack came back" : "a heap block came back");
    return 0;
  } else if (!strcmp(mode, "free_fake_stack_chunk_first")) {
    /* The same as the program's first heap call: glibc makes the heap inside this free (for the
     * tcache), so the trace has no heap yet when the free comes; it is still outside all of them. */
    size_t chunk[8] __attribute__((aligned(16))) = {0, 0x41};
    free(keep(&chunk[2]));
    void* p = keep(malloc(0x38));
    printf("%s\n", p == &chunk[2] ? "the stack came back" : "a heap block came back");
    return 0;
  } else if (!strcmp(mode, "free_fake_stack_bad_size")) { /* free(): invalid size, from the stack */
    size_t chunk[8] __attribute__((aligned(16))) = {0, 0x18};
    free(keep(&chunk[2]));
  } else if (!strcmp(mode, "tcache_double_free")) { /* free(): double free detected in tcache 2 */
    void* p = keep(malloc(40));
    free(p);
    free(keep(p));
  } else if (!strcmp(mode, "tcache_too_many")) { /* free(): too many chunks detected in tcache */
    void* a = keep(malloc(40));
    void* b = keep(malloc(40));
    void* c = keep(malloc(40));
    free(a);
    free(b);                           /* the list: b -> a */
    set_link(a, (uintptr_t)b);         /* use after free: a -> b, a cycle */
    ((size_t*)c)[1] = ((size_t*)b)[1]; /* c's key word holds the tcache key: glibc scans the list */
    free(c);
  } else if (!strcmp(mode, "tcache_unaligned_2")) { /* free(): unaligned chunk detected in tcache 2 */
    void* a = keep(malloc(40));
    void* b = keep(malloc(40));
    free(a);
    free(b);                                            /* the list: b -> a */
    set_link(b, 0x1008);                                /* use after free: b's next, misaligned */
    free(keep(a));                                      /* a double free scans the list */
  } else if (!strcmp(mode, "fast_invalid_next_size")) { /* free(): invalid next size (fast) */
    void* a = keep(malloc(24));
    guard();
    fill_tcache(24);
    hdr((char*)a + 0x20)[1] = 0; /* an overflow zeroes the next chunk's size */
    free(a);
  } else if (!strcmp(mode, "fasttop")) { /* double free or corruption (fasttop) */
    void* a = keep(malloc(24));
    guard();
    fill_tcache(24);
    free(a);
    free(keep(a));
  } else if (!strcmp(mode, "fasttop_mt")) { /* ... in a multi-threaded process (the CAS loop) */
    become_multithreaded();
    void* a = keep(malloc(24));
    guard();
    fill_tcache(24);
    free(a);
    free(keep(a));
  } else if (!strcmp(mode, "invalid_fastbin_entry")) { /* invalid fastbin entry (free) */
    void* r = keep(malloc(72));                        /* 0x50 */
    guard();
    void *x, *y;
    two_fast(&x, &y);
    hdr(y)[1] = 0x41;     /* use after free: the fastbin's head has a 0x40 size */
    keep(realloc(r, 40)); /* shrinks to 0x30: the 0x20 rest is freed with the lock held */
  } else if (!strcmp(mode, "double_free_top")) { /* double free or corruption (top) */
    char* a = keep(malloc(0x500));
    free(keep(a + csize(a)));                    /* the top chunk's user pointer */
  } else if (!strcmp(mode, "double_free_out")) { /* double free or corruption (out) */
    char* a = keep(malloc(0x500));
    hdr(a + 32)[1] = 0x100001; /* a fake chunk inside a, reaching past the heap's end */
    free(keep(a + 32));
  } else if (!strcmp(mode, "double_free_prev")) { /* double free or corruption (!prev) */
    void* a = keep(malloc(0x500));
    guard();
    free(a);
    free(keep(a));
  } else if (!strcmp(mode, "normal_invalid_next_size")) { /* free(): invalid next size (normal) */
    char* a = keep(malloc(0x500));
    guard();
    hdr(a + csize(a))[1] = 1; /* an overflow: the next chunk's size 0, P still set */
    free(a);
  } else if (!strcmp(mode, "prev_size_consolidating")) {
    /* corrupted size vs. prev_size while consolidating */
    char* a = keep(malloc(2000));
    char* b = keep(malloc(2000));
    guard();
    free(a);                                             /* unsorted; b's prev_size says 0x7e0 */
    hdr(a)[1] = 0x801;                                   /* an underflow rewrites a's size */
    free(keep(b));                                       /* consolidating backwards finds the mismatch */
  } else if (!strcmp(mode, "free_corrupted_unsorted")) { /* free(): corrupted unsorted chunks */
    void* c = keep(malloc(0x500));
    guard();
    void* a = keep(malloc(0x500));
    guard();
    free(c);
    ((void**)c)[1] = fake;                   /* use after free: c's bk */
    free(a);                                 /* goes to the unsorted bin, whose first chunk is c */
  } else if (!strcmp(mode, "unlink_size")) { /* corrupted size vs. prev_size */
    void *a, *c, *g;
    unsorted_between(&a, &c, &g);
    hdr(g)[0] = 0x999;                       /* an underflow of g: its prev_size no longer matches c's size */
    free(a);                                 /* merging forward unlinks c */
  } else if (!strcmp(mode, "unlink_list")) { /* corrupted double-linked list */
    void *a, *c, *g;
    unsorted_between(&a, &c, &g);
    ((void**)c)[0] = fake; /* use after free: c's fd */
    free(a);
  } else if (!strcmp(mode, "unlink_not_small")) { /* corrupted double-linked list (not small) */
    void* a = keep(malloc(0x500));
    void* c = keep(malloc(0x500));
    guard();
    free(c);
    keep(malloc(0x600));   /* c is sorted into its large bin: fd_nextsize == bk_nextsize == c */
    ((void**)c)[2] = fake; /* use after free: c's fd_nextsize */
    free(a);               /* merging forward unlinks c */
  }
  /* ---- malloc_consolidate ---- */
  else if (!strcmp(mode, "consolidate_unaligned")) {
    /* malloc_consolidate(): unaligned fastbin chunk detected */
    void *x, *y;
    two_fast(&x, &y);
    set_link(y, 0x1008);                                  /* use after free: y's fd, misaligned */
    keep(malloc(0x500));                                  /* a large request consolidates the fastbins */
  } else if (!strcmp(mode, "consolidate_invalid_size")) { /* malloc_consolidate(): invalid chunk size */
    void *x, *y;
    two_fast(&x, &y);
    hdr(y)[1] = 0x41;
    keep(malloc(0x500));
  } else if (!strcmp(mode, "consolidate_prev_size")) { /* corrupted size vs. prev_size in fastbins */
    char* a = keep(malloc(0x500));
    char* f = keep(malloc(24));
    guard();
    fill_tcache(24);
    free(a);           /* unsorted; f's P clear, its prev_size 0x510 */
    free(f);           /* the fastbin */
    hdr(a)[1] = 0x521; /* an underflow of a rewrites its size */
    keep(malloc(0x500));
  }
  /* ---- malloc: tcache and fastbins ---- */
  else if (!strcmp(mode, "tcache_unaligned")) { /* malloc(): unaligned tcache chunk detected */
    void* p = keep(malloc(24));
    void* q = keep(malloc(24));
    free(p);
    free(q);
    set_link(q, 0x1008); /* use after free: q's next, misaligned */
    keep(malloc(24));
    keep(malloc(24));
  } else if (!strcmp(mode, "tcache_thread_shutdown")) {
    /* tcache_thread_shutdown(): unaligned tcache chunk detected */
    pthread_t t;
    pthread_create(&t, NULL, thread_unaligned_tcache, NULL);
    pthread_join(t, NULL);
  } else if (!strcmp(mode, "fast_unaligned_2")) { /* malloc(): unaligned fastbin chunk detected 2 */
    void *x, *y;
    two_fast(&x, &y);
    set_link(y, 0x1008); /* use after free: y's fd, misaligned */
    keep(calloc(1, 24)); /* calloc skips the tcache (full: nothing is stashed); takes y */
    keep(calloc(1, 24)); /* the fastbin's head is now misaligned */
  } else if (!strcmp(mode, "fast_unaligned_3")) { /* malloc(): unaligned fastbin chunk detected 3 */
    void *x, *y;
    two_fast(&x, &y);
    set_link(y, 0x1008);
    drain_tcache(24);
    keep(malloc(24)); /* takes y, then stashes the rest in the tcache */
  } else if (!strcmp(mode, "fast_unaligned_mt")) {
    /* malloc(): unaligned fastbin chunk detected (REMOVE_FB: multi-threaded processes) */
    become_multithreaded();
    void *x, *y;
    two_fast(&x, &y);
    set_link(y, 0x1008);
    drain_tcache(24);
    keep(malloc(24));
  } else if (!strcmp(mode, "fast_memory_corruption")) { /* malloc(): memory corruption (fast) */
    void *x, *y;
    two_fast(&x, &y);
    hdr(y)[1] = 0x41; /* use after free: the fastbin's head has a 0x40 size */
    keep(calloc(1, 24));
  }
  /* ---- malloc: small bins, the unsorted bin, large bins ---- */
  else if (!strcmp(mode, "smallbin_list")) { /* malloc(): smallbin double linked list corrupted */
    void* a = keep(malloc(0xf8));            /* 0x100 */
    guard();
    fill_tcache(0xf8);
    free(a);               /* unsorted */
    keep(malloc(0x200));   /* sorted into small bin 0x100 */
    ((void**)a)[1] = fake; /* use after free: a's bk */
    keep(calloc(1, 0xf8));
  } else if (!strcmp(mode, "unsorted_invalid_size")) { /* malloc(): invalid size (unsorted) */
    void* a = keep(malloc(2000));
    guard();
    free(a);
    hdr(a)[1] = 0x11;
    keep(malloc(2000));
  } else if (!strcmp(mode, "unsorted_invalid_next_size")) { /* malloc(): invalid next size (unsorted) */
    char* a = keep(malloc(2000));
    guard();
    free(a);
    hdr(a + csize(a))[1] = 0;
    keep(malloc(2000));
  } else if (!strcmp(mode, "unsorted_prev_size")) { /* malloc(): mismatching next->prev_size (unsorted) */
    char* a = keep(malloc(2000));
    guard();
    free(a);
    hdr(a + csize(a))[0] = 0x999;
    keep(malloc(2000));
  } else if (!strcmp(mode, "unsorted_list")) { /* malloc(): unsorted double linked list corrupted */
    void* a = keep(malloc(2000));
    guard();
    free(a);
    ((void**)a)[1] = fake; /* use after free: a's bk */
    keep(malloc(2000));
  } else if (!strcmp(mode, "unsorted_next_prev_inuse")) {
    /* malloc(): invalid next->prev_inuse (unsorted) */
    char* a = keep(malloc(2000));
    guard();
    free(a);
    hdr(a + csize(a))[1] |= 1;
    keep(malloc(2000));
  } else if (!strcmp(mode, "largebin_nextsize")) {
    /* malloc(): largebin double linked list corrupted (nextsize) */
    void *a, *b;
    large_pair(&a, &b);
    ((void**)a)[3] = fake; /* use after free: a's bk_nextsize */
    free(b);
    keep(malloc(2000)); /* sorting b into the bin checks a->bk_nextsize->fd_nextsize == a */
  } else if (!strcmp(mode, "largebin_bk")) { /* malloc(): largebin double linked list corrupted (bk) */
    void *a, *b;
    large_pair(&a, &b);
    ((void**)a)[1] = fake; /* use after free: a's bk */
    free(b);
    keep(malloc(2000));
  } else if (!strcmp(mode, "largebin_main_arena_bk")) { /* assert chunk_main_arena (bck->bk) */
    void *a, *b;
    large_pair(&a, &b);
    hdr(a)[1] |= 4; /* use after free: the smallest chunk of the bin says "non-main arena" */
    free(b);
    keep(malloc(2000));
  } else if (!strcmp(mode, "largebin_main_arena_fwd")) { /* assert chunk_main_arena (fwd) */
    void* s = keep(malloc(0x438));                       /* 0x440, 0x460 and 0x470: all in large bin 65 */
    guard();
    void* m = keep(malloc(0x458)); /* 0x460 */
    guard();
    void* b = keep(malloc(0x468)); /* 0x470 */
    guard();
    free(s);
    free(m);
    keep(malloc(2000)); /* bin 65: m (largest), s */
    hdr(m)[1] |= 4;     /* the largest chunk of the bin says "non-main arena" */
    free(b);
    keep(malloc(2000));                                /* b (0x470) is not below s: the walk starts at m */
  } else if (!strcmp(mode, "unsorted_chunks_large")) { /* malloc(): corrupted unsorted chunks */
    unsorted_left_behind();
    keep(malloc(0x1008)); /* 0x1010, from l's own bin: the rest of l goes to the unsorted bin */
  } else if (!strcmp(mode, "unsorted_chunks_binmap")) { /* malloc(): corrupted unsorted chunks 2 */
    unsorted_left_behind();
    keep(malloc(0xe08));                            /* 0xe10: its bin is empty, the binmap finds l's */
  } else if (!strcmp(mode, "corrupted_top_size")) { /* malloc(): corrupted top size */
    char* a = keep(malloc(24));
    hdr(a + csize(a))[1] = (size_t)-1; /* an overflow into top's size (house of force) */
    keep(malloc(0x1000));
  } else if (!strcmp(mode, "binmap_size")) { /* assert (unsigned long) (size) >= (unsigned long) (nb) */
    void* l = keep(malloc(0x11e8));          /* 0x11f0 */
    guard();
    free(l);
    keep(malloc(0x2000)); /* l sorted into its large bin */
    hdr(l)[1] = 0x101;    /* use after free: l's size shrinks below the request */
    keep(malloc(0x500));  /* no chunk in 0x510's bin: the binmap finds l's */
  }
  /* ---- sysmalloc: the old top ---- */
  else if (!strcmp(mode, "sysmalloc_top_zero")) { /* assert on the old top: its size zeroed */
    char* a = keep(malloc(24));
    hdr(a + csize(a))[1] = 0;
    keep(malloc(0x1000));
  } else if (!strcmp(mode, "sysmalloc_top_small")) { /* ... a size below MINSIZE */
    char* a = keep(malloc(24));
    hdr(a + csize(a))[1] = 0x11;
    keep(malloc(0x1000));
  } else if (!strcmp(mode, "sysmalloc_top_prev_inuse")) { /* ... P clear */
    char* b = keep(malloc(0x1f000));                      /* most of top */
    hdr(b + csize(b))[1] &= ~(size_t)1;
    keep(malloc(0x1f000));                                   /* more than top, less than the mmap threshold */
  } else if (!strcmp(mode, "sysmalloc_top_unaligned_end")) { /* ... its end not on a page */
    char* b = keep(malloc(0x1f000));
    hdr(b + csize(b))[1] -= 0x100; /* house of orange: the size no longer reaches the break */
    keep(malloc(0x1f000));
  } else if (!strcmp(mode, "sysmalloc_top_zero_thread")) { /* ... in a non-main arena */
    pthread_t t;
    pthread_create(&t, NULL, thread_top_zero, NULL);
    pthread_join(t, NULL);
  } else if (!strcmp(mode, "free_heap_ar_ptr") || !strcmp(mode, "heap_trim_fencepost") ||
             !strcmp(mode, "heap_trim_new_size")) {
    /* asserts heap->ar_ptr == av (_int_free), chunksize_nomask (p) == (0 | PREV_INUSE) and
     * new_size > 0 && new_size < (long) (2 * MINSIZE) (heap_trim) */
    pthread_t t;
    thread_mode = mode;
    pthread_create(&t, NULL, thread_two_heaps, NULL);
    pthread_join(t, NULL);
  } else if (!strcmp(mode, "break_adjusted")) { /* break adjusted to free malloc space */
    keep(malloc(0x1f000));                      /* most of top */
    sbrk(-0x1000);                              /* someone else moves the break back under top's end */
    keep(malloc(0x1f000));
  }
  /* ---- realloc, calloc, mmapped chunks ---- */
  else if (!strcmp(mode, "realloc_invalid_pointer")) { /* realloc(): invalid pointer */
    char* a = keep(malloc(100));
    keep(realloc(keep(a + 8), 200));
  } else if (!strcmp(mode, "realloc_invalid_old_size")) { /* realloc(): invalid old size */
    char* a = keep(malloc(100));
    hdr(a)[1] = 0x10000001; /* more than the arena ever took */
    keep(realloc(a, 200));
  } else if (!strcmp(mode, "realloc_invalid_next_size")) { /* realloc(): invalid next size */
    char* a = keep(malloc(100));
    guard();
    hdr(a + csize(a))[1] = 1;
    keep(realloc(a, 200));
  } else if (!strcmp(mode, "munmap_invalid")) { /* munmap_chunk(): invalid pointer */
    size_t* m = keep(malloc(200000));           /* mmapped */
    m[0] = 0;                                   /* a fake mmapped chunk inside it, not page-aligned */
    m[1] = 0x1000 | 2;
    free(keep(m + 2));
  } else if (!strcmp(mode, "mremap_invalid")) { /* mremap_chunk(): invalid pointer */
    size_t* m = keep(malloc(200000));
    m[0] = 0;
    m[1] = 0x1000 | 2;
    keep(realloc(keep(m + 2), 300000));
  } else if (!strcmp(mode, "calloc_nclears")) { /* assert nclears >= 3 */
    void* a = keep(malloc(0xf8));
    guard();
    fill_tcache(0xf8);
    free(a);
    keep(malloc(0x200)); /* a sorted into small bin 0x100 */
    hdr(a)[1] = 0x11;    /* use after free: the small bin's chunk says 0x10 */
    keep(calloc(1, 0xf8));
  }
  /* ---- the statistics ---- */
  else if (!strcmp(mode, "mallinfo_unaligned")) { /* int_mallinfo(): unaligned fastbin chunk detected */
    void *x, *y;
    two_fast(&x, &y);
    set_link(y, 0x1008);
    struct mallinfo2 mi = mallinfo2();
    keep(&mi);
  } else if (!strcmp(mode, "malloc_info_unaligned")) {
    /* __malloc_info(): unaligned fastbin chunk detected */
    void *x, *y;
    two_fast(&x, &y);
    set_link(y, 0x1008);
    static char buf[4096];
    FILE* f = fopen("/dev/null", "w");
    setvbuf(f, buf, _IOFBF, sizeof buf); /* its buffer's malloc would consolidate the fastbins */
    malloc_info(0, f);
  } else {
    return 2;
  }
  return 0;
}

static const char* const kModes[] = {
    "free_invalid_pointer",
    "free_invalid_size",
    "free_fake_stack_chunk",
    "free_fake_stack_chunk_first",
    "free_fake_stack_bad_size",
    "tcache_double_free",
    "tcache_too_many",
    "tcache_unaligned_2",
    "fast_invalid_next_size",
    "fasttop",
    "fasttop_mt",
    "invalid_fastbin_entry",
    "double_free_top",
    "double_free_out",
    "double_free_prev",
    "normal_invalid_next_size",
    "prev_size_consolidating",
    "free_corrupted_unsorted",
    "unlink_size",
    "unlink_list",
    "unlink_not_small",
    "consolidate_unaligned",
    "consolidate_invalid_size",
    "consolidate_prev_size",
    "tcache_unaligned",
    "tcache_thread_shutdown",
    "fast_unaligned_2",
    "fast_unaligned_3",
    "fast_unaligned_mt",
    "fast_memory_corruption",
    "smallbin_list",
    "unsorted_invalid_size",
    "unsorted_invalid_next_size",
    "unsorted_prev_size",
    "unsorted_list",
    "unsorted_next_prev_inuse",
    "largebin_nextsize",
    "largebin_bk",
    "largebin_main_arena_bk",
    "largebin_main_arena_fwd",
    "unsorted_chunks_large",
    "unsorted_chunks_binmap",
    "corrupted_top_size",
    "binmap_size",
    "sysmalloc_top_zero",
    "sysmalloc_top_small",
    "sysmalloc_top_prev_inuse",
    "sysmalloc_top_unaligned_end",
    "sysmalloc_top_zero_thread",
    "free_heap_ar_ptr",
    "heap_trim_fencepost",
    "heap_trim_new_size",
    "break_adjusted",
    "realloc_invalid_pointer",
    "realloc_invalid_old_size",
    "realloc_invalid_next_size",
    "munmap_invalid",
    "mremap_invalid",
    "calloc_nclears",
    "mallinfo_unaligned",
    "malloc_info_unaligned",
};

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (!strcmp(mode, "list")) {
    for (size_t i = 0; i < sizeof kModes / sizeof kModes[0]; ++i)
      printf("%s\n", kModes[i]);
    return 0;
  }
  if (run(mode) == 2) {
    fprintf(stderr, "usage: glibc_checks list|MODE\n");
    return 2;
  }
  return 0; /* reached only by the modes that glibc lets through */
}
