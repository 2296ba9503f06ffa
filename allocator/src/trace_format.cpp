// trace_format.cpp - the few out-of-line pieces of the trace format: CRC-32, event names, and
// the file header builder. No allocation (linked into libhvalloc.so).
#include "heapviz/trace_encoder.h"

namespace hv::trace {

namespace {
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the SSE4.2 `crc32` instruction
// computes it at ~8 bytes a cycle, so checking a block costs little next to writing it.
struct CrcTable {
  uint32_t t[256];
  constexpr CrcTable() : t() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = (c & 1) ? 0x82F63B78u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
  }
};
constexpr CrcTable kCrc;

uint32_t crc32c_soft(const uint8_t* p, size_t len, uint32_t crc) {
  for (size_t i = 0; i < len; ++i)
    crc = kCrc.t[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t crc32c_hw(const uint8_t* p, size_t len, uint32_t crc) {
  uint64_t c = crc;
  while (len >= 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    c = __builtin_ia32_crc32di(c, v);
    p += 8;
    len -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (len--)
    c32 = __builtin_ia32_crc32qi(c32, *p++);
  return c32;
}
bool have_sse42() {
  static int cached = -1;
  if (cached < 0) {
    __builtin_cpu_init();
    cached = __builtin_cpu_supports("sse4.2") ? 1 : 0;
  }
  return cached == 1;
}
#endif
} // namespace

uint32_t crc32(const void* data, size_t len, uint32_t crc) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  crc = ~crc;
#if defined(__x86_64__)
  if (have_sse42()) return ~crc32c_hw(p, len, crc);
#endif
  return ~crc32c_soft(p, len, crc);
}

size_t build_file_header(uint8_t* out, const char* policy, const uint64_t params[kNumParams],
                         uint64_t heap_base, uint32_t pid, uint32_t ppid, uint64_t start_unix_ns,
                         uint64_t start_mono_ns, uint32_t flags, const char* cmdline, uint32_t cmdline_len,
                         uint32_t page_size) {
  FileHeader h;
  memset(&h, 0, sizeof h);
  memcpy(h.magic, kFileMagic, sizeof h.magic);
  h.version = kVersion;
  size_t total = (sizeof(FileHeader) + cmdline_len + 7) & ~size_t(7);
  h.header_size = static_cast<uint32_t>(total);
  h.little_endian = 1;
  h.pointer_size = sizeof(void*);
  h.page_size = page_size;
  for (size_t i = 0; i < sizeof h.policy - 1 && policy[i]; ++i)
    h.policy[i] = policy[i];
  for (int i = 0; i < kNumParams; ++i)
    h.params[i] = params[i];
  h.heap_base = heap_base;
  h.pid = pid;
  h.ppid = ppid;
  h.start_unix_ns = start_unix_ns;
  h.start_mono_ns = start_mono_ns;
  h.flags = flags;
  h.cmdline_len = cmdline_len;
  memset(out, 0, total);
  memcpy(out, &h, sizeof h);
  if (cmdline_len) memcpy(out + sizeof h, cmdline, cmdline_len);
  return total;
}

} // namespace hv::trace
