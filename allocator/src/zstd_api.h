// zstd_api.h - the libzstd functions the trace writer compresses with, looked up at run time.
//
// Owns: loading libzstd (dlopen of libzstd.so.1) when a recording asks for compression
// (HEAPVIZ_COMPRESS), so that libhvalloc.so maps no libzstd in a process that never compresses
// (its resident memory then stays at glibc's; issue 20).
// Must not: be loaded from inside an allocator call (dlopen allocates): load_zstd() runs in the
// library's constructor; blocks flushed before it are stored uncompressed, as the format allows.
#pragma once

#define ZSTD_STATIC_LINKING_ONLY // ZSTD_initStaticCCtx: compression without malloc
#include <zstd.h>

#include <cstddef>

namespace hv::alloc {

struct ZstdApi {
  size_t (*compress_bound)(size_t);
  size_t (*estimate_cctx_size)(int);
  ZSTD_CCtx* (*init_static_cctx)(void*, size_t);
  size_t (*compress_cctx)(ZSTD_CCtx*, void*, size_t, const void*, size_t, int);
  unsigned (*is_error)(size_t);
};

// The functions once load_zstd() has found them all; nullptr before, or when libzstd is missing.
const ZstdApi* zstd_api();
// Loads libzstd.so.1 (once). True when every function was found. Allocates: never call it from
// inside malloc or free.
bool load_zstd();

} // namespace hv::alloc
