/* trim_rss.c OUT [BLOCKS] - "would malloc_trim help?", measured by the program itself. It fills the
 * heap with BLOCKS (default 1024) blocks of 64 KiB, writing every page; frees all but one block in
 * 16 (and the last, so that top cannot take the holes back): 15-block holes stay in the heap,
 * resident; calls malloc_trim(0), which hands the holes' pages back (madvise); then takes back
 * REUSE blocks from the holes, writing every page again. Around each step it reads its resident set
 * from /proc/self/statm (open and read: no malloc), and at the end writes to OUT, in bytes:
 *   rss_before_trim rss_after_trim rss_after_reuse
 * trim_rss_test.sh compares them with the released bytes `heapviz stats --json` finds in the trace.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK 65536
#define KEEP_EVERY 16
#define REUSE 128

static long rss_bytes(void) {
  char buf[128];
  int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  char* p = strchr(buf, ' '); /* size resident shared ... (pages) */
  return p ? strtol(p + 1, NULL, 10) * sysconf(_SC_PAGESIZE) : -1;
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  int blocks = argc > 2 ? atoi(argv[2]) : 1024;
  static void* b[1 << 16];
  static void* again[REUSE];
  if (blocks < 2 * KEEP_EVERY || blocks > (1 << 16)) return 2;
  for (int i = 0; i < blocks; ++i) {
    b[i] = malloc(BLOCK);
    if (!b[i]) return 1;
    memset(b[i], 0x5a, BLOCK);
  }
  for (int i = 0; i < blocks - 1; ++i)
    if (i % KEEP_EVERY != 0) {
      free(b[i]);
      b[i] = NULL;
    }
  long before = rss_bytes();
  malloc_trim(0);
  long after = rss_bytes();
  for (int i = 0; i < REUSE; ++i) {
    again[i] = malloc(BLOCK);
    if (!again[i]) return 1;
    memset(again[i], 0xa5, BLOCK);
  }
  long reuse = rss_bytes();
  FILE* f = fopen(argv[1], "w");
  if (!f) return 1;
  fprintf(f, "%ld %ld %ld\n", before, after, reuse);
  return fclose(f) == 0 ? 0 : 1;
}
