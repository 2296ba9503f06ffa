// trace_file.cpp - mapping, FileHeader validation and the block index (see trace_file.h).
#include "trace/trace_file.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_map>
#include <unordered_set>

namespace hv::trace {

std::vector<std::vector<uint32_t>> TraceFile::blocks_by_thread() const {
  std::unordered_map<uint32_t, size_t> by_tid;
  std::vector<std::vector<uint32_t>> out;
  for (uint32_t i = 0; i < blocks_.size(); ++i) {
    auto it = by_tid.emplace(blocks_[i].tid, out.size()).first;
    if (it->second == out.size()) out.emplace_back();
    out[it->second].push_back(i);
  }
  return out;
}

const char* error_kind_name(ErrorKind k) {
  switch (k) {
  case ErrorKind::Io:
    return "io";
  case ErrorKind::NotATrace:
    return "not a trace";
  case ErrorKind::TooNew:
    return "too new";
  case ErrorKind::TooOld:
    return "too old";
  case ErrorKind::WrongPlatform:
    return "wrong platform";
  case ErrorKind::BadHeader:
    return "bad header";
  case ErrorKind::Truncated:
    return "truncated";
  case ErrorKind::CorruptBlock:
    return "corrupt block";
  case ErrorKind::BadEvent:
    return "bad event";
  case ErrorKind::BadSequence:
    return "bad sequence";
  }
  return "?";
}

std::string TraceError::describe() const {
  return "offset " + std::to_string(offset) + ": " + message;
}

// ---- TraceFile ------------------------------------------------------------------------------
TraceFile::TraceFile(TraceFile&& o) noexcept {
  *this = std::move(o);
}

TraceFile& TraceFile::operator=(TraceFile&& o) noexcept {
  if (this != &o) {
    close();
    data_ = o.data_;
    size_ = o.size_;
    map_ = o.map_;
    map_len_ = o.map_len_;
    mapped_ = o.mapped_;
    growable_ = o.growable_;
    header_ = o.header_;
    blocks_ = std::move(o.blocks_);
    threads_ = std::move(o.threads_);
    error_ = std::move(o.error_);
    indexed_events_ = o.indexed_events_;
    index_end_ = o.index_end_;
    path_ = std::move(o.path_);
    dev_ = o.dev_;
    ino_ = o.ino_;
    o.map_ = nullptr;
    o.data_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

TraceFile::~TraceFile() {
  close();
}

void TraceFile::close() {
  if (map_) munmap(map_, map_len_);
  map_ = nullptr;
  map_len_ = 0;
  mapped_ = 0;
  growable_ = false;
  data_ = nullptr;
  size_ = 0;
  blocks_.clear();
  threads_.clear();
  error_.reset();
  indexed_events_ = 0;
  index_end_ = 0;
  path_.clear();
  dev_ = ino_ = 0;
}

void TraceFile::fail(ErrorKind k, uint64_t off, std::string msg) {
  if (!error_) error_ = TraceError{k, off, std::move(msg)};
}

bool TraceFile::open(const std::string& path) {
  return open(path, UINT64_MAX);
}

bool TraceFile::open(const std::string& path, uint64_t max_bytes) {
  close();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fail(ErrorKind::Io, 0, std::string("cannot open: ") + strerror(errno));
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    int e = errno;
    ::close(fd);
    fail(ErrorKind::Io, 0,
         S_ISDIR(st.st_mode) ? "is a directory" : std::string("cannot stat: ") + strerror(e));
    return false;
  }
  size_ = std::min(static_cast<uint64_t>(st.st_size), max_bytes);
  const uint64_t page = uint64_t(sysconf(_SC_PAGESIZE));
  // A prefix (a live capture: it grows) is mapped at the start of a range of address space
  // reserved for it, so that grow() maps what is added right after it: data() never moves,
  // and every pointer into the file (a decoded mark or snapshot, a stream position's event)
  // stays valid. The reservation is address space only (PROT_NONE, no memory).
  const bool growable = max_bytes != UINT64_MAX;
  if (size_ > 0 || growable) {
    uint64_t reserve = growable ? std::max<uint64_t>(kGrowReserve, 2 * size_) : size_;
    reserve = (reserve + page - 1) / page * page;
    void* r = growable ? mmap(nullptr, reserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
                       : nullptr;
    void* m = growable && r == MAP_FAILED ? MAP_FAILED
              : size_ == 0                ? r
                           : mmap(r, size_, PROT_READ, MAP_PRIVATE | (r ? MAP_FIXED : 0), fd, 0);
    if (m == MAP_FAILED) {
      int e = errno;
      if (growable && r != MAP_FAILED) munmap(r, reserve);
      ::close(fd);
      size_ = 0;
      fail(ErrorKind::Io, 0, std::string("cannot map: ") + strerror(e));
      return false;
    }
    if (size_) madvise(m, size_, MADV_SEQUENTIAL);
    map_ = m;
    map_len_ = reserve;
    mapped_ = (size_ + page - 1) / page * page;
    growable_ = growable;
    data_ = static_cast<const uint8_t*>(m);
  }
  ::close(fd);
  path_ = path;
  dev_ = uint64_t(st.st_dev);
  ino_ = uint64_t(st.st_ino);
  return parse();
}

TraceFile::Growth TraceFile::grow(uint64_t max_bytes) {
  if (path_.empty() || !map_ || !growable_ || (error_ && error_->kind != ErrorKind::Truncated))
    return Growth::Reopen; // not opened as a prefix, or a bad block that more bytes will not mend
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Growth::Reopen;
  struct stat st;
  if (fstat(fd, &st) != 0 || uint64_t(st.st_dev) != dev_ || uint64_t(st.st_ino) != ino_ ||
      uint64_t(st.st_size) < size_) {
    ::close(fd);
    return Growth::Reopen; // another file under the name, or cut shorter
  }
  uint64_t size = std::min(static_cast<uint64_t>(st.st_size), max_bytes);
  if (size <= size_) {
    ::close(fd);
    return Growth::Same;
  }
  if (size > map_len_) { // past the reservation: a fresh open maps it anew
    ::close(fd);
    return Growth::Reopen;
  }
  // The pages after the ones mapped, in the reservation: what is mapped stays where it is (the
  // last, partial page already shows what was written into it since: it is the page cache's).
  if (size > mapped_) {
    void* m = mmap(static_cast<uint8_t*>(map_) + mapped_, size - mapped_, PROT_READ, MAP_PRIVATE | MAP_FIXED,
                   fd, off_t(mapped_));
    if (m == MAP_FAILED) {
      ::close(fd);
      return Growth::Reopen;
    }
    madvise(m, size - mapped_, MADV_SEQUENTIAL);
    const uint64_t page = uint64_t(sysconf(_SC_PAGESIZE));
    mapped_ = (size + page - 1) / page * page;
  }
  ::close(fd);
  // The same file, rewritten in place (truncated and written again, as a new capture to the same
  // path does) would keep dev, inode and a size past ours: its header or our last block differ.
  if (!same_prefix()) return Growth::Reopen;
  size_ = size;
  size_t before = blocks_.size();
  error_.reset();
  index_blocks();
  return blocks_.size() > before ? Growth::Grown : Growth::Same;
}

bool TraceFile::same_prefix() const {
  if (memcmp(data_, &header_, sizeof header_) != 0) return false;
  if (blocks_.empty()) return true;
  const BlockInfo& b = blocks_.back();
  BlockHeader h;
  memcpy(&h, data_ + b.offset, sizeof h);
  return h.magic == kBlockMagic && h.first_seq == b.first_seq && h.nevents == b.nevents &&
         h.stored_size == b.stored_size && h.tid == b.tid &&
         crc32(data_ + b.offset + sizeof(BlockHeader), h.stored_size) == h.crc32;
}

bool TraceFile::open_memory(const void* data, size_t size) {
  close();
  data_ = static_cast<const uint8_t*>(data);
  size_ = size;
  return parse();
}

bool TraceFile::parse() {
  if (!check_header()) return false;
  index_blocks();
  return true;
}

std::string TraceFile::cmdline() const {
  std::string s(reinterpret_cast<const char*>(data_) + sizeof(FileHeader), header_.cmdline_len);
  while (!s.empty() && s.back() == '\0')
    s.pop_back();
  for (char& c : s)
    if (c == '\0') c = ' ';
  return s;
}

bool TraceFile::check_header() {
  char buf[160];
  if (size_ < sizeof kFileMagic) {
    snprintf(buf, sizeof buf, "not a heapviz trace (the file is %llu bytes, too short for a header)",
             static_cast<unsigned long long>(size_));
    fail(ErrorKind::NotATrace, 0, buf);
    return false;
  }
  if (memcmp(data_, kFileMagic, sizeof kFileMagic) != 0) {
    fail(ErrorKind::NotATrace, 0, "not a heapviz trace (bad magic)");
    return false;
  }
  if (size_ >= 12) { // the version first: a newer header may have another size
    uint32_t v;
    memcpy(&v, data_ + 8, 4);
    if (v > kVersion) {
      snprintf(buf, sizeof buf,
               "trace version %u was made by a newer heapviz; this heapviz reads versions %u to %u", v,
               kOldestVersion, kVersion);
      fail(ErrorKind::TooNew, 8, buf);
      return false;
    }
    if (v < kOldestVersion) {
      snprintf(buf, sizeof buf, "trace version %u is too old; this heapviz reads versions %u to %u", v,
               kOldestVersion, kVersion);
      fail(ErrorKind::TooOld, 8, buf);
      return false;
    }
  }
  if (size_ < sizeof(FileHeader)) {
    snprintf(buf, sizeof buf, "truncated file header (%llu of %zu bytes)",
             static_cast<unsigned long long>(size_), sizeof(FileHeader));
    fail(ErrorKind::Truncated, size_, buf);
    return false;
  }
  memcpy(&header_, data_, sizeof header_);
  if (header_.little_endian != 1 || header_.pointer_size != 8) {
    snprintf(buf, sizeof buf,
             "trace from another platform (little_endian=%u pointer_size=%u; this heapviz reads 1, 8)",
             header_.little_endian, header_.pointer_size);
    fail(ErrorKind::WrongPlatform, 16, buf);
    return false;
  }
  uint32_t hs = header_.header_size;
  if (hs < sizeof(FileHeader) || hs % 8 != 0 || hs > kMaxHeaderSize ||
      uint64_t(header_.cmdline_len) + sizeof(FileHeader) > hs) {
    snprintf(buf, sizeof buf, "absurd header_size %u (cmdline_len %u): must be a multiple of 8, at least %zu",
             hs, header_.cmdline_len, sizeof(FileHeader) + header_.cmdline_len);
    fail(ErrorKind::BadHeader, 12, buf);
    return false;
  }
  if (hs > size_) {
    snprintf(buf, sizeof buf, "truncated file header (header_size %u, file %llu bytes)", hs,
             static_cast<unsigned long long>(size_));
    fail(ErrorKind::Truncated, size_, buf);
    return false;
  }
  return true;
}

void TraceFile::index_blocks() {
  uint64_t off = index_end_ ? index_end_ : header_.header_size; // grow() goes on from there
  char buf[200];
  std::unordered_set<uint32_t> seen_tids(threads_.begin(), threads_.end());
  index_end_ = off;
  uint64_t released = off;
  while (off < size_) {
    uint64_t left = size_ - off;
    if (left < sizeof(BlockHeader)) {
      snprintf(buf, sizeof buf, "truncated: block header cut short (%llu of %zu bytes)",
               static_cast<unsigned long long>(left), sizeof(BlockHeader));
      fail(ErrorKind::Truncated, off, buf);
      return;
    }
    BlockHeader h;
    memcpy(&h, data_ + off, sizeof h);
    if (h.magic != kBlockMagic) {
      bool zeros = true; // a tail of zeros is a torn write (the size grew, the data never came)
      for (uint64_t i = off; i < size_ && zeros; ++i)
        zeros = data_[i] == 0;
      snprintf(buf, sizeof buf, "%sbad block magic 0x%08x (expected 0x%08x)", zeros ? "truncated: " : "",
               h.magic, kBlockMagic);
      fail(zeros ? ErrorKind::Truncated : ErrorKind::CorruptBlock, off, buf);
      return;
    }
    if (h.flags & ~uint16_t(kBlockZstd | kBlockClocked)) {
      snprintf(buf, sizeof buf, "unknown block flags 0x%x", h.flags);
      fail(ErrorKind::CorruptBlock, off, buf);
      return;
    }
    if (h.raw_size > kMaxBlockPayload) {
      snprintf(buf, sizeof buf, "absurd block raw_size %u (at most %u)", h.raw_size, kMaxBlockPayload);
      fail(ErrorKind::CorruptBlock, off, buf);
      return;
    }
    bool zstd = h.flags & kBlockZstd;
    if ((!zstd && h.stored_size != h.raw_size) || h.stored_size > kMaxStoredPayload) {
      snprintf(buf, sizeof buf, "absurd block stored_size %u (raw_size %u%s)", h.stored_size, h.raw_size,
               zstd ? ", zstd" : "");
      fail(ErrorKind::CorruptBlock, off, buf);
      return;
    }
    if (h.nevents == 0 || uint64_t(h.nevents) * 3 > h.raw_size) { // an event is at least 3 bytes
      snprintf(buf, sizeof buf, "absurd block nevents %u for %u payload bytes", h.nevents, h.raw_size);
      fail(ErrorKind::CorruptBlock, off, buf);
      return;
    }
    uint64_t end = off + sizeof(BlockHeader) + h.stored_size;
    if (end > size_) {
      snprintf(buf, sizeof buf,
               "truncated: block stored_size %u runs past the end of the file (%llu bytes left)",
               h.stored_size, static_cast<unsigned long long>(left - sizeof(BlockHeader)));
      fail(ErrorKind::Truncated, off, buf);
      return;
    }
    uint32_t crc = crc32(data_ + off + sizeof(BlockHeader), h.stored_size);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    crc = h.crc32; // the fuzzer could not get past the CRC to the decoder otherwise
#endif
    if (crc != h.crc32) {
      bool tail = end == size_; // the last block of the file: a torn write
      snprintf(buf, sizeof buf, "%sblock CRC mismatch (stored 0x%08x, computed 0x%08x)",
               tail ? "truncated: " : "", h.crc32, crc);
      fail(tail ? ErrorKind::Truncated : ErrorKind::CorruptBlock, off, buf);
      return;
    }
    BlockInfo b;
    b.offset = off;
    b.first_seq = h.first_seq;
    b.base_ns = h.base_ns;
    b.base_addr = h.base_addr;
    b.tid = h.tid;
    b.nevents = h.nevents;
    b.arena = h.arena;
    b.raw_size = h.raw_size;
    b.stored_size = h.stored_size;
    b.flags = h.flags;
    blocks_.push_back(b);
    indexed_events_ += h.nevents;
    if (seen_tids.insert(h.tid).second) threads_.push_back(h.tid);
    off = end;
    index_end_ = off;
    if (off - released > (32u << 20)) { // checked: its pages need not stay resident (release())
      release(released, off);
      released = off;
    }
  }
}

void TraceFile::release(uint64_t begin, uint64_t end) const {
  if (!map_) return;
  const uint64_t page = uint64_t(sysconf(_SC_PAGESIZE));
  begin = (begin + page - 1) / page * page;
  end = std::min<uint64_t>(end, size_) / page * page;
  if (begin < end) madvise(static_cast<uint8_t*>(map_) + begin, end - begin, MADV_DONTNEED);
}

} // namespace hv::trace
