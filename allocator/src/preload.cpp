// preload.cpp - the exported C API of libhvalloc.so: a complete drop-in for glibc's malloc.
//
// Owns: the one process-wide allocator instance on real memory, the exported symbols (and the
// __libc_* aliases some code calls directly), fork handlers and the thread-exit hook.
// Must not: allocate, use C++ runtime features that allocate, or run code before the first
// malloc that the first malloc depends on (ld.so calls malloc before our constructor runs).
#include "heap_walk.h"
#include "heapviz/decimal.h"
#include "heapviz/hvalloc.h"
#include "live_server.h"
#include "malloc_core_impl.h" // the whole algorithm, so the exported entry points inline it
#include "salvage.h"
#include "stack_capture.h"
#include "zstd_api.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/fs.h>
#include <malloc.h>
#include <new>
#include <pthread.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

using hv::put_decimal;
using hv::alloc::MallocCore;
using hv::alloc::RealPlatform;

namespace {
constinit MallocCore<RealPlatform> g_alloc;
pthread_key_t g_exit_key;
bool g_exit_key_ready = false;

// ---- Recording (HEAPVIZ_OUT) -------------------------------------------------------------
// Which file this process records to: the root process of a recording (HEAPVIZ_ROOT_PID, set
// by `heapviz record`, or else the first process to create the file) writes PATH; every other
// process (a forked child, a program started by exec: gcc's cc1, a shell pipeline) writes
// PATH.<pid>, so nothing overwrites its parent's trace. Names are built without allocating.
char g_trace_path[4096];
uint64_t g_verify_every = 0;
bool g_keep_exec = false;   // HEAPVIZ_KEEP_EXEC=1: an image that execs keeps its trace (aside)
bool g_no_children = false; // HEAPVIZ_NO_CHILDREN=1: only the root process records
// HEAPVIZ_STACKS (default 1): call stacks are taken once the constructor has loaded libunwind
// (the calls before it, ld.so's, get none); the header says they were asked for.
bool g_stacks_wanted = true;
uint32_t stack_flag() {
  return g_stacks_wanted ? static_cast<uint32_t>(hv::trace::kFileStacks) : 0u;
}

size_t append(char* dst, size_t at, size_t cap, const char* s) {
  while (*s && at + 1 < cap)
    dst[at++] = *s++;
  dst[at] = 0;
  return at;
}
size_t append_num(char* dst, size_t at, size_t cap, unsigned long v) {
  char digits[24];
  put_decimal(digits, sizeof digits, v);
  return append(dst, at, cap, digits);
}

// Builds PATH.<pid> or PATH.<pid>.<attempt> into g_trace_path.
const char* numbered_path(const char* out, unsigned long pid, int attempt) {
  size_t n = append(g_trace_path, 0, sizeof g_trace_path, out);
  n = append(g_trace_path, n, sizeof g_trace_path, ".");
  n = append_num(g_trace_path, n, sizeof g_trace_path, pid);
  if (attempt) {
    n = append(g_trace_path, n, sizeof g_trace_path, ".");
    append_num(g_trace_path, n, sizeof g_trace_path, static_cast<unsigned long>(attempt));
  }
  return g_trace_path;
}

// Says, in one line on stderr, that this process records nothing and why (errno).
void report_unwritable(const char* path) {
  const char* why = strerrordesc_np(errno); // untranslated: strerror may load a locale (malloc)
  static char line[sizeof g_trace_path + 256];
  size_t n = append(line, 0, sizeof line - 1, "heapviz: cannot write the trace to ");
  n = append(line, n, sizeof line - 1, path);
  n = append(line, n, sizeof line - 1, ": ");
  n = append(line, n, sizeof line - 1, why ? why : "unknown error");
  n = append(line, n, sizeof line - 1, "; the program runs without tracing");
  line[n++] = '\n';
  line[n] = 0;
  hv::alloc::raw_write(2, line);
}

// A path that exists and is no regular file: a FIFO or a device (/dev/null, /dev/full).
bool is_special_file(const char* path) {
  struct stat st;
  return stat(path, &st) == 0 && !S_ISREG(st.st_mode);
}
// A character device (/dev/null, /dev/full): every process of the tree writes it as it is,
// none writes PATH.<pid> beside it (that would be a file in /dev).
bool is_char_device(const char* path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISCHR(st.st_mode);
}
// With HEAPVIZ_NO_CHILDREN=1 only the program records, and a process knows it is the program
// (without HEAPVIZ_ROOT_PID every process takes itself for it) by claiming the device with
// flock(2) first. The descriptor stays open: the claim lasts as long as this image.
bool claim_device(const char* path) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return true; // trace_start says why
  if (flock(fd, LOCK_EX | LOCK_NB) == 0) return true;
  ::close(fd);
  return false;
}

// Process start (field 22 of /proc/self/stat, clock ticks since boot) in ns on CLOCK_BOOTTIME;
// 0 if unknown. Read with raw syscalls: this runs inside the first malloc.
uint64_t process_start_boot_ns() {
  static char buf[1024];
  int fd = ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  const char* p = strrchr(buf, ')'); // the command name may hold spaces and parentheses
  if (!p) return 0;
  for (int field = 2; field < 22 && *p; ++p) // p ends on the first character of field 22
    if (*p == ' ') ++field;
  long tck = sysconf(_SC_CLK_TCK);
  if (!*p || tck <= 0) return 0;
  return strtoull(p, nullptr, 10) * (1000000000ull / static_cast<unsigned long long>(tck));
}

// True when `path` is a trace that an earlier image of this very process wrote before it
// exec'd (a launcher script, a shell that execs, `env`): same pid, and started after this
// process did (a trace of an earlier process that had this pid started before it).
bool earlier_image_trace(const char* path) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  hv::trace::FileHeader h;
  struct stat st;
  bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ::read(fd, &h, sizeof h) == sizeof h;
  ::close(fd);
  if (!ok || memcmp(h.magic, hv::trace::kFileMagic, sizeof h.magic) != 0 ||
      h.pid != static_cast<uint32_t>(getpid()))
    return false;
  uint64_t start = process_start_boot_ns();
  timespec mono, boot;
  clock_gettime(CLOCK_MONOTONIC, &mono);
  clock_gettime(CLOCK_BOOTTIME, &boot);
  int64_t offset = (boot.tv_sec - mono.tv_sec) * 1000000000ll + (boot.tv_nsec - mono.tv_nsec);
  return start && static_cast<int64_t>(h.start_mono_ns) + offset >= static_cast<int64_t>(start);
}

// Makes room at `path` for this image, whose earlier image left a trace there: that trace is
// removed (an image that execs leaves no trace of its own: it ran only to start the next), or
// with HEAPVIZ_KEEP_EXEC=1 moved aside to PATH.<pid>.<n>. False if the name stays taken.
bool replace_earlier_image(const char* path, unsigned long pid) {
  if (!g_keep_exec) return ::unlink(path) == 0;
  static char aside[sizeof g_trace_path];
  for (int attempt = 1; attempt < 100; ++attempt) {
    size_t n = append(aside, 0, sizeof aside, path);
    if (path != g_trace_path) { // PATH: aside to PATH.<pid>.<n>; PATH.<pid>: to PATH.<pid>.<n>
      n = append(aside, n, sizeof aside, ".");
      n = append_num(aside, n, sizeof aside, pid);
    }
    n = append(aside, n, sizeof aside, ".");
    append_num(aside, n, sizeof aside, static_cast<unsigned long>(attempt));
    if (syscall(SYS_renameat2, AT_FDCWD, path, AT_FDCWD, aside, RENAME_NOREPLACE) == 0) return true;
    if (errno != EEXIST) return false;
  }
  return false;
}

// Opens the trace for this process; `as_root` takes PATH itself, every other process
// PATH.<pid>. When a process execs another program (a launcher script that execs python, a
// shell's `exec`, a forked child that execs), the new image takes over the name and the earlier
// image's trace is removed (HEAPVIZ_KEEP_EXEC=1: moved aside to PATH.<pid>.<n>): one trace per
// process, of the program that ran last. With HEAPVIZ_NO_CHILDREN=1 only PATH is written, by
// the program. A PATH that is a FIFO is written as it is by the first process to claim it (the
// others write PATH.<pid>); a character device (/dev/null) by every process (the program only,
// with HEAPVIZ_NO_CHILDREN=1). Neither is ever moved aside. A path that cannot be written (no
// such directory, no permission, a full disk) is reported in one line on stderr; the program
// runs on.
pid_t g_trace_pid = 0; // the process whose trace this image writes (see _exit below)

void open_trace(bool as_root) {
  const char* out = getenv("HEAPVIZ_OUT");
  if (!out || !*out) return;
  unsigned long pid = static_cast<unsigned long>(getpid());
  g_trace_pid = static_cast<pid_t>(pid);
  if (is_char_device(out)) {
    if (g_no_children && (!as_root || !claim_device(out))) return;
    if (!g_alloc.trace_start(out, false, g_verify_every, stack_flag())) report_unwritable(out);
    return;
  }
  if (as_root) {
    if (g_alloc.trace_start(out, true, g_verify_every, stack_flag())) return;
    int err = errno;
    if (err == EEXIST && is_special_file(out)) {
      if (g_alloc.trace_start(out, false, g_verify_every, stack_flag())) return;
      err = errno;
    } else if (err == EEXIST && earlier_image_trace(out)) {
      if (replace_earlier_image(out, pid) && g_alloc.trace_start(out, true, g_verify_every, stack_flag()))
        return;
      err = EEXIST; // then PATH.<pid>
    } else if (err == EEXIST && getenv("HEAPVIZ_ROOT_PID")) {
      for (int attempt = 1; attempt < 100; ++attempt) {
        if (syscall(SYS_renameat2, AT_FDCWD, out, AT_FDCWD, numbered_path(out, pid, attempt),
                    RENAME_NOREPLACE) == 0) {
          if (g_alloc.trace_start(out, true, g_verify_every, stack_flag())) return;
          break;
        }
        if (errno != EEXIST) break;
      }
      err = errno;
    }
    if (err != EEXIST) {
      errno = err;
      return report_unwritable(out);
    }
  }
  if (g_no_children) return; // PATH is another process's: this one records nothing
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (g_alloc.trace_start(numbered_path(out, pid, attempt), true, g_verify_every, stack_flag())) return;
    if (errno != EEXIST) return report_unwritable(g_trace_path);
    if (attempt == 0 && earlier_image_trace(g_trace_path) && replace_earlier_image(g_trace_path, pid) &&
        g_alloc.trace_start(numbered_path(out, pid, 0), true, g_verify_every, stack_flag()))
      return;
  }
  report_unwritable(g_trace_path); // a hundred names taken: EEXIST says so
}

void flush_on_signal(int sig) {
  g_alloc.trace_flush_ending(true); // the signal may have stopped an event half-written
  signal(sig, SIG_DFL);
  raise(sig);
}

// The crashes, and the signals that end programs in everyday use: Ctrl-C's SIGINT, SIGQUIT,
// `| head`'s SIGPIPE, kill's SIGTERM, SIGHUP, an alarm. With no handler of the program's the
// process would end without its exit handlers, and the events still in its buffers would be
// lost (a short program: all of them). The profiling timers, SIGUSR1/2 and the rest stay as
// they are: a profiler refuses to start over a SIGPROF handler it did not install (Datadog's
// Ruby profiler: "There's a pre-existing SIGPROF signal handler"), and runtimes claim the user
// signals; recording must not change what the program does.
void install_fatal_signal_flush() {
  static const int kFatal[] = {SIGSEGV, SIGBUS,  SIGILL,  SIGFPE,  SIGABRT, SIGHUP,
                               SIGINT,  SIGQUIT, SIGPIPE, SIGTERM, SIGALRM};
  for (int sig : kFatal) {
    struct sigaction old;
    if (sigaction(sig, nullptr, &old) != 0 || old.sa_handler != SIG_DFL) continue; // the program's own
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = flush_on_signal;
    sa.sa_flags = SA_RESETHAND | SA_NODEFER;
    sigaction(sig, &sa, nullptr);
  }
}

// Breakpoints (`heapviz run --break-on-error`, `--break-at N`): HEAPVIZ_BREAK_ON_ERROR=1 stops
// the process at a heap error's faulting call, before the abort; HEAPVIZ_BREAK_AT=N after the
// call that reaches event N. Before stopping, the trace is flushed and a live viewer served.
void before_stop() {
  g_alloc.trace_flush_all();
  hv::alloc::live_server::settle();
}
void read_breakpoints() {
  if (const char* v = getenv("HEAPVIZ_BREAK_ON_ERROR")) hv::alloc::g_break_on_error = *v && *v != '0';
  if (const char* v = getenv("HEAPVIZ_BREAK_AT"); v && *v) g_alloc.trace_break_at(strtoull(v, nullptr, 10));
  hv::alloc::g_before_stop = before_stop;
  hv::alloc::g_before_abort = hv::alloc::live_server::settle;
}

void on_thread_exit(void*) {
  g_alloc.thread_shutdown();
}
// Nothing is flushed here: the child drops every buffer it inherits, and the parent keeps its
// own. (Flushing would also race: fork is no allocator call, so the forking thread does not pass
// the live gate, and the live thread may be flushing the same buffer in a sync.)
void fork_prepare() {
  g_alloc.fork_prepare();
}
void fork_parent() {
  g_alloc.fork_parent();
}
void fork_child() {
  g_alloc.fork_child();
  hv::alloc::stacks::after_fork_child();
  hv::alloc::live_server::after_fork_child(); // not attachable: the live thread did not survive
  if (g_alloc.tracing()) {
    int saved_errno = errno;
    g_alloc.trace_sink().after_fork_child(&hv::alloc::g_real_thread_state);
    g_alloc.trace_stop();
    if (!g_no_children) open_trace(false); // PATH.<pid>, from a baseline snapshot of the inherited heap
    errno = saved_errno;
  }
}

// Call stacks for a process that records (HEAPVIZ_OUT) or may be attached to (HEAPVIZ_LIVE),
// unless HEAPVIZ_STACKS=0; HEAPVIZ_STACK_DEPTH caps them (64 frames).
void enable_stacks() {
  const char* live = getenv("HEAPVIZ_LIVE");
  if (!g_alloc.tracing() && !(live && *live && *live != '0')) return;
  if (const char* v = getenv("HEAPVIZ_STACKS"); v && *v == '0') return;
  unsigned depth = 64;
  if (const char* v = getenv("HEAPVIZ_STACK_DEPTH"); v && *v)
    depth = static_cast<unsigned>(strtoul(v, nullptr, 10));
  const char* why = nullptr;
  if (!hv::alloc::stacks::enable(g_alloc.trace_writer(), depth, &why)) {
    static char line[512];
    size_t n = append(line, 0, sizeof line - 1, "heapviz: ");
    n = append(line, n, sizeof line - 1, why);
    n = append(line, n, sizeof line - 1, "; recording without call stacks");
    line[n++] = '\n';
    line[n] = 0;
    hv::alloc::raw_write(2, line);
  }
}

// Runs after ld.so may already have called malloc; initialises whatever the first call did not.
__attribute__((constructor(101))) void hvalloc_constructor() {
  g_alloc.ensure_init();
  // libzstd only for a recording that compresses (zstd_api.h): loaded here, outside any
  // allocator call, since dlopen allocates. Blocks flushed before now were stored as they are.
  if (g_alloc.tracing() && g_alloc.trace_sink().compression() > 0 && !hv::alloc::load_zstd())
    hv::alloc::raw_write(2, "heapviz: libzstd.so.1 cannot be loaded: the trace is written uncompressed\n");
  if (pthread_key_create(&g_exit_key, on_thread_exit) == 0) g_exit_key_ready = true;
  pthread_atfork(fork_prepare, fork_parent, fork_child);
  if (g_alloc.tracing()) install_fatal_signal_flush();
  read_breakpoints(); // (again, for a process that does not record: live, or checks alone)
  enable_stacks();
  hv::alloc::live_server::start(&g_alloc); // HEAPVIZ_LIVE=1
}

__attribute__((destructor)) void hvalloc_destructor() {
  hv::alloc::live_server::stop(); // the viewers get the final state and an Exit frame
  g_alloc.checks_sweep();         // HEAPVIZ_CHECKS: canaries and free patterns, at exit
  if (g_alloc.tracing()) {
    g_alloc.trace_flush_ending(false);
    g_alloc.trace_sink().set_write_through(true); // events during the rest of exit go out at once
  }
}

} // namespace

// Called by MallocCore<RealPlatform>::init on the process's first allocation: opens the trace
// if HEAPVIZ_OUT asks for one.
void hv::alloc::hv_start_recording_hook() {
  const char* out = getenv("HEAPVIZ_OUT");
  if (!out || !*out) return;
  int saved_errno = errno; // this runs inside the program's first malloc
  read_breakpoints();
  if (const char* v = getenv("HEAPVIZ_VERIFY")) g_verify_every = strtoull(v, nullptr, 10);
  if (const char* v = getenv("HEAPVIZ_STACKS")) g_stacks_wanted = *v != '0';
  if (const char* v = getenv("HEAPVIZ_KEEP_EXEC")) g_keep_exec = *v == '1';
  if (const char* v = getenv("HEAPVIZ_NO_CHILDREN")) g_no_children = *v == '1';
  if (const char* v = getenv("HEAPVIZ_PRECISE_TIME")) g_alloc.trace_sink().set_precise_time(*v == '1');
  if (const char* v = getenv("HEAPVIZ_COMPRESS"))
    g_alloc.trace_sink().set_compression(atoi(v) > 0 ? atoi(v) : 0);
  hv::alloc::salvage::set_dir(getenv("HEAPVIZ_SALVAGE")); // `heapviz record`'s (salvage.h)
  const char* root = getenv("HEAPVIZ_ROOT_PID");
  bool as_root = !root || strtoul(root, nullptr, 10) == static_cast<unsigned long>(getpid());
  open_trace(as_root);
  errno = saved_errno;
}

void RealPlatform::on_thread_start() {
  if (g_exit_key_ready) pthread_setspecific(g_exit_key, reinterpret_cast<void*>(1));
}

#define HV_EXPORT extern "C" __attribute__((visibility("default")))

// _exit and _Exit, called by the program itself (glibc's own exit path calls its internal
// _exit, not these): the process ends without exit handlers, so without our destructor, and
// the events still in its buffers were lost (a program ending with _exit kept a 5-event trace).
// They are flushed first, as a fatal signal's are. Not in a vfork child (posix_spawn's, or a
// program's vfork): it shares the parent's memory while the parent's other threads go on
// writing their buffers; its pid is not the one that opened the trace.
namespace {
[[noreturn]] void exit_now(int status) {
  if (g_alloc.tracing() && g_trace_pid == static_cast<pid_t>(syscall(SYS_getpid)))
    g_alloc.trace_flush_ending(true);
  for (;;)
    syscall(SYS_exit_group, status);
}
} // namespace
HV_EXPORT void _exit(int status) {
  exit_now(status);
}
HV_EXPORT void _Exit(int status) {
  exit_now(status);
}

// A program's own handler that ends the program the usual way (coreutils' sort under `| head`,
// servers on SIGTERM): cleanup, signal(sig, SIG_DFL), raise(sig). Our flush-on-signal handler is
// not installed over the program's own (install_fatal_signal_flush), so that death lost every
// event still buffered. raise and kill of this process flush first when the signal's action is
// now the default one and it ends the process. The signals themselves are sent as glibc does.
namespace {
bool ends_process_by_default(int sig) {
  switch (sig) {
  case SIGCHLD:
  case SIGCONT:
  case SIGSTOP:
  case SIGTSTP:
  case SIGTTIN:
  case SIGTTOU:
  case SIGURG:
  case SIGWINCH:
    return false;
  default:
    return sig > 0 && sig < NSIG;
  }
}
void flush_before_fatal(int sig) {
  if (!g_alloc.tracing() || !ends_process_by_default(sig)) return;
  if (g_trace_pid != static_cast<pid_t>(syscall(SYS_getpid))) return; // (a vfork child)
  if (sig != SIGKILL) {
    struct sigaction now;
    // (Blocked or not: the usual handler that re-raises has it blocked until it returns, and it
    // is delivered then, by this default action.)
    if (sigaction(sig, nullptr, &now) != 0 || (now.sa_flags & SA_SIGINFO) || now.sa_handler != SIG_DFL)
      return;
  }
  g_alloc.trace_flush_ending(true); // (a handler may have interrupted an event: whole ones only)
}
} // namespace
HV_EXPORT int raise(int sig) {
  int saved = errno;
  flush_before_fatal(sig);
  errno = saved;
  if (int e = pthread_kill(pthread_self(), sig)) { // glibc's raise
    errno = e;
    return -1;
  }
  return 0;
}
HV_EXPORT int kill(pid_t pid, int sig) {
  int saved = errno;
  if (pid == 0 || pid == -1 || pid == static_cast<pid_t>(syscall(SYS_getpid))) flush_before_fatal(sig);
  errno = saved;
  return static_cast<int>(syscall(SYS_kill, pid, sig));
}

HV_EXPORT void* malloc(size_t n) {
  return g_alloc.malloc(n);
}
HV_EXPORT void free(void* p) {
  g_alloc.free(p);
}
HV_EXPORT void* calloc(size_t n, size_t s) {
  return g_alloc.calloc(n, s);
}
HV_EXPORT void* realloc(void* p, size_t n) {
  return g_alloc.realloc(p, n);
}
HV_EXPORT void* reallocarray(void* p, size_t n, size_t s) {
  size_t bytes;
  if (__builtin_mul_overflow(n, s, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  return g_alloc.realloc(p, bytes);
}
HV_EXPORT void* memalign(size_t a, size_t n) {
  return g_alloc.memalign(a, n);
}
HV_EXPORT void* aligned_alloc(size_t a, size_t n) {
  return g_alloc.memalign(a, n);
}
HV_EXPORT int posix_memalign(void** out, size_t a, size_t n) {
  return g_alloc.posix_memalign(out, a, n);
}
HV_EXPORT void* valloc(size_t n) {
  return g_alloc.valloc(n);
}
HV_EXPORT void* pvalloc(size_t n) {
  return g_alloc.pvalloc(n);
}
HV_EXPORT size_t malloc_usable_size(void* p) {
  return g_alloc.usable_size(p);
}
HV_EXPORT int malloc_trim(size_t pad) {
  return g_alloc.trim(pad);
}
HV_EXPORT struct mallinfo2 mallinfo2() {
  return g_alloc.info();
}
HV_EXPORT struct mallinfo mallinfo() {
  struct mallinfo2 m2 = g_alloc.info();
  struct mallinfo m;
  m.arena = static_cast<int>(m2.arena);
  m.ordblks = static_cast<int>(m2.ordblks);
  m.smblks = static_cast<int>(m2.smblks);
  m.hblks = static_cast<int>(m2.hblks);
  m.hblkhd = static_cast<int>(m2.hblkhd);
  m.usmblks = static_cast<int>(m2.usmblks);
  m.fsmblks = static_cast<int>(m2.fsmblks);
  m.uordblks = static_cast<int>(m2.uordblks);
  m.fordblks = static_cast<int>(m2.fordblks);
  m.keepcost = static_cast<int>(m2.keepcost);
  return m;
}
HV_EXPORT int mallopt(int param, int value) {
  return g_alloc.mallopt(param, value);
}
HV_EXPORT void malloc_stats() {
  g_alloc.stats(2);
}
HV_EXPORT int malloc_info(int options, FILE* fp) {
  return g_alloc.info_xml(options, fp);
}

// Code that calls glibc's internal names directly gets us too: the same functions, aliased.
// GCC's copy() gives each alias its target's attributes (else -Wmissing-attributes); clang has
// no such attribute (and no such warning).
#if __has_attribute(copy)
#define HV_ALIAS_COPY(target) copy(target),
#else
#define HV_ALIAS_COPY(target)
#endif
#define HV_ALIAS(name, target)                                                                               \
  extern "C"                                                                                                 \
      __attribute__((alias(#target), HV_ALIAS_COPY(target) visibility("default"))) decltype(target) name
HV_ALIAS(__libc_malloc, malloc);
HV_ALIAS(__libc_free, free);
HV_ALIAS(__libc_calloc, calloc);
HV_ALIAS(__libc_realloc, realloc);
HV_ALIAS(__libc_memalign, memalign);
HV_ALIAS(__libc_valloc, valloc);
HV_ALIAS(__libc_pvalloc, pvalloc);
HV_ALIAS(__posix_memalign, posix_memalign);

// The heap checker, for tests of the real allocator. Its scratch memory comes from mmap.
HV_EXPORT int hvalloc_check(char* msg, size_t msg_len) {
  void* mem = mmap(nullptr, sizeof(hv::alloc::HeapWalk<RealPlatform>), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return -1;
  auto* w = new (mem) hv::alloc::HeapWalk<RealPlatform>(g_alloc);
  const hv::alloc::CheckReport& r = w->run();
  int result = r.ok ? 0 : (r.invariant ? r.invariant : -1);
  if (msg && msg_len) {
    size_t n = strlen(r.message);
    if (n >= msg_len) n = msg_len - 1;
    memcpy(msg, r.message, n);
    msg[n] = 0;
  }
  w->~HeapWalk();
  munmap(mem, sizeof(hv::alloc::HeapWalk<RealPlatform>));
  return result;
}

// A user mark on the timeline (heapviz/hvalloc.h). A no-op when not recording.
HV_EXPORT void hv_mark(const char* label) {
  if (label) g_alloc.trace_mark(label);
}

// exec replaces the process image and with it the unwritten trace buffers: write them first.
// (Shells call execve directly; exec calls inside libc itself cannot be intercepted.)
// Live viewers are not told: this may be a vfork child (sharing our memory) or an exec that
// fails. They see the stream end; the new image, if it listens, takes over the same socket name.
HV_EXPORT int execve(const char* path, char* const argv[], char* const envp[]) {
  if (g_alloc.tracing() && !g_alloc.live()) g_alloc.trace_flush_ending(false);
  return static_cast<int>(syscall(SYS_execve, path, argv, envp));
}
