// trace_format.h - the heapviz trace (.hvt): one header for the writer (libhvalloc, heapviz sim)
// and the reader (visualizer/trace). Byte layouts, the version policy and the changelog are in
// docs/trace-format.md; keep the two in step.
//
// A file is a FileHeader (variable length: it ends with the command line), then self-contained
// blocks, each a BlockHeader followed by its payload of encoded events. A process that dies
// leaves a readable prefix: every block is complete on its own, and a torn last block is
// detected by its sizes and CRC.
//
// Must not: depend on anything but the C++ standard headers below (the allocator includes it).
#pragma once

#include <cstddef>
#include <cstdint>

#include "heapviz/chunk_states.h"
#include "heapviz/trace_events.h"

namespace hv::trace {

inline constexpr char kFileMagic[8] = {'H', 'V', 'T', 'R', 'A', 'C', 'E', '\0'};
inline constexpr uint32_t kVersion = 3;             // bump on any incompatible change; see the changelog
inline constexpr uint32_t kOldestVersion = 1;       // the oldest version readers still open
inline constexpr uint32_t kBlockMagic = 0x31425648; // "HVB1" little-endian

// ---- File header ---------------------------------------------------------------------------
enum FileFlags : uint32_t {
  kFileZstd = 1u << 0,      // some blocks may be zstd-compressed
  kFileSnapshots = 1u << 1, // HEAPVIZ_VERIFY was on: SNAPSHOT events are present
  kFileSimulated = 1u << 2, // written by heapviz sim (addresses are in a simulated region)
  kFileStacks = 1u << 3,    // call stacks were recorded (STACK and MODULE events, API events' stacks)
};

enum Param : int { // indices into FileHeader::params
  kParamMmapThreshold = 0,
  kParamTrimThreshold,
  kParamTopPad,
  kParamMmapMax,
  kParamArenaMax,
  kParamArenaTest,
  kParamTcacheCount,
  kParamMaxFast,
  kNumParams = 8
};

#pragma pack(push, 1)
struct FileHeader {
  char magic[8];         // kFileMagic
  uint32_t version;      // kVersion
  uint32_t header_size;  // bytes from the start of the file to the first block (multiple of 8)
  uint8_t little_endian; // 1
  uint8_t pointer_size;  // 8
  uint16_t reserved0;
  uint32_t page_size;
  char policy[16]; // "glibc-2.36", NUL-padded
  uint64_t params[kNumParams];
  uint64_t heap_base; // the program break before the first allocation (0 if unknown)
  uint32_t pid;
  uint32_t ppid;
  uint64_t start_unix_ns; // wall clock at start (CLOCK_REALTIME)
  uint64_t start_mono_ns; // CLOCK_MONOTONIC at start: event timestamps are on this clock
  uint32_t flags;         // FileFlags
  uint32_t cmdline_len;   // bytes of command line that follow (arguments separated by NUL)
  // followed by cmdline_len bytes, then zero padding up to header_size
};
#pragma pack(pop)
static_assert(sizeof(FileHeader) == 144, "FileHeader layout is part of the format");

// ---- Blocks --------------------------------------------------------------------------------
// kBlockClocked: the block's sequence numbers (some or all) are a threaded process's clocks
// (docs/trace-format.md, "Order of events"): they may jump, and another thread's block may hold
// the same number; readers merge by number, ties in thread order, and count no gaps there.
enum BlockFlags : uint16_t { kBlockZstd = 1u << 0, kBlockClocked = 1u << 1 };

#pragma pack(push, 1)
struct BlockHeader {
  uint32_t magic; // kBlockMagic
  uint16_t flags; // BlockFlags
  uint16_t reserved;
  uint32_t raw_size;    // payload bytes once decompressed
  uint32_t stored_size; // payload bytes that follow this header in the file
  uint32_t tid;         // the thread that wrote every event of the block
  uint32_t nevents;
  uint64_t first_seq; // sequence-number origin of the block (see Event encoding)
  uint64_t base_ns;   // timestamp origin (CLOCK_MONOTONIC ns)
  uint64_t base_addr; // address-register origin
  uint32_t arena;     // arena index in force at the start of the block
  uint32_t crc32;     // CRC-32C (Castagnoli) of the stored payload
};
#pragma pack(pop)
static_assert(sizeof(BlockHeader) == 56, "BlockHeader layout is part of the format");

inline constexpr uint32_t kMaxBlockPayload = 1u << 20; // readers reject larger blocks

// ---- Salvage files (docs/trace-format.md, "Salvage files") ---------------------------------
// Under `heapviz record` (HEAPVIZ_SALVAGE=DIR) each thread's buffer (its BlockEncoder and block)
// is a shared mapping of a file in DIR, so that the events of a process killed before it could
// flush them (SIGKILL, the OOM killer) are still there when it is gone: record appends them to
// the trace. The file starts with this head; its offsets (BlockEncoder::layout) say where the
// encoder keeps the block being filled: the whole word (u64: whole events << 32 | their payload
// bytes), the header in the making (a BlockHeader whose tid, first_seq, base_ns, base_addr and
// arena are set once there is an event), the clocked flag (u8), and the payload.
inline constexpr char kSalvageMagic[8] = {'H', 'V', 'S', 'A', 'L', 'V', '1', '\0'};
#pragma pack(push, 1)
struct SalvageHead {
  char magic[8];           // kSalvageMagic
  uint32_t pid, tid;       // the process and thread whose buffer it is
  uint64_t trace_start_ns; // the trace's FileHeader.start_unix_ns: the trace the events belong to
  uint32_t whole_off;      // file offsets of the whole word, the header in the making, the
  uint32_t header_off;     // clocked flag and the payload (see above)
  uint32_t clocked_off;
  uint32_t payload_off;
  uint32_t payload_cap; // the payload's capacity
  uint32_t reserved;
  char trace_path[4096]; // the trace's path, NUL-terminated
};
#pragma pack(pop)

// ---- Events --------------------------------------------------------------------------------
// Every event is: u8 type, varint seq_delta, varint ts_delta, then its fields, where
//   varint  = unsigned LEB128 (at most 10 bytes)
//   seq     = previous event's seq in this block (block.first_seq before the first) + seq_delta
//   ts      = previous event's ts in this block (block.base_ns before the first) + ts_delta
//   A  addr = zigzag varint of (addr - R); then R = addr. R starts at block.base_addr.
//   U  usize = varint (a byte count as the program asked for it)
//   C  csize = varint of (chunk size / 16) (chunk sizes are multiples of 16)
//   S  svarint = zigzag varint
//   B  u8
// The arena of an event is the block's current arena: block.arena, changed by ARENA events.
inline constexpr uint64_t kChunkGranule = 16; // chunk sizes and addresses are multiples of this
// Codes 0x80-0xfe are extension events: after the seq and ts deltas comes a varint length and
// that many bytes, so readers skip the codes they do not know (docs/trace-format.md).
// The events themselves (code, fields, meaning) are the table in trace_events.h.
enum class MergeHow : uint8_t { WithPrev = 0, WithNext = 1, IntoTop = 2 };
// BinKind (bin_in, bin_out) and ChunkState (snapshots, the replay model), with their names, are
// the vocabulary in chunk_states.h.
enum SnapshotFlags : uint8_t {
  // Taken while other threads could run lockless tcache/fastbin operations: Tcache and Fast
  // chunks are reported as InUse; compare the coarse classes only.
  kSnapshotCoarse = 1,
  // The heap as it already was when this trace began (a forked child, a live attach): a
  // reader initialises its model from it instead of checking against it.
  kSnapshotBaseline = 2,
  // A snapshot too large for one block is written as several SNAPSHOT events in a row (same
  // thread); every part but the last has this flag. A reader joins the parts.
  kSnapshotMore = 4,
};
enum class ErrorCode : uint8_t {
  InvalidPointer = 1, // free(): invalid pointer (and realloc/munmap_chunk variants)
  DoubleFree = 2,     // double free detected (tcache, fasttop, top, !prev, out)
  CorruptedSize = 3,  // corrupted size vs. prev_size, invalid size/next size
  CorruptedList = 4,  // corrupted double-linked list, unsorted/large bin corruption
  Other = 5,
};
// What an error report (the ERROR_REPORT event after an ERROR) says the bug is, as a memcheck or
// ASan user names it (docs/trace-format.md, "Error reports"; `heapviz errors`).
enum class HeapErrorKind : uint8_t {
  DoubleFree = 1,         // a block freed again (or a chunk already in a bin passed to free)
  InvalidFree = 2,        // a pointer that is not a block's start: misaligned, interior, outside every heap
  HeapBufferOverflow = 3, // bytes past the request changed: the slack, or the next chunk's header
  WriteAfterFree = 4,     // a freed block's bytes changed while it was free
  Corruption = 5,         // the allocator's own data found broken (sizes, links), cause unknown
};
inline constexpr uint8_t kNumHeapErrorKinds = 6;
// An error report's limits: its message's bytes, runs of differing bytes, and bytes per run.
inline constexpr size_t kMaxErrorMessage = 256, kMaxErrorRuns = 8, kMaxErrorRunBytes = 64;
// An error report's flags: the faulting call is a free whose own API event comes before the error
// (calls that return something write their event after their work, so an error inside them comes
// before it).
inline constexpr uint8_t kErrorCallWritten = 1;
// Who made the check: glibc's (the message is glibc's own) or heapviz's (HEAPVIZ_CHECKS).
enum class HeapErrorSource : uint8_t { Glibc = 1, Heapviz = 2 };
// The kind a glibc check's code says.
inline HeapErrorKind error_kind_of(ErrorCode c) {
  return c == ErrorCode::DoubleFree       ? HeapErrorKind::DoubleFree
         : c == ErrorCode::InvalidPointer ? HeapErrorKind::InvalidFree
                                          : HeapErrorKind::Corruption;
}

// Name of an event type for dump output; nullptr if the type is unknown.
inline const char* event_name(Ev e) {
  return event_info(e).name;
}

// ---- Encoding helpers (shared by writer and reader) -----------------------------------------
inline uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t unzigzag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}
// Writes v as LEB128 at p (room for 10 bytes needed); returns the new end.
inline uint8_t* put_varint(uint8_t* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
}
// CRC-32C (Castagnoli; the SSE4.2 crc32 instruction's polynomial), initial value 0 = crc32("").
uint32_t crc32(const void* data, size_t len, uint32_t crc = 0);

} // namespace hv::trace
