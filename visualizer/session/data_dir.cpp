// data_dir.cpp - the data directory's lookup (see data_dir.h).
#include "session/data_dir.h"

#include <cstdlib>
#include <filesystem>
#include <unistd.h>

namespace hv::session {
namespace {

namespace fs = std::filesystem;

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return !p.empty() && fs::is_directory(p, ec);
}

} // namespace

std::string data_dir() {
  if (const char* env = getenv("HEAPVIZ_DATA"); env && *env) return is_dir(env) ? env : "";
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = 0;
    fs::path bin = fs::path(exe).parent_path();
    fs::path installed = bin.parent_path() / "share" / "heapviz";
    if (is_dir(installed)) return installed.string();
    fs::path tree = bin.parent_path().parent_path() / "assets";
    if (is_dir(tree / "lessons")) return tree.string();
  }
#ifdef HV_SOURCE_DIR
  fs::path src = fs::path(HV_SOURCE_DIR) / "assets";
  if (is_dir(src)) return src.string();
#endif
  return "";
}

std::string demo_scenario() {
  std::string dir = data_dir();
  if (dir.empty()) return "";
  std::error_code ec;
  fs::path demo = fs::path(dir) / "scenarios" / "demo.hvs";
  return fs::is_regular_file(demo, ec) ? demo.string() : "";
}

} // namespace hv::session
