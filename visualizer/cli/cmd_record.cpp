// cmd_record.cpp - `heapviz record [-o FILE] -- PROGRAM [ARGS...]`: run a program on
// libhvalloc.so with recording on, pass its output and exit status through, and say where the
// trace(s) went.
#include "cli/commands.h"

#include "cli/trace_summary.h"
#include "trace/event_stream.h"
#include "trace/process_tree.h"
#include "trace/salvage.h"
#include "trace/trace_file.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace hv::cli {

// libhvalloc.so next to this heapviz: <prefix>/bin/heapviz -> <prefix>/lib/libhvalloc.so.
// HEAPVIZ_LIB overrides it.
std::string find_library() {
  if (const char* lib = getenv("HEAPVIZ_LIB")) return lib;
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return {};
  exe[n] = 0;
  std::string dir(exe);
  dir = dir.substr(0, dir.rfind('/'));
  std::string candidate = dir.substr(0, dir.rfind('/')) + "/lib/libhvalloc.so";
  struct stat st;
  if (stat(candidate.c_str(), &st) == 0) return candidate;
  return {};
}

namespace {

std::string basename_of(const std::string& p) {
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// The trace files of one recording: PATH and PATH.<pid>[.<n>] written by children.
std::vector<std::string> trace_files(const std::string& path) {
  std::vector<std::string> out;
  struct stat st;
  if (stat(path.c_str(), &st) == 0) out.push_back(path);
  std::string dir = ".", base = path;
  if (size_t slash = path.rfind('/'); slash != std::string::npos) {
    dir = slash == 0 ? "/" : path.substr(0, slash);
    base = path.substr(slash + 1);
  }
  std::vector<std::string> kids;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name.size() > base.size() + 1 && name.compare(0, base.size() + 1, base + ".") == 0 &&
          isdigit(static_cast<unsigned char>(name[base.size() + 1])))
        kids.push_back(dir == "." && path.find('/') == std::string::npos ? name : dir + "/" + name);
    }
    closedir(d);
  }
  std::sort(kids.begin(), kids.end());
  out.insert(out.end(), kids.begin(), kids.end());
  return out;
}

// Only regular files: `-o /dev/null` or a FIFO is written to as it is (the library claims it),
// and a device is never unlinked.
void remove_old_traces(const std::string& path) {
  struct stat st;
  for (const auto& f : trace_files(path))
    if (lstat(f.c_str(), &st) == 0 && S_ISREG(st.st_mode)) unlink(f.c_str());
  std::string dir = path + ".launcher"; // gather_launcher_helpers' folder
  if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return;
  for (const auto& f : trace_files(dir + "/" + basename_of(path)))
    if (lstat(f.c_str(), &st) == 0 && S_ISREG(st.st_mode)) unlink(f.c_str());
  rmdir(dir.c_str()); // (only if nothing else is in it)
}

} // namespace

// Says why a trace could not be written to `out` before the program starts ("" if it can).
std::string trace_unwritable(const std::string& out) {
  struct stat st;
  if (stat(out.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return "it is a directory (give a file name in it)";
    if (!S_ISREG(st.st_mode)) return ""; // a FIFO or a device is written as it is
  }
  std::string dir = ".";
  if (size_t slash = out.rfind('/'); slash != std::string::npos)
    dir = slash == 0 ? "/" : out.substr(0, slash);
  if (stat(dir.c_str(), &st) != 0) return "no such directory: " + dir;
  if (!S_ISDIR(st.st_mode)) return dir + " is not a directory";
  // Creating a file is the one test that also holds for root, a read-only mount, /proc.
  std::string probe = dir + "/.heapviz-probe-" + std::to_string(getpid());
  int fd = open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return errno == EACCES || errno == EPERM ? "no permission to create files in " + dir
                                             : "cannot create files in " + dir + ": " + strerror(errno);
  close(fd);
  unlink(probe.c_str());
  return "";
}

namespace {

// Whether the trace at path holds a heap error (glibc's or HEAPVIZ_CHECKS').
bool has_heap_error(const std::string& path) {
  trace::TraceFile f;
  if (!f.open(path)) return false;
  trace::EventStream s(f);
  while (const trace::Event* e = s.next())
    if (e->type == trace::Ev::Error || e->type == trace::Ev::ErrorReport) return true;
  return false;
}

// Moves the traces of the processes that launchers started before they exec'd the program
// (trace::launcher_helpers: a pyenv shim's dozens of `$(...)` helpers) into PATH.launcher/, so
// that beside PATH lie only the program's tree; says so in one line. A trace with a heap error
// stays (a program that forks a worker and then execs is no launcher to its user, and its
// worker's bug must not be filed away).
void gather_launcher_helpers(const std::string& path) {
  auto traces = trace::recording_traces(path);
  auto helper = trace::launcher_helpers(traces);
  for (size_t k = 0; k < traces.size(); ++k)
    if (helper[k] && has_heap_error(traces[k].path)) helper[k] = false;
  size_t n = size_t(std::count(helper.begin(), helper.end(), true));
  if (n == 0) return;
  std::string dir = path + ".launcher";
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return;
  size_t moved = 0;
  for (size_t k = 0; k < traces.size(); ++k)
    if (helper[k] && rename(traces[k].path.c_str(), (dir + "/" + basename_of(traces[k].path)).c_str()) == 0)
      ++moved;
  if (moved)
    fprintf(stderr,
            "heapviz record: %zu trace%s of processes that a launcher started before it exec'd the program "
            "moved to %s/\n",
            moved, moved == 1 ? "" : "s", dir.c_str());
}

// The recording's traces, one line each (the root first, children after their parent, a few
// then a count), and the note on CPython's pymalloc. Returns the heap errors of the traces shown.
uint64_t report_traces(const std::string& path, bool python_malloc) {
  uint64_t errors = 0;
  auto traces = trace::recording_traces(path);
  const size_t kShown = 12; // each line replays its trace for the peak heap
  bool cpython = false;     // by command line, executable or libpython (the shown traces' modules)
  for (size_t k = 0; k < traces.size() && k < kShown; ++k) {
    bool py = false;
    uint64_t e = 0;
    fprintf(stderr, "heapviz record: %*s%s\n", 2 * std::min(traces[k].depth, 8), "",
            describe_process_trace(traces[k], 72, &py, &e).c_str());
    cpython |= py;
    errors += e;
  }
  for (const auto& t : traces)
    cpython |= is_cpython(t.cmdline);
  for (size_t k = kShown; k < traces.size(); ++k) // (not shown: a scan, no replay)
    errors += has_heap_error(traces[k].path);
  if (traces.size() > kShown)
    fprintf(stderr,
            "heapviz record: ... and %zu more traces of child processes (%s.<pid>; `heapviz view %s`, "
            "File > Open child, lists them all)\n",
            traces.size() - kShown, path.c_str(), path.c_str());
  const char* pm = getenv("PYTHONMALLOC");
  if (cpython && !python_malloc && (!pm || !*pm))
    fprintf(stderr, "heapviz record: CPython's pymalloc serves objects of 512 bytes or less outside "
                    "malloc, so the trace misses them: record with --python-malloc "
                    "(PYTHONMALLOC=malloc) to see them\n");
  return errors;
}

volatile pid_t g_record_child = 0; // (for the signal handler that passes SIGTERM and SIGHUP on)

// A directory for the recording's salvage files (trace/salvage.h): tmpfs when there is one (the
// buffers are memory anyway; a disk would be written back to), else TMPDIR or /tmp. "" if none
// can be made (then nothing is salvaged).
std::string make_salvage_dir() {
  std::vector<std::string> bases = {"/dev/shm"};
  if (const char* t = getenv("TMPDIR"); t && *t) bases.push_back(t);
  bases.push_back("/tmp");
  for (const auto& b : bases) {
    std::string templ = b + "/heapviz-record-" + std::to_string(getpid()) + "-XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back(0);
    if (mkdtemp(buf.data())) return buf.data();
  }
  return "";
}

// Puts the events that processes killed before they could flush (SIGKILL, the OOM killer) left
// in their buffers back into their traces, and says so, one line per trace. False if some could
// not be (said why).
bool salvage(const std::string& dir) {
  if (dir.empty()) return false;
  bool all = true;
  std::map<std::string, std::pair<uint64_t, uint64_t>> back; // trace -> (events, buffers)
  for (const auto& s : trace::salvage_directory(dir)) {
    if (!s.note.empty()) {
      fprintf(stderr,
              "heapviz record: events that pid %u (thread %u) left unwritten were not added to %s: %s\n",
              s.pid, s.tid, s.trace.c_str(), s.note.c_str());
      all = false;
      continue;
    }
    back[s.trace].first += s.events;
    back[s.trace].second += 1;
  }
  for (const auto& [trace, n] : back)
    fprintf(stderr,
            "heapviz record: %s: %llu event%s still in %llu thread buffer%s when the process ended (killed, "
            "or its threads still running) are back in the trace\n",
            trace.c_str(), static_cast<unsigned long long>(n.first), n.first == 1 ? "" : "s",
            static_cast<unsigned long long>(n.second), n.second == 1 ? "" : "s");
  return all;
}

} // namespace

// The recording options that `record` and `run` share, each an environment variable of the
// library (docs/cli.md "heapviz record").
std::vector<Option> RecordOptions::declare(std::vector<Option> own) {
  own.push_back({"--verify", nullptr, "N",
                 "the allocator's own heap walk every N events (run: at every sync), so that\n"
                 "`heapviz check` proves the replay exact",
                 "HEAPVIZ_VERIFY"});
  own.push_back({"--compress", nullptr, "[LEVEL]", "zstd-compress the trace's blocks, level 1-19 (3 if none)",
                 "HEAPVIZ_COMPRESS"});
  own.push_back({"--precise-time", nullptr, nullptr, "read the clock on every call, not up to every 32nd",
                 "HEAPVIZ_PRECISE_TIME=1"});
  own.push_back({"--no-children", nullptr, nullptr,
                 "record only the program, not the processes it starts (run: they do not listen)",
                 "HEAPVIZ_NO_CHILDREN=1"});
  own.push_back({"--python-malloc", nullptr, nullptr,
                 "CPython: every object through malloc, none through pymalloc", "PYTHONMALLOC=malloc"});
  return own;
}

bool RecordOptions::read(const CommandSpec& spec, const Args& args) {
  auto set = [&](const char* k, std::string v) { env[k] = std::move(v); }; // (a move: GCC 12 -Wrestrict)
  auto number = [&](const char* name, const char* v, unsigned long lo, unsigned long hi, const char* what) {
    char* end = nullptr;
    unsigned long n = strtoul(v, &end, 10);
    if (!*v || *end || n < lo || n > hi) {
      usage_error(spec, std::string(name) + " '" + v + "': " + what + " (" + std::to_string(lo) + "-" +
                            std::to_string(hi) + ")");
      return false;
    }
    return true;
  };
  if (const char* v = args.value("--verify")) {
    if (!number("--verify", v, 1, 1000000000, "a number of events between snapshots")) return false;
    set("HEAPVIZ_VERIFY", v);
  }
  if (args.has("--compress")) {
    const char* v = args.value("--compress");
    if (v && !number("--compress", v, 1, 19, "a zstd level")) return false;
    set("HEAPVIZ_COMPRESS", v ? v : "3");
  }
  if (args.has("--precise-time")) set("HEAPVIZ_PRECISE_TIME", "1");
  if (args.has("--no-children")) set("HEAPVIZ_NO_CHILDREN", "1");
  if (args.has("--python-malloc")) set("PYTHONMALLOC", "malloc");
  return true;
}

void RecordOptions::apply() const {
  for (const auto& [k, v] : env)
    setenv(k.c_str(), v.c_str(), 1);
}

const CommandSpec kRecordSpec = {
    .name = "record",
    .brief = "run a program on libhvalloc and record its heap to a trace",
    .synopsis = "[options] [--] PROGRAM [ARGS...]",
    .summary = "run a program on libhvalloc.so and record its heap events, with the call stack of every\n"
               "allocation and free, to a trace (and one trace per child process)",
    .options = RecordOptions::declare(
        {{"--output", "-o", "FILE",
          "the trace (default: heapviz.PROGRAM.PID.hvt; checked before the program starts)", "HEAPVIZ_OUT"},
         {"--no-stacks", nullptr, nullptr, "no call stacks (cheaper; sites and leaks need them)",
          "HEAPVIZ_STACKS=0"},
         {"--stack-depth", nullptr, "N", "frames kept per call stack (1-256)", "HEAPVIZ_STACK_DEPTH"},
         {"--checks", nullptr, nullptr,
          "heapviz's own heap checks (docs/checks.md): canaries, free patterns, double\n"
          "and invalid frees glibc misses; chunks stay where glibc puts them. A write after\n"
          "free is seen in a freed block's first 32 bytes past its links: HEAPVIZ_CHECKS_FILL=all\n"
          "for the whole block (slower)",
          "HEAPVIZ_CHECKS=1"},
         {"--keep-exec", nullptr, nullptr,
          "keep the trace of each image that execs the next (FILE.PID.N); by default only\n"
          "the program that ran last under a pid has one",
          "HEAPVIZ_KEEP_EXEC=1"}}),
    .examples = "heapviz record -- sort -n numbers.txt\n"
                "heapviz record -o py.hvt -- python3 script.py\n"
                "heapviz record --checks -o app.hvt -- ./app && heapviz errors app.hvt\n"
                "heapviz record --python-malloc --compress -o py.hvt -- python3 script.py",
    .program = true,
    .see = "README.md \"Record a real program\", docs/stacks.md, docs/checks.md",
};

int cmd_record(int argc, char** argv) {
  Args args;
  if (int rc = args.parse(kRecordSpec, argc, argv); rc >= 0) return rc;
  std::string out = args.value("--output") ? args.value("--output") : "";
  const char* stacks = args.has("--no-stacks") ? "0" : nullptr; // unset: the environment's, or on
  std::string depth = args.value("--stack-depth") ? args.value("--stack-depth") : "";
  bool checks = args.has("--checks"); // HEAPVIZ_CHECKS=1 for the program
  bool keep_exec = args.has("--keep-exec");
  RecordOptions opts;
  if (!opts.read(kRecordSpec, args)) return 2;
  if (!depth.empty()) {
    char* end = nullptr;
    unsigned long d = strtoul(depth.c_str(), &end, 10);
    if (*end || d == 0 || d > 256)
      return usage_error(kRecordSpec, "--stack-depth '" + depth + "': a number of frames (1-256)");
  }
  std::string lib = find_library();
  if (lib.empty()) {
    fprintf(stderr, "heapviz record: cannot find libhvalloc.so next to heapviz (set HEAPVIZ_LIB)\n");
    return 2;
  }
  char** prog = args.program();
  if (std::string why = trace_unwritable(out.empty() ? "heapviz.hvt" : out); !why.empty()) {
    fprintf(stderr, "heapviz record: cannot write the trace to %s: %s\n",
            out.empty() ? "the current directory" : out.c_str(), why.c_str());
    return 2;
  }

  // Thread buffers a killed process leaves behind are salvaged from here (trace/salvage.h).
  const std::string salvage_dir = make_salvage_dir();
  // Ask the child for its pid before exec, so the default name can use it.
  int pfd[2];
  if (pipe(pfd) != 0) {
    perror("heapviz record: pipe");
    rmdir(salvage_dir.c_str());
    return 2;
  }
  pid_t child = fork();
  if (child < 0) {
    perror("heapviz record: fork");
    rmdir(salvage_dir.c_str());
    return 2;
  }
  if (child == 0) {
    close(pfd[1]);
    char go;
    if (read(pfd[0], &go, 1) != 1) _exit(127); // the parent has chosen and cleared the path
    close(pfd[0]);
    std::string path =
        out.empty() ? "heapviz." + basename_of(prog[0]) + "." + std::to_string(getpid()) + ".hvt" : out;
    std::string preload = lib;
    if (const char* old = getenv("LD_PRELOAD"); old && *old) preload += std::string(":") + old;
    setenv("LD_PRELOAD", preload.c_str(), 1);
    setenv("HEAPVIZ_OUT", path.c_str(), 1);
    setenv("HEAPVIZ_ROOT_PID", std::to_string(getpid()).c_str(), 1);
    if (stacks) setenv("HEAPVIZ_STACKS", stacks, 1);
    if (checks) setenv("HEAPVIZ_CHECKS", "1", 1);
    if (!depth.empty()) setenv("HEAPVIZ_STACK_DEPTH", depth.c_str(), 1);
    if (keep_exec) setenv("HEAPVIZ_KEEP_EXEC", "1", 1);
    if (!salvage_dir.empty()) setenv("HEAPVIZ_SALVAGE", salvage_dir.c_str(), 1);
    opts.apply();
    execvp(prog[0], prog);
    fprintf(stderr, "heapviz record: cannot run '%s': %s\n", prog[0], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  close(pfd[0]);
  std::string path =
      out.empty() ? "heapviz." + basename_of(prog[0]) + "." + std::to_string(child) + ".hvt" : out;
  remove_old_traces(path); // a recording replaces an earlier one of the same name
  if (write(pfd[1], "g", 1) != 1) {
    perror("heapviz record: pipe");
  }
  close(pfd[1]);

  // Like a shell: the program gets the terminal's signals; we wait for it. A SIGTERM or SIGHUP
  // sent to record alone (`timeout`, `kill`, a closed ssh session) goes on to the program, and
  // record still waits for it and puts its buffers back: it never leaves the program running
  // unwatched. A salvage write past RLIMIT_FSIZE fails (EFBIG) instead of killing record.
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  signal(SIGXFSZ, SIG_IGN);
  g_record_child = child;
  struct sigaction pass = {};
  pass.sa_handler = [](int sig) { kill(g_record_child, sig); };
  sigaction(SIGTERM, &pass, nullptr);
  sigaction(SIGHUP, &pass, nullptr);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  int rc = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
  const bool salvaged = salvage(salvage_dir);

  auto files = trace_files(path);
  if (files.empty() && (rc == 126 || rc == 127)) return rc; // exec failed; the child said why
  if (files.empty()) {
    fprintf(stderr,
            "heapviz record: no trace was written (unless the library said why above: did '%s' run? is it "
            "statically linked?)\n",
            prog[0]);
    return rc ? rc : 1;
  }
  if (!keep_exec) gather_launcher_helpers(path);
  const uint64_t errors = report_traces(path, opts.env.count("PYTHONMALLOC") > 0);
  // What a clean run under the checks does not prove: a write after free past the pattern. The
  // pattern's bytes as the allocator reads HEAPVIZ_CHECKS_FILL: its leading digits, 0 (as "all",
  // an empty or other value) for the whole block.
  const char* fill = getenv("HEAPVIZ_CHECKS_FILL");
  unsigned long long fill_bytes = 32;
  if (fill) {
    fill_bytes = 0;
    for (const char* d = fill; *d >= '0' && *d <= '9'; ++d)
      fill_bytes = fill_bytes * 10 + static_cast<unsigned long long>(*d - '0');
  }
  if (checks && errors == 0 && fill_bytes != 0)
    fprintf(stderr,
            "heapviz record: the checks found no heap error (a write after free is looked for in the "
            "first %llu bytes past a freed block's links; HEAPVIZ_CHECKS_FILL=all looks at whole blocks)\n",
            fill_bytes);
  if (WIFSIGNALED(status))
    fprintf(stderr, "heapviz record: %s was killed by signal %d (%s); its trace holds %s\n", prog[0],
            WTERMSIG(status), strsignal(WTERMSIG(status)),
            salvaged ? "every event it made" : "everything it flushed");
  return rc;
}

} // namespace hv::cli
