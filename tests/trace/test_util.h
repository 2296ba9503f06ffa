// test_util.h - helpers shared by the trace and model tests: files from bytes, reading all events.
#pragma once

#include "trace/event_stream.h"
#include "trace/trace_builder.h"
#include "trace/trace_file.h"

#include <cstdio>
#include <deque>
#include <string>
#include <unistd.h>
#include <vector>

namespace hv::test {

// A file in the test's temporary directory, removed at destruction.
struct TempFile {
  std::string path;
  explicit TempFile(const std::vector<uint8_t>& bytes, const char* name = "t.hvt") {
    const char* dir = getenv("TMPDIR");
    path = std::string(dir ? dir : "/tmp") + "/hvtest_" + std::to_string(getpid()) + "_" + name;
    FILE* f = fopen(path.c_str(), "wb");
    if (!bytes.empty()) fwrite(bytes.data(), 1, bytes.size(), f);
    fclose(f);
  }
  ~TempFile() { unlink(path.c_str()); }
};

// Every event of a file, in merged order, with copies of their bytes (mark, stack, snapshot).
struct Events {
  std::vector<trace::Event> ev;
  std::deque<std::vector<uint8_t>> bytes;
  size_t size() const { return ev.size(); }
  const trace::Event& operator[](size_t i) const { return ev[i]; }
};
inline Events read_all(const trace::TraceFile& f, std::optional<trace::TraceError>* err = nullptr) {
  trace::EventStream s(f);
  Events out;
  while (const trace::Event* e = s.next()) {
    out.ev.push_back(*e);
    if (e->data) {
      out.bytes.emplace_back(e->data, e->data_end);
      out.ev.back().data = out.bytes.back().data();
      out.ev.back().data_end = out.ev.back().data + out.bytes.back().size();
    }
  }
  if (err) *err = s.error();
  return out;
}

inline void put32(std::vector<uint8_t>& b, size_t off, uint32_t v) {
  memcpy(&b[off], &v, 4);
}
inline uint32_t get32(const std::vector<uint8_t>& b, size_t off) {
  uint32_t v;
  memcpy(&v, &b[off], 4);
  return v;
}
// Recomputes the CRC of the block at off (after editing its payload).
inline void fix_crc(std::vector<uint8_t>& b, size_t off) {
  uint32_t stored = get32(b, off + 12);
  put32(b, off + 52, trace::crc32(&b[off + sizeof(trace::BlockHeader)], stored));
}

} // namespace hv::test
