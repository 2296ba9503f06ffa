// trace_summary.cpp - see trace_summary.h. Reads only block headers (fast on any size).
#include "cli/trace_summary.h"

#include "heapviz/trace_format.h"

#include <cstdio>
#include <cstring>
#include <set>
#include <sys/stat.h>

namespace hv::cli {

std::string summarize_trace(const std::string& path) {
  FILE* f = fopen(path.c_str(), "rb");
  if (!f) return path + ": cannot open: " + strerror(errno);
  trace::FileHeader h;
  std::string result;
  if (fread(&h, sizeof h, 1, f) != 1 || memcmp(h.magic, trace::kFileMagic, sizeof h.magic) != 0) {
    fclose(f);
    return path + ": not a heapviz trace";
  }
  uint64_t events = 0, blocks = 0;
  std::set<uint32_t> tids;
  long off = h.header_size;
  bool torn = false;
  struct stat st;
  stat(path.c_str(), &st);
  for (;;) {
    trace::BlockHeader b;
    if (fseek(f, off, SEEK_SET) != 0) break;
    size_t got = fread(&b, 1, sizeof b, f);
    if (got == 0) break;
    if (got != sizeof b || b.magic != trace::kBlockMagic ||
        static_cast<uint64_t>(off) + sizeof b + b.stored_size > static_cast<uint64_t>(st.st_size)) {
      torn = true;
      break;
    }
    events += b.nevents;
    ++blocks;
    tids.insert(b.tid);
    off += static_cast<long>(sizeof b + b.stored_size);
  }
  fclose(f);
  char buf[512];
  snprintf(buf, sizeof buf, "%s: %llu events, %lld bytes (%.1f bytes/event), %zu thread%s, pid %u%s",
           path.c_str(), static_cast<unsigned long long>(events), static_cast<long long>(st.st_size),
           events ? static_cast<double>(st.st_size) / static_cast<double>(events) : 0.0, tids.size(),
           tids.size() == 1 ? "" : "s", h.pid,
           torn ? " (ends in a torn block: the process died mid-write)" : "");
  return buf;
}

} // namespace hv::cli
