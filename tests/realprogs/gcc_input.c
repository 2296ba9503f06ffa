/* RealProgs.GccCompile input: a non-trivial C program for gcc -O2 to chew on (cc1 does most of the
 * allocating), then run to compare outputs. Deterministic: fixed seeds, no addresses printed.
 *   usage: prog [N]   (problem size, default 1000)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- PRNG ---------- */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void) {
  uint64_t x = rng_state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return rng_state = x;
}
static unsigned rng_below(unsigned n) {
  return (unsigned)(rng() % n);
}

/* ---------- growable string ---------- */
typedef struct {
  char* p;
  size_t len, cap;
} sbuf;

static void sb_reserve(sbuf* b, size_t extra) {
  if (b->len + extra + 1 <= b->cap) return;
  size_t cap = b->cap ? b->cap : 16;
  while (cap < b->len + extra + 1)
    cap *= 2;
  char* p = realloc(b->p, cap);
  if (!p) abort();
  b->p = p;
  b->cap = cap;
}
static void sb_putc(sbuf* b, char c) {
  sb_reserve(b, 1);
  b->p[b->len++] = c;
  b->p[b->len] = 0;
}
static void sb_puts(sbuf* b, const char* s) {
  size_t n = strlen(s);
  sb_reserve(b, n);
  memcpy(b->p + b->len, s, n + 1);
  b->len += n;
}
static void sb_printf_int(sbuf* b, long v) {
  char tmp[32];
  snprintf(tmp, sizeof tmp, "%ld", v);
  sb_puts(b, tmp);
}

/* ---------- CRC32 ---------- */
static uint32_t crc_table[256];
static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++)
      c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}
static uint32_t crc32(uint32_t crc, const void* data, size_t n) {
  const unsigned char* p = data;
  crc = ~crc;
  while (n--)
    crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return ~crc;
}

/* ---------- hash map: string -> long ---------- */
typedef struct entry {
  char* key;
  long value;
  struct entry* next;
} entry;
typedef struct {
  entry** buckets;
  size_t nbuckets, count;
} hmap;

static uint64_t hash_str(const char* s) {
  uint64_t h = 1469598103934665603ull;
  while (*s)
    h = (h ^ (unsigned char)*s++) * 1099511628211ull;
  return h;
}
static void hm_grow(hmap* m) {
  size_t nb = m->nbuckets ? m->nbuckets * 2 : 64;
  entry** nbk = calloc(nb, sizeof *nbk);
  if (!nbk) abort();
  for (size_t i = 0; i < m->nbuckets; i++) {
    entry* e = m->buckets[i];
    while (e) {
      entry* next = e->next;
      size_t j = hash_str(e->key) & (nb - 1);
      e->next = nbk[j];
      nbk[j] = e;
      e = next;
    }
  }
  free(m->buckets);
  m->buckets = nbk;
  m->nbuckets = nb;
}
static long* hm_get(hmap* m, const char* key, int create) {
  if (m->nbuckets == 0 || (create && m->count * 4 >= m->nbuckets * 3)) hm_grow(m);
  size_t i = hash_str(key) & (m->nbuckets - 1);
  for (entry* e = m->buckets[i]; e; e = e->next)
    if (strcmp(e->key, key) == 0) return &e->value;
  if (!create) return NULL;
  entry* e = malloc(sizeof *e);
  if (!e) abort();
  e->key = strdup(key);
  e->value = 0;
  e->next = m->buckets[i];
  m->buckets[i] = e;
  m->count++;
  return &e->value;
}
static int hm_del(hmap* m, const char* key) {
  if (!m->nbuckets) return 0;
  size_t i = hash_str(key) & (m->nbuckets - 1);
  for (entry** pe = &m->buckets[i]; *pe; pe = &(*pe)->next) {
    if (strcmp((*pe)->key, key) == 0) {
      entry* e = *pe;
      *pe = e->next;
      free(e->key);
      free(e);
      m->count--;
      return 1;
    }
  }
  return 0;
}
static void hm_free(hmap* m) {
  for (size_t i = 0; i < m->nbuckets; i++) {
    entry* e = m->buckets[i];
    while (e) {
      entry* n = e->next;
      free(e->key);
      free(e);
      e = n;
    }
  }
  free(m->buckets);
  memset(m, 0, sizeof *m);
}

/* ---------- expression parser and evaluator ---------- */
typedef struct {
  const char* s;
  hmap* vars;
  int err;
} parser;

static long parse_expr(parser* p);
static void skip_ws(parser* p) {
  while (*p->s == ' ')
    p->s++;
}
static long parse_atom(parser* p) {
  skip_ws(p);
  if (*p->s == '(') {
    p->s++;
    long v = parse_expr(p);
    skip_ws(p);
    if (*p->s == ')')
      p->s++;
    else
      p->err = 1;
    return v;
  }
  if (*p->s == '-') {
    p->s++;
    return -parse_atom(p);
  }
  if (*p->s >= '0' && *p->s <= '9') {
    long v = 0;
    while (*p->s >= '0' && *p->s <= '9')
      v = v * 10 + (*p->s++ - '0');
    return v;
  }
  if (*p->s >= 'a' && *p->s <= 'z') {
    char name[32];
    int n = 0;
    while (((*p->s >= 'a' && *p->s <= 'z') || (*p->s >= '0' && *p->s <= '9')) && n < 31)
      name[n++] = *p->s++;
    name[n] = 0;
    long* v = hm_get(p->vars, name, 0);
    return v ? *v : 0;
  }
  p->err = 1;
  return 0;
}
static long parse_term(parser* p) {
  long v = parse_atom(p);
  for (;;) {
    skip_ws(p);
    char op = *p->s;
    if (op != '*' && op != '/' && op != '%') return v;
    p->s++;
    long r = parse_atom(p);
    if (op == '*')
      v = (long)((unsigned long)v * (unsigned long)r);
    else if (r == 0)
      v = 0;
    else if (op == '/')
      v = (r == -1) ? -v : v / r;
    else
      v = (r == -1) ? 0 : v % r;
  }
}
static long parse_expr(parser* p) {
  long v = parse_term(p);
  for (;;) {
    skip_ws(p);
    char op = *p->s;
    if (op != '+' && op != '-') return v;
    p->s++;
    long r = parse_term(p);
    v = op == '+' ? (long)((unsigned long)v + (unsigned long)r) : (long)((unsigned long)v - (unsigned long)r);
  }
}

static void gen_expr(sbuf* b, int depth) {
  unsigned k = depth > 4 ? rng_below(2) : rng_below(5);
  if (k == 0) {
    sb_printf_int(b, rng_below(1000));
  } else if (k == 1) {
    char name[8];
    snprintf(name, sizeof name, "v%u", rng_below(64));
    sb_puts(b, name);
  } else {
    static const char ops[] = "+-*/%";
    sb_putc(b, '(');
    gen_expr(b, depth + 1);
    sb_putc(b, ' ');
    sb_putc(b, ops[rng_below(5)]);
    sb_putc(b, ' ');
    gen_expr(b, depth + 1);
    sb_putc(b, ')');
  }
}

/* ---------- records and sorting ---------- */
typedef struct {
  char name[24];
  long score;
  double weight;
} record;

static int cmp_record(const void* a, const void* b) {
  const record *x = a, *y = b;
  if (x->score != y->score) return x->score < y->score ? -1 : 1;
  return strcmp(x->name, y->name);
}

static void merge_sort(long* a, long* tmp, size_t n) {
  if (n < 2) return;
  size_t h = n / 2;
  merge_sort(a, tmp, h);
  merge_sort(a + h, tmp, n - h);
  size_t i = 0, j = h, k = 0;
  while (i < h && j < n)
    tmp[k++] = a[i] <= a[j] ? a[i++] : a[j++];
  while (i < h)
    tmp[k++] = a[i++];
  while (j < n)
    tmp[k++] = a[j++];
  memcpy(a, tmp, n * sizeof *a);
}

/* ---------- dense linear algebra ---------- */
static double* mat_new(int n) {
  double* m = calloc((size_t)n * n, sizeof *m);
  if (!m) abort();
  return m;
}
static void mat_mul(const double* a, const double* b, double* c, int n) {
  for (int i = 0; i < n; i++)
    for (int k = 0; k < n; k++) {
      double aik = a[i * n + k];
      for (int j = 0; j < n; j++)
        c[i * n + j] += aik * b[k * n + j];
    }
}
static double lu_det(double* a, int n) {
  double det = 1;
  for (int c = 0; c < n; c++) {
    int piv = c;
    for (int r = c + 1; r < n; r++)
      if (fabs(a[r * n + c]) > fabs(a[piv * n + c])) piv = r;
    if (a[piv * n + c] == 0) return 0;
    if (piv != c) {
      for (int j = 0; j < n; j++) {
        double t = a[c * n + j];
        a[c * n + j] = a[piv * n + j];
        a[piv * n + j] = t;
      }
      det = -det;
    }
    det *= a[c * n + c];
    for (int r = c + 1; r < n; r++) {
      double f = a[r * n + c] / a[c * n + c];
      for (int j = c; j < n; j++)
        a[r * n + j] -= f * a[c * n + j];
    }
  }
  return det;
}

/* ---------- a tiny linked-list interpreter of "programs" ---------- */
typedef struct node {
  int op, arg;
  struct node* next;
} node;

static long run_program(node* prog, int steps) {
  unsigned long stack[64];
  int sp = 0;
  unsigned long acc = 0;
  for (node* n = prog; n && steps-- > 0; n = n->next ? n->next : prog) {
    switch (n->op) {
    case 0:
      if (sp < 64) stack[sp++] = (unsigned long)n->arg;
      break;
    case 1:
      if (sp > 1) {
        sp--;
        stack[sp - 1] += stack[sp];
      }
      break;
    case 2:
      if (sp > 1) {
        sp--;
        stack[sp - 1] *= stack[sp] % 1000;
      }
      break;
    case 3:
      if (sp > 0) acc ^= stack[--sp];
      break;
    default:
      acc = acc * 31 + (unsigned long)n->arg;
      break;
    }
  }
  return (long)acc;
}

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  if (n < 10) n = 10;
  crc_init();
  uint32_t crc = 0;

  /* variables and expressions */
  hmap vars = {0};
  for (int i = 0; i < 64; i++) {
    char name[8];
    snprintf(name, sizeof name, "v%d", i);
    *hm_get(&vars, name, 1) = (long)rng_below(100) - 50;
  }
  long expr_sum = 0;
  int errors = 0;
  for (int i = 0; i < n * 4; i++) {
    sbuf b = {0};
    gen_expr(&b, 0);
    parser p = {b.p, &vars, 0};
    long v = parse_expr(&p);
    errors += p.err;
    expr_sum += v % 1000003;
    crc = crc32(crc, b.p, b.len);
    free(b.p);
  }
  printf("expressions: %d, sum %ld, errors %d\n", n * 4, expr_sum, errors);

  /* word counts with deletions */
  hmap words = {0};
  for (int i = 0; i < n * 20; i++) {
    char w[16];
    int len = 1 + (int)rng_below(4);
    for (int k = 0; k < len; k++)
      w[k] = (char)('a' + rng_below(6));
    w[len] = 0;
    if (rng_below(10) == 0)
      hm_del(&words, w);
    else
      (*hm_get(&words, w, 1))++;
  }
  long wsum = 0;
  for (size_t i = 0; i < words.nbuckets; i++)
    for (entry* e = words.buckets[i]; e; e = e->next)
      wsum += e->value * (long)strlen(e->key);
  printf("words: %zu distinct, weighted %ld\n", words.count, wsum);
  hm_free(&words);

  /* records */
  record* recs = calloc((size_t)n, sizeof *recs); /* zeroed: the names' tails are hashed */
  for (int i = 0; i < n; i++) {
    snprintf(recs[i].name, sizeof recs[i].name, "rec%05u", rng_below(100000));
    recs[i].score = (long)rng_below(1000);
    recs[i].weight = sqrt((double)(i + 1));
  }
  qsort(recs, (size_t)n, sizeof *recs, cmp_record);
  crc = crc32(crc, recs, (size_t)n * sizeof *recs);
  printf("records: first %s/%ld last %s/%ld\n", recs[0].name, recs[0].score, recs[n - 1].name,
         recs[n - 1].score);
  free(recs);

  long *arr = malloc((size_t)n * 10 * sizeof *arr), *tmp = malloc((size_t)n * 10 * sizeof *tmp);
  for (int i = 0; i < n * 10; i++)
    arr[i] = (long)(rng() % 1000000007);
  merge_sort(arr, tmp, (size_t)n * 10);
  long inversions = 0;
  for (int i = 1; i < n * 10; i++)
    inversions += arr[i - 1] > arr[i];
  crc = crc32(crc, arr, (size_t)n * 10 * sizeof *arr);
  printf("mergesort: %d items, %ld inversions, median %ld\n", n * 10, inversions, arr[n * 5]);
  free(arr);
  free(tmp);

  /* matrices */
  int m = 40 + n / 100;
  double *a = mat_new(m), *b2 = mat_new(m), *c = mat_new(m);
  for (int i = 0; i < m * m; i++) {
    a[i] = (double)((int)rng_below(2001) - 1000) / 1000.0;
    b2[i] = (double)((int)rng_below(2001) - 1000) / 1000.0;
  }
  mat_mul(a, b2, c, m);
  double trace = 0;
  for (int i = 0; i < m; i++)
    trace += c[i * m + i];
  double det = lu_det(a, m);
  printf("matrix %dx%d: trace %.6f, log|det| %.6f\n", m, m, trace, log(fabs(det) + 1e-300));
  free(a);
  free(b2);
  free(c);

  /* linked-list programs */
  long prog_acc = 0;
  for (int t = 0; t < 50; t++) {
    node* head = NULL;
    for (int i = 0; i < 100 + t; i++) {
      node* nd = malloc(sizeof *nd);
      nd->op = (int)rng_below(5);
      nd->arg = (int)rng_below(100);
      nd->next = head;
      head = nd;
    }
    prog_acc ^= run_program(head, n * 10);
    while (head) {
      node* nx = head->next;
      free(head);
      head = nx;
    }
  }
  printf("programs: acc %ld\n", prog_acc);

  hm_free(&vars);
  printf("crc32: %08x\n", crc);
  return 0;
}
