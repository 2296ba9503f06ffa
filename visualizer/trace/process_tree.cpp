// process_tree.cpp - see process_tree.h. Reads FileHeader and the command line with plain reads:
// a recording of a big build has hundreds of traces, and only their headers are wanted.
#include "trace/process_tree.h"

#include "heapviz/trace_format.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <map>
#include <set>
#include <sys/stat.h>

namespace hv::trace {

ProcessTrace read_process_trace(const std::string& path) {
  ProcessTrace p;
  p.path = path;
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) { // a FIFO would block the open
    p.error = "a pipe or a device";
    return p;
  }
  FILE* f = fopen(path.c_str(), "rb");
  if (!f) {
    p.error = strerror(errno);
    return p;
  }
  FileHeader h;
  if (fread(&h, 1, sizeof h, f) != sizeof h || memcmp(h.magic, kFileMagic, sizeof h.magic) != 0) {
    p.error = "not a heapviz trace";
  } else {
    p.pid = h.pid;
    p.ppid = h.ppid;
    p.start_ns = h.start_mono_ns;
    std::string cmd(std::min<uint32_t>(h.cmdline_len, 1u << 16), '\0');
    cmd.resize(fread(cmd.data(), 1, cmd.size(), f));
    while (!cmd.empty() && cmd.back() == '\0')
      cmd.pop_back();
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    p.cmdline = cmd;
  }
  fclose(f);
  return p;
}

namespace {

// ".<digits>" or ".<digits>.<digits>" (what follows PATH in a child's trace name).
bool numeric_suffix(const std::string& s) {
  size_t i = 0;
  for (int part = 0; part < 2 && i < s.size(); ++part) {
    if (s[i] != '.' || i + 1 >= s.size() || !isdigit(static_cast<unsigned char>(s[i + 1]))) return false;
    ++i;
    while (i < s.size() && isdigit(static_cast<unsigned char>(s[i])))
      ++i;
  }
  return i == s.size() && i > 0;
}

bool exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

} // namespace

std::string recording_root(const std::string& path) {
  // The shortest existing prefix left by cutting one or two numeric parts (PATH.<pid>.<n> is
  // PATH's, not PATH.<pid>'s).
  std::string cut = path, root = path;
  for (int parts = 0; parts < 2; ++parts) {
    size_t dot = cut.rfind('.');
    if (dot == std::string::npos || dot == 0 || !numeric_suffix(cut.substr(dot))) break;
    cut = cut.substr(0, dot);
    if (exists(cut)) root = cut;
  }
  return root;
}

std::vector<ProcessTrace> recording_traces(const std::string& root) {
  std::vector<ProcessTrace> all;
  if (exists(root)) all.push_back(read_process_trace(root));
  std::string dir = ".", base = root;
  if (size_t slash = root.rfind('/'); slash != std::string::npos) {
    dir = slash == 0 ? "/" : root.substr(0, slash);
    base = root.substr(slash + 1);
  }
  std::vector<std::string> kids;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name.size() > base.size() && name.compare(0, base.size(), base) == 0 &&
          numeric_suffix(name.substr(base.size())))
        kids.push_back(root.find('/') == std::string::npos ? name : dir + "/" + name);
    }
    closedir(d);
  }
  for (const auto& k : kids)
    all.push_back(read_process_trace(k));
  // Tree order: each process after its parent, siblings by pid (then by name: PATH.<pid>.<n>,
  // earlier images of one process, kept with HEAPVIZ_KEEP_EXEC). A process whose parent left no
  // trace hangs under the root, as does the root's own (the root itself stays first).
  std::map<uint32_t, std::vector<size_t>> by_parent;
  std::set<uint32_t> pids;
  for (size_t i = 0; i < all.size(); ++i)
    pids.insert(all[i].pid);
  for (size_t i = 0; i < all.size(); ++i) {
    if (i == 0 && exists(root)) continue;
    uint32_t parent = pids.count(all[i].ppid) && all[i].ppid != all[i].pid ? all[i].ppid : 0;
    by_parent[parent].push_back(i);
  }
  for (auto& [parent, v] : by_parent)
    std::sort(v.begin(), v.end(), [&](size_t a, size_t b) {
      return all[a].pid != all[b].pid ? all[a].pid < all[b].pid : all[a].path < all[b].path;
    });
  std::vector<ProcessTrace> out;
  std::vector<bool> done(all.size(), false);
  auto visit = [&](auto&& self, size_t i, int depth) -> void {
    if (done[i]) return;
    done[i] = true;
    all[i].depth = depth;
    out.push_back(all[i]);
    if (all[i].error.empty())
      if (auto it = by_parent.find(all[i].pid); it != by_parent.end())
        for (size_t c : it->second)
          if (all[c].pid != all[i].pid) self(self, c, depth + 1);
  };
  bool has_root = !all.empty() && exists(root);
  if (has_root) visit(visit, 0, 0);
  // Orphans (parent unknown) and earlier images, at the top level after the root's tree.
  if (auto it = by_parent.find(0); it != by_parent.end())
    for (size_t c : it->second)
      visit(visit, c, has_root ? 1 : 0);
  for (size_t i = 0; i < all.size(); ++i)
    visit(visit, i, 0);
  return out;
}

std::vector<ProcessTrace> child_traces(const std::string& path) {
  auto all = recording_traces(recording_root(path));
  std::vector<ProcessTrace> out;
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].path != path) continue;
    for (size_t j = i + 1; j < all.size() && all[j].depth > all[i].depth; ++j) {
      out.push_back(all[j]);
      out.back().depth -= all[i].depth;
    }
    break;
  }
  return out;
}

std::vector<bool> launcher_helpers(const std::vector<ProcessTrace>& tree) {
  std::vector<bool> helper(tree.size(), false);
  // A process's last image: PATH (the root) or PATH.<pid>, not PATH.<pid>.<n> (an earlier image
  // kept with HEAPVIZ_KEEP_EXEC).
  std::map<uint32_t, size_t> last_image;
  for (size_t i = 0; i < tree.size(); ++i) {
    const std::string& p = tree[i].path;
    std::string tail(1, '.');
    tail += std::to_string(tree[i].pid);
    bool numbered = p.size() > tail.size() && p.compare(p.size() - tail.size(), tail.size(), tail) == 0;
    if (tree[i].error.empty() && (i == 0 || numbered)) last_image.emplace(tree[i].pid, i);
  }
  for (size_t i = 0; i < tree.size(); ++i) { // tree order: a parent before its children
    auto it = last_image.find(tree[i].ppid);
    if (it == last_image.end() || it->second == i || !tree[i].error.empty()) continue;
    const ProcessTrace& parent = tree[it->second];
    helper[i] = helper[it->second] || tree[i].start_ns < parent.start_ns;
  }
  return helper;
}

std::string one_line(const std::string& cmdline) {
  std::string o;
  o.reserve(cmdline.size());
  for (char c : cmdline) {
    if (c == '\n')
      o += "\\n";
    else if (c == '\t')
      o += "\\t";
    else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      o += '?';
    else
      o += c;
  }
  return o;
}

std::string short_cmdline(const std::string& raw, size_t max_chars) {
  const std::string cmdline = one_line(raw);
  if (cmdline.size() <= max_chars) return cmdline;
  size_t keep = max_chars > 3 ? max_chars - 3 : 0;
  while (keep > 0 && (static_cast<unsigned char>(cmdline[keep]) & 0xc0) == 0x80) // a whole UTF-8 char
    --keep;
  return cmdline.substr(0, keep) + "...";
}

} // namespace hv::trace
