// live_server.cpp - the listening side of live attach; see live_server.h and docs/live.md.
#include "live_server.h"

#include "heapviz/live_protocol.h"
#include "malloc_core_impl.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
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
constexpr size_t kRecvBytes = 256 * 1024;

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
  int stream_rd = -1, stream_wr = -1; // the allocator's threads write blocks; we read them
  int wake_rd = -1, wake_wr = -1;     // stop() asks the thread to say goodbye
  int done = 0;                       // futex word: the goodbye is sent
  char path[sizeof(sockaddr_un::sun_path)] = {};
  int viewers[kMaxViewers] = {};
  int nviewers = 0;
  bool streaming = false;
  uint8_t* buf = nullptr; // kRecvBytes, mmapped
  uint64_t last_sync = 0;
  bool verify = false; // HEAPVIZ_VERIFY set: every sync carries an exact snapshot
  pthread_t thread{};

  // ---- Sending -------------------------------------------------------------------------
  // Sends all of it, waiting up to kViewerTimeoutMs for room. False: the viewer is gone or stuck.
  static bool send_all(int fd, const void* data, size_t n) {
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
        pollfd pf{fd, POLLOUT, 0};
        int r = ::poll(&pf, 1, kViewerTimeoutMs);
        if (r > 0 && !(pf.revents & (POLLERR | POLLHUP))) continue;
      }
      return false;
    }
    return true;
  }
  static bool send_frame(int fd, uint32_t type, const void* data, size_t n) {
    FrameHead h{type, static_cast<uint32_t>(n)};
    return send_all(fd, &h, sizeof h) && (n == 0 || send_all(fd, data, n));
  }
  // Closes one viewer. When the last one goes, run() detaches at its next turn (not here: a
  // drop can happen in the middle of a flush).
  void drop(int i) {
    ::close(viewers[i]);
    viewers[i] = viewers[--nviewers];
  }
  void broadcast(uint32_t type, const void* data, size_t n) {
    for (int i = 0; i < nviewers;)
      if (send_frame(viewers[i], type, data, n))
        ++i;
      else
        drop(i);
  }
  static void on_block(void* ctx, const void* data, size_t n) {
    static_cast<Server*>(ctx)->broadcast(kFrameBlock, data, n);
  }

  // Blocks the allocator's threads have written so far go to the viewers attached now.
  void drain() {
    for (;;) {
      ssize_t n = ::recv(stream_rd, buf, kRecvBytes, MSG_DONTWAIT);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        return;
      }
      if (nviewers) broadcast(kFrameBlock, buf, static_cast<size_t>(n));
    }
  }

  // ---- The world stop ------------------------------------------------------------------
  void stop_world() {
    core->live_gate().stop([this] {
      drain(); // a thread blocked sending a block cannot leave its call until we read
      timespec ts{0, 20000};
      nanosleep(&ts, nullptr);
    });
    drain();
  }
  // With every thread outside the allocator: their partial blocks go out now.
  void flush_buffers() {
    TraceSink& sink = core->trace_sink();
    sink.set_block_fn(on_block, this);
    sink.flush_all();
    sink.set_block_fn(nullptr, nullptr);
  }
  void send_sync() {
    SyncPayload s{core->trace_sink().seq(), core->footprint_bytes()};
    broadcast(kFrameSync, &s, sizeof s);
    last_sync = now_ms();
  }
  // An exact snapshot, flushed at once (the world is stopped).
  void snapshot(bool baseline) {
    if (baseline) core->trace_regions();
    core->trace_snapshot(baseline, true);
    if (baseline) core->trace_mmapped_chunks();
    flush_buffers();
  }

  void sync(bool with_snapshot) {
    stop_world();
    flush_buffers();
    if (with_snapshot) snapshot(false);
    send_sync();
    core->live_gate().start();
  }

  void attach(int fd) {
    stop_world();
    TraceSink& sink = core->trace_sink();
    if (streaming) flush_buffers(); // everything before the new viewer's snapshot: for the others only
    static uint8_t header[TraceSink::kHeaderMax];
    uint64_t params[trace::kNumParams] = {};
    uint64_t heap_base = 0;
    core->header_params(params, &heap_base);
    size_t hn = sink.make_header(header, "glibc-2.36", params, heap_base, trace::kFileSnapshots,
                                 static_cast<uint32_t>(core->platform().pagesize()));
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    if (!send_frame(fd, kFrameTraceHeader, header, hn)) {
      ::close(fd);
      core->live_gate().start();
      return;
    }
    viewers[nviewers++] = fd;
    if (!streaming) {
      sink.open_stream(stream_wr);
      streaming = true;
    }
    snapshot(true);
    send_sync();
    core->live_gate().start();
  }
  // The last viewer left: back to no per-event work.
  void detach() {
    if (!streaming) return;
    core->live_gate().stop([this] { drain(); }); // no viewers: drain() discards
    core->trace_sink().close_stream();
    streaming = false;
    drain();
    core->live_gate().start();
  }

  // ---- Accepting -----------------------------------------------------------------------
  void accept_one() {
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || !peer_allowed(geteuid(), cred.uid)) {
      static const char msg[] = "refused: a viewer must run as the same user as the process";
      send_frame(fd, kFrameRefused, msg, sizeof msg - 1);
      ::close(fd);
      return;
    }
    timeval tv{1, 0}; // a client that connects must say what it wants within a second
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int sndbuf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    char req = 0;
    if (::recv(fd, &req, 1, 0) != 1) {
      ::close(fd);
      return;
    }
    if (req == kRequestInfo) {
      char info[sizeof(InfoPayload) + 4096];
      InfoPayload ip{static_cast<uint32_t>(getpid()), static_cast<uint32_t>(nviewers),
                     core->footprint_bytes(), streaming ? core->trace_sink().seq() : 0};
      memcpy(info, &ip, sizeof ip);
      size_t n = sizeof ip;
      int cfd = ::open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
      if (cfd >= 0) {
        ssize_t r = ::read(cfd, info + n, sizeof info - n);
        if (r > 0) n += static_cast<size_t>(r);
        ::close(cfd);
      }
      send_frame(fd, kFrameInfo, info, n);
      ::close(fd);
      return;
    }
    if (req != kRequestAttach || nviewers == kMaxViewers) {
      static const char msg[] = "refused: unknown request, or too many viewers (16)";
      send_frame(fd, kFrameRefused, msg, sizeof msg - 1);
      ::close(fd);
      return;
    }
    attach(fd);
  }

  // ---- The thread ----------------------------------------------------------------------
  void goodbye() {
    if (streaming) {
      sync(true); // an exact snapshot: `heapviz check` verifies the final state against it
      broadcast(kFrameExit, nullptr, 0);
      while (nviewers)
        drop(nviewers - 1);
      detach();
    }
    ::close(listen_fd);
    ::unlink(path);
    __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    syscall(SYS_futex, &done, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
  }

  void run() {
    pollfd pf[3 + kMaxViewers];
    for (;;) {
      int n = 0;
      pf[n++] = {wake_rd, POLLIN, 0};
      pf[n++] = {listen_fd, POLLIN, 0};
      pf[n++] = {stream_rd, POLLIN, 0};
      for (int i = 0; i < nviewers; ++i)
        pf[n++] = {viewers[i], POLLIN, 0};
      int timeout = -1;
      if (streaming) {
        uint64_t since = now_ms() - last_sync;
        timeout = since >= uint64_t(kSyncEveryMs) ? 0 : int(kSyncEveryMs - since);
      }
      int r = ::poll(pf, static_cast<nfds_t>(n), timeout);
      if (r < 0 && errno != EINTR) return;
      if (r > 0) {
        if (pf[0].revents) return goodbye();
        if (pf[2].revents & POLLIN) drain();
        // A viewer sends nothing after its request: readable means it closed (or misbehaves).
        for (int i = n - 1; i >= 3; --i)
          if (pf[i].revents) {
            char junk[64];
            ssize_t k = ::recv(pf[i].fd, junk, sizeof junk, MSG_DONTWAIT);
            if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
              for (int v = 0; v < nviewers; ++v)
                if (viewers[v] == pf[i].fd) {
                  drop(v);
                  break;
                }
          }
        if (pf[1].revents & POLLIN) accept_one();
      }
      if (streaming && nviewers == 0) detach();
      if (streaming && now_ms() - last_sync >= uint64_t(kSyncEveryMs)) sync(verify);
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
    int k = 0;
    unsigned long pid = static_cast<unsigned long>(getpid());
    char tmp[24];
    do {
      tmp[k++] = static_cast<char>('0' + pid % 10);
      pid /= 10;
    } while (pid);
    for (int i = 0; i < k; ++i)
      num[i] = tmp[k - 1 - i];
    num[k] = 0;
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
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return false;
    stream_rd = sv[0];
    stream_wr = sv[1];
    int sz = 4 << 20;
    setsockopt(stream_wr, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    setsockopt(stream_rd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    int wp[2];
    if (::pipe2(wp, O_CLOEXEC) != 0) return false;
    wake_rd = wp[0];
    wake_wr = wp[1];
    void* m = ::mmap(nullptr, kRecvBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return false;
    buf = static_cast<uint8_t*>(m);
    core->live_enable();
    // The thread: every signal blocked (the program's handlers must never run on it), and
    // glibc's own allocation for it (its TLS vector) kept out of the heap.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    core->set_private_alloc(true);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    int rc = pthread_create(&thread, &attr, thread_main, this);
    pthread_attr_destroy(&attr);
    core->set_private_alloc(false);
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
  g_running = g_server.start(core);
}

void stop() {
  if (!g_running) return;
  g_running = false;
  char c = 'x';
  if (::write(g_server.wake_wr, &c, 1) != 1) return;
  timespec limit{5, 0};
  while (!__atomic_load_n(&g_server.done, __ATOMIC_ACQUIRE))
    if (syscall(SYS_futex, &g_server.done, FUTEX_WAIT_PRIVATE, 0, &limit, nullptr, 0) != 0 &&
        errno == ETIMEDOUT)
      break;
}

void after_fork_child() {
  if (!g_running) return;
  g_running = false;
  // The live thread is the parent's; these descriptors are copies of its.
  for (int fd : {g_server.listen_fd, g_server.stream_rd, g_server.wake_rd, g_server.wake_wr})
    if (fd >= 0) ::close(fd);
  for (int i = 0; i < g_server.nviewers; ++i)
    ::close(g_server.viewers[i]);
  g_server.nviewers = 0;
  g_server.streaming = false;
  g_server.core->live_disable_in_child();
}

} // namespace hv::alloc::live_server
