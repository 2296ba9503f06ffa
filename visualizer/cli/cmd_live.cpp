// cmd_live.cpp - `heapviz ps`, `heapviz attach PID [--out FILE [--seconds S]]` and
// `heapviz run [--out FILE] -- PROGRAM [ARGS...]`: live attach from the command line
// (docs/live.md). Capturing needs no GUI; following in the app goes through follow_in_app
// (cmd_gui.cpp), so this file never includes app/.
#include "cli/commands.h"

#include "live/live_client.h"
#include "views/chunk_layout.h" // human_bytes

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace hv::cli {
namespace {

volatile sig_atomic_t g_interrupted = 0;
void on_interrupt(int) {
  g_interrupted = 1;
}

bool parse_pid(const char* s, int* pid) {
  char* end = nullptr;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v <= 0 || v > 4194304) return false;
  *pid = static_cast<int>(v);
  return true;
}

// Captures pid into out until it exits, `seconds` pass (0: no limit), or Ctrl-C. Prints a
// one-line summary. Exit status: 0, or 1 if the capture failed.
// exec_follows (for `heapviz run`): when the stream is lost, true if the process exec'd another
// program (which listens anew): then this capture ends quietly and the caller attaches again.
// cmd: the command whose name its messages carry ("attach", "run").
int capture(const char* cmd, int pid, const std::string& out, double seconds,
            live::Capture::End* ended = nullptr, const std::function<bool()>& exec_follows = {}) {
  live::Capture cap;
  std::string err;
  if (!cap.start(pid, out, &err)) {
    fprintf(stderr, "heapviz %s: %s\n", cmd, err.c_str());
    return 1;
  }
  if (!exec_follows)
    fprintf(stderr, "heapviz %s: capturing pid %d (%s) into %s%s\n", cmd, pid, cap.cmdline().c_str(),
            out.c_str(), seconds > 0 ? "" : " until it exits (Ctrl-C detaches)");
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  struct sigaction old_int {};
  sigaction(SIGINT, &sa, &old_int);
  auto t0 = std::chrono::steady_clock::now();
  while (cap.running() && !g_interrupted) {
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (seconds > 0 && s >= seconds) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  sigaction(SIGINT, &old_int, nullptr);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  cap.detach();
  std::string note = cap.finish();
  const char* how = "";
  switch (cap.end()) {
  case live::Capture::End::Exited:
    how = "the process exited";
    break;
  case live::Capture::End::Detached:
    how = "detached; the process carries on";
    break;
  case live::Capture::End::Lost:
    how = "the connection was lost";
    break;
  case live::Capture::End::Failed:
    how = "the capture failed";
    break;
  case live::Capture::End::Running:
    how = "stopped";
    break;
  }
  if (ended) *ended = cap.end();
  if (cap.end() == live::Capture::End::Lost && exec_follows && exec_follows()) return 0;
  fprintf(stderr, "heapviz %s: %s: %llu events (%s) from pid %d in %.1f s; %s\n", cmd, out.c_str(),
          static_cast<unsigned long long>(cap.synced_events()),
          views::human_bytes(cap.synced_bytes()).c_str(), pid, secs, how);
  if (!cap.message().empty()) fprintf(stderr, "heapviz %s: %s\n", cmd, cap.message().c_str());
  if (!note.empty()) fprintf(stderr, "heapviz %s: %s\n", cmd, note.c_str());
  return cap.end() == live::Capture::End::Failed ? 1 : 0;
}

// While this file exists, the program `heapviz run` started waits for a viewer at each exec. It
// holds the pid of that `heapviz run`: if that process is gone (killed before it could remove the
// file), the program removes it instead of waiting, and `heapviz ps` clears such leftovers.
std::string wait_marker(int pid) {
  return live::socket_dir_path() + "/" + std::to_string(pid) + ".wait";
}

// Waits (10 s at most) until pid listens on a socket other than inode `old` (0: any). False if
// it did not; *reaped (and *status) if that is because the process exited.
bool wait_for_socket(int pid, uint64_t old, int* status, bool* reaped) {
  for (int tries = 0; tries < 1000; ++tries) {
    uint64_t now = live::socket_id(pid);
    if (now && now != old) return true;
    if (waitpid(pid, status, WNOHANG) == pid) {
      *reaped = true;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

} // namespace

const CommandSpec kPsSpec = {
    .name = "ps",
    .brief = "list the processes you can attach to",
    .synopsis = "",
    .summary = "list the processes you can attach to (started with heapviz run, or HEAPVIZ_LIVE=1)",
    .options = {},
    .examples = "heapviz ps",
    .min_args = 0,
    .max_args = 0,
    .see = "docs/live.md",
};

int cmd_ps(int argc, char** argv) {
  Args args;
  if (int rc = args.parse(kPsSpec, argc, argv); rc >= 0) return rc;
  auto targets = live::list_targets();
  if (targets.empty()) {
    printf(
        "no attachable processes in %s\n(start one with `heapviz run -- PROGRAM`, or with HEAPVIZ_LIVE=1 and "
        "LD_PRELOAD=libhvalloc.so)\n",
        live::socket_dir_path().c_str());
    return 0;
  }
  printf("%8s  %10s  %7s  %s\n", "PID", "HEAP", "VIEWERS", "COMMAND");
  for (const auto& t : targets)
    printf("%8d  %10s  %7u  %s\n", t.pid, t.heap_bytes ? views::human_bytes(t.heap_bytes).c_str() : "?",
           t.viewers, t.cmdline.c_str());
  return 0;
}

const CommandSpec kAttachSpec = {
    .name = "attach",
    .brief = "follow (or capture) a running process's heap",
    .synopsis = "[--out FILE [--seconds S]] [--shot OUT.png --seconds S] PID",
    .summary = "follow a running process's heap in the app (one started with heapviz run, or with\n"
               "HEAPVIZ_LIVE=1); with --out, capture it to a trace instead",
    .options = {{"--out", "-o", "FILE", "capture to this trace instead of opening the app"},
                {"--seconds", nullptr, "S", "stop after S seconds (default: when the process exits)"},
                {"--shot", nullptr, "OUT.png", "save a screenshot of the app after --seconds S, then quit"}},
    .examples = "heapviz ps\n"
                "heapviz attach 4242\n"
                "heapviz attach --out server.hvt --seconds 30 4242",
    .see = "docs/live.md",
};

// A positive number of seconds, or 0 with a message (returned status 2 in *rc).
static bool parse_seconds(const CommandSpec& spec, const Args& args, double* seconds, int* rc) {
  const char* v = args.value("--seconds");
  if (!v) return true;
  char* end = nullptr;
  *seconds = strtod(v, &end);
  if (*end || !(*seconds > 0)) {
    *rc = usage_error(spec, std::string("--seconds '") + v + "' is not a positive number");
    return false;
  }
  return true;
}

int cmd_attach(int argc, char** argv) {
  Args args;
  if (int rc = args.parse(kAttachSpec, argc, argv); rc >= 0) return rc;
  int pid = 0, rc = 2;
  std::string out = args.value("--out") ? args.value("--out") : "";
  std::string shot = args.value("--shot") ? args.value("--shot") : "";
  double seconds = 0;
  if (!parse_seconds(kAttachSpec, args, &seconds, &rc)) return rc;
  if (!parse_pid(args.positionals()[0], &pid))
    return usage_error(kAttachSpec, std::string("'") + args.positionals()[0] +
                                        "' is not a process id (heapviz ps lists them)");
  if (!out.empty()) return capture("attach", pid, out, seconds);
  if (!has_gui()) return no_gui("attach", "capture with --out FILE instead");
  live::Target t;
  std::string err;
  if (!live::query(pid, &t, &err)) {
    fprintf(stderr, "heapviz attach: %s\n", err.c_str());
    return 1;
  }
  return follow_in_app("attach", pid, live::capture_name(t.cmdline, pid), shot, seconds);
}

const CommandSpec kRunSpec = {
    .name = "run",
    .brief = "start a program and follow its heap live in the app",
    .synopsis = "[--out FILE | --shot OUT.png] [--seconds S] [--break-on-error] [--break-at N]\n"
                "                   [--verify N] [--compress [LEVEL]] [--precise-time] [--no-children]\n"
                "                   [--python-malloc] [--] PROGRAM [ARGS...]",
    .summary = "start a program on libhvalloc with live attach on and follow its heap in the app (or\n"
               "capture it into a trace)",
    .options = RecordOptions::declare(
        {{"--out", "-o", "FILE", "capture to this trace instead of opening the app"},
         {"--shot", nullptr, "OUT.png", "save a screenshot of the app after --seconds S, then quit"},
         {"--seconds", nullptr, "S", "stop following after S seconds"},
         {"--break-on-error", nullptr, nullptr,
          "stop the program (SIGSTOP) at the call where a heap error is found, before\n"
          "its abort, and print the gdb -p PID line",
          "HEAPVIZ_BREAK_ON_ERROR=1"},
         {"--break-at", nullptr, "N", "stop the program after the call that reaches event N",
          "HEAPVIZ_BREAK_AT"}}),
    .examples = "heapviz run -- ./server --port 8080\n"
                "heapviz run --out server.hvt --seconds 10 -- ./server\n"
                "heapviz run --break-on-error -- ./buggy",
    .program = true,
    .see = "docs/live.md",
};

int cmd_run(int argc, char** argv) {
  Args args;
  if (int rc = args.parse(kRunSpec, argc, argv); rc >= 0) return rc;
  std::string out = args.value("--out") ? args.value("--out") : "";
  std::string shot = args.value("--shot") ? args.value("--shot") : "";
  std::string break_at = args.value("--break-at") ? args.value("--break-at") : "";
  bool break_on_error = args.has("--break-on-error");
  double seconds = 0;
  if (int rc = 2; !parse_seconds(kRunSpec, args, &seconds, &rc)) return rc;
  RecordOptions opts; // --verify, --compress, --precise-time, --no-children, --python-malloc
  if (!opts.read(kRunSpec, args)) return 2;
  if (!break_at.empty()) {
    char* end = nullptr;
    if (strtoull(break_at.c_str(), &end, 10) == 0 || *end)
      return usage_error(kRunSpec, "--break-at '" + break_at + "' is not an event number (1 or more)");
  }
  char** prog = args.program(); // the program and its arguments
  if (out.empty() && !has_gui()) return no_gui("run", "capture with --out FILE instead");
  if (std::string why = out.empty() ? "" : trace_unwritable(out); !why.empty()) {
    fprintf(stderr, "heapviz run: cannot write the capture to %s: %s\n", out.c_str(), why.c_str());
    return 2;
  }
  std::string lib = find_library();
  if (lib.empty()) {
    fprintf(stderr, "heapviz run: cannot find libhvalloc.so next to heapviz (set HEAPVIZ_LIB)\n");
    return 2;
  }
  const char* dpy = getenv("DISPLAY");
  const char* wl = getenv("WAYLAND_DISPLAY");
  if (out.empty() && (!dpy || !*dpy) && (!wl || !*wl)) { // say so before the program starts
    fprintf(stderr, "heapviz run: no display for the app: set DISPLAY, run under xvfb-run, or capture "
                    "with --out FILE\n");
    return 2;
  }
  pid_t child = fork();
  if (child < 0) {
    fprintf(stderr, "heapviz run: fork: %s\n", strerror(errno));
    return 2;
  }
  if (child == 0) {
    std::string preload = lib;
    if (const char* old = getenv("LD_PRELOAD"); old && *old) preload += std::string(":") + old;
    setenv("LD_PRELOAD", preload.c_str(), 1);
    setenv("HEAPVIZ_LIVE", "1", 1);
    setenv("HEAPVIZ_LIVE_WAIT", std::to_string(getpid()).c_str(), 1); // this pid waits for us...
    std::string dir = live::socket_dir_path();                        // ...while this file is there
    mkdir(dir.c_str(), 0700);
    if (FILE* f = fopen(wait_marker(getpid()).c_str(), "w")) { // our pid: while it lives, we follow
      fprintf(f, "%d\n", static_cast<int>(getppid()));
      fclose(f);
    }
    unsetenv("HEAPVIZ_OUT");
    if (break_on_error) setenv("HEAPVIZ_BREAK_ON_ERROR", "1", 1);
    if (!break_at.empty()) setenv("HEAPVIZ_BREAK_AT", break_at.c_str(), 1);
    opts.apply();
    execvp(prog[0], prog);
    fprintf(stderr, "heapviz run: %s: %s\n", prog[0], strerror(errno));
    _exit(127);
  }
  // Wait for its socket (the library's constructor creates it, then waits for us before main
  // runs: HEAPVIZ_LIVE_WAIT).
  int status = 0;
  bool exited = false;
  int rc = 0;
  if (!wait_for_socket(child, 0, &status, &exited)) {
    fprintf(stderr, "heapviz run: %s %s\n", prog[0],
            exited ? "exited before it could be attached to" : "did not start listening within 10 s");
  } else if (!out.empty()) {
    // A launcher script (a pyenv shim, env, sh -c) execs the real program, which listens anew
    // under the same pid: follow it there (the capture then holds the program that ran last).
    for (bool more = true; more;) {
      live::Capture::End end{};
      uint64_t ino = live::socket_id(child); // before attaching: an exec may follow at once
      more = false;
      rc = capture("run", child, out, seconds, &end,
                   [&] { return more = wait_for_socket(child, ino, &status, &exited); });
    }
  } else {
    rc = follow_in_app("run", child, live::capture_name(prog[0], child), shot, seconds);
  }
  unlink(wait_marker(child).c_str()); // no longer following: a later exec of it must not wait
  if (!exited) {
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
  }
  // A lost connection has its reason here: say it, as `record` does (a heap error's abort).
  if (rc != 2 && WIFSIGNALED(status))
    fprintf(stderr, "heapviz run: %s was killed by signal %d (%s); the capture holds what it sent before\n",
            prog[0], WTERMSIG(status), strsignal(WTERMSIG(status)));
  // The program's status comes through whatever happened to the viewer (a program that ends
  // before we connect is not an error of ours); only a broken viewer setup says otherwise.
  if (rc == 2) return rc;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 0;
}

} // namespace hv::cli
