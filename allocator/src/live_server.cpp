// live_server.cpp - the listening side of live attach; see live_server.h and docs/live.md.
#include "live_server.h"

#include "heapviz/live_protocol.h"
#include "malloc_core_impl.h"
#include "zstd_api.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/single_threaded.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

namespace hv::alloc::live_server {
namespace {

using Core = MallocCore<RealPlatform>;
using namespace hv::live;

constexpr int kMaxViewers = 16;
constexpr int kSyncEveryMs = 50;       // how stale a viewer's picture may get
constexpr int kViewerTimeoutMs = 2000; // a viewer that takes no bytes this long is dropped
constexpr int kStopTimeoutMs = 2000;   // a thread that stays inside the allocator this long
constexpr int kMaxPending = 8;         // connections that have not yet said what they want
constexpr uint32_t kRingSlots = 64;    // finished blocks in flight from the program to the live thread
constexpr size_t kSlotBytes = sizeof(trace::BlockHeader) + TraceThread::kBlockBytes + 64;
#ifdef MADV_POPULATE_WRITE
constexpr int kMadvPopulateWrite = MADV_POPULATE_WRITE;
#else
constexpr int kMadvPopulateWrite = 23; // Linux 5.14
#endif

uint64_t now_ms() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1000 + static_cast<uint64_t>(t.tv_nsec) / 1000000;
}

void say(const char* a, const char* b = "", const char* c = "") {
  char line[600];
  size_t n = 0;
  for (const char* s : {"heapviz live: ", a, b, c, "\n"})
    while (*s && n < sizeof line)
      line[n++] = *s++;
  ssize_t w = ::write(2, line, n);
  (void)w;
}

struct Server {
  Core* core = nullptr;
  int listen_fd = -1;
  // The ring the allocator's threads hand finished blocks to (a copy into memory mapped once:
  // a socket in between cost the program a fresh kernel buffer per block). ring_fd (an eventfd)
  // wakes the live thread when the ring stops being empty, if it sleeps waiting for that
  // (ring_sleeping); while blocks keep coming it looks every millisecond and is not woken.
  Lock ring_lock{};
  uint64_t ring_head = 0, ring_tail = 0; // blocks pushed / taken; the tail is a futex word too
  int ring_waiters = 0;                  // producers waiting for room
  bool ring_sleeping = false;            // the live thread waits on ring_fd (both under ring_lock)
  uint8_t* ring = nullptr;               // kRingSlots x kSlotBytes
  uint32_t ring_len[kRingSlots] = {};
  int ring_fd = -1;
  int wake_rd = -1, wake_wr = -1; // stop() asks the thread to say goodbye
  int done = 0;                   // futex word: the goodbye is sent
  int attached_once = 0;          // futex word: a viewer has attached
  char path[sizeof(sockaddr_un::sun_path)] = {};
  int viewers[kMaxViewers] = {};
  int nviewers = 0;
  // Viewers are being served: the trace sink streams into our ring (one fact, kept by the sink).
  bool streaming() const { return core->trace_sink().streaming(); }
  uint64_t last_sync = 0;
  bool verify = false; // HEAPVIZ_VERIFY set: every sync carries an exact snapshot
  pthread_t thread{};

  // ---- Sending -------------------------------------------------------------------------
  // Sends all of it, waiting for room until `deadline` (ms, CLOCK_MONOTONIC). False: the viewer
  // is gone or stuck.
  static bool send_all(int fd, const void* data, size_t n, uint64_t deadline) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w > 0) {
        p += w;
        n -= static_cast<size_t>(w);
        continue;
      }
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        uint64_t now = now_ms();
        if (now >= deadline) return false;
        pollfd pf{fd, POLLOUT, 0};
        int r = ::poll(&pf, 1, static_cast<int>(deadline - now));
        if (r >= 0 && !(pf.revents & (POLLERR | POLLHUP))) continue;
      }
      return false;
    }
    return true;
  }
  static bool send_frame(int fd, uint32_t type, const void* data, size_t n,
                         uint64_t deadline = now_ms() + kViewerTimeoutMs) {
    FrameHead h{type, static_cast<uint32_t>(n)};
    return send_all(fd, &h, sizeof h, deadline) && (n == 0 || send_all(fd, data, n, deadline));
  }
  // Closes one viewer. When the last one goes, run() detaches at its next turn (not here: a
  // drop can happen in the middle of a flush).
  void drop(int i) {
    ::close(viewers[i]);
    viewers[i] = viewers[--nviewers];
  }
  // Every viewer gets the frame, or is dropped: one deadline for all of them, so that however
  // many viewers stop reading, the program waits at most kViewerTimeoutMs for them.
  void broadcast(uint32_t type, const void* data, size_t n) {
    uint64_t deadline = now_ms() + kViewerTimeoutMs;
    for (int i = 0; i < nviewers;)
      if (send_frame(viewers[i], type, data, n, deadline))
        ++i;
      else
        drop(i);
  }
  // Ends every viewer's stream with a reason (a Refused frame), then closes them.
  void drop_all(const char* why) {
    broadcast(kFrameRefused, why, strlen(why));
    while (nviewers)
      drop(nviewers - 1);
  }
  static void on_block(void* ctx, const void* data, size_t n) {
    static_cast<Server*>(ctx)->broadcast(kFrameBlock, data, n);
  }

  // An allocator thread hands over a finished block (TraceSink's stream function). When the
  // ring is full the thread waits for the live thread to take one: the program waits, nothing
  // is dropped (docs/live.md, backpressure).
  static void push(void* ctx, const void* data, size_t n) {
    Server* s = static_cast<Server*>(ctx);
    if (n > kSlotBytes) return; // cannot happen: a block is at most kSlotBytes
    int err = errno;
    s->ring_lock.lock();
    while (s->ring_head - s->ring_tail >= kRingSlots) {
      uint64_t tail = s->ring_tail;
      ++s->ring_waiters;
      s->ring_lock.unlock();
      syscall(SYS_futex, &s->ring_tail, FUTEX_WAIT_PRIVATE, static_cast<uint32_t>(tail), nullptr, nullptr, 0);
      s->ring_lock.lock();
      --s->ring_waiters;
    }
    uint32_t slot = static_cast<uint32_t>(s->ring_head % kRingSlots);
    memcpy(s->ring + size_t(slot) * kSlotBytes, data, n);
    s->ring_len[slot] = static_cast<uint32_t>(n);
    // Only a sleeping live thread is woken: a write(2) per millisecond cost the program ~3% of
    // its time while streaming (bench/README.md, 2026-12-07 17:25).
    bool wake = s->ring_head == s->ring_tail && s->ring_sleeping;
    __atomic_store_n(&s->ring_head, s->ring_head + 1, __ATOMIC_RELEASE);
    s->ring_lock.unlock();
    if (wake) {
      uint64_t one = 1;
      ssize_t w = ::write(s->ring_fd, &one, sizeof one);
      (void)w;
    }
    errno = err;
  }

  // Blocks the allocator's threads have handed over so far go to the viewers attached now.
  // Returns how many there were.
  int drain() {
    uint64_t junk;
    ssize_t r = ::read(ring_fd, &junk, sizeof junk); // nonblocking: clears the wakeup
    (void)r;
    int blocks = 0;
    for (;;) {
      uint64_t tail = ring_tail, head = __atomic_load_n(&ring_head, __ATOMIC_ACQUIRE);
      if (tail == head) return blocks;
      uint32_t slot = static_cast<uint32_t>(tail % kRingSlots);
      if (nviewers) {
        // The program's threads leave a ring block's CRC to this thread (TraceSink::flush).
        uint8_t* block = ring + size_t(slot) * kSlotBytes;
        trace::BlockHeader h;
        memcpy(&h, block, sizeof h);
        h.crc32 = trace::crc32(block + sizeof h, h.stored_size);
        memcpy(block, &h, sizeof h);
        broadcast(kFrameBlock, block, ring_len[slot]);
      }
      ++blocks;
      ring_lock.lock();
      __atomic_store_n(&ring_tail, tail + 1, __ATOMIC_RELEASE);
      bool wake = ring_waiters > 0;
      ring_lock.unlock();
      if (wake) syscall(SYS_futex, &ring_tail, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
    }
  }
  bool busy_stream = false; // blocks came at the last look: look again in a millisecond

  // ---- The world stop ------------------------------------------------------------------
  // False if a thread stays inside the allocator (it longjmp'ed out of malloc, or sits in a
  // debugger): the gate is open again and *why says which thread.
  uint64_t no_stop_before = 0; // after a failed stop, do not close the gate again for a while
  bool stop_world(char* why, size_t why_len) {
    if (now_ms() < no_stop_before) {
      snprintf(why, why_len, "refused: a thread stayed inside the allocator; try again in a few seconds");
      return false;
    }
    int stuck = 0;
    bool ok = core->live_gate().stop(
        [this] {
          drain(); // a thread blocked sending a block cannot leave its call until we read
          timespec ts{0, 20000};
          nanosleep(&ts, nullptr);
        },
        kStopTimeoutMs, &stuck);
    if (!ok) {
      no_stop_before = now_ms() + 10000;
      snprintf(why, why_len,
               "refused: thread %d has been inside the allocator for %d s (stopped in a debugger, or "
               "longjmp'ed out of malloc?): no consistent snapshot can be taken",
               stuck, kStopTimeoutMs / 1000);
      return false;
    }
    drain();
    return true;
  }
  // With every thread outside the allocator: their partial blocks go out now.
  void flush_buffers() {
    TraceSink& sink = core->trace_sink();
    sink.set_block_fn(on_block, this);
    sink.flush_all();
    sink.set_block_fn(nullptr, nullptr);
  }
  void send_sync() {
    SyncPayload s{(core->trace_sink().events_written() + 1), core->footprint_bytes()};
    broadcast(kFrameSync, &s, sizeof s);
    __atomic_store_n(&last_sync, now_ms(), __ATOMIC_RELEASE); // (settle() waits for it)
  }
  // An exact snapshot, sent at once (the world is stopped). Its blocks go straight to the viewers,
  // in order, never through the ring (which only this thread reads).
  void snapshot(bool baseline) {
    TraceSink& sink = core->trace_sink();
    sink.set_block_fn(on_block, this);
    if (baseline) core->trace_regions();
    core->trace_snapshot(baseline, true);
    if (baseline) core->trace_mmapped_chunks();
    sink.flush_all();
    sink.set_block_fn(nullptr, nullptr);
  }

  void sync(bool with_snapshot) {
    char why[256];
    if (!stop_world(why, sizeof why)) {
      drop_all(why); // the stream cannot be kept complete: end it, saying why
      return;
    }
    flush_buffers();
    if (with_snapshot) snapshot(false);
    send_sync();
    core->live_gate().start();
  }

  // The ring's pages are made present by this thread before a stream starts, and given back
  // when it ends: otherwise the program's threads took its 1024 first-touch page faults in
  // their first pushes, and a process that once had a viewer kept 4 MiB it no longer uses.
  void populate_ring() {
    const size_t len = size_t(kRingSlots) * kSlotBytes;
    if (::madvise(ring, len, kMadvPopulateWrite) == 0) return;
    const size_t page = core->platform().pagesize(); // (a kernel before 5.14: touch them)
    for (size_t i = 0; i < len; i += page)
      ring[i] = 0;
  }
  void release_ring() { ::madvise(ring, size_t(kRingSlots) * kSlotBytes, MADV_DONTNEED); }

  void attach(int fd) {
    const bool first = !streaming();
    if (first) populate_ring(); // (no thread writes the ring before open_stream)
    char why[256];
    if (!stop_world(why, sizeof why)) {
      send_frame(fd, kFrameRefused, why, strlen(why));
      ::close(fd);
      if (first) release_ring(); // (no stream after all)
      return;
    }
    TraceSink& sink = core->trace_sink();
    if (streaming()) flush_buffers(); // everything before the new viewer's snapshot: for the others only
    sink.new_stack_epoch();           // the new viewer gets every stack node and module it needs
    static uint8_t header[TraceSink::kHeaderMax];
    uint64_t params[trace::kNumParams] = {};
    uint64_t heap_base = 0;
    core->header_params(params, &heap_base);
    uint32_t flags = trace::kFileSnapshots | (core->trace_writer().stacks_on() ? trace::kFileStacks : 0u);
    size_t hn = sink.make_header(header, "glibc-2.36", params, heap_base, flags,
                                 static_cast<uint32_t>(core->platform().pagesize()));
    if (!send_frame(fd, kFrameTraceHeader, header, hn)) {
      ::close(fd);
      core->live_gate().start();
      if (first) release_ring();
      return;
    }
    viewers[nviewers++] = fd;
    if (!streaming()) sink.open_stream(push, this);
    snapshot(true);
    send_sync();
    core->live_gate().start();
    if (!__atomic_exchange_n(&attached_once, 1, __ATOMIC_RELEASE)) // HEAPVIZ_LIVE_WAIT: main may go
      syscall(SYS_futex, &attached_once, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
  }
  // The last viewer left: back to no per-event work.
  // (If a thread stays inside the allocator, recording goes on into the void: drain() discards
  // it with no viewers, and run() tries again later.)
  void detach() {
    if (!streaming()) return;
    char why[256];
    if (!stop_world(why, sizeof why)) return; // no viewers: drain() discards
    core->trace_sink().close_stream();
    drain();
    core->live_gate().start();
    release_ring();
  }

  // ---- Accepting -----------------------------------------------------------------------
  // A new connection is checked at once, then waits (without stopping anything) until it says
  // what it wants, for a second at most.
  struct Pending {
    int fd;
    uint64_t deadline;
  };
  Pending pending[kMaxPending] = {};
  int npending = 0;

  void accept_one() {
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || !peer_allowed(geteuid(), cred.uid)) {
      static const char msg[] = "refused: a viewer must run as the same user as the process";
      send_frame(fd, kFrameRefused, msg, sizeof msg - 1, now_ms() + 100);
      ::close(fd);
      return;
    }
    if (npending == kMaxPending) { // the oldest silent one goes
      ::close(pending[0].fd);
      pending[0] = pending[--npending];
    }
    pending[npending++] = {fd, now_ms() + 1000};
  }

  void answer(int fd) {
    char req = 0;
    ssize_t r = ::recv(fd, &req, 1, MSG_DONTWAIT);
    if (r != 1) {
      ::close(fd);
      return;
    }
    int sndbuf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    if (req == kRequestInfo) {
      char info[sizeof(InfoPayload) + 4096];
      InfoPayload ip{static_cast<uint32_t>(getpid()), static_cast<uint32_t>(nviewers),
                     core->footprint_bytes(), streaming() ? (core->trace_sink().events_written() + 1) : 0};
      memcpy(info, &ip, sizeof ip);
      size_t n = sizeof ip;
      int cfd = ::open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
      if (cfd >= 0) {
        ssize_t k = ::read(cfd, info + n, sizeof info - n);
        if (k > 0) n += static_cast<size_t>(k);
        ::close(cfd);
      }
      send_frame(fd, kFrameInfo, info, n, now_ms() + 1000);
      ::close(fd);
      return;
    }
    if (req != kRequestAttach || nviewers == kMaxViewers) {
      static const char msg[] = "refused: unknown request, or too many viewers (16)";
      send_frame(fd, kFrameRefused, msg, sizeof msg - 1, now_ms() + 1000);
      ::close(fd);
      return;
    }
    attach(fd);
  }

  // ---- The thread ----------------------------------------------------------------------
  // quiet: the exiting thread is itself inside an allocator call (exit() from a signal handler
  // that interrupted malloc), so the world cannot be stopped for a last sync.
  void goodbye(bool quiet) {
    if (streaming() && quiet) {
      drop_all("the process exited from inside an allocator call: the stream ends at the last sync point");
    } else if (streaming()) {
      sync(true); // an exact snapshot: `heapviz check` verifies the final state against it
      broadcast(kFrameExit, nullptr, 0);
      while (nviewers)
        drop(nviewers - 1);
      detach();
    }
    if (streaming()) core->trace_sink().close_stream(); // nobody takes blocks any more: stop making them
    for (int i = 0; i < npending; ++i)
      ::close(pending[i].fd);
    npending = 0;
    ::close(listen_fd);
    ::unlink(path);
    __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    syscall(SYS_futex, &done, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
  }

  void run() {
    pollfd pf[3 + kMaxViewers + kMaxPending];
    for (;;) {
      int n = 0;
      pf[n++] = {wake_rd, POLLIN, 0};
      pf[n++] = {listen_fd, POLLIN, 0};
      // While blocks keep coming, collect them once a millisecond instead of being woken for
      // each (a wakeup per block cost the program more than the copying); when the stream goes
      // quiet, wait for it again: say so (ring_sleeping) unless a block came meanwhile.
      bool wait_ring = !busy_stream, came = false;
      if (wait_ring) {
        ring_lock.lock();
        came = ring_head != ring_tail;
        ring_sleeping = !came;
        ring_lock.unlock();
        if (came) wait_ring = false, busy_stream = true;
      }
      pf[n++] = {ring_fd, static_cast<short>(wait_ring ? POLLIN : 0), 0};
      const int first_viewer = n;
      for (int i = 0; i < nviewers; ++i)
        pf[n++] = {viewers[i], POLLIN, 0};
      const int first_pending = n;
      for (int i = 0; i < npending; ++i)
        pf[n++] = {pending[i].fd, POLLIN, 0};
      uint64_t now = now_ms();
      int timeout = -1;
      if (streaming()) {
        uint64_t since = now - last_sync;
        timeout = since >= uint64_t(kSyncEveryMs) ? 0 : int(kSyncEveryMs - since);
      }
      for (int i = 0; i < npending; ++i) {
        int left = pending[i].deadline > now ? int(pending[i].deadline - now) : 0;
        timeout = timeout < 0 || left < timeout ? left : timeout;
      }
      if (busy_stream) timeout = timeout < 0 || timeout > 1 ? 1 : timeout;
      if (came) timeout = 0;
      int r = ::poll(pf, static_cast<nfds_t>(n), timeout);
      bool drained = false;
      if (wait_ring) {
        ring_lock.lock();
        ring_sleeping = false;
        ring_lock.unlock();
      }
      if (r < 0 && errno != EINTR) { // should not happen: do not spin, do not die
        timespec ts{0, 10000000};
        nanosleep(&ts, nullptr);
        continue;
      }
      if (r > 0) {
        if (pf[0].revents) {
          char c = 0;
          ssize_t k = ::read(wake_rd, &c, 1);
          return goodbye(k == 1 && c == 'q');
        }
        if (pf[2].revents & POLLIN) {
          busy_stream = drain() > 0;
          drained = true;
        }
        // A viewer sends nothing after its request: readable means it closed (or misbehaves).
        for (int i = first_pending - 1; i >= first_viewer; --i) {
          if (!pf[i].revents) continue;
          int v = 0;
          while (v < nviewers && viewers[v] != pf[i].fd)
            ++v;
          if (v == nviewers) continue; // dropped meanwhile
          char junk[64];
          ssize_t k = ::recv(pf[i].fd, junk, sizeof junk, MSG_DONTWAIT);
          if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) drop(v);
        }
        // Pending connections that spoke (their slots shift as they go: walk from the end).
        for (int i = n - 1; i >= first_pending; --i) {
          if (!pf[i].revents) continue;
          int k = 0;
          while (k < npending && pending[k].fd != pf[i].fd)
            ++k;
          if (k == npending) continue;
          int fd = pending[k].fd;
          pending[k] = pending[--npending];
          answer(fd);
        }
        if (pf[1].revents & POLLIN) accept_one();
      }
      // (Not right after the drain above: the ring is empty then, and busy_stream would drop at
      // once, so that every block woke this thread again: 990 wakeups in a 1000-block churn, 12
      // ms of the program's time in eventfd_write, bench/README.md 2026-12-07 20:15.)
      if (busy_stream && !drained) busy_stream = drain() > 0;
      now = now_ms();
      for (int i = npending - 1; i >= 0; --i) // silent for a second: closed
        if (pending[i].deadline <= now) {
          ::close(pending[i].fd);
          pending[i] = pending[--npending];
        }
      if (streaming() && nviewers == 0) detach();
      if (streaming() && nviewers > 0 && now - last_sync >= uint64_t(kSyncEveryMs)) sync(verify);
    }
  }
  static void* thread_main(void* self) {
    static_cast<Server*>(self)->run();
    return nullptr;
  }

  // ---- Setup ---------------------------------------------------------------------------
  // The directory must be ours and private: anyone who can write it could stand in for us.
  static bool private_dir(const char* dir) {
    if (::mkdir(dir, 0700) != 0 && errno != EEXIST) {
      say("cannot create ", dir, ": not listening");
      return false;
    }
    struct stat st;
    if (::lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
      say(dir, " is not a private directory of this user (mode 0700): not listening");
      return false;
    }
    return true;
  }

  bool listen_at(const char* dir) {
    size_t n = strlen(dir);
    char num[24];
    put_decimal(num, sizeof num, static_cast<unsigned long>(getpid()));
    if (n + 1 + strlen(num) + 5 >= sizeof path) {
      say("socket path too long under ", dir);
      return false;
    }
    memcpy(path, dir, n);
    path[n] = '/';
    memcpy(path + n + 1, num, strlen(num));
    memcpy(path + n + 1 + strlen(num), ".sock", 6);
    listen_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd < 0) return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, path, strlen(path) + 1);
    ::unlink(path); // a stale socket of an earlier process with our pid
    if (::bind(listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd, 8) != 0) {
      say("cannot listen on ", path);
      ::close(listen_fd);
      listen_fd = -1;
      return false;
    }
    return true;
  }

  bool start(Core* c) {
    core = c;
    char dir[sizeof path];
    if (!socket_dir(dir, sizeof dir) || !private_dir(dir) || !listen_at(dir)) return false;
    ring_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (ring_fd < 0) return false;
    int wp[2];
    if (::pipe2(wp, O_CLOEXEC) != 0) return false;
    wake_rd = wp[0];
    wake_wr = wp[1];
    void* m =
        ::mmap(nullptr, kRingSlots * kSlotBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return false;
    ring = static_cast<uint8_t*>(m);
    core->live_enable();
    // The thread: every signal blocked (the program's handlers must never run on it), and
    // glibc's own allocation for it (its TLS vector) kept out of the heap.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    core->set_private_alloc(true);
    // pthread_create marks the process multi-threaded for good, and the allocator (as glibc)
    // would then lock arenas and count events atomically for a program that has one thread.
    // The live thread touches the heap only while every other thread is stopped at the gate, and
    // calls nothing in libc that takes a lock: for the program, the process stays as single-
    // threaded as it was (until it creates a thread of its own: glibc clears the flag again).
    const bool was_single = __libc_single_threaded;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    int rc = pthread_create(&thread, &attr, thread_main, this);
    pthread_attr_destroy(&attr);
    core->set_private_alloc(false);
    if (was_single && rc == 0) __libc_single_threaded = true;
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (rc != 0) {
      say("cannot start the live thread: not listening");
      ::close(listen_fd);
      ::unlink(path);
      listen_fd = -1;
      return false;
    }
    return true;
  }
};

constinit Server g_server;

// Waits until the futex word becomes nonzero, at most about `seconds` (each wakeup restarts it).
void wait_set(int* word, time_t seconds) {
  timespec limit{seconds, 0};
  while (!__atomic_load_n(word, __ATOMIC_ACQUIRE))
    if (syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, 0, &limit, nullptr, 0) != 0 && errno == ETIMEDOUT) break;
}
constinit bool g_running = false;

} // namespace

void start(Core* core) {
  const char* v = getenv("HEAPVIZ_LIVE");
  if (!v || strcmp(v, "1") != 0) return;
  if (const char* out = getenv("HEAPVIZ_OUT"); out && *out) {
    say("HEAPVIZ_OUT is set: recording to a file, not listening");
    return;
  }
  if (const char* ver = getenv("HEAPVIZ_VERIFY")) g_server.verify = strtoull(ver, nullptr, 10) > 0;
  // The recording options that apply to a stream as to a file (heapviz run --precise-time,
  // --compress); HEAPVIZ_NO_CHILDREN=1: only the process `heapviz run` started listens.
  if (const char* v = getenv("HEAPVIZ_PRECISE_TIME")) core->trace_sink().set_precise_time(*v == '1');
  const char* w = getenv("HEAPVIZ_LIVE_WAIT");
  if (const char* nc = getenv("HEAPVIZ_NO_CHILDREN");
      nc && *nc == '1' && w && *w && strtol(w, nullptr, 10) != static_cast<long>(getpid()))
    return;
  // libzstd is loaded here (the constructor, outside any allocator call: dlopen allocates).
  if (const char* v = getenv("HEAPVIZ_COMPRESS"); v && atoi(v) > 0) {
    if (load_zstd())
      core->trace_sink().set_compression(atoi(v));
    else
      say("libzstd.so.1 cannot be loaded: the stream is sent uncompressed");
  }
  g_running = g_server.start(core);
  // HEAPVIZ_LIVE_WAIT=<pid> (set by `heapviz run` for the program it starts): that process
  // starts only once a viewer has attached (10 s at most), so the viewer sees it from its first
  // allocation on. Its children (another pid) do not wait; an image it execs does.
  // `heapviz run` also keeps a file <pid>.wait beside the socket while it is following: once it
  // has stopped (--seconds, Detach, the app closed), a later exec of this pid does not wait.
  // The file holds the pid of that `heapviz run`: one killed before it could remove the file
  // (SIGKILL) left it behind, and an exec would wait 10 s for nobody; a file whose `heapviz
  // run` is gone is removed instead.
  if (g_running && w && strtol(w, nullptr, 10) == static_cast<long>(getpid())) {
    char marker[sizeof g_server.path + 8];
    size_t n = strlen(g_server.path) - 5; // without ".sock"
    memcpy(marker, g_server.path, n);
    memcpy(marker + n, ".wait", 6);
    int err = errno;
    int fd = ::open(marker, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      char b[24] = {};
      ssize_t k = ::read(fd, b, sizeof b - 1);
      ::close(fd);
      long runner = k > 0 ? strtol(b, nullptr, 10) : 0;
      if (runner > 0 && ::kill(static_cast<pid_t>(runner), 0) != 0 && errno == ESRCH)
        ::unlink(marker); // its `heapviz run` is gone
      else
        wait_set(&g_server.attached_once, 10);
    }
    errno = err;
  }
}

void stop() {
  if (!g_running) return;
  g_running = false;
  char c = LiveGate::inside(g_server.core->platform().thread()) ? 'q' : 'x';
  if (::write(g_server.wake_wr, &c, 1) != 1) return;
  wait_set(&g_server.done, 5);
}

void settle() {
  if (!g_running || !g_server.streaming()) return;
  ThreadState& ts = g_server.core->platform().thread();
  while (ts.live_passed) // out of the call for good: the sync's stop of the world must not wait for us
    g_server.core->live_gate().leave(ts);
  uint64_t t0 = now_ms();
  timespec tick{0, 5 * 1000 * 1000};
  while (__atomic_load_n(&g_server.last_sync, __ATOMIC_ACQUIRE) <= t0 && now_ms() - t0 < 1500)
    nanosleep(&tick, nullptr);
}

void after_fork_child() {
  if (!g_running) return;
  g_running = false;
  // The live thread is the parent's; these descriptors are copies of its.
  if (g_server.streaming()) { // the child makes no blocks (its buffers hold the parent's events)
    g_server.core->trace_sink().after_fork_child(
        &g_real_thread_state); // first: resets the buffer list's lock
    g_server.core->trace_sink().close_stream();
  }
  for (int fd : {g_server.listen_fd, g_server.ring_fd, g_server.wake_rd, g_server.wake_wr})
    if (fd >= 0) ::close(fd);
  for (int i = 0; i < g_server.nviewers; ++i)
    ::close(g_server.viewers[i]);
  for (int i = 0; i < g_server.npending; ++i)
    ::close(g_server.pending[i].fd);
  g_server.nviewers = g_server.npending = 0;
  ::munmap(g_server.ring, kRingSlots * kSlotBytes);
  g_server.ring = nullptr;
  g_server.core->live_disable_in_child();
}

} // namespace hv::alloc::live_server
