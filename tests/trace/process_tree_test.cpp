// process_tree_test.cpp - a recording's traces as a process tree (trace/process_tree.h): which
// files belong to it, their pids, parents and command lines, the tree order, File > Open child's
// list. Must not: run programs (tests/record does).
#include "trace/process_tree.h"

#include "test_util.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace hv::trace {
namespace {

struct Dir {
  std::string path;
  Dir() {
    char tmpl[] = "/tmp/hvtree_XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~Dir() { (void)!system(("rm -rf '" + path + "'").c_str()); }
  // A trace of process pid (parent ppid) running cmdline (arguments separated by NUL).
  void trace(const std::string& name, uint32_t pid, uint32_t ppid, const std::string& cmdline,
             uint64_t start_ns = 1000) const {
    TraceBuilder b(0, 64 * 1024, cmdline);
    b.malloc(24, 0x1000);
    auto bytes = b.finish();
    test::put32(bytes, 112, pid);
    test::put32(bytes, 116, ppid);
    memcpy(&bytes[128], &start_ns, 8); // start_mono_ns
    FILE* f = fopen((path + "/" + name).c_str(), "wb");
    fwrite(bytes.data(), 1, bytes.size(), f);
    fclose(f);
  }
};

TEST(ProcessTree, ReadsPidParentAndCommandLineFromTheHeader) {
  Dir d;
  d.trace("r.hvt", 100, 99, std::string("python3\0-c\0print(1)", 19));
  ProcessTrace p = read_process_trace(d.path + "/r.hvt");
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(p.pid, 100u);
  EXPECT_EQ(p.ppid, 99u);
  EXPECT_EQ(p.cmdline, "python3 -c print(1)");
  EXPECT_NE(read_process_trace(d.path + "/missing").error, "");
}

TEST(ProcessTree, ChildrenFollowTheirParentInTreeOrder) {
  Dir d;
  d.trace("r.hvt", 100, 99, "sh");
  d.trace("r.hvt.102", 102, 100, "sort");
  d.trace("r.hvt.101", 101, 100, "make");
  d.trace("r.hvt.105", 105, 101, "cc1");
  d.trace("r.hvt.200", 200, 7, "orphan"); // its parent left no trace
  d.trace("other.hvt.103", 103, 100, "not ours");
  d.trace("r.hvt.x", 104, 100, "not a child's name");
  auto all = recording_traces(d.path + "/r.hvt");
  std::vector<std::string> got;
  for (const auto& p : all)
    got.push_back(std::to_string(p.depth) + " " + p.cmdline);
  EXPECT_EQ(got, (std::vector<std::string>{"0 sh", "1 make", "2 cc1", "1 sort", "1 orphan"}));

  auto kids = child_traces(d.path + "/r.hvt.101");
  ASSERT_EQ(kids.size(), 1u);
  EXPECT_EQ(kids[0].path, d.path + "/r.hvt.105");
  EXPECT_EQ(kids[0].depth, 1);
  EXPECT_EQ(child_traces(d.path + "/r.hvt").size(), 4u);
  EXPECT_TRUE(child_traces(d.path + "/r.hvt.102").empty());
}

TEST(ProcessTree, RootOfAChildsTraceIsTheRecordingsPath) {
  Dir d;
  d.trace("r.hvt", 100, 99, "sh");
  d.trace("r.hvt.101", 101, 100, "ls");
  d.trace("r.hvt.101.1", 101, 100, "sh");
  EXPECT_EQ(recording_root(d.path + "/r.hvt.101"), d.path + "/r.hvt");
  EXPECT_EQ(recording_root(d.path + "/r.hvt.101.1"), d.path + "/r.hvt");
  EXPECT_EQ(recording_root(d.path + "/r.hvt"), d.path + "/r.hvt");
  EXPECT_EQ(recording_root("plain.hvt"), "plain.hvt");
}

TEST(ProcessTree, AFifoIsNeverOpened) {
  Dir d;
  std::string fifo = d.path + "/p.hvt";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_NE(read_process_trace(fifo).error, ""); // returns at once: no reader blocks
}

// A pyenv shim: bash (pid 100) forks helpers, then execs python (its trace begins at the exec,
// t=500); python forks a real child. The helpers (and theirs) began before t=500.
TEST(ProcessTree, HelpersOfALauncherAreThoseStartedBeforeItsExec) {
  Dir d;
  d.trace("r.hvt", 100, 99, "python3", 500);
  d.trace("r.hvt.101", 101, 100, "bash pyenv-version-name", 100);
  d.trace("r.hvt.102", 102, 101, "bash pyenv-version-file", 150); // a helper's helper
  d.trace("r.hvt.103", 103, 100, "python3 -c child", 600);        // python's own child
  d.trace("r.hvt.104", 104, 103, "ls", 700);
  auto all = recording_traces(d.path + "/r.hvt");
  auto helper = launcher_helpers(all);
  std::vector<std::string> got;
  for (size_t i = 0; i < all.size(); ++i)
    if (helper[i]) got.push_back(all[i].cmdline);
  EXPECT_EQ(got, (std::vector<std::string>{"bash pyenv-version-name", "bash pyenv-version-file"}));
}

TEST(ProcessTree, ShortCommandLineEndsInAnEllipsis) {
  EXPECT_EQ(short_cmdline("python3 -c print(1)", 40), "python3 -c print(1)");
  EXPECT_EQ(short_cmdline("python3 -c print(1)", 10), "python3...");
}

} // namespace
} // namespace hv::trace
