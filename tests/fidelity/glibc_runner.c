/* hv_glibc_runner: run a heapviz scenario (.hvs) against the REAL glibc malloc and print, for each
 * allocating operation, "NAME OFFSET" (OFFSET = pointer - heap start, lowercase 0x-hex), "NAME mmap"
 * for an mmapped chunk, or "NAME null" for a NULL result.
 *
 * Usage: hv_glibc_runner [--keep-env] FILE
 *
 * The whole point is that nothing but the scenario's own operations touches malloc: the file is read
 * with open/read into a static buffer, parsed by hand into static arrays, executed, and the results
 * are formatted into a static buffer and written with write(2) after the last operation. The heap
 * start is sbrk(0) taken immediately before the first operation, and the runner checks that brk did
 * not move between entering main and that moment (any malloc call, even one that is served by
 * mmap, initialises the main arena and its tcache with sbrk, so an unchanged brk proves malloc was
 * never called before the scenario).
 *
 * Environment variables that change glibc malloc's behaviour (GLIBC_TUNABLES, MALLOC_*, LD_PRELOAD)
 * are removed by re-executing /proc/self/exe with a cleaned environment, to which the scenario's
 * `tunable` lines are added as GLIBC_TUNABLES (ld.so reads it before main, so only an exec can
 * set it). `mallopt` lines call mallopt and `malloc_trim` lines malloc_trim, where they stand.
 * --keep-env keeps the environment as it is (an LD_PRELOADed allocator, MALLOC_* aliases,
 * GLIBC_TUNABLES) and appends the scenario's tunables to GLIBC_TUNABLES: the preload tests run
 * scenarios on libhvalloc.so that way.
 *
 * Threads (`thread N start`, `thread N: OP`, `thread N exit`; docs/scenarios.md, "Threads"): thread
 * N is a real pthread, created by the main thread with a 64 KiB stack, that runs its operations one
 * at a time while the main thread waits (semaphores: the hand-off never allocates), so the order of
 * calls is the file's. `exit` makes it return from its start routine and the main thread joins it.
 * A block in a non-main arena (NON_MAIN_ARENA bit) prints as "heapN+0xOFFSET" from its heap's start
 * (the pointer rounded down to 64 MiB, HEAP_MAX_SIZE), heaps numbered 1, 2, ... as the output first
 * names them. A scenario with threads needs the runner's only TLS module to be libc's (its new
 * threads' DTVs are then 272 bytes, as heapviz assumes); the runner checks it.
 *
 * Scenario format: see FORMAT.md beside this file. Errors: "FILE:LINE: message" on stderr, exit 2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FILE (64u << 20) /* 64 MiB of scenario text */
#define MAX_OPS (1u << 20)
#define MAX_SYMS (1u << 20)
#define HASH_SIZE (1u << 21) /* power of two, > 2 * MAX_SYMS */
#define MAX_ENV 4096
#define OUT_SIZE (64u << 20)

enum op_kind {
  OP_MALLOC,
  OP_CALLOC,
  OP_REALLOC,
  OP_MEMALIGN,
  OP_FREE,
  OP_MALLOPT,
  OP_MALLOC_TRIM,
  OP_THREAD_START,
  OP_THREAD_EXIT
};
#define MAX_THREAD 64 /* threads 1..MAX_THREAD, as heapviz's kMaxThreadNumber */
#define HEAP_MAX ((uintptr_t)64 << 20)

struct op {
  unsigned char kind;
  unsigned line;
  int dst;          /* symbol bound by the op (-1 for free) */
  int src;          /* realloc source / free target symbol; -1 for realloc NULL */
  size_t a, b;      /* malloc: a=size; calloc: a=n b=size; realloc: a=size; memalign: a=align b=size;
                       malloc_trim: a=pad */
  int param, value; /* mallopt */
  int thread;       /* the thread that runs it (0: main); thread start/exit: the thread */
};

enum sym_state { SYM_UNBOUND = 0, SYM_LIVE = 1, SYM_FREED = 2 };

struct sym {
  const char* name;
  unsigned len;
};

static char g_file[MAX_FILE + 1];
static struct op g_ops[MAX_OPS];
static unsigned g_nops;
static struct sym g_syms[MAX_SYMS];
static unsigned g_nsyms;
static int g_hash[HASH_SIZE]; /* symbol index + 1, 0 = empty */
static void* g_ptr[MAX_SYMS];
static unsigned char g_state[MAX_SYMS];
static void* g_result[MAX_OPS];          /* result of each op, in op order */
static unsigned char g_mmapped[MAX_OPS]; /* IS_MMAPPED bit of the result, read right after the op */
static unsigned char g_nonmain[MAX_OPS]; /* NON_MAIN_ARENA bit of the result, likewise */
static int g_has_threads;
static char g_out[OUT_SIZE];
static char* g_envp[MAX_ENV];
static const char* g_path;
static char g_tunables[65536] = "GLIBC_TUNABLES="; /* the scenario's tunable lines, ':'-joined */
static size_t g_tunables_len = 15;
static unsigned g_first_op_line; /* tunable lines must come before it */

/* ---- tiny output helpers that never allocate ---- */
static void put_str(int fd, const char* s) {
  size_t n = strlen(s);
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;
    }
    s += w;
    n -= (size_t)w;
  }
}

static char* fmt_u(char* p, unsigned long v) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n)
    *p++ = tmp[--n];
  return p;
}

static char* fmt_hex(char* p, unsigned long v) {
  char tmp[24];
  int n = 0;
  *p++ = '0';
  *p++ = 'x';
  do {
    tmp[n++] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v);
  while (n)
    *p++ = tmp[--n];
  return p;
}

static _Noreturn void fail(unsigned line, const char* msg, const char* arg, unsigned arglen) {
  char buf[1024];
  char* p = buf;
  size_t n = strlen(g_path);
  if (n > 512) n = 512;
  memcpy(p, g_path, n);
  p += n;
  *p++ = ':';
  p = fmt_u(p, line);
  *p++ = ':';
  *p++ = ' ';
  n = strlen(msg);
  if (n > 256) n = 256;
  memcpy(p, msg, n);
  p += n;
  if (arg) {
    if (arglen > 200) arglen = 200;
    *p++ = ' ';
    *p++ = '\'';
    memcpy(p, arg, arglen);
    p += arglen;
    *p++ = '\'';
  }
  *p++ = '\n';
  *p = 0;
  put_str(2, buf);
  _exit(2);
}

/* ---- environment ---- */
static int env_is_malloc_affecting(const char* e) {
  return strncmp(e, "GLIBC_TUNABLES=", 15) == 0 || strncmp(e, "MALLOC_", 7) == 0 ||
         strncmp(e, "LD_PRELOAD=", 11) == 0;
}

static char g_joined[65536 + 4096]; /* --keep-env: the old GLIBC_TUNABLES + ':' + the scenario's */

/* Re-executes with the environment the scenario asks for (see the top of the file), unless it
 * already is that environment. `argv_ready` is the argument vector of the re-executed runner. */
static void set_environment(char** argv_ready, char** envp, int keep_env) {
  int have_tunables = g_tunables_len > 15, dirty = 0, n = 0, placed = 0;
  for (char** e = envp; *e; e++)
    if (env_is_malloc_affecting(*e)) dirty = 1;
  if (!have_tunables && (keep_env || !dirty)) return;
  for (char** e = envp; *e && n < MAX_ENV - 2; e++) {
    if (!keep_env && env_is_malloc_affecting(*e)) continue;
    if (keep_env && have_tunables && !placed && strncmp(*e, "GLIBC_TUNABLES=", 15) == 0) {
      size_t old = strlen(*e);
      if (old + g_tunables_len - 15 + 2 > sizeof g_joined) fail(0, "GLIBC_TUNABLES too long", 0, 0);
      memcpy(g_joined, *e, old);
      g_joined[old] = ':';
      memcpy(g_joined + old + 1, g_tunables + 15, g_tunables_len - 15 + 1);
      g_envp[n++] = g_joined;
      placed = 1;
      continue;
    }
    g_envp[n++] = *e;
  }
  if (have_tunables && !placed) g_envp[n++] = g_tunables;
  g_envp[n] = 0;
  execve("/proc/self/exe", argv_ready, g_envp);
  put_str(2, "hv_glibc_runner: cannot re-exec with the scenario's environment\n");
  _exit(2);
}

/* ---- lexing ---- */
static int is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

struct tok {
  const char* s;
  unsigned len;
};

static int tok_eq(struct tok t, const char* s) {
  size_t n = strlen(s);
  return t.len == n && memcmp(t.s, s, n) == 0;
}

/* The words that open a lesson's lines (docs/lessons.md): no heap effect. */
static int is_lesson_word(struct tok t) {
  return tok_eq(t, "title") || tok_eq(t, "summary") || tok_eq(t, "policy") || tok_eq(t, "say") ||
         tok_eq(t, "show") || tok_eq(t, "under") || tok_eq(t, "arena-size");
}

static void check_name(unsigned line, struct tok t) {
  if (t.len > 200) fail(line, "name longer than 200 characters", t.s, 40);
  if (tok_eq(t, "NULL")) fail(line, "NULL is reserved and cannot be used as a name", 0, 0);
  for (unsigned i = 0; i < t.len; i++)
    if (!is_name_char(t.s[i])) fail(line, "invalid name (expected [A-Za-z0-9_]+):", t.s, t.len);
}

static size_t parse_size(unsigned line, struct tok t) {
  if (t.len == 0) fail(line, "missing number", 0, 0);
  size_t v = 0;
  unsigned i = 0;
  if (t.len > 2 && t.s[0] == '0' && (t.s[1] == 'x' || t.s[1] == 'X')) {
    for (i = 2; i < t.len; i++) {
      char c = t.s[i];
      unsigned d;
      if (c >= '0' && c <= '9')
        d = (unsigned)(c - '0');
      else if (c >= 'a' && c <= 'f')
        d = (unsigned)(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        d = (unsigned)(c - 'A' + 10);
      else
        fail(line, "invalid hex number", t.s, t.len);
      if (v > (SIZE_MAX >> 4)) fail(line, "number too large", t.s, t.len);
      v = (v << 4) | d;
    }
    return v;
  }
  if (t.len == 0) fail(line, "missing number", 0, 0);
  for (i = 0; i < t.len; i++) {
    char c = t.s[i];
    if (c < '0' || c > '9') fail(line, "invalid number", t.s, t.len);
    size_t d = (size_t)(c - '0');
    if (v > (SIZE_MAX - d) / 10) fail(line, "number too large", t.s, t.len);
    v = v * 10 + d;
  }
  return v;
}

/* A C int: '-' and then what parse_size reads. */
static int parse_int(unsigned line, struct tok t) {
  int neg = t.len > 0 && t.s[0] == '-';
  if (neg) {
    t.s++;
    t.len--;
  }
  size_t v = parse_size(line, t);
  if (v > (neg ? 2147483648u : 2147483647u)) fail(line, "number does not fit in an int:", t.s, t.len);
  return neg ? (int)(-(long)v) : (int)v;
}

static int mallopt_param(unsigned line, struct tok t) {
  static const struct {
    const char* name;
    int param;
  } params[] = {{"M_MXFAST", M_MXFAST},       {"M_TRIM_THRESHOLD", M_TRIM_THRESHOLD},
                {"M_TOP_PAD", M_TOP_PAD},     {"M_MMAP_THRESHOLD", M_MMAP_THRESHOLD},
                {"M_MMAP_MAX", M_MMAP_MAX},   {"M_ARENA_TEST", M_ARENA_TEST},
                {"M_ARENA_MAX", M_ARENA_MAX}, {"M_PERTURB", M_PERTURB}};
  for (unsigned i = 0; i < sizeof params / sizeof params[0]; i++)
    if (tok_eq(t, params[i].name)) return params[i].param;
  fail(line, "unknown mallopt parameter:", t.s, t.len);
}

static unsigned hash_name(const char* s, unsigned len) {
  unsigned h = 2166136261u;
  for (unsigned i = 0; i < len; i++)
    h = (h ^ (unsigned char)s[i]) * 16777619u;
  return h;
}

static int intern(unsigned line, struct tok t) {
  check_name(line, t);
  unsigned h = hash_name(t.s, t.len) & (HASH_SIZE - 1);
  for (;;) {
    int idx = g_hash[h];
    if (idx == 0) break;
    struct sym* s = &g_syms[idx - 1];
    if (s->len == t.len && memcmp(s->name, t.s, t.len) == 0) return idx - 1;
    h = (h + 1) & (HASH_SIZE - 1);
  }
  if (g_nsyms >= MAX_SYMS) fail(line, "too many distinct names", 0, 0);
  g_syms[g_nsyms].name = t.s;
  g_syms[g_nsyms].len = t.len;
  g_hash[h] = (int)++g_nsyms;
  return (int)g_nsyms - 1;
}

static void parse(void) {
  unsigned line = 0;
  char* p = g_file;
  while (*p) {
    char* eol = strchr(p, '\n');
    if (!eol) eol = p + strlen(p);
    line++;
    char* hash = memchr(p, '#', (size_t)(eol - p));
    char* end = hash ? hash : eol;
    struct tok toks[10];
    unsigned nt = 0;
    int lesson_line = 0;
    char* q = p;
    /* Tokens are separated by spaces/tabs; '=' is a token of its own even when it touches its
     * neighbours ("a=malloc 8"). "mark" takes the rest of the line as its label. */
    while (q < end) {
      while (q < end && (*q == ' ' || *q == '\t' || *q == '\r'))
        q++;
      if (q >= end) break;
      char* s = q;
      if (*q == '=')
        q++;
      else
        while (q < end && *q != ' ' && *q != '\t' && *q != '\r' && *q != '=')
          q++;
      if (nt == 1 && tok_eq(toks[0], "mark")) break;
      if (nt == 1 && is_lesson_word(toks[0])) { /* a lesson's line (docs/lessons.md), unless `WORD = ...` */
        char* r = s;
        while (r < end && (*r == ' ' || *r == '\t'))
          r++;
        if (r >= end || *r != '=') {
          lesson_line = 1;
          break;
        }
      }
      if (nt >= 3 && tok_eq(toks[0], "thread") && tok_eq(toks[nt - 1], "mark")) break;
      if (nt == 10) fail(line, "too many tokens", 0, 0);
      toks[nt].s = s;
      toks[nt].len = (unsigned)(q - s);
      nt++;
    }
    p = *eol ? eol + 1 : eol;
    if (nt == 0) continue;

    int thread = 0;
    if (tok_eq(toks[0], "thread") && (nt < 2 || !tok_eq(toks[1], "="))) {
      if (nt < 2) fail(line, "expected 'thread N start|exit' or 'thread N: OP'", 0, 0);
      struct tok num = toks[1];
      int colon = num.len > 1 && num.s[num.len - 1] == ':';
      if (colon) num.len--;
      size_t n = parse_size(line, num);
      if (n < 1 || n > MAX_THREAD) fail(line, "bad thread number", num.s, num.len);
      thread = (int)n;
      g_has_threads = 1;
      if (!colon && nt == 3 && (tok_eq(toks[2], "start") || tok_eq(toks[2], "exit"))) {
        if (g_nops >= MAX_OPS) fail(line, "too many operations", 0, 0);
        struct op* o = &g_ops[g_nops++];
        o->line = line;
        o->kind = tok_eq(toks[2], "start") ? OP_THREAD_START : OP_THREAD_EXIT;
        o->thread = thread;
        o->src = o->dst = -1;
        o->a = o->b = 0;
        if (!g_first_op_line) g_first_op_line = line;
        continue;
      }
      unsigned skip = colon ? 2 : (nt >= 3 && tok_eq(toks[2], ":")) ? 3 : 0;
      if (!skip || skip >= nt) fail(line, "expected 'thread N start|exit' or 'thread N: OP'", 0, 0);
      for (unsigned k = skip; k < nt; k++)
        toks[k - skip] = toks[k];
      nt -= skip;
    }

    if (tok_eq(toks[0], "mark")) continue; /* a label for the timeline: no-op for the runner */
    if (lesson_line) continue;             /* title, summary, policy, say, show, under: narration */
    int keyword = nt < 2 || !tok_eq(toks[1], "=");
    if (tok_eq(toks[0], "expect") && keyword) continue; /* an assertion `heapviz sim` checks */
    if (tok_eq(toks[0], "tunable") && keyword) {        /* tunable NAME=VALUE: GLIBC_TUNABLES for the exec */
      if (thread) fail(line, "a tunable line has no thread prefix", 0, 0);
      if (nt != 4 || !tok_eq(toks[2], "=")) fail(line, "expected 'tunable NAME=VALUE'", 0, 0);
      if (g_first_op_line) fail(line, "tunable after the first operation", 0, 0);
      parse_size(line, toks[3]);
      if (g_tunables_len + toks[1].len + toks[3].len + 3 > sizeof g_tunables)
        fail(line, "too many tunables", 0, 0);
      if (g_tunables_len > 15) g_tunables[g_tunables_len++] = ':';
      memcpy(g_tunables + g_tunables_len, toks[1].s, toks[1].len);
      g_tunables_len += toks[1].len;
      g_tunables[g_tunables_len++] = '=';
      memcpy(g_tunables + g_tunables_len, toks[3].s, toks[3].len);
      g_tunables_len += toks[3].len;
      g_tunables[g_tunables_len] = 0;
      continue;
    }
    if (g_nops >= MAX_OPS) fail(line, "too many operations", 0, 0);
    struct op* o = &g_ops[g_nops];
    o->line = line;
    o->thread = thread;
    o->src = -1;
    o->dst = -1;
    o->a = o->b = 0;
    if (!g_first_op_line) g_first_op_line = line;
    if (tok_eq(toks[0], "mallopt") && keyword) {
      if (nt != 3) fail(line, "expected 'mallopt M_NAME VALUE'", 0, 0);
      o->kind = OP_MALLOPT;
      o->param = mallopt_param(line, toks[1]);
      o->value = parse_int(line, toks[2]);
      g_nops++;
      continue;
    }
    if (tok_eq(toks[0], "malloc_trim") && keyword) {
      if (nt != 2) fail(line, "expected 'malloc_trim PAD'", 0, 0);
      o->kind = OP_MALLOC_TRIM;
      o->a = parse_size(line, toks[1]);
      g_nops++;
      continue;
    }
    if (tok_eq(toks[0], "free")) {
      if (nt != 2) fail(line, "expected 'free NAME'", 0, 0);
      o->kind = OP_FREE;
      o->src = intern(line, toks[1]);
      g_nops++;
      continue;
    }
    if (nt < 3 || !tok_eq(toks[1], "=")) fail(line, "unknown statement:", toks[0].s, toks[0].len);
    struct tok fn = toks[2];
    if (tok_eq(fn, "malloc")) {
      if (nt != 4) fail(line, "expected 'NAME = malloc SIZE'", 0, 0);
      o->kind = OP_MALLOC;
      o->a = parse_size(line, toks[3]);
    } else if (tok_eq(fn, "calloc")) {
      if (nt != 5) fail(line, "expected 'NAME = calloc N SIZE'", 0, 0);
      o->kind = OP_CALLOC;
      o->a = parse_size(line, toks[3]);
      o->b = parse_size(line, toks[4]);
    } else if (tok_eq(fn, "realloc")) {
      if (nt != 5) fail(line, "expected 'NAME = realloc NAME|NULL SIZE'", 0, 0);
      o->kind = OP_REALLOC;
      o->src = tok_eq(toks[3], "NULL") ? -1 : intern(line, toks[3]);
      o->a = parse_size(line, toks[4]);
    } else if (tok_eq(fn, "memalign")) {
      if (nt != 5) fail(line, "expected 'NAME = memalign ALIGN SIZE'", 0, 0);
      o->kind = OP_MEMALIGN;
      o->a = parse_size(line, toks[3]);
      o->b = parse_size(line, toks[4]);
    } else {
      fail(line, "unknown function:", fn.s, fn.len);
    }
    o->dst = intern(line, toks[0]);
    g_nops++;
  }
}

/* Liveness check done before running anything, so a bad scenario never half-runs. A realloc that
 * fails (NULL with size != 0) leaves its source live, which cannot be known statically: the static
 * pass assumes success and is skipped when a realloc asks for an absurd size (>= 1 TiB) that might
 * fail; the execution pass (run()) checks again in every case. */
static void validate(void) {
  for (unsigned i = 0; i < g_nops; i++)
    if (g_ops[i].kind == OP_REALLOC && g_ops[i].a >= ((size_t)1 << 40)) return;
  for (unsigned i = 0; i < g_nops; i++) {
    struct op* o = &g_ops[i];
    if (o->kind == OP_FREE || (o->kind == OP_REALLOC && o->src >= 0)) {
      if (g_state[o->src] != SYM_LIVE) {
        const char* why = g_state[o->src] == SYM_FREED ? "name already freed:" : "unknown name:";
        fail(o->line, why, g_syms[o->src].name, g_syms[o->src].len);
      }
      g_state[o->src] = SYM_FREED;
    }
    if (o->dst >= 0) g_state[o->dst] = SYM_LIVE;
  }
  memset(g_state, 0, sizeof(g_state[0]) * g_nsyms);
}

/* The size word of the chunk holding user pointer p (glibc: mem - SIZE_SZ). */
static size_t chunk_size_word(void* p) {
  size_t w;
  memcpy(&w, (const void*)((uintptr_t)p - sizeof(size_t)), sizeof w);
  return w;
}

/* The heap start is aligned to the largest memalign alignment in the scenario (rounded up to a
 * power of two like glibc does, at least one page): with ASLR the brk start is only page aligned,
 * so without this memalign(8192, ...) would land at an offset that changes from run to run. A
 * simulator that puts the heap start at offset 0 behaves as if it were aligned to everything. */
static size_t heap_alignment(void) {
  size_t want = 4096;
  for (unsigned i = 0; i < g_nops; i++) {
    if (g_ops[i].kind != OP_MEMALIGN) continue;
    size_t a = g_ops[i].a;
    if (a > ((size_t)1 << 30)) continue; /* absurd: glibc will fail or mmap it */
    size_t p2 = 1;
    while (p2 < a)
      p2 <<= 1;
    if (p2 > want) want = p2;
  }
  return want;
}

static void exec_op(unsigned i) {
  struct op* o = &g_ops[i];
  void* r = 0;
  switch (o->kind) {
  case OP_MALLOC:
    r = malloc(o->a);
    break;
  case OP_CALLOC:
    r = calloc(o->a, o->b);
    break;
  case OP_MEMALIGN:
    r = memalign(o->a, o->b);
    break;
  case OP_REALLOC: {
    void* old = 0;
    if (o->src >= 0) {
      if (g_state[o->src] != SYM_LIVE)
        fail(o->line, "realloc of a name that is not live:", g_syms[o->src].name, g_syms[o->src].len);
      old = g_ptr[o->src];
    }
    r = realloc(old, o->a);
    /* success, or realloc(p, 0) which frees p: the source is gone */
    if (o->src >= 0 && (r != 0 || o->a == 0)) g_state[o->src] = SYM_FREED;
    break;
  }
  case OP_FREE:
    if (g_state[o->src] != SYM_LIVE)
      fail(o->line, "free of a name that is not live:", g_syms[o->src].name, g_syms[o->src].len);
    free(g_ptr[o->src]);
    g_state[o->src] = SYM_FREED;
    return;
  case OP_MALLOPT:
    if (mallopt(o->param, o->value) != 1) fail(o->line, "mallopt returned 0", 0, 0);
    return;
  case OP_MALLOC_TRIM:
    malloc_trim(o->a); /* 0 (nothing released) is a result, not an error */
    return;
  case OP_THREAD_START:
  case OP_THREAD_EXIT:
    return; /* run by the main thread (run()) */
  }
  g_result[i] = r;
  /* Read the chunk header now: by the time results are printed the chunk may be freed/unmapped. */
  g_mmapped[i] = r != 0 && (chunk_size_word(r) & 0x2) != 0;
  g_nonmain[i] = r != 0 && (chunk_size_word(r) & 0x6) == 0x4;
  g_ptr[o->dst] = r;
  g_state[o->dst] = SYM_LIVE;
}

/* ---- threads: one operation at a time, handed off with semaphores (no allocation) ---- */
struct worker {
  pthread_t id;
  sem_t go;
  int running;
  int next; /* the op to run, or -1: return */
};
static struct worker g_workers[MAX_THREAD + 1];
static sem_t g_done;

static void* worker_main(void* arg) {
  struct worker* w = arg;
  for (;;) {
    while (sem_wait(&w->go) != 0)
      ;
    if (w->next < 0) return 0; /* the thread exits: glibc's __libc_thread_freeres runs after this */
    exec_op((unsigned)w->next);
    sem_post(&g_done);
  }
}

/* Modules with a PT_TLS segment (dl_tls_max_dtv_idx at startup, as nothing is dlopened). */
static int count_tls(struct dl_phdr_info* info, size_t size, void* data) {
  (void)size;
  for (int i = 0; i < info->dlpi_phnum; i++)
    if (info->dlpi_phdr[i].p_type == PT_TLS) ++*(int*)data;
  return 0;
}

static void run(void) {
  pthread_attr_t attr;
  if (g_has_threads) {
    int modules = 0;
    dl_iterate_phdr(count_tls, &modules);
    if (modules != 1)
      fail(0,
           "a scenario with threads needs libc to be the only TLS module (a new thread's DTV is then "
           "272 bytes, as heapviz assumes); this process has others (LD_PRELOAD?)",
           0, 0);
    sem_init(&g_done, 0, 0);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 << 10);
  }
  for (unsigned i = 0; i < g_nops; i++) {
    struct op* o = &g_ops[i];
    struct worker* w = &g_workers[o->thread];
    if (o->kind == OP_THREAD_START) {
      if (w->running) fail(o->line, "thread already running", 0, 0);
      sem_init(&w->go, 0, 0);
      if (pthread_create(&w->id, &attr, worker_main, w) != 0) fail(o->line, "pthread_create failed", 0, 0);
      w->running = 1;
    } else if (o->kind == OP_THREAD_EXIT) {
      if (!w->running) fail(o->line, "exit of a thread that is not running", 0, 0);
      w->next = -1;
      sem_post(&w->go);
      pthread_join(w->id, 0);
      sem_destroy(&w->go);
      w->running = 0;
    } else if (o->thread) {
      if (!w->running) fail(o->line, "operation on a thread that is not running", 0, 0);
      w->next = (int)i;
      sem_post(&w->go);
      while (sem_wait(&g_done) != 0)
        ;
    } else {
      exec_op(i);
    }
  }
}

int main(int argc, char** argv, char** envp) {
  void* brk_at_entry = sbrk(0);
  /* --env-ready (internal): this is the re-executed runner, its environment is set. */
  int keep_env = 0, env_ready = 0, i = 1;
  for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
    if (strcmp(argv[i], "--keep-env") == 0)
      keep_env = 1;
    else if (strcmp(argv[i], "--env-ready") == 0)
      env_ready = 1;
    else
      break;
  }
  if (argc - i != 1) {
    put_str(2, "usage: hv_glibc_runner [--keep-env] FILE\n");
    return 2;
  }
  g_path = argv[i];
  int fd = open(g_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    put_str(2, g_path);
    put_str(2, ": cannot open\n");
    return 2;
  }
  size_t len = 0;
  for (;;) {
    ssize_t n = read(fd, g_file + len, MAX_FILE - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(0, "read error", 0, 0);
    }
    if (n == 0) break;
    len += (size_t)n;
    if (len == MAX_FILE) fail(0, "file too large", 0, 0);
  }
  close(fd);
  if (memchr(g_file, 0, len)) fail(0, "file contains a NUL byte", 0, 0);
  g_file[len] = 0;

  parse();
  validate();
  if (!env_ready) {
    char* ready[] = {argv[0], (char*)"--env-ready", (char*)g_path, 0};
    set_environment(ready, envp, keep_env);
  }

  void* brk_now = sbrk(0);
  if (brk_now != brk_at_entry) {
    put_str(2, "hv_glibc_runner: brk moved before the first operation (something called malloc)\n");
    return 3;
  }
  size_t align = heap_alignment();
  size_t pad = (align - ((uintptr_t)brk_now & (align - 1))) & (align - 1);
  if (pad && sbrk((intptr_t)pad) == (void*)-1) {
    put_str(2, "hv_glibc_runner: cannot align the heap start with sbrk\n");
    return 3;
  }
  void* heap_start = sbrk(0); /* immediately before the first operation */
  run();

  /* Only now may anything else allocate. Format into a static buffer anyway. */
  char* p = g_out;
  for (unsigned i = 0; i < g_nops; i++) {
    struct op* o = &g_ops[i];
    if (o->kind == OP_FREE || o->kind == OP_MALLOPT || o->kind == OP_MALLOC_TRIM ||
        o->kind == OP_THREAD_START || o->kind == OP_THREAD_EXIT)
      continue;
    if ((size_t)(p - g_out) > OUT_SIZE - 512) { /* flush */
      *p = 0;
      put_str(1, g_out);
      p = g_out;
    }
    struct sym* s = &g_syms[o->dst];
    memcpy(p, s->name, s->len);
    p += s->len;
    *p++ = ' ';
    void* r = g_result[i];
    if (!r) {
      memcpy(p, "null", 4);
      p += 4;
    } else if (g_mmapped[i]) {
      memcpy(p, "mmap", 4);
      p += 4;
    } else if (g_nonmain[i]) { /* heapN+0xOFFSET: heaps numbered as the output first names them */
      static uintptr_t heaps[MAX_THREAD * 64];
      static unsigned nheaps;
      uintptr_t h = (uintptr_t)r & ~(HEAP_MAX - 1);
      unsigned k = 0;
      while (k < nheaps && heaps[k] != h)
        k++;
      if (k == nheaps && nheaps < sizeof heaps / sizeof heaps[0]) heaps[nheaps++] = h;
      memcpy(p, "heap", 4);
      p = fmt_u(p + 4, k + 1);
      *p++ = '+';
      p = fmt_hex(p, (unsigned long)((uintptr_t)r - h));
    } else {
      intptr_t off = (intptr_t)r - (intptr_t)heap_start;
      if (off < 0) {
        *p++ = '-';
        off = -off;
      }
      p = fmt_hex(p, (unsigned long)off);
    }
    *p++ = '\n';
  }
  *p = 0;
  put_str(1, g_out);
  return 0;
}
