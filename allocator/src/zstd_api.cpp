// zstd_api.cpp - libzstd on demand (zstd_api.h).
#include "zstd_api.h"

#include <atomic>
#include <dlfcn.h>

namespace hv::alloc {

namespace {
ZstdApi g_api;
std::atomic<const ZstdApi*> g_loaded{nullptr};
} // namespace

const ZstdApi* zstd_api() {
  return g_loaded.load(std::memory_order_acquire);
}

bool load_zstd() {
  if (zstd_api()) return true;
  void* h = dlopen("libzstd.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!h) return false;
  ZstdApi a{};
  a.compress_bound = reinterpret_cast<decltype(a.compress_bound)>(dlsym(h, "ZSTD_compressBound"));
  a.estimate_cctx_size = reinterpret_cast<decltype(a.estimate_cctx_size)>(dlsym(h, "ZSTD_estimateCCtxSize"));
  a.init_static_cctx = reinterpret_cast<decltype(a.init_static_cctx)>(dlsym(h, "ZSTD_initStaticCCtx"));
  a.compress_cctx = reinterpret_cast<decltype(a.compress_cctx)>(dlsym(h, "ZSTD_compressCCtx"));
  a.is_error = reinterpret_cast<decltype(a.is_error)>(dlsym(h, "ZSTD_isError"));
  if (!a.compress_bound || !a.estimate_cctx_size || !a.init_static_cctx || !a.compress_cctx || !a.is_error) {
    dlclose(h);
    return false;
  }
  g_api = a;
  g_loaded.store(&g_api, std::memory_order_release);
  return true;
}

} // namespace hv::alloc
