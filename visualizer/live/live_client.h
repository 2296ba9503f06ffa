// live_client.h - the viewer side of live attach (docs/live.md): find attachable processes,
// and capture one's stream into a normal trace file while it runs.
//
// Owns: the socket directory walk (`heapviz ps`), the Info query, the connection and its frames,
// the capture thread (writes the trace header and blocks to the file as they arrive; remembers
// the file size at the last sync point, up to which the trace is complete), and how the stream
// ended. Used by the CLI (`ps`, `attach --out`) and the app's live mode.
// Must not: include ImGui or GL.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hv::live {

std::string socket_dir_path();
std::string socket_path(int pid);
// Which socket file pid listens on now (0: none). It changes when the process execs a program
// that listens anew under the same pid (a launcher script becoming the real program).
uint64_t socket_id(int pid);

// Where a capture of pid is kept by default: heapviz.<program>.<pid>.hvt, the program being the
// last path component of the command line's first word ("process" if there is none).
std::string capture_name(const std::string& cmdline, int pid);

struct Target {
  int pid = 0;
  std::string cmdline;     // arguments separated by spaces
  uint64_t heap_bytes = 0; // the process's heap footprint now
  uint32_t viewers = 0;    // attached now
};
// The processes listening in this user's socket directory. Sockets whose process is gone are
// removed. A process that does not answer within a second is listed with what /proc says.
std::vector<Target> list_targets();
// Asks one process for its Info. False (and *err) if it cannot be reached.
bool query(int pid, Target* out, std::string* err);

class Capture {
public:
  enum class End { Running, Exited, Lost, Detached, Failed };

  Capture() = default;
  ~Capture();
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  // Connects to pid, asks to attach, and receives into out_path (created or truncated) on a
  // thread. False (and *err) if the process cannot be reached or refuses.
  bool start(int pid, const std::string& out_path, std::string* err);
  // Detaches: the process carries on without this viewer. The thread ends soon after.
  void detach();
  // Waits for the thread to end (the process exited, the connection dropped, or detach()).
  void wait();
  // After wait(): cuts the file at the last sync point, so it holds a complete trace (what
  // arrived after it may miss events still in other threads' buffers). Returns a note for
  // the user ("" if nothing was cut).
  std::string finish();

  End end() const { return end_.load(std::memory_order_acquire); }
  bool running() const { return end() == End::Running; }
  std::string message() const; // why it ended, for Lost and Failed
  const std::string& path() const { return path_; }
  int pid() const { return pid_; }
  // The socket attached to (live::socket_id, read before connecting): when the process execs a
  // program that listens anew, the socket changes.
  uint64_t socket_id() const { return socket_id_; }
  std::string cmdline() const; // from the trace header
  // Progress, readable from any thread.
  uint64_t bytes() const { return bytes_.load(std::memory_order_acquire); }
  uint64_t synced_bytes() const { return synced_bytes_.load(std::memory_order_acquire); }
  uint64_t synced_events() const { return synced_events_.load(std::memory_order_acquire); }
  uint64_t events() const { return events_.load(std::memory_order_acquire); }
  uint64_t heap_bytes() const { return heap_bytes_.load(std::memory_order_acquire); }
  uint64_t syncs() const { return syncs_.load(std::memory_order_acquire); }

private:
  void run();
  void end_with(End e, const std::string& msg);

  int fd_ = -1;
  int out_ = -1;
  int pid_ = 0;
  uint64_t socket_id_ = 0;
  std::string path_;
  std::thread thread_;
  std::atomic<End> end_{End::Running};
  std::atomic<bool> detaching_{false};
  std::atomic<uint64_t> bytes_{0}, synced_bytes_{0}, events_{0}, synced_events_{0}, heap_bytes_{0}, syncs_{0};
  mutable std::mutex mu_;
  std::string message_, cmdline_;
};

} // namespace hv::live
