// salvage.cpp - see salvage.h.
#include "trace/salvage.h"

#include "trace/trace_file.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

namespace hv::trace {
namespace {

// A salvage file's bytes: a regular file of at most 64 MiB (the allocator's are ~84 KiB);
// anything else in the directory (a FIFO, a huge file) is not read.
bool read_all(const std::string& path, std::vector<uint8_t>* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
  if (fd < 0) return false;
  struct stat st;
  bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= (off_t(64) << 20);
  if (ok) {
    out->resize(size_t(st.st_size));
    size_t got = 0;
    while (got < out->size()) {
      ssize_t n = ::read(fd, out->data() + got, out->size() - got);
      if (n <= 0) break;
      got += size_t(n);
    }
    ok = got == out->size();
  }
  ::close(fd);
  return ok;
}

// Whether process pid is still running (a zombie is not: it has ended, its parent not yet told).
bool process_running(uint32_t pid) {
  if (pid == 0 || (::kill(pid_t(pid), 0) != 0 && errno != EPERM)) return false;
  char path[64];
  snprintf(path, sizeof path, "/proc/%u/stat", pid);
  char buf[512] = {};
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  const char* paren = n > 0 ? strrchr(buf, ')') : nullptr; // "pid (comm) S ..."
  return !(paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X'));
}

// One salvage file's block, made whole from what its encoder kept (SalvageHead's offsets): its
// header and payload; empty if it held no whole event (or does not add up: why says so).
std::vector<uint8_t> block_of(const std::vector<uint8_t>& file, const SalvageHead& h, std::string* why) {
  auto fits = [&](uint64_t off, uint64_t n) { return off + n <= file.size(); };
  if (!fits(h.whole_off, 8) || !fits(h.header_off, sizeof(BlockHeader)) || !fits(h.clocked_off, 1) ||
      !fits(h.payload_off, h.payload_cap) || h.payload_cap > kMaxBlockPayload) {
    *why = "the file is too short for what its head says";
    return {};
  }
  uint64_t whole;
  memcpy(&whole, file.data() + h.whole_off, 8);
  const uint32_t events = uint32_t(whole >> 32), bytes = uint32_t(whole);
  if (events == 0) return {};
  BlockHeader b;
  memcpy(&b, file.data() + h.header_off, sizeof b);
  if (bytes > h.payload_cap || bytes < events || b.tid != h.tid) {
    *why = "its block in the making does not add up";
    return {};
  }
  const uint8_t* payload = file.data() + h.payload_off;
  b.magic = kBlockMagic;
  b.flags = file[h.clocked_off] ? kBlockClocked : 0;
  b.reserved = 0;
  b.raw_size = b.stored_size = bytes;
  b.nevents = events;
  b.crc32 = crc32(payload, bytes);
  std::vector<uint8_t> out(sizeof b + bytes);
  memcpy(out.data(), &b, sizeof b);
  memcpy(out.data() + sizeof b, payload, bytes);
  return out;
}

// The start time in the header of the trace at path (0: no trace there).
uint64_t start_of(const std::string& path) {
  FileHeader h{};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  bool ok = ::read(fd, &h, sizeof h) == ssize_t(sizeof h) && memcmp(h.magic, kFileMagic, sizeof h.magic) == 0;
  ::close(fd);
  return ok ? h.start_unix_ns : 0;
}

// The trace a buffer's events belong to: the one at the path it named, if that is still the
// trace that started at start_ns; else a sibling PATH.<...> that is (an image that exec'd keeps
// its trace moved aside there under --keep-exec). "" if there is none: a later image of the
// process replaced it, as record does unless --keep-exec, and its events are dropped with it.
std::string trace_of(const std::string& path, uint64_t start_ns) {
  if (start_of(path) == start_ns) return path;
  std::string dir = ".", base = path;
  if (size_t slash = path.rfind('/'); slash != std::string::npos) {
    dir = slash == 0 ? "/" : path.substr(0, slash);
    base = path.substr(slash + 1);
  }
  std::string found;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name.size() > base.size() + 1 && name.compare(0, base.size() + 1, base + ".") == 0 &&
          start_of(dir + "/" + name) == start_ns) {
        found = path.find('/') == std::string::npos ? name : dir + "/" + name;
        break;
      }
    }
    closedir(d);
  }
  return found;
}

// One buffer's block, on its way to its trace.
struct Pending {
  Salvaged s;
  uint64_t start_ns;
  std::vector<uint8_t> block;
};

// Appends the blocks of one trace (path; every p->s.trace is path): checks that the trace is the
// one the blocks belong to (its start time), cuts a torn tail, leaves out what the trace holds
// already (a block flushed just before the end), and writes the others after its last block.
void append(const std::string& path, std::vector<Pending*>& ps) {
  TraceFile f;
  std::string bad;
  if (!f.open(path))
    bad = "its trace cannot be read: " + (f.error() ? f.error()->describe() : std::string("?"));
  else if (f.error() && !f.truncated())
    bad = "its trace has a bad block: " + f.error()->describe();
  uint64_t end = f.header().header_size, size = f.file_size();
  for (const BlockInfo& i : f.blocks())
    end = i.offset + sizeof(BlockHeader) + i.stored_size;
  std::vector<uint8_t> add;
  for (Pending* p : ps) {
    BlockHeader b;
    memcpy(&b, p->block.data(), sizeof b);
    if (!bad.empty()) {
      p->s.note = bad;
    } else {
      bool there = false;
      for (const BlockInfo& i : f.blocks())
        there |= i.tid == b.tid && i.first_seq == b.first_seq;
      if (there) continue;
      add.insert(add.end(), p->block.begin(), p->block.end());
      p->s.events = b.nevents;
    }
  }
  if (add.empty()) return;
  f = TraceFile(); // (unmapped before the file changes)
  std::string err;
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) err = strerror(errno);
  if (err.empty() && end < size && ftruncate(fd, off_t(end)) != 0) err = strerror(errno);
  for (size_t done = 0; err.empty() && done < add.size();) {
    ssize_t n = ::pwrite(fd, add.data() + done, add.size() - done, off_t(end + done));
    if (n <= 0) err = n < 0 ? strerror(errno) : "no room";
    done += n > 0 ? size_t(n) : 0;
  }
  if (fd >= 0) ::close(fd);
  for (Pending* p : ps) {
    if (!err.empty() && p->s.events) {
      p->s.events = 0;
      p->s.note = "its trace cannot be written: " + err;
    }
    if (err.empty() && end < size && p->s.events) p->s.cut_bytes = size - end;
  }
}

} // namespace

std::vector<Salvaged> salvage_directory(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') names.push_back(e->d_name);
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  std::vector<Pending> pending;
  for (const std::string& name : names) {
    const std::string path = dir + "/" + name;
    std::vector<uint8_t> file;
    SalvageHead h;
    if (!read_all(path, &file) || file.size() < sizeof h) {
      ::unlink(path.c_str());
      continue;
    }
    memcpy(&h, file.data(), sizeof h);
    if (memcmp(h.magic, kSalvageMagic, sizeof h.magic) != 0) {
      ::unlink(path.c_str()); // (a buffer made but not yet pointed at a trace)
      continue;
    }
    if (h.pid != uint32_t(getpid()) && process_running(h.pid)) continue; // its own to flush
    h.trace_path[sizeof h.trace_path - 1] = 0;
    Pending p;
    p.s.trace = h.trace_path;
    p.s.pid = h.pid;
    p.s.tid = h.tid;
    p.start_ns = h.trace_start_ns;
    p.block = block_of(file, h, &p.s.note);
    ::unlink(path.c_str());
    if (!p.block.empty() || !p.s.note.empty()) pending.push_back(std::move(p));
  }
  std::map<std::string, std::vector<Pending*>> by_trace;
  for (Pending& p : pending)
    if (!p.block.empty()) {
      p.s.trace = trace_of(p.s.trace, p.start_ns);
      if (!p.s.trace.empty()) by_trace[p.s.trace].push_back(&p);
    }
  for (auto& [path, ps] : by_trace)
    append(path, ps);
  std::vector<Salvaged> out;
  for (Pending& p : pending)
    if (p.s.events || !p.s.note.empty()) out.push_back(std::move(p.s));
  ::rmdir(dir.c_str()); // (only when empty: a process still running keeps its files)
  return out;
}

} // namespace hv::trace
