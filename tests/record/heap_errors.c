/* heap_errors.c MODE - one heap bug per mode, each caught by a different glibc check: the program
 * must abort with glibc's own message (the same as natively), and a recording must end with an
 * error event whose code names what that check found (error_codes_test.sh).
 * The layouts rely on glibc 2.36's decisions, which libhvalloc reproduces. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void* keep(void* p) { /* the compiler must not see through the bugs */
  __asm__ volatile("" : "+r"(p) : : "memory");
  return p;
}

/* A fake chunk for a corrupted link to point at: every field zero. */
static uintptr_t fake[8] __attribute__((aligned(16)));

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (!strcmp(mode, "tcache_double_free")) { /* free(): double free detected in tcache 2 */
    void* p = keep(malloc(40));
    free(p);
    free(keep(p));
  } else if (!strcmp(mode, "fasttop")) { /* double free or corruption (fasttop) */
    void* p[8];
    for (int i = 0; i < 8; ++i)
      p[i] = keep(malloc(24));
    keep(malloc(24));
    for (int i = 0; i < 8; ++i) /* seven fill the tcache bin, the eighth goes to the fastbin */
      free(p[i]);
    free(keep(p[7]));
  } else if (!strcmp(mode, "invalid_pointer")) { /* free(): invalid pointer (misaligned) */
    char* a = keep(malloc(100));
    memset(a, 0, 100);
    free(keep(a + 8));
  } else if (!strcmp(mode, "munmap_invalid")) { /* munmap_chunk(): invalid pointer */
    size_t* m = keep(malloc(200000));           /* mmapped */
    m[0] = 0;                                   /* a fake mmapped chunk inside it, not page-aligned */
    m[1] = 0x1000 | 2;
    free(keep(m + 2));
  } else if (!strcmp(mode, "prev_size")) { /* corrupted size vs. prev_size while consolidating */
    char* a = keep(malloc(2000));
    char* b = keep(malloc(2000));
    keep(malloc(24));
    free(a);                                   /* unsorted; b's prev_size says 0x7e0 */
    ((size_t*)a)[-1] = 0x801;                  /* an underflow rewrites a's size */
    free(keep(b));                             /* consolidating backwards finds the mismatch */
  } else if (!strcmp(mode, "unsorted_list")) { /* malloc(): unsorted double linked list corrupted */
    void* a = keep(malloc(2000));
    keep(malloc(24));
    free(a);
    ((void**)a)[1] = fake; /* use after free: a's bk */
    keep(malloc(2000));
  } else if (!strcmp(mode, "largebin_nextsize")) {
    /* malloc(): largebin double linked list corrupted (nextsize). A check of a list, whose message
     * contains "size": matching the message for "size" would call it a size corruption. */
    void* a = keep(malloc(1072)); /* chunk 0x440: large bin 65 (0x440-0x47f), beyond the tcache */
    keep(malloc(24));
    void* b = keep(malloc(1120)); /* chunk 0x470: the same bin */
    keep(malloc(24));
    free(a);
    keep(malloc(2000));    /* the unsorted scan sorts a into bin 65 */
    ((void**)a)[3] = fake; /* use after free: a's bk_nextsize */
    free(b);
    keep(malloc(2000)); /* sorting b into bin 65 checks a->bk_nextsize->fd_nextsize == a */
  } else if (!strcmp(mode, "unaligned_tcache")) { /* malloc(): unaligned tcache chunk detected */
    void* p = keep(malloc(24));
    void* q = keep(malloc(24));
    free(p);
    free(q);
    /* use after free: q's safe-linked next now reveals a misaligned pointer */
    *(uintptr_t*)q = ((uintptr_t)q >> 12) ^ 0x1008;
    keep(malloc(24));
    keep(malloc(24));
  } else {
    fprintf(stderr, "usage: heap_errors tcache_double_free|fasttop|invalid_pointer|munmap_invalid|"
                    "prev_size|unsorted_list|largebin_nextsize|unaligned_tcache\n");
    return 2;
  }
  return 0; /* not reached: every mode aborts */
}
