// trace_sink.cpp - trace file output for the allocator; see trace_sink.h.
#include "trace_sink.h"

#include <cerrno>
#include <fcntl.h>
#include <new>
#include <sys/syscall.h>
#define ZSTD_STATIC_LINKING_ONLY // ZSTD_initStaticCCtx: compression without malloc
#include <zstd.h>

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
void write_all(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    n -= static_cast<size_t>(w);
  }
}
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
  calibrate();
  static uint8_t header[kHeaderMax];
  size_t hsize = make_header(header, policy, params, heap_base, flags, page_size);
  write_all(fd, header, hsize);
  fd_ = fd;
  on = true;
  return true;
}

void TraceSink::open_stream(BlockFn fn, void* ctx) {
  if (mult_ == 0) calibrate();
  stream_fn_ = fn;
  stream_ctx_ = ctx;
  on = true;
}

void TraceSink::close_stream() {
  on = false;
  spin_lock(&all_lock_);
  for (TraceThread* t = all_; t; t = t->next) {
    t->enc.clear();
    t->free_pending = false;
  }
  spin_unlock(&all_lock_);
  stream_fn_ = nullptr;
  stream_ctx_ = nullptr;
}

void TraceSink::write_out(const void* data, size_t n) {
  if (block_fn_) return block_fn_(block_ctx_, data, n);
  if (stream_fn_) return stream_fn_(stream_ctx_, data, n);
  write_all(fd_, data, n);
}

void TraceSink::close() {
  if (fd_ < 0) return;
  flush_all();
  on = false;
  ::close(fd_);
  fd_ = -1;
}

TraceThread* TraceSink::thread_buf(ThreadState& ts) {
  if (ts.trace) return ts.trace;
  KeepErrno keep;
  void* mem =
      ::mmap(nullptr, sizeof(TraceThread), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return nullptr;
  TraceThread* t = new (mem) TraceThread();
  t->enc.reset(t->buf, TraceThread::kBlockBytes);
  t->tid = static_cast<uint32_t>(syscall(SYS_gettid));
  t->stamp_count = kStampEvery; // the first call reads the clock
  spin_lock(&all_lock_);
  t->next = all_;
  all_ = t;
  spin_unlock(&all_lock_);
  ts.trace = t;
  return t;
}

void TraceSink::flush(TraceThread* t) {
  if (!t) return;
  KeepErrno keep;
  t->stamp_count = kStampEvery; // the next call reads the clock: blocks start with a fresh time
  if (t->enc.empty() || (fd_ < 0 && !block_fn_ && !stream_fn_)) return;
  size_t n = t->enc.finish();
  if (zstd_level_ > 0 && compress_and_write(t)) {
    t->enc.clear();
    return;
  }
  write_out(t->enc.data(), n);
  t->enc.clear();
}

// Compresses the finished block in t->buf into the thread's workspace and writes it there.
// The workspace holds a static zstd context (no malloc) and the output buffer.
bool TraceSink::compress_and_write(TraceThread* t) {
  trace::BlockHeader h;
  memcpy(&h, t->buf, sizeof h);
  const size_t bound = ZSTD_compressBound(TraceThread::kBlockBytes + 64);
  if (!t->zstd) {
    size_t ctx = ZSTD_estimateCCtxSize(zstd_level_);
    size_t total = ctx + sizeof h + bound;
    void* mem = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return false;
    if (!ZSTD_initStaticCCtx(mem, ctx)) {
      ::munmap(mem, total);
      return false;
    }
    t->zstd = mem;
    t->zstd_size = total;
  }
  size_t ctx = t->zstd_size - sizeof h - bound;
  auto* cctx = static_cast<ZSTD_CCtx*>(t->zstd);
  uint8_t* out = static_cast<uint8_t*>(t->zstd) + ctx;
  size_t cs = ZSTD_compressCCtx(cctx, out + sizeof h, bound, t->buf + sizeof h, h.raw_size, zstd_level_);
  if (ZSTD_isError(cs) || cs >= h.raw_size) return false; // stored as is
  h.flags |= trace::kBlockZstd;
  h.stored_size = static_cast<uint32_t>(cs);
  h.crc32 = trace::crc32(out + sizeof h, cs);
  memcpy(out, &h, sizeof h);
  write_out(out, sizeof h + cs);
  return true;
}

void TraceSink::flush_all() {
  spin_lock(&all_lock_);
  for (TraceThread* t = all_; t; t = t->next)
    flush(t);
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
  spin_unlock(&all_lock_);
  ts.trace = nullptr;
  if (t->zstd) ::munmap(t->zstd, t->zstd_size);
  ::munmap(t, sizeof(TraceThread));
}

void TraceSink::after_fork_child() {
  // Every inherited buffer holds the parent's events, which the parent writes itself.
  for (TraceThread* t = all_; t; t = t->next) {
    t->enc.clear();
    t->tid = static_cast<uint32_t>(syscall(SYS_gettid));
  }
  all_lock_ = 0;
}

} // namespace hv::alloc
