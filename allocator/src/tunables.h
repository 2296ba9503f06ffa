// tunables.h - glibc 2.36's malloc tunables as its dynamic loader reads them: GLIBC_TUNABLES and
// the MALLOC_*_ aliases, with ld.so's bounds (elf/dl-tunables.list, elf/dl-tunables.c).
//
// Owns: the table of malloc tunables (names, aliases, types, bounds), the parse of an
// environment into tunable values (__tunables_init, parse_tunables, _dl_strtoul) and the names
// of the limits malloc.c's setters add. MallocCore applies the values (apply_tunables,
// malloc_core_impl.h). Must not: allocate, call into libc beyond string-free loops, or write to
// the strings it reads (glibc's copy is its own; ours reads the environment in place).
#pragma once

#include <cstddef>
#include <cstdint>

namespace hv::alloc {

// ptmalloc_init's TUNABLE_GET order (malloc/arena.c), which is the order they are applied in.
enum class TunableId : uint8_t {
  TopPad,
  Perturb,
  MmapThreshold,
  TrimThreshold,
  MmapMax,
  ArenaMax,
  ArenaTest,
  TcacheMax,
  TcacheCount,
  TcacheUnsortedLimit,
  Mxfast,
  Hugetlb, // known (so a name is not "unknown") but not applied: heapviz has no huge pages
  Check,   // read by libc_malloc_debug.so only; libc's malloc ignores it
  Count
};
inline constexpr int kNumTunables = static_cast<int>(TunableId::Count);

// tunable_num_t is intmax_t: SIZE_MAX is stored as -1 and compared unsigned for SIZE_T tunables.
using TunableNum = int64_t;

struct TunableDef {
  const char* name;  // as in GLIBC_TUNABLES
  const char* alias; // the environment alias (env_alias), or nullptr
  bool int32;        // INT_32 (signed compares), else SIZE_T (unsigned)
  TunableNum min;    // ld.so's bounds: dl-tunables.list's minval/maxval, else the type's
  TunableNum max;
  // What glibc 2.36 accepts, for messages: ld.so's bounds and malloc.c's setter's own limit
  // (or why heapviz does not apply the tunable).
  const char* accepts;
};

inline constexpr TunableNum kSizeMax = -1; // SIZE_MAX as tunable_num_t
inline constexpr TunableNum kInt32Max = 2147483647;
inline constexpr TunableNum kInt32Min = -kInt32Max - 1;

inline constexpr TunableDef kTunableDefs[kNumTunables] = {
    {"glibc.malloc.top_pad", "MALLOC_TOP_PAD_", false, 0, kSizeMax, "any size_t"},
    {"glibc.malloc.perturb", "MALLOC_PERTURB_", true, 0, 0xff, "0..255"},
    {"glibc.malloc.mmap_threshold", "MALLOC_MMAP_THRESHOLD_", false, 0, kSizeMax, "any size_t"},
    {"glibc.malloc.trim_threshold", "MALLOC_TRIM_THRESHOLD_", false, 0, kSizeMax, "any size_t"},
    {"glibc.malloc.mmap_max", "MALLOC_MMAP_MAX_", true, 0, kInt32Max, "0..2147483647"},
    {"glibc.malloc.arena_max", "MALLOC_ARENA_MAX", false, 1, kSizeMax, "1 or more"},
    {"glibc.malloc.arena_test", "MALLOC_ARENA_TEST", false, 1, kSizeMax, "1 or more"},
    {"glibc.malloc.tcache_max", nullptr, false, 0, kSizeMax, "0..1032 (MAX_TCACHE_SIZE)"},
    {"glibc.malloc.tcache_count", nullptr, false, 0, kSizeMax, "0..65535 (MAX_TCACHE_COUNT)"},
    {"glibc.malloc.tcache_unsorted_limit", nullptr, false, 0, kSizeMax, "any size_t"},
    {"glibc.malloc.mxfast", nullptr, false, 0, kSizeMax, "0..160 (MAX_FAST_SIZE)"},
    {"glibc.malloc.hugetlb", nullptr, false, 0, kSizeMax, "heapviz simulates no huge pages"},
    {"glibc.malloc.check", "MALLOC_CHECK_", true, 0, 3, "only libc_malloc_debug.so reads it"},
};

inline const TunableDef& tunable_def(TunableId id) {
  return kTunableDefs[static_cast<int>(id)];
}

namespace tunables_detail {

// _dl_strtoul (elf/dl-misc.c): blanks, a sign, then decimal, 0x-hex or 0-octal digits up to the
// first other character; UINT64_MAX on overflow; a '-' negates (mod 2^64).
inline uint64_t dl_strtoul(const char* s) {
  while (*s == ' ' || *s == '\t')
    ++s;
  bool positive = true;
  if (*s == '-') {
    positive = false;
    ++s;
  } else if (*s == '+') {
    ++s;
  }
  if (*s < '0' || *s > '9') return 0;
  unsigned base = 10, max_digit = 9;
  if (*s == '0') {
    if (s[1] == 'x' || s[1] == 'X') {
      base = 16;
      s += 2;
    } else {
      base = 8;
      max_digit = 7;
    }
  }
  uint64_t result = 0;
  for (;; ++s) {
    unsigned d;
    if (*s >= '0' && *s <= static_cast<char>('0' + max_digit))
      d = static_cast<unsigned>(*s - '0');
    else if (base == 16 && *s >= 'a' && *s <= 'f')
      d = static_cast<unsigned>(*s - 'a' + 10);
    else if (base == 16 && *s >= 'A' && *s <= 'F')
      d = static_cast<unsigned>(*s - 'A' + 10);
    else
      break;
    if (result >= (UINT64_MAX - d) / base) return UINT64_MAX;
    result = result * base + d;
  }
  return positive ? result : 0 - result;
}

// tunable_is_name (elf/dl-tunables.h): `orig` is a prefix of `envname` followed by '='.
inline bool is_name(const char* orig, const char* envname) {
  for (; *orig != '\0' && *envname != '\0'; ++envname, ++orig)
    if (*orig != *envname) break;
  return *orig == '\0' && *envname == '=';
}

inline bool lt(TunableNum a, TunableNum b, bool unsigned_cmp) {
  return unsigned_cmp ? static_cast<uint64_t>(a) < static_cast<uint64_t>(b) : a < b;
}

} // namespace tunables_detail

// ld.so's tunable_list, for the malloc tunables: a value and whether it was set.
struct Tunables {
  TunableNum val[kNumTunables] = {};
  bool initialized[kNumTunables] = {};

  bool is_set(TunableId id) const { return initialized[static_cast<int>(id)]; }
  TunableNum get(TunableId id) const { return val[static_cast<int>(id)]; }

  // do_tunable_update_val with no extra bounds: a value outside the tunable's bounds is dropped
  // (false) and an earlier one stays.
  bool update(TunableId id, TunableNum v) {
    const TunableDef& d = tunable_def(id);
    const bool unsigned_cmp = !d.int32;
    if (tunables_detail::lt(v, d.min, unsigned_cmp) || tunables_detail::lt(d.max, v, unsigned_cmp))
      return false;
    val[static_cast<int>(id)] = v;
    initialized[static_cast<int>(id)] = true;
    return true;
  }
  // tunable_initialize: the value text as _dl_strtoul reads it.
  bool initialize(TunableId id, const char* text) {
    return update(id, static_cast<TunableNum>(tunables_detail::dl_strtoul(text)));
  }

  // parse_tunables (elf/dl-tunables.c, not AT_SECURE): a GLIBC_TUNABLES value, a ':'-separated
  // list of NAME=VALUE. An entry without '=' or with an unknown name is skipped; a later entry
  // for the same tunable overrides an earlier one (if its value is within bounds).
  void parse_glibc_tunables(const char* s) {
    if (s == nullptr || *s == '\0') return;
    const char* p = s;
    for (;;) {
      const char* name = p;
      size_t len = 0;
      while (p[len] != '=' && p[len] != ':' && p[len] != '\0')
        ++len;
      if (p[len] == '\0') break; // a name with no value at the end
      if (p[len] == ':') {       // a name with no value before the next entry
        p += len + 1;
        continue;
      }
      p += len + 1;
      const char* value = p;
      len = 0;
      while (p[len] != ':' && p[len] != '\0')
        ++len;
      for (int i = 0; i < kNumTunables; ++i) {
        if (tunables_detail::is_name(kTunableDefs[i].name, name)) {
          initialize(static_cast<TunableId>(i), value); // _dl_strtoul stops at the ':'
          break;
        }
      }
      if (p[len] == '\0') break;
      p += len + 1;
    }
  }

  // __tunables_init (not AT_SECURE): every GLIBC_TUNABLES in the environment, in order, and the
  // aliases of tunables not set yet. So GLIBC_TUNABLES wins over an alias wherever each stands
  // (an alias seen first is overridden; one seen later is skipped), unless its value was out of
  // bounds; of two aliases for one tunable the first valid one counts.
  void init_from_environment(char* const* envp) {
    static constexpr char kGlibcTunables[] = "GLIBC_TUNABLES";
    for (; envp != nullptr && *envp != nullptr; ++envp) {
      const char* line = *envp;
      size_t len = 0;
      while (line[len] != '\0' && line[len] != '=')
        ++len;
      if (line[len] == '\0') continue; // a name without a value
      if (tunables_detail::is_name(kGlibcTunables, line)) {
        parse_glibc_tunables(line + len + 1);
        continue;
      }
      for (int i = 0; i < kNumTunables; ++i) {
        const TunableDef& d = kTunableDefs[i];
        if (initialized[i] || d.alias == nullptr) continue;
        if (tunables_detail::is_name(d.alias, line)) {
          initialize(static_cast<TunableId>(i), line + len + 1);
          break;
        }
      }
    }
  }
};

// The tunable called `name` (exactly, `len` bytes), or -1.
inline int find_tunable(const char* name, size_t len) {
  for (int i = 0; i < kNumTunables; ++i) {
    const char* n = kTunableDefs[i].name;
    size_t k = 0;
    while (k < len && n[k] != '\0' && n[k] == name[k])
      ++k;
    if (k == len && n[k] == '\0') return i;
  }
  return -1;
}

} // namespace hv::alloc
