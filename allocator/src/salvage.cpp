// salvage.cpp - see salvage.h.
#include "salvage.h"

#include "heapviz/trace_format.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <x86intrin.h>

namespace hv::alloc::salvage {
namespace {

// The file: the public head (trace::SalvageHead), this file's own name (to unlink it), then the
// TraceThread at kHeadBytes.
constexpr size_t kHeadBytes = 8192;
constexpr size_t kNameAt = 4160, kNameMax = 4000;
static_assert(sizeof(trace::SalvageHead) <= kNameAt && kNameAt + kNameMax <= kHeadBytes);

char g_dir[4096];
size_t g_dir_len = 0;

struct KeepErrno {
  int saved = errno;
  ~KeepErrno() { errno = saved; }
};

char* put_dec(char* p, uint64_t v) {
  char d[24];
  int n = 0;
  do {
    d[n++] = char('0' + v % 10);
    v /= 10;
  } while (v);
  while (n)
    *p++ = d[--n];
  return p;
}

// A new file of DIR for (pid, tid), sized for bytes; its name goes into name (kNameMax bytes).
// -1 if it cannot be made.
int new_file(size_t bytes, uint32_t tid, char* name) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    char* p = name;
    memcpy(p, g_dir, g_dir_len);
    p += g_dir_len;
    *p++ = '/';
    p = put_dec(p, uint64_t(getpid()));
    *p++ = '.';
    p = put_dec(p, tid);
    *p++ = '.';
    p = put_dec(p, __rdtsc() & 0xffffffffffu); // (an exec'd image of the same pid: another name)
    *p = 0;
    int fd = ::open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      return -1;
    }
    // Every page reserved now: a shared mapping of a file whose filesystem fills up later (a
    // container's 64 MiB /dev/shm) would kill the program with SIGBUS at a store. No room: the
    // caller takes anonymous memory, and this thread's buffer is not salvageable.
    if (fallocate(fd, 0, 0, off_t(kHeadBytes + bytes)) != 0) {
      ::close(fd);
      ::unlink(name);
      return -1;
    }
    return fd;
  }
  return -1;
}

uint8_t* head_of(void* mem) {
  return static_cast<uint8_t*>(mem) - kHeadBytes;
}

} // namespace

void set_dir(const char* dir) {
  size_t n = dir ? strlen(dir) : 0;
  if (n + 64 >= kNameMax) n = 0; // (no room for a file name: off)
  memcpy(g_dir, dir, n);
  g_dir[n] = 0;
  g_dir_len = n;
}

bool on() {
  return g_dir_len != 0;
}

void* map(size_t bytes, uint32_t tid) {
  if (!on()) return nullptr;
  KeepErrno keep;
  char name[kNameMax];
  int fd = new_file(bytes, tid, name);
  if (fd < 0) return nullptr;
  void* m = ::mmap(nullptr, kHeadBytes + bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (m == MAP_FAILED) {
    ::unlink(name);
    return nullptr;
  }
  memcpy(static_cast<uint8_t*>(m) + kNameAt, name, strlen(name) + 1);
  return static_cast<uint8_t*>(m) + kHeadBytes;
}

void point(void* mem, uint32_t tid, const Where& w, const char* trace_path, uint64_t trace_start_ns) {
  trace::SalvageHead h;
  memset(&h, 0, sizeof h);
  memcpy(h.magic, trace::kSalvageMagic, sizeof h.magic);
  h.pid = uint32_t(getpid());
  h.tid = tid;
  h.trace_start_ns = trace_start_ns;
  h.whole_off = uint32_t(kHeadBytes + w.whole);
  h.header_off = uint32_t(kHeadBytes + w.header);
  h.clocked_off = uint32_t(kHeadBytes + w.clocked);
  h.payload_off = uint32_t(kHeadBytes + w.payload);
  h.payload_cap = w.payload_cap;
  size_t n = strlen(trace_path);
  if (n >= sizeof h.trace_path) n = sizeof h.trace_path - 1;
  memcpy(h.trace_path, trace_path, n);
  memcpy(head_of(mem), &h, sizeof h);
}

void unmap(void* mem, size_t bytes) {
  KeepErrno keep;
  ::unlink(reinterpret_cast<const char*>(head_of(mem) + kNameAt));
  ::munmap(head_of(mem), kHeadBytes + bytes);
}

void forget(void* mem, size_t bytes) {
  KeepErrno keep;
  ::munmap(head_of(mem), kHeadBytes + bytes);
}

} // namespace hv::alloc::salvage
