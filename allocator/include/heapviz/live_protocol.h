// live_protocol.h - how a viewer talks to a process running with HEAPVIZ_LIVE=1 (docs/live.md).
//
// Owns: where the sockets live, who may connect, and the frames on the wire. Shared by the
// allocator (the listening side, which must not allocate: so plain C strings here) and by the
// heapviz client.
#pragma once

#include "heapviz/decimal.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <sys/types.h>
#include <unistd.h>

namespace hv::live {

// The first byte a client sends.
inline constexpr char kRequestAttach = 'A'; // stream the heap: snapshot, then every event
inline constexpr char kRequestInfo = 'I';   // one Info frame, then the process closes

// Every message from the process is a frame: this head, then `len` bytes.
struct FrameHead {
  uint32_t type;
  uint32_t len;
};
enum FrameType : uint32_t {
  kFrameTraceHeader = 1, // the trace FileHeader (+ command line) of this viewer's stream
  kFrameBlock = 2,       // one trace block, as in a .hvt file
  kFrameSync = 3,        // SyncPayload: every event with a smaller seq has been sent
  kFrameExit = 4,        // the process is exiting: the stream is complete
  kFrameInfo = 5,        // InfoPayload, then the command line (NUL-separated arguments)
  kFrameRefused = 6,     // a message saying why; the process closes the connection
};
struct SyncPayload {
  uint64_t next_seq;
  uint64_t heap_bytes; // footprint: every arena's system memory plus mmapped chunks
};
struct InfoPayload {
  uint32_t pid;
  uint32_t viewers; // attached now
  uint64_t heap_bytes;
  uint64_t events; // sequence numbers handed out while viewers were attached
};
inline constexpr uint32_t kMaxFrame = 1u << 20; // a block is at most ~64 KiB; this bounds a reader

// A peer may attach only if it runs as the same user (its SO_PEERCRED uid).
inline bool peer_allowed(uid_t self, uid_t peer) {
  return peer == self;
}

using hv::put_decimal;

// The per-user socket directory: $XDG_RUNTIME_DIR/heapviz if XDG_RUNTIME_DIR is set and absolute,
// else /tmp/heapviz-$UID. Writes it into out (NUL-terminated); false if it does not fit.
inline bool socket_dir(char* out, size_t cap) {
  const char* xdg = getenv("XDG_RUNTIME_DIR");
  size_t n = 0;
  auto put = [&](const char* s) {
    while (*s) {
      if (n + 1 >= cap) return false;
      out[n++] = *s++;
    }
    out[n] = 0;
    return true;
  };
  if (xdg && xdg[0] == '/') return put(xdg) && put("/heapviz");
  char num[24];
  put_decimal(num, sizeof num, static_cast<unsigned long>(geteuid()));
  return put("/tmp/heapviz-") && put(num);
}

} // namespace hv::live
