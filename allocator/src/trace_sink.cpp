// trace_sink.cpp - trace file output for the allocator; see trace_sink.h.
//
// Owns: opening the trace, writing whole blocks (or stopping), the message when a write fails.
// Must not: allocate, change errno as the program sees it, or let a signal caused by a trace
// write (SIGPIPE, SIGXFSZ) reach the program.
#include "trace_sink.h"

#include "platform.h"
#include "salvage.h"

#include "heapviz/decimal.h"

#include "zstd_api.h" // libzstd, loaded only when a recording compresses
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <new>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>

namespace hv::alloc {

namespace {
uint64_t mono_ns() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1000000000ull + static_cast<uint64_t>(t.tv_nsec);
}
uint64_t real_ns() {
  timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1000000000ull + static_cast<uint64_t>(t.tv_nsec);
}
// Writes all n bytes, resuming short writes; returns 0, or the errno of the write that failed.
// write(2) is called as a raw syscall: the libc wrapper is a cancellation point, and a thread
// cancelled here would unwind out of malloc with an arena lock held.
//
// A write to a pipe whose reader is gone raises SIGPIPE, and one past RLIMIT_FSIZE raises
// SIGXFSZ: both would kill a program that never asked for a trace. They are blocked for the
// length of the write, and one that the write raised is taken off again before they are
// unblocked (unless the program had blocked it itself: then a pending one may be its own).
int write_whole(int fd, const void* data, size_t n) {
  sigset_t quiet, old;
  sigemptyset(&quiet);
  sigaddset(&quiet, SIGPIPE);
  sigaddset(&quiet, SIGXFSZ);
  pthread_sigmask(SIG_BLOCK, &quiet, &old);
  const char* p = static_cast<const char*>(data);
  int err = 0;
  while (n > 0) {
    long w = syscall(SYS_write, fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      err = w < 0 ? errno : EIO; // a write of 0 bytes would never finish
      break;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  int sig = err == EPIPE ? SIGPIPE : err == EFBIG ? SIGXFSZ : 0;
  if (sig && !sigismember(&old, sig)) {
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    const struct timespec zero = {0, 0};
    syscall(SYS_rt_sigtimedwait, &one, nullptr, &zero, _NSIG / 8);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return err;
}
// What this thread is doing in the sink, so that a fatal-signal flush arriving in the middle
// of it (flush_on_signal in preload.cpp) returns instead of waiting for a lock it holds itself.
constexpr int kInFlushAll = 1, kInWrite = 2;
__thread int t_busy __attribute__((tls_model("initial-exec")));
void spin_lock(int* l) {
  while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE)) {
  }
}
void spin_unlock(int* l) {
  __atomic_store_n(l, 0, __ATOMIC_RELEASE);
}
// The trace hooks leave errno alone (trace_hooks.h): a program sees errno change only through
// the allocator's own results (and free() must not change it at all), never through a block
// flushed, a buffer mapped or unmapped on the way.
struct KeepErrno {
  int saved = errno;
  ~KeepErrno() { errno = saved; }
};
} // namespace

// The TSC runs at a constant rate on every x86-64 that Linux calls `constant_tsc`; a 200 us
// calibration against CLOCK_MONOTONIC gives the rate to ~0.05%, and each event then costs one
// rdtsc instead of a clock_gettime.
void TraceSink::calibrate() {
  uint64_t m0 = mono_ns(), t0 = __rdtsc(), m1, t1;
  do {
    m1 = mono_ns();
    t1 = __rdtsc();
  } while (m1 - m0 < 200000);
  mono0_ = m0;
  tsc0_ = t0;
  uint64_t dt = t1 - t0;
  mult_ = dt ? ((m1 - m0) << 32) / dt : 0;
}

uint64_t TraceSink::slow_now_ns() {
  return mono_ns();
}

size_t TraceSink::make_header(uint8_t* out, const char* policy, const uint64_t params[trace::kNumParams],
                              uint64_t heap_base, uint32_t flags, uint32_t page_size) {
  // The command line, read without allocating.
  static char cmdline[4096];
  uint32_t cmd_len = 0;
  int cfd = ::open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (cfd >= 0) {
    ssize_t n = ::read(cfd, cmdline, sizeof cmdline);
    if (n > 0) cmd_len = static_cast<uint32_t>(n);
    ::close(cfd);
  }
  if (mult_ == 0) calibrate();
  return trace::build_file_header(out, policy, params, heap_base, static_cast<uint32_t>(getpid()),
                                  static_cast<uint32_t>(getppid()), real_ns(), mono0_, flags, cmdline,
                                  cmd_len, page_size);
}

bool TraceSink::open(const char* path, bool exclusive, const char* policy,
                     const uint64_t params[trace::kNumParams], uint64_t heap_base, uint32_t flags,
                     uint32_t page_size) {
  int oflags = O_WRONLY | O_CREAT | O_CLOEXEC | O_APPEND | (exclusive ? O_EXCL : O_TRUNC);
  int fd = ::open(path, oflags, 0644);
  if (fd < 0) return false;
  struct stat st;
  bool known = fstat(fd, &st) == 0;
  bool regular = !known || S_ISREG(st.st_mode);
  // Two processes writing into one pipe would interleave their blocks: one at a time. The lock
  // goes with the descriptor (O_CLOEXEC: an exec'd image claims it anew). A character device
  // (/dev/null, /dev/full) is written by every process as it is: nothing reads /dev/null's
  // blocks back, and a tty would garble a trace anyway.
  bool shared = known && S_ISCHR(st.st_mode);
  if (!regular && !shared && flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    errno = EEXIST;
    return false;
  }
  calibrate();
  static uint8_t header[kHeaderMax];
  size_t hsize = make_header(header, policy, params, heap_base, flags, page_size);
  trace::FileHeader fh;
  memcpy(&fh, header, sizeof fh);
  if (int err = write_whole(fd, header, hsize)) {
    if (exclusive) ::unlink(path); // ours, and holding no trace
    ::close(fd);
    errno = err;
    return false;
  }
  size_t plen = strlen(path);
  if (plen >= sizeof path_) plen = sizeof path_ - 1;
  memcpy(path_, path, plen);
  path_[plen] = 0;
  regular_file_ = regular;
  failed_ = false;
  file_bytes_ = hsize;
  file_events_ = 0;
  fd_ = fd;
  start_unix_ns_ = fh.start_unix_ns;
  spin_lock(&all_lock_); // buffers made for an earlier trace (a forked child's) now feed this one
  for (TraceThread* t = all_; t; t = t->next)
    point_salvage(t);
  spin_unlock(&all_lock_);
  new_stack_epoch(); // a new file: its stacks and modules are defined in it
  on = true;
  return true;
}

void TraceSink::point_salvage(TraceThread* t) {
  if (!t->salvage_file) return;
  auto at = [t](const void* m) {
    return static_cast<size_t>(static_cast<const uint8_t*>(m) - reinterpret_cast<const uint8_t*>(t));
  };
  const trace::BlockEncoder::Layout l = t->enc.layout();
  const size_t enc = at(&t->enc);
  salvage::point(t, t->tid,
                 {enc + l.whole, enc + l.header, enc + l.clocked, at(t->buf) + sizeof(trace::BlockHeader),
                  uint32_t(TraceThread::kBlockBytes)},
                 path_, start_unix_ns_);
}

void TraceSink::open_stream(BlockFn fn, void* ctx) {
  if (mult_ == 0) calibrate();
  stream_fn_ = fn;
  stream_ctx_ = ctx;
  new_stack_epoch();
  on = true;
}

void TraceSink::close_stream() {
  on = false;
  spin_lock(&all_lock_);
  for (TraceThread* t = all_; t; t = t->next) {
    t->enc.clear();
    t->free_pending = false;
    t->pending_tcache = 0;
  }
  spin_unlock(&all_lock_);
  stream_fn_ = nullptr;
  stream_ctx_ = nullptr;
}

void TraceSink::write_out(const void* data, size_t n) {
  if (block_fn_) return block_fn_(block_ctx_, data, n);
  if (stream_fn_) return stream_fn_(stream_ctx_, data, n);
  write_block(data, n);
}

// One finished block (data starts with its BlockHeader) to the file: whole, or not at all and
// tracing stops. Under write_lock_, so a short write is resumed before another block goes in.
void TraceSink::write_block(const void* data, size_t n) {
  if (t_busy & kInWrite) return; // a fatal signal interrupted this thread's own write
  trace::BlockHeader h;
  memcpy(&h, data, sizeof h);
  const int saved_errno = errno;
  write_lock_.lock();
  t_busy |= kInWrite;
  if (fd_ >= 0 && !failed_) {
    if (int err = write_whole(fd_, data, n)) {
      stop_after_failed_write(err);
    } else {
      file_bytes_ += n;
      file_events_ += h.nevents;
    }
  }
  t_busy &= ~kInWrite;
  write_lock_.unlock();
  errno = saved_errno;
}

// Called with write_lock_ held, once. Cuts off the torn block (a regular file), so that the
// file ends at a block boundary and holds exactly the events counted, closes the file and says
// so on stderr in one line. Every thread's hooks then see `on` false; buffers still holding
// events are dropped by flush().
void TraceSink::stop_after_failed_write(int err) {
  __atomic_store_n(&failed_, true, __ATOMIC_RELAXED);
  __atomic_store_n(&on, false, __ATOMIC_RELAXED);
  if (regular_file_) (void)!ftruncate(fd_, static_cast<off_t>(file_bytes_));
  ::close(fd_);
  fd_ = -1;
  // Built whole, then one write(2): a line that other output cannot split. Static: it is
  // written once, under the lock, and a thread's stack may be small.
  static char line[sizeof path_ + 256];
  size_t at = 0;
  auto add = [&](const char* s) {
    while (*s && at + 2 < sizeof line)
      line[at++] = *s++;
  };
  auto add_num = [&](uint64_t v) {
    char digits[24];
    put_decimal(digits, sizeof digits, static_cast<unsigned long>(v));
    add(digits);
  };
  const char* why = strerrordesc_np(err); // untranslated: strerror may load a locale (malloc)
  add("heapviz: trace write to ");
  add(path_);
  add(" failed: ");
  add(why ? why : "unknown error");
  add("; tracing stopped after ");
  add_num(file_events_);
  add(" events (the trace holds them; the program runs on untraced)\n");
  line[at] = 0;
  raw_write(2, line);
}

void TraceSink::close() {
  if (fd_ < 0) return;
  flush_all();
  on = false;
  write_lock_.lock();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  write_lock_.unlock();
}

TraceThread* TraceSink::thread_buf(ThreadState& ts) {
  if (ts.trace) return ts.trace;
  KeepErrno keep;
  const uint32_t tid = ts.sim_tid ? ts.sim_tid : static_cast<uint32_t>(syscall(SYS_gettid));
  // Recording to a file under `heapviz record`: in a file of its own, so that a process killed
  // before it flushes leaves its events behind (salvage.h).
  void* mem = fd_ >= 0 && regular_file_ ? salvage::map(sizeof(TraceThread), tid) : nullptr;
  const bool in_file = mem != nullptr;
  if (!mem) {
    mem = ::mmap(nullptr, sizeof(TraceThread), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return nullptr;
  }
  TraceThread* t = new (mem) TraceThread();
  t->enc.reset(t->buf, TraceThread::kBlockBytes);
  t->tid = tid;
  t->salvage_file = in_file;
  point_salvage(t);
  t->stamp_count = kStampNow; // the first call reads the clock
  spin_lock(&all_lock_);
  t->clock = retired_clock_; // the same thread's earlier buffer (or a thread with its id) is behind
  t->next = all_;
  all_ = t;
  spin_unlock(&all_lock_);
  ts.trace = t;
  return t;
}

void TraceSink::back_to_one_counter() {
  spin_lock(&all_lock_);
  uint64_t top = retired_clock_; // the highest number given out: a thread's last, or a clock's
  for (TraceThread* t = all_; t; t = t->next) {
    __atomic_store_n(&t->stamp_count, kStampNow, __ATOMIC_RELAXED);
    uint64_t c = __atomic_load_n(&t->clock, __ATOMIC_RELAXED);
    if (c > top) top = c;
  }
  for (uint32_t i = 0; i < kClocks; ++i) {
    uint64_t c = __atomic_load_n(&clock_at(i)->n, __ATOMIC_RELAXED);
    if (c > top) top = c;
  }
  if (top >= seq_) {
    seq_skipped_ += top + 1 - seq_;
    seq_ = top + 1;
  }
  spin_unlock(&all_lock_);
}

void TraceSink::flush(TraceThread* t) {
  if (!t) return;
  KeepErrno keep;
  t->stamp_count = kStampNow; // the next call reads the clock: blocks start with a fresh time
  if (t->enc.empty()) return;
  if (fd_ < 0 && !block_fn_ && !stream_fn_) {
    t->enc.clear(); // nowhere to go (a write failed): dropped, so the buffer never overflows
    return;
  }
  // A block for the live thread's ring gets its CRC there (live_server.cpp, drain): another core.
  size_t n = t->enc.finish(!(stream_fn_ && !block_fn_));
  if (zstd_level_ > 0 && zstd_api() && compress_and_write(t)) {
    t->enc.clear();
    return;
  }
  write_out(t->enc.data(), n);
  t->enc.clear();
}

// Compresses the finished block in t->buf into the thread's workspace and writes it there.
// The workspace holds a static zstd context (no malloc) and the output buffer.
bool TraceSink::compress_and_write(TraceThread* t) {
  const ZstdApi& z = *zstd_api();
  trace::BlockHeader h;
  memcpy(&h, t->buf, sizeof h);
  const size_t bound = z.compress_bound(TraceThread::kBlockBytes + 64);
  if (!t->zstd) {
    size_t ctx = z.estimate_cctx_size(zstd_level_);
    size_t total = ctx + sizeof h + bound;
    void* mem = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return false;
    if (!z.init_static_cctx(mem, ctx)) {
      ::munmap(mem, total);
      return false;
    }
    t->zstd = mem;
    t->zstd_size = total;
  }
  size_t ctx = t->zstd_size - sizeof h - bound;
  auto* cctx = static_cast<ZSTD_CCtx*>(t->zstd);
  uint8_t* out = static_cast<uint8_t*>(t->zstd) + ctx;
  size_t cs = z.compress_cctx(cctx, out + sizeof h, bound, t->buf + sizeof h, h.raw_size, zstd_level_);
  if (z.is_error(cs) || cs >= h.raw_size) return false; // stored as is
  h.flags |= trace::kBlockZstd;
  h.stored_size = static_cast<uint32_t>(cs);
  h.crc32 = trace::crc32(out + sizeof h, cs);
  memcpy(out, &h, sizeof h);
  write_out(out, sizeof h + cs);
  return true;
}

void TraceSink::flush_all(bool interrupted) {
  if (t_busy) return; // a fatal signal in the middle of this thread's own flush
  spin_lock(&all_lock_);
  t_busy |= kInFlushAll;
  for (TraceThread* t = all_; t; t = t->next) {
    if (interrupted) t->enc.cut_to_whole();
    flush(t);
  }
  t_busy &= ~kInFlushAll;
  spin_unlock(&all_lock_);
}

void TraceSink::flush_ending(bool interrupted, const TraceThread* self) {
  if (t_busy) return; // a fatal signal in the middle of this thread's own flush
  spin_lock(&all_lock_);
  t_busy |= kInFlushAll;
  for (TraceThread* t = all_; t; t = t->next) {
    if (t != self && t->salvage_file) continue;
    if (interrupted) t->enc.cut_to_whole();
    flush(t);
  }
  t_busy &= ~kInFlushAll;
  spin_unlock(&all_lock_);
}

void TraceSink::release(ThreadState& ts) {
  TraceThread* t = ts.trace;
  if (!t) return;
  KeepErrno keep;
  flush(t);
  spin_lock(&all_lock_);
  for (TraceThread** pp = &all_; *pp; pp = &(*pp)->next)
    if (*pp == t) {
      *pp = t->next;
      break;
    }
  retired_events_ += t->threaded_events;
  if (t->clock > retired_clock_) retired_clock_ = t->clock;
  spin_unlock(&all_lock_);
  ts.trace = nullptr;
  if (t->zstd) ::munmap(t->zstd, t->zstd_size);
  if (t->stacks) ::munmap(t->stacks, t->stacks_size);
  if (t->salvage_file)
    salvage::unmap(t, sizeof(TraceThread));
  else
    ::munmap(t, sizeof(TraceThread));
}

// An event after everything before it: above every clock, and every clock raised to it.
uint64_t TraceSink::tick_all(TraceThread* t, uint64_t n) {
  for (uint32_t i = 0; i < kClocks; ++i) {
    uint64_t v = __atomic_load_n(&clock_at(i)->n, __ATOMIC_RELAXED);
    if (v >= n) n = v + 1;
  }
  if (n - 1 > t->call_ts) t->call_ts = n - 1; // after every event before it (see tick)
  for (uint32_t i = 0; i < kClocks; ++i)
    raise(clock_at(i), n);
  return n;
}

uint64_t TraceSink::events_written() {
  spin_lock(&all_lock_);
  uint64_t n = seq_ - 1 - seq_skipped_ + retired_events_;
  for (TraceThread* t = all_; t; t = t->next)
    n += __atomic_load_n(&t->threaded_events, __ATOMIC_RELAXED);
  spin_unlock(&all_lock_);
  return n;
}

void TraceSink::after_fork_child(ThreadState* ts) {
  // Every inherited buffer holds the parent's events, which the parent writes itself. A private
  // one is the child's copy: cleared. One in a salvage file is still the parent's, a shared
  // mapping its threads go on writing (salvage.h): the child neither reads it (beyond the list's
  // link) nor writes it, but drops it, and its thread takes a new one at its next event.
  TraceThread** pp = &all_;
  while (TraceThread* t = *pp) {
    if (t->salvage_file) {
      *pp = t->next;
      if (ts && ts->trace == t) ts->trace = nullptr;
      salvage::forget(t, sizeof(TraceThread));
      continue;
    }
    t->tid = static_cast<uint32_t>(syscall(SYS_gettid));
    t->enc.clear();
    pp = &t->next;
  }
  all_lock_ = 0;
  write_lock_.reinit(); // another thread may have been writing a block at the fork
  t_busy = 0;
}

} // namespace hv::alloc
