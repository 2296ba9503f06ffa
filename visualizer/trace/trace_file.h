// trace_file.h - opens a heapviz trace (.hvt) and indexes its blocks (docs/trace-format.md).
//
// Owns: the memory mapping of the file (the file is never copied into RAM), FileHeader
// validation, the block index (offset, tid, first_seq, nevents, ...) with magic/size/CRC checks,
// and the typed read errors every later stage reports (TraceError).
// Must not: decode events (event_decoder.h) or know about the heap model (visualizer/model).
#pragma once

#include "heapviz/trace_format.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hv::trace {

// What went wrong, for callers that react differently (the CLI's exit status, the GUI's banner).
enum class ErrorKind : uint8_t {
  Io,            // cannot open/stat/map the file
  NotATrace,     // too short for a magic, or the magic is not "HVTRACE\0"
  TooNew,        // version > kVersion (made by a newer heapviz)
  TooOld,        // version < kOldestVersion
  WrongPlatform, // not little-endian / pointer size not 8
  BadHeader,     // absurd header_size or cmdline_len
  Truncated,     // the file ends inside the header or a block (a torn tail): the prefix is usable
  CorruptBlock,  // a block in the middle fails its magic, sizes or CRC (or will not decompress)
  BadEvent,      // an event cannot be decoded (unknown type, varint overflow, field past the end)
  BadSequence,   // sequence numbers go backwards or repeat
};
const char* error_kind_name(ErrorKind k);

struct TraceError {
  ErrorKind kind;
  uint64_t offset;     // byte offset in the file where the problem is
  std::string message; // a sentence without the offset, e.g. "block CRC mismatch (...)"
  // "offset N: message"
  std::string describe() const;
};

// One block of the index. The payload is at offset + sizeof(BlockHeader).
struct BlockInfo {
  uint64_t offset; // of the BlockHeader in the file
  uint64_t first_seq, base_ns, base_addr;
  uint32_t tid, nevents, arena;
  uint32_t raw_size, stored_size;
  uint16_t flags;
};

// A validated, indexed, read-only trace. Movable, not copyable.
class TraceFile {
public:
  TraceFile() = default;
  TraceFile(TraceFile&& o) noexcept;
  TraceFile& operator=(TraceFile&& o) noexcept;
  TraceFile(const TraceFile&) = delete;
  TraceFile& operator=(const TraceFile&) = delete;
  ~TraceFile();

  // Maps the file and indexes it. Returns false only if nothing is usable (I/O error or a bad
  // FileHeader): error() says why. A torn tail or a bad block still returns true, with error()
  // set and blocks() holding the readable prefix.
  bool open(const std::string& path);
  // Only the first max_bytes of the file (a live capture still growing: the complete prefix).
  bool open(const std::string& path, uint64_t max_bytes);
  // The same on bytes that stay owned by the caller (tests, the fuzzer); no copy is made.
  bool open_memory(const void* data, size_t size);
  // A file opened as a prefix (open(path, max_bytes): a live capture) that has grown: maps and
  // indexes its first max_bytes, keeping every block already indexed (blocks() only gains blocks
  // at its end, threads() only gains threads at its end). data() does not move: the prefix was
  // mapped into kGrowReserve bytes of address space, and what is added is mapped after it.
  // Readers take the new blocks (EventStream::refresh_blocks). Returns Grown when blocks were
  // added, Same when nothing complete was added, and Reopen when the file cannot be extended (it
  // shrank, was replaced or rewritten in place, outgrew the reservation, an earlier block was
  // bad, or a map failed): the caller opens it afresh. A torn tail (error() Truncated) is
  // indexed again from its first byte, and error() reflects the new end.
  enum class Growth { Same, Grown, Reopen };
  Growth grow(uint64_t max_bytes);
  static constexpr uint64_t kGrowReserve = uint64_t(64) << 30; // address space, not memory

  const FileHeader& header() const { return header_; }
  std::string cmdline() const; // arguments separated by spaces
  const std::vector<BlockInfo>& blocks() const { return blocks_; }
  const std::optional<TraceError>& error() const { return error_; }
  bool truncated() const { return error_ && error_->kind == ErrorKind::Truncated; }
  uint64_t file_size() const { return size_; }
  const uint8_t* data() const { return data_; }
  // Events announced by the indexed blocks (the readable ones may be fewer on a decode error).
  uint64_t indexed_events() const { return indexed_events_; }
  // Drops the mapped pages of [begin, end) from this process's resident memory (they stay in the
  // page cache; touching them again reads them back). Keeps a long pass over a big trace from
  // holding the whole file resident. No-op for open_memory().
  void release(uint64_t begin, uint64_t end) const;
  // Thread ids in order of their first block.
  const std::vector<uint32_t>& threads() const { return threads_; }
  // Each thread's block indices in file order, threads in the order of threads() (the order in
  // which EventStream::Position lists them: SeqScatter's positions rely on it).
  std::vector<std::vector<uint32_t>> blocks_by_thread() const;

private:
  void close();
  bool parse();
  bool check_header();
  bool same_prefix() const; // the header and the last indexed block are still what they were
  void index_blocks();
  void fail(ErrorKind k, uint64_t off, std::string msg);

  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  uint64_t index_end_ = 0; // where index_blocks() stopped: the end of the last good block
  std::string path_;       // opened by path (grow() reopens it)
  uint64_t dev_ = 0, ino_ = 0;
  void* map_ = nullptr; // non-null when we own a mapping of map_len_ bytes
  size_t map_len_ = 0;  // (a prefix: the reservation; its first mapped_ bytes map the file)
  uint64_t mapped_ = 0;
  bool growable_ = false; // opened as a prefix, into a reservation
  // Packed: placed at an 8-byte boundary, its fields are at their natural alignment (a reference
  // to header().params[i] is valid; UBSan caught one at an odd offset).
  alignas(8) FileHeader header_{};
  std::vector<BlockInfo> blocks_;
  std::vector<uint32_t> threads_;
  std::optional<TraceError> error_;
  uint64_t indexed_events_ = 0;
};

// zstd bound on a stored (compressed) payload whose raw size is at most kMaxBlockPayload.
inline constexpr uint32_t kMaxStoredPayload = kMaxBlockPayload + kMaxBlockPayload / 128 + 4096;
// Largest accepted header_size (the command line can be long, but not this long).
inline constexpr uint32_t kMaxHeaderSize = 16u << 20;

} // namespace hv::trace
