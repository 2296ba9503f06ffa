// live_client.cpp - the viewer side of live attach; see live_client.h.
#include "live/live_client.h"

#include "heapviz/live_protocol.h"
#include "heapviz/trace_format.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace hv::live {
namespace {

std::string errno_text() {
  return strerror(errno);
}

// Reads exactly n bytes; false at EOF or error (errno 0 at a clean EOF before any byte).
bool read_full(int fd, void* data, size_t n) {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    ssize_t r = ::recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      if (r == 0) errno = 0;
      return false;
    }
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool write_full(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

std::string proc_cmdline(int pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/cmdline";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  std::string s;
  for (ssize_t i = 0; i < n; ++i)
    s += buf[i] ? buf[i] : ' ';
  while (!s.empty() && s.back() == ' ')
    s.pop_back();
  return s;
}

// Connects and sends the request byte. Returns the socket, or -1 with *err.
int connect_to(int pid, char request, std::string* err) {
  std::string path = socket_path(pid);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *err = "socket: " + errno_text();
    return -1;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    *err = path + ": path too long";
    ::close(fd);
    return -1;
  }
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  // A program that has just exec'd may have bound its socket and not yet listen()ed: a refused
  // connection is tried again for a moment.
  int rc = -1;
  for (int tries = 0; tries < 20; ++tries) {
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    if (rc == 0 || errno != ECONNREFUSED) break;
    usleep(10000);
  }
  if (rc != 0) {
    int e = errno;
    *err = path + ": " + strerror(e);
    if (e == ENOENT)
      *err = "process " + std::to_string(pid) + " is not attachable (no " + path +
             "; start it with HEAPVIZ_LIVE=1 and libhvalloc.so preloaded, e.g. `heapviz run -- PROGRAM`)";
    struct stat st;
    if (e == ECONNREFUSED && ::stat(("/proc/" + std::to_string(pid)).c_str(), &st) != 0) {
      // Killed without the chance to remove its socket (SIGKILL): say so, and clear it away.
      *err = "process " + std::to_string(pid) + " is gone: " + path + " was left behind by it (removed now)";
      ::unlink(path.c_str());
    }
    ::close(fd);
    errno = e;
    return -1;
  }
  // A process that refuses us may already have answered and closed: the answer is still there
  // to read, so a failed send is not the end.
  ssize_t sent = ::send(fd, &request, 1, MSG_NOSIGNAL);
  (void)sent;
  return fd;
}

// Reads one frame into body. False at EOF/error (errno 0 at a clean EOF) or an absurd frame.
bool read_frame(int fd, FrameHead* h, std::vector<uint8_t>* body, std::string* err) {
  if (!read_full(fd, h, sizeof *h)) return false;
  if (h->len > kMaxFrame) {
    *err = "bad frame from the process (type " + std::to_string(h->type) + ", " + std::to_string(h->len) +
           " bytes)";
    return false;
  }
  body->resize(h->len);
  return h->len == 0 || read_full(fd, body->data(), h->len);
}

} // namespace

std::string socket_dir_path() {
  char dir[4096];
  return socket_dir(dir, sizeof dir) ? std::string(dir) : std::string();
}

std::string socket_path(int pid) {
  return socket_dir_path() + "/" + std::to_string(pid) + ".sock";
}

std::string capture_name(const std::string& cmdline, int pid) {
  std::string first = cmdline.substr(0, cmdline.find(' '));
  std::string name = first.substr(first.rfind('/') + 1); // npos + 1 == 0: the whole word
  return "heapviz." + (name.empty() ? std::string("process") : name) + "." + std::to_string(pid) + ".hvt";
}

uint64_t socket_id(int pid) {
  struct stat st;
  if (stat(socket_path(pid).c_str(), &st) != 0) return 0;
  // The inode alone may be reused at once by the new socket: its change time tells them apart.
  return (uint64_t(st.st_ino) * 1000003u) ^
         (uint64_t(st.st_ctim.tv_sec) * 1000000000u + uint64_t(st.st_ctim.tv_nsec));
}

bool query(int pid, Target* out, std::string* err) {
  int fd = connect_to(pid, kRequestInfo, err);
  if (fd < 0) return false;
  timeval tv{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  FrameHead h{};
  std::vector<uint8_t> body;
  bool ok = read_frame(fd, &h, &body, err);
  ::close(fd);
  if (!ok) {
    if (err->empty()) *err = "process " + std::to_string(pid) + " did not answer";
    return false;
  }
  if (h.type == kFrameRefused) {
    *err = "process " + std::to_string(pid) + " " + std::string(body.begin(), body.end());
    return false;
  }
  if (h.type != kFrameInfo || body.size() < sizeof(InfoPayload)) {
    *err = "process " + std::to_string(pid) + " sent an unexpected answer";
    return false;
  }
  InfoPayload ip;
  memcpy(&ip, body.data(), sizeof ip);
  out->pid = static_cast<int>(ip.pid);
  out->heap_bytes = ip.heap_bytes;
  out->viewers = ip.viewers;
  std::string cmd;
  for (size_t i = sizeof ip; i < body.size(); ++i)
    cmd += body[i] ? char(body[i]) : ' ';
  while (!cmd.empty() && cmd.back() == ' ')
    cmd.pop_back();
  out->cmdline = cmd;
  return true;
}

std::vector<Target> list_targets() {
  std::vector<Target> out;
  std::string dir = socket_dir_path();
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  std::vector<int> pids;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    // <pid>.wait: `heapviz run` follows <pid> (cmd_live.cpp); left behind when both are gone.
    if (name.size() > 5 && name.compare(name.size() - 5, 5, ".wait") == 0) {
      std::string num = name.substr(0, name.size() - 5);
      struct stat st;
      if (num.find_first_not_of("0123456789") == std::string::npos &&
          stat(("/proc/" + num).c_str(), &st) != 0)
        ::unlink((dir + "/" + name).c_str());
      continue;
    }
    if (name.size() < 6 || name.compare(name.size() - 5, 5, ".sock") != 0) continue;
    std::string num = name.substr(0, name.size() - 5);
    if (num.empty() || num.find_first_not_of("0123456789") != std::string::npos) continue;
    pids.push_back(std::stoi(num));
  }
  closedir(d);
  std::sort(pids.begin(), pids.end());
  for (int pid : pids) {
    Target t;
    std::string err;
    if (query(pid, &t, &err)) {
      out.push_back(t);
      continue;
    }
    struct stat st;
    bool gone = stat(("/proc/" + std::to_string(pid)).c_str(), &st) != 0;
    if (gone || err.find("Connection refused") != std::string::npos) { // nobody listens: stale
      ::unlink(socket_path(pid).c_str());
      continue;
    }
    t.pid = pid;
    t.cmdline = proc_cmdline(pid);
    out.push_back(t);
  }
  return out;
}

// ---- Capture ---------------------------------------------------------------------------------

Capture::~Capture() {
  detach();
  wait();
  if (out_ >= 0) ::close(out_);
}

bool Capture::start(int pid, const std::string& out_path, std::string* err) {
  pid_ = pid;
  path_ = out_path;
  socket_id_ = live::socket_id(pid);
  fd_ = connect_to(pid, kRequestAttach, err);
  if (fd_ < 0) return false;
  // The first frame says yes (the trace header) or no.
  FrameHead h{};
  std::vector<uint8_t> body;
  timeval tv{10, 0}; // attaching stops the process's threads briefly; ten seconds is generous
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (!read_frame(fd_, &h, &body, err)) {
    if (err->empty())
      *err = "process " + std::to_string(pid) + " closed the connection" + (errno ? ": " + errno_text() : "");
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  if (h.type == kFrameRefused) {
    *err = "process " + std::to_string(pid) + " " + std::string(body.begin(), body.end());
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  if (h.type != kFrameTraceHeader || body.size() < sizeof(trace::FileHeader)) {
    *err = "process " + std::to_string(pid) + " sent an unexpected first frame";
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  timeval none{0, 0};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
  out_ = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out_ < 0 || !write_full(out_, body.data(), body.size())) {
    *err = out_path + ": " + errno_text();
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  {
    trace::FileHeader fh;
    memcpy(&fh, body.data(), sizeof fh);
    std::string cmd;
    for (size_t i = sizeof fh; i < body.size() && i < sizeof fh + fh.cmdline_len; ++i)
      cmd += body[i] ? char(body[i]) : ' ';
    while (!cmd.empty() && cmd.back() == ' ')
      cmd.pop_back();
    std::lock_guard<std::mutex> g(mu_);
    cmdline_ = cmd;
  }
  bytes_ = body.size();
  synced_bytes_ = body.size();
  thread_ = std::thread([this] { run(); });
  return true;
}

void Capture::run() {
  std::vector<uint8_t> body;
  body.reserve(128 * 1024);
  uint64_t events = 0;
  for (;;) {
    FrameHead h{};
    std::string err;
    if (!read_frame(fd_, &h, &body, &err)) {
      if (detaching_.load())
        end_with(End::Detached, "");
      else if (!err.empty())
        end_with(End::Failed, err);
      else
        end_with(End::Lost, "the connection closed before the process said goodbye (it was killed, "
                            "crashed, called _exit, or dropped this viewer for not reading)");
      return;
    }
    switch (h.type) {
    case kFrameBlock: {
      if (!write_full(out_, body.data(), body.size())) {
        end_with(End::Failed, path_ + ": " + errno_text());
        return;
      }
      if (body.size() >= sizeof(trace::BlockHeader)) {
        trace::BlockHeader bh;
        memcpy(&bh, body.data(), sizeof bh);
        events += bh.nevents;
      }
      bytes_.fetch_add(body.size(), std::memory_order_acq_rel);
      events_.store(events, std::memory_order_release);
      break;
    }
    case kFrameSync: {
      if (body.size() >= sizeof(SyncPayload)) {
        SyncPayload s;
        memcpy(&s, body.data(), sizeof s);
        heap_bytes_.store(s.heap_bytes, std::memory_order_release);
      }
      synced_events_.store(events, std::memory_order_release);
      synced_bytes_.store(bytes_.load(), std::memory_order_release);
      syncs_.fetch_add(1, std::memory_order_acq_rel);
      break;
    }
    case kFrameExit:
      end_with(End::Exited, "");
      return;
    case kFrameRefused: // the process ended this stream, saying why
      end_with(End::Lost, "the process ended the stream: " + std::string(body.begin(), body.end()));
      return;
    default:
      break; // frames of a later version: skipped
    }
  }
}

void Capture::end_with(End e, const std::string& msg) {
  {
    std::lock_guard<std::mutex> g(mu_);
    message_ = msg;
  }
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
  end_.store(e, std::memory_order_release);
}

void Capture::detach() {
  if (fd_ < 0 || !running()) return;
  detaching_ = true;
  ::shutdown(fd_, SHUT_RDWR);
}

void Capture::wait() {
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

std::string Capture::finish() {
  wait();
  uint64_t keep = synced_bytes(), got = bytes();
  if (out_ >= 0) {
    if (got > keep && ::ftruncate(out_, static_cast<off_t>(keep)) != 0) return path_ + ": " + errno_text();
    ::close(out_);
    out_ = -1;
  }
  if (got > keep)
    return "kept the trace up to the last sync point (" + std::to_string(synced_events()) + " events); " +
           std::to_string(got - keep) +
           " bytes received after it were cut: the stream ended without a last sync (the process died "
           "or the connection broke), so they may lack events its threads had not handed over, and a "
           "trace must not skip any";
  return {};
}

std::string Capture::message() const {
  std::lock_guard<std::mutex> g(mu_);
  return message_;
}

std::string Capture::cmdline() const {
  std::lock_guard<std::mutex> g(mu_);
  return cmdline_;
}

} // namespace hv::live
