// cmd_record.cpp - `heapviz record [-o FILE] -- PROGRAM [ARGS...]`: run a program on
// libhvalloc.so with recording on, pass its output and exit status through, and say where the
// trace(s) went.
#include "cli/commands.h"

#include "cli/trace_summary.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
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
}

} // namespace

const CommandSpec kRecordSpec = {
    .name = "record",
    .brief = "run a program on libhvalloc and record its heap to a trace",
    .synopsis = "[options] [--] PROGRAM [ARGS...]",
    .summary = "run a program on libhvalloc.so and record its heap events, with the call stack of every\n"
               "allocation and free, to a trace (and one trace per child process)",
    .options = {{"--output", "-o", "FILE", "the trace (default: heapviz.PROGRAM.PID.hvt)", "HEAPVIZ_OUT"},
                {"--no-stacks", nullptr, nullptr, "no call stacks (cheaper; sites and leaks need them)",
                 "HEAPVIZ_STACKS=0"},
                {"--stack-depth", nullptr, "N", "frames kept per call stack (1-256)", "HEAPVIZ_STACK_DEPTH"},
                {"--checks", nullptr, nullptr,
                 "heapviz's own heap checks (docs/checks.md): canaries, free patterns, double\n"
                 "and invalid frees glibc misses; chunks stay where glibc puts them",
                 "HEAPVIZ_CHECKS=1"}},
    .examples = "heapviz record -- sort -n numbers.txt\n"
                "heapviz record -o py.hvt -- python3 script.py\n"
                "heapviz record --checks -o app.hvt -- ./app && heapviz errors app.hvt",
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

  // Ask the child for its pid before exec, so the default name can use it.
  int pfd[2];
  if (pipe(pfd) != 0) {
    perror("heapviz record: pipe");
    return 2;
  }
  pid_t child = fork();
  if (child < 0) {
    perror("heapviz record: fork");
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

  // Like a shell: the program gets the terminal's signals; we wait for it.
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  int rc = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;

  auto files = trace_files(path);
  if (files.empty() && (rc == 126 || rc == 127)) return rc; // exec failed; the child said why
  if (files.empty()) {
    fprintf(stderr, "heapviz record: no trace was written (did '%s' run? is it statically linked?)\n",
            prog[0]);
    return rc ? rc : 1;
  }
  // The program's own trace first; child processes' traces after it (a few, then a count).
  const size_t kShown = 6;
  for (size_t k = 0; k < files.size() && k < kShown; ++k)
    fprintf(stderr, "heapviz record: %s\n", summarize_trace(files[k]).c_str());
  if (files.size() > kShown)
    fprintf(stderr, "heapviz record: ... and %zu more traces of child processes (%s.*)\n",
            files.size() - kShown, path.c_str());
  if (WIFSIGNALED(status))
    fprintf(stderr,
            "heapviz record: %s was killed by signal %d (%s); its trace holds everything it flushed\n",
            prog[0], WTERMSIG(status), strsignal(WTERMSIG(status)));
  return rc;
}

} // namespace hv::cli
