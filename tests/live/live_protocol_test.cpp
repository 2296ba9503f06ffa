// The live protocol's pure parts: who may attach, where the sockets live.
#include "heapviz/live_protocol.h"
#include "live/live_client.h"

#include <cstdlib>
#include <gtest/gtest.h>
#include <string>
#include <unistd.h>

namespace {

TEST(LiveCredentials, OnlyTheSameUserMayAttach) {
  EXPECT_TRUE(hv::live::peer_allowed(1000, 1000));
  EXPECT_TRUE(hv::live::peer_allowed(0, 0));
  EXPECT_FALSE(hv::live::peer_allowed(1000, 0)); // not even root: it must become the user
  EXPECT_FALSE(hv::live::peer_allowed(0, 1000));
  EXPECT_FALSE(hv::live::peer_allowed(1000, 1001));
}

struct EnvGuard {
  std::string old;
  bool had;
  EnvGuard() {
    const char* v = getenv("XDG_RUNTIME_DIR");
    had = v != nullptr;
    if (had) old = v;
  }
  ~EnvGuard() {
    if (had)
      setenv("XDG_RUNTIME_DIR", old.c_str(), 1);
    else
      unsetenv("XDG_RUNTIME_DIR");
  }
};

TEST(LiveSockets, DirectoryFollowsXdgRuntimeDirElseTmpPerUid) {
  EnvGuard g;
  setenv("XDG_RUNTIME_DIR", "/run/user/1234", 1);
  EXPECT_EQ(hv::live::socket_dir_path(), "/run/user/1234/heapviz");
  EXPECT_EQ(hv::live::socket_path(42), "/run/user/1234/heapviz/42.sock");
  setenv("XDG_RUNTIME_DIR", "relative/dir", 1); // not absolute: ignored
  EXPECT_EQ(hv::live::socket_dir_path(), "/tmp/heapviz-" + std::to_string(geteuid()));
  unsetenv("XDG_RUNTIME_DIR");
  EXPECT_EQ(hv::live::socket_dir_path(), "/tmp/heapviz-" + std::to_string(geteuid()));
  char small[8];
  EXPECT_FALSE(hv::live::socket_dir(small, sizeof small)); // does not fit: refused, not cut
}

} // namespace
