// stack_capture.cpp - see stack_capture.h. The stack tree and the MODULE record are specified in
// docs/trace-format.md ("Call stacks").
#include "stack_capture.h"

#include "malloc_core.h" // TraceWriter, TraceAt, ThreadState
#include "unwind.h"

#include <cerrno>
#include <cstring>
#include <elf.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/single_threaded.h>
#include <unistd.h>

namespace hv::alloc::stacks {
namespace {

constexpr unsigned kSkipMax = 16; // frames of the allocator above a call

unsigned g_depth = 64;

// The address range whose frames are not the program's: this library.
struct Range {
  uintptr_t lo = 0, hi = 0;
};
Range g_own;

inline bool own_frame(uintptr_t ip) {
  return ip >= g_own.lo && ip < g_own.hi;
}

// The span of the loaded module's PT_LOAD segments that contains `addr`.
Range module_span(const void* addr) {
  struct Find {
    uintptr_t addr;
    Range r;
  } f{reinterpret_cast<uintptr_t>(addr), {}};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) -> int {
        auto* f = static_cast<Find*>(data);
        Range r{UINTPTR_MAX, 0};
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD) continue;
          uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
          if (lo < r.lo) r.lo = lo;
          if (lo + ph.p_memsz > r.hi) r.hi = lo + ph.p_memsz;
        }
        if (f->addr < r.lo || f->addr >= r.hi) return 0;
        f->r = r;
        return 1;
      },
      &f);
  return f.r;
}

void spin_lock(int* l) {
  while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
    __builtin_ia32_pause();
}
void spin_unlock(int* l) {
  __atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

// ---- The module list ----------------------------------------------------------------------------
// Every module seen mapped, with the epoch (TraceSink::stack_epoch) in which the trace last got
// its MODULE event. Guarded by g_mod_lock, taken only when a stack brings new nodes.
struct Module {
  uintptr_t base, lo, hi;
  uint64_t name_hash;
  uint32_t announced; // the epoch of its MODULE event; 0: none
  bool present;       // in the latest scan
};
constexpr size_t kMaxModules = 4096;
Module g_mods[kMaxModules];
size_t g_nmods = 0;
int g_mod_lock = 0;
unsigned long long g_adds = 0, g_subs = 0; // dl_iterate_phdr's counters at the latest scan
char g_exe[4096];                          // /proc/self/exe
size_t g_exe_len = 0;

uint64_t fnv1a(const char* s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (; *s; ++s)
    h = (h ^ uint8_t(*s)) * 0x100000001b3ull;
  return h;
}

bool in_announced(uintptr_t ip, uint32_t epoch) {
  for (size_t i = 0; i < g_nmods; ++i)
    if (g_mods[i].present && g_mods[i].announced == epoch && ip >= g_mods[i].lo && ip < g_mods[i].hi)
      return true;
  return false;
}

// Whether modules were loaded or unloaded since the latest scan (the loader's counters).
bool loader_changed() {
  struct C {
    unsigned long long adds, subs;
  } c{0, 0};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t size, void* data) -> int {
        if (size >= offsetof(dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
          static_cast<C*>(data)->adds = info->dlpi_adds;
          static_cast<C*>(data)->subs = info->dlpi_subs;
        }
        return 1;
      },
      &c);
  return c.adds != g_adds || c.subs != g_subs;
}

uint8_t* put_varint(uint8_t* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = uint8_t(v | 0x80);
    v >>= 7;
  }
  *p++ = uint8_t(v);
  return p;
}

// The MODULE record of one loaded module (docs/trace-format.md) into out; its size.
size_t module_record(const dl_phdr_info* info, const char* path, uint8_t* out, size_t cap) {
  size_t plen = strlen(path);
  if (plen > 4000) plen = 4000;
  const uint8_t* bid = nullptr;
  size_t bid_len = 0;
  int nload = 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type == PT_LOAD) ++nload;
    if (ph.p_type != PT_NOTE || bid) continue;
    const uint8_t* p = reinterpret_cast<const uint8_t*>(info->dlpi_addr + ph.p_vaddr);
    const uint8_t* end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      ElfW(Nhdr) nh;
      memcpy(&nh, p, sizeof nh);
      const uint8_t* name = p + sizeof nh;
      const uint8_t* desc = name + ((nh.n_namesz + 3) & ~3u);
      const uint8_t* next = desc + ((nh.n_descsz + 3) & ~3u);
      if (next > end) break;
      if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && memcmp(name, "GNU", 4) == 0 &&
          nh.n_descsz <= 64) {
        bid = desc;
        bid_len = nh.n_descsz;
        break;
      }
      p = next;
    }
  }
  if (plen + bid_len + 50 + size_t(nload) * 21 > cap) return 0;
  uint8_t* q = put_varint(out, info->dlpi_addr);
  q = put_varint(q, plen);
  memcpy(q, path, plen);
  q += plen;
  q = put_varint(q, bid_len);
  if (bid_len) memcpy(q, bid, bid_len);
  q += bid_len;
  q = put_varint(q, unsigned(nload));
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    q = put_varint(q, ph.p_vaddr);
    q = put_varint(q, ph.p_memsz);
    *q++ = uint8_t(ph.p_flags & 7);
  }
  return size_t(q - out);
}

// Scans the loaded modules and writes a MODULE event for each that this trace (epoch) has not
// named yet. Holding g_mod_lock. Events are written from inside dl_iterate_phdr's callback (the
// loader's list lock, which no allocation takes).
void scan_and_announce(TraceWriter& w, const TraceAt& at, uint32_t epoch) {
  for (size_t i = 0; i < g_nmods; ++i)
    g_mods[i].present = false;
  struct Ctx {
    TraceWriter& w;
    const TraceAt& at;
    uint32_t epoch;
    bool first;
  } ctx{w, at, epoch, true};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t size, void* data) -> int {
        auto* c = static_cast<Ctx*>(data);
        if (c->first && size >= offsetof(dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
          g_adds = info->dlpi_adds;
          g_subs = info->dlpi_subs;
        }
        bool is_main = c->first;
        c->first = false;
        const char* path = info->dlpi_name;
        if (!path || !*path) {
          if (!is_main) return 0; // no file to name
          path = g_exe;
        } else if (strncmp(path, "linux-vdso", 10) == 0 || strncmp(path, "linux-gate", 10) == 0) {
          path = "[vdso]";
        }
        uintptr_t lo = UINTPTR_MAX, hi = 0;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD) continue;
          uintptr_t a = info->dlpi_addr + ph.p_vaddr;
          if (a < lo) lo = a;
          if (a + ph.p_memsz > hi) hi = a + ph.p_memsz;
        }
        if (hi == 0) return 0;
        uint64_t h = fnv1a(path);
        Module* m = nullptr;
        for (size_t i = 0; i < g_nmods && !m; ++i)
          if (g_mods[i].base == info->dlpi_addr && g_mods[i].name_hash == h && g_mods[i].lo == lo)
            m = &g_mods[i];
        if (!m) {
          if (g_nmods == kMaxModules) return 0;
          m = &g_mods[g_nmods++];
          *m = Module{info->dlpi_addr, lo, hi, h, 0, false};
        }
        m->present = true;
        if (m->announced == c->epoch) return 0;
        static uint8_t rec[8192];
        size_t n = module_record(info, path, rec, sizeof rec);
        if (n == 0) return 0;
        if (TraceThread* t = c->w.begin<trace::Ev::Module>(c->at, n))
          trace::put_module(t->enc, trace::ByteSpan{rec, n});
        m->announced = c->epoch;
        return 0;
      },
      &ctx);
}

// Before nodes with these return addresses are written: every module they lie in is named.
void ensure_modules(TraceWriter& w, const TraceAt& at, uint32_t epoch, const uintptr_t* ips, size_t n) {
  spin_lock(&g_mod_lock);
  bool scan = false;
  for (size_t i = 0; i < n && !scan; ++i)
    scan = !in_announced(ips[i], epoch);
  if (!scan) scan = loader_changed(); // a module unloaded, another loaded in its place
  if (scan) scan_and_announce(w, at, epoch);
  spin_unlock(&g_mod_lock);
  // Every thread's stacks name these modules, but only this thread's buffer holds them: out
  // with them now, so that a process killed before this thread's buffer fills (SIGKILL) still
  // has its functions' names.
  if (scan) w.sink().flush(at.ts.trace);
}

// ---- The per-thread stack cache ---------------------------------------------------------------
// A hash table of the nodes this thread defined in this trace, (parent, ip) -> node, and the
// previous stack with its nodes, right-aligned (frame i of an n-frame stack at kMaxDepth - n + i),
// so that a stack that shares its outer frames with the previous one (a loop) finds them
// without the table: only its new inner frames are looked up.
struct Entry {
  uint64_t ip;
  uint32_t parent, id; // id 0: empty
};
// The unwind rules of the pcs this thread has walked through: direct-mapped (a collision
// recomputes), negative results included.
struct RuleSlot {
  uintptr_t pc;
  unwind::Rule rule;
  bool ok;
};
constexpr uint32_t kRuleSlots = 2048;
// The previous walk, to recognise the same stack again without walking it: the registers it
// started from and every word of stack memory it read. Same registers, same words: same frames.
// Two ways to match one:
//   - by the program's frame: its return address and stack pointer (the Caller the entry point
//     took) and the words read from the program's frames on (reads[prog_first..nreads)). The
//     allocator's own frames in between only lead to that frame, so they are not compared (the
//     common case: a few words, and malloc's and free's walks from one function tell apart by
//     their return addresses at once). Only when no rule of the program's frames used an rbp
//     the walk brought from the allocator's frames (prog_ra is 0 otherwise);
//   - by record's own registers and every word read (any call, the entry point's Caller known or
//     not).
constexpr unsigned kMaxReads = 3 * (kMaxDepth + kSkipMax);
struct ReadWord {
  uintptr_t addr, value; // side by side: the check reads both from one line
};
struct LastWalk {
  uintptr_t prog_ra, prog_cfa; // the program's innermost frame (0: match by registers only)
  uint32_t prog_first;         // its words start here in reads
  uint32_t nreads;             // 0: nothing to compare with
  uintptr_t rip, rsp, rbp;     // where the walk started (record's own frame)
  bool uses_rbp;               // the walk used the starting rbp (else any rbp matches)
  uint32_t stack;              // the node it gave
  ReadWord reads[kMaxReads];
};
struct Cache {
  size_t bytes;
  uint32_t epoch, mask, used, prev_n;
  uint64_t prev_ip[kMaxDepth];
  uint32_t prev_id[kMaxDepth];
  static constexpr unsigned kLast = 8; // the latest walks: malloc's, free's, and a few more
  LastWalk last[kLast];
  uint32_t last_next; // the entry a new walk replaces
  RuleSlot rules[kRuleSlots];
  Entry table[1]; // mask + 1 entries
};
constexpr uint32_t kFirstEntries = 4096;

Cache* new_cache(uint32_t entries) {
  size_t bytes = offsetof(Cache, table) + size_t(entries) * sizeof(Entry);
  void* m = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return nullptr;
  auto* c = static_cast<Cache*>(m);
  c->bytes = bytes;
  c->mask = entries - 1;
  return c;
}

inline uint32_t slot_of(const Cache* c, uint32_t parent, uint64_t ip) {
  uint64_t h = (ip * 0x9e3779b97f4a7c15ull) ^ (uint64_t(parent) * 0xc2b2ae3d27d4eb4full);
  return uint32_t(h >> 32) & c->mask;
}
uint32_t lookup(const Cache* c, uint32_t parent, uint64_t ip) {
  for (uint32_t i = slot_of(c, parent, ip);; i = (i + 1) & c->mask) {
    const Entry& e = c->table[i];
    if (e.id == 0) return 0;
    if (e.ip == ip && e.parent == parent) return e.id;
  }
}
void insert(Cache* c, uint32_t parent, uint64_t ip, uint32_t id) {
  uint32_t i = slot_of(c, parent, ip);
  while (c->table[i].id != 0)
    i = (i + 1) & c->mask;
  c->table[i] = Entry{ip, parent, id};
  ++c->used;
}

// The thread's cache with room for `more` entries, for this epoch (nullptr: out of memory).
Cache* cache_for(TraceThread* t, uint32_t epoch, uint32_t more) {
  auto* c = static_cast<Cache*>(t->stacks);
  if (c && c->epoch != epoch) { // a new trace: nothing it has was defined in it
    ::munmap(c, c->bytes);
    t->stacks = c = nullptr;
  }
  if (!c) {
    if (!(c = new_cache(kFirstEntries))) return nullptr;
    c->epoch = epoch;
  }
  if ((c->used + more) * 2 > c->mask + 1) { // grow: keep the load at most one half
    uint32_t n = (c->mask + 1) * 2;
    while ((c->used + more) * 2 > n)
      n *= 2;
    Cache* g = new_cache(n);
    if (!g) return nullptr;
    g->epoch = c->epoch;
    g->prev_n = c->prev_n;
    memcpy(g->prev_ip, c->prev_ip, sizeof g->prev_ip);
    memcpy(g->prev_id, c->prev_id, sizeof g->prev_id);
    memcpy(g->rules, c->rules, sizeof g->rules);
    memcpy(g->last, c->last, sizeof g->last);
    g->last_next = c->last_next;
    for (uint32_t i = 0; i <= c->mask; ++i)
      if (c->table[i].id) insert(g, c->table[i].parent, c->table[i].ip, c->table[i].id);
    ::munmap(c, c->bytes);
    c = g;
  }
  t->stacks = c;
  t->stacks_size = c->bytes;
  return c;
}

// The node of stack ips[0..n) (innermost first), writing a STACK event with the nodes it
// brings (and MODULE events before it); 0 if it cannot.
uint32_t intern(TraceWriter& w, ThreadState& ts, TraceThread* t, const uintptr_t* ips, size_t n) {
  uint32_t epoch = w.sink().stack_epoch();
  Cache* c = cache_for(t, epoch, 0);
  if (!c) return 0;
  const size_t base = kMaxDepth - n;
  size_t k = 0; // outer frames shared with the previous stack
  while (k < n && k < c->prev_n && ips[n - 1 - k] == c->prev_ip[kMaxDepth - 1 - k])
    ++k;
  uint32_t parent = k ? c->prev_id[kMaxDepth - k] : 0;
  long i = long(n) - 1 - long(k);
  for (; i >= 0; --i) { // outer to inner, until a frame this thread has not defined under parent
    uint32_t id = lookup(c, parent, ips[i]);
    if (!id) break;
    c->prev_ip[base + size_t(i)] = ips[i];
    c->prev_id[base + size_t(i)] = parent = id;
  }
  if (i >= 0) { // frames i..0 are new nodes: one STACK event defines them, outer to inner
    uint32_t m = uint32_t(i + 1);
    if (!(c = cache_for(t, epoch, m))) return 0;
    TraceAt at{ts, t->arena, t->arena_ptr, __libc_single_threaded != 0};
    ensure_modules(w, at, epoch, ips, size_t(m));
    uint32_t first = w.sink().take_stack_ids(m);
    uint8_t blob[10 + kMaxDepth * 20];
    uint8_t* q = put_varint(blob, first);
    uint64_t prev_ip = 0;
    for (uint32_t j = 0; j < m; ++j) {
      size_t f = size_t(i) - j;
      uint32_t id = first + j;
      q = put_varint(q, parent);
      int64_t d = int64_t(ips[f] - prev_ip);
      q = put_varint(q, (uint64_t(d) << 1) ^ uint64_t(d >> 63));
      prev_ip = ips[f];
      insert(c, parent, ips[f], id);
      c->prev_ip[base + f] = ips[f];
      c->prev_id[base + f] = parent = id;
    }
    size_t len = size_t(q - blob);
    if (TraceThread* t2 = w.begin<trace::Ev::Stack>(at, len))
      trace::put_stack(t2->enc, trace::ByteSpan{blob, len});
  }
  c->prev_n = uint32_t(n);
  return c->prev_id[base];
}

const unwind::Rule* rule_for(Cache* c, uintptr_t pc) {
  RuleSlot& s = c->rules[uint32_t((pc * 0x9e3779b97f4a7c15ull) >> 40) & (kRuleSlots - 1)];
  if (__builtin_expect(s.pc != pc, 0)) {
    s.pc = pc;
    s.ok = unwind::find_rule(pc, &s.rule);
  }
  return s.ok ? &s.rule : nullptr;
}

// The program's frames of the current call, innermost first: at most max return addresses,
// walking from registers r (record's frame), the allocator's own frames left out. Logs the walk
// into `last` (its registers, every word it read, and where the program's frames begin) for
// record's check.
size_t walk(Cache* c, unwind::Regs r, uintptr_t* out, size_t max, LastWalk& last) {
  last.rip = r.rip;
  last.rsp = r.rsp;
  last.rbp = r.rbp;
  last.uses_rbp = false;
  last.prog_ra = last.prog_cfa = 0;
  last.prog_first = 0;
  uint32_t nreads = 0;
  auto log = [&](uintptr_t addr, uintptr_t value) {
    if (nreads < kMaxReads) last.reads[nreads] = ReadWord{addr, value};
    ++nreads;
  };
  // In the program's frames (prog): whether the current rbp came from them (a slot of theirs,
  // or a rule of theirs that lost it), rather than from the starting register or our frames.
  bool prog = false, rbp_from_prog = false, prog_ok = true;
  // Where the current rbp came from: the starting register (rbp_addr 0) or a saved slot. It
  // joins the words compared only when a rule uses it (in -O2 code rbp is mostly a variable).
  uintptr_t rbp_addr = 0, rbp_value = 0;
  auto read = [&](uintptr_t addr, uintptr_t value, bool is_rbp) {
    if (is_rbp) {
      rbp_addr = addr;
      rbp_value = value;
      rbp_from_prog = prog;
    } else {
      log(addr, value);
    }
  };
  uintptr_t pc = r.rip; // this frame's own pc; a caller's is its return address - 1 (the call)
  size_t n = 0;
  for (unsigned steps = 0; steps < max + kSkipMax; ++steps) {
    const unwind::Rule* rule = rule_for(c, pc);
    if (!rule) break;
    if (rule->cfa_reg == 6) { // this step uses rbp: its value joins the comparison
      if (prog && !rbp_from_prog) prog_ok = false;
      if (rbp_addr == 0)
        last.uses_rbp = true;
      else
        log(rbp_addr, rbp_value);
    }
    if (prog && (rule->flags & unwind::kRbpLost)) rbp_from_prog = true;
    if (!unwind::step(r, *rule, read)) break;
    pc = r.rip - 1;
    if (n == 0 && own_frame(r.rip)) continue;
    if (!prog) {
      prog = true;
      last.prog_ra = r.rip;
      last.prog_cfa = r.rsp;
      last.prog_first = nreads;
    }
    out[n++] = r.rip;
    if (n == max) break;
  }
  last.nreads = nreads <= kMaxReads ? nreads : 0;
  if (!prog_ok || last.nreads == 0) last.prog_ra = last.prog_cfa = 0;
  return n;
}

// Remembers e's stack in one of t's memos (TraceThread::memo), for take_stack's inline check:
// only a walk matched by the program's frame, and whose words there fit.
void memo_put(TraceThread* t, const LastWalk& e, uint32_t epoch) {
  const uint32_t n = e.nreads - e.prog_first;
  if (e.prog_ra == 0 || e.stack == 0 || n > TraceThread::kMemoWords) return;
  TraceThread::StackMemo& m = t->memo[t->memo_next++ % TraceThread::kMemos];
  m.ra = e.prog_ra;
  m.cfa = e.prog_cfa;
  m.stack = e.stack;
  m.nwords = n;
  for (uint32_t i = 0; i < n; ++i) {
    m.words[i].addr = e.reads[e.prog_first + i].addr;
    m.words[i].value = e.reads[e.prog_first + i].value;
  }
  m.epoch = epoch;
}

// A stack record() did not recognise: walk it from r, intern it, remember the walk.
__attribute__((noinline)) uint32_t record_new(TraceWriter& w, ThreadState& ts, TraceThread* t,
                                              const unwind::Regs& r) {
  int saved_errno = errno; // mmap and the loader may set it
  uint32_t id = 0;
  uint32_t epoch = w.sink().stack_epoch();
  auto* c = static_cast<Cache*>(t->stacks);
  if (!c || c->epoch != epoch) c = cache_for(t, epoch, 0);
  if (c) {
    // The entry this walk replaces: the oldest. (Not one from the same registers: malloc and
    // free called from one function reach record() with the same registers, and would take
    // each other's entry on every call.)
    size_t k = c->last_next++ % Cache::kLast;
    LastWalk* victim = &c->last[k];
    uintptr_t ips[kMaxDepth];
    size_t n = walk(c, r, ips, g_depth, *victim);
    id = n ? intern(w, ts, t, ips, n) : 0;
    if ((c = static_cast<Cache*>(t->stacks))) { // intern may have moved the cache
      c->last[k].stack = id;
      if (id) memo_put(t, c->last[k], c->epoch);
      if (!id) { // failed: walk again next time
        c->last[k].nreads = 0;
        c->last[k].prog_ra = c->last[k].prog_cfa = 0;
      }
    }
  }
  errno = saved_errno;
  return id;
}

// Whether the words e's walk read from addresses [p, end) hold what they held then.
inline bool same_words(const ReadWord* p, const ReadWord* end) {
  while (p != end && *reinterpret_cast<const uintptr_t*>(p->addr) == p->value)
    ++p;
  return p == end;
}

// The stack of the current call. The walk starts here, in record's own frame. A stack walked
// before is recognised (a few loads, no walk, no lock, errno untouched) by the program's frame
// the entry point named (caller) and the words the walk read from there on, or else by record's
// own registers, which are the same whenever the whole stack is, and every word the walk read.
uint32_t record(TraceWriter& w, ThreadState& ts, Caller caller) {
  TraceThread* t = ts.trace;
  if (!t || t->in_stack) return 0;
  // From here the cache is this call's: a malloc from a signal handler that interrupts the
  // check or the walk gets no stack, and can neither rewrite the entry being compared (its
  // stack would be taken for ours) nor move the cache away (cache_for unmaps the old one).
  t->in_stack = true;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  unwind::Regs r;
  asm volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2" : "=r"(r.rip), "=r"(r.rsp), "=r"(r.rbp));
  uint32_t id = 0;
  bool known = false;
  auto* c = static_cast<Cache*>(t->stacks);
  if (__builtin_expect(c != nullptr && c->epoch == w.sink().stack_epoch(), 1)) {
    if (caller.ra != 0) {
      for (const LastWalk& e : c->last) {
        if (e.prog_ra != caller.ra || e.prog_cfa != caller.cfa) continue;
        if (same_words(e.reads + e.prog_first, e.reads + e.nreads)) {
          id = e.stack;
          known = true;
          memo_put(t, e, c->epoch);
          break;
        }
      }
    }
    if (!known) {
      for (const LastWalk& e : c->last) {
        if (e.rsp != r.rsp || e.rip != r.rip || (e.uses_rbp && e.rbp != r.rbp) || e.nreads == 0) continue;
        if (same_words(e.reads, e.reads + e.nreads)) {
          id = e.stack;
          known = true;
          break;
        }
      }
    }
  }
  if (!known) id = record_new(w, ts, t, r);
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  t->in_stack = false;
  return id;
}

} // namespace

bool enable(TraceWriter& w, unsigned depth, const char** why) {
  (void)why;
  int saved_errno = errno;
  g_depth = depth < 1 ? 1 : depth > kMaxDepth ? kMaxDepth : depth;
  g_own = module_span(reinterpret_cast<const void*>(&record));
  ssize_t n = readlink("/proc/self/exe", g_exe, sizeof g_exe - 1);
  g_exe_len = n > 0 ? size_t(n) : 0;
  g_exe[g_exe_len] = 0;
  w.set_stack_fn(&record);
  errno = saved_errno;
  return true;
}

void after_fork_child() {
  g_mod_lock = 0;
}

} // namespace hv::alloc::stacks
