// bin_lists.cpp - see bin_lists.h.
#include "trace/bin_lists.h"

namespace hv::trace {

namespace {
struct Cursor {
  const uint8_t* p;
  const uint8_t* end;
  bool varint(uint64_t& v) {
    uint64_t r = 0;
    for (int i = 0; i < 10 && p < end; ++i) {
      uint8_t b = *p++;
      r |= uint64_t(b & 0x7f) << (7 * i);
      if (!(b & 0x80)) {
        v = r;
        return true;
      }
    }
    return false;
  }
};
} // namespace

uint8_t bin_lists_flags(const Event& e) {
  return e.data && e.data < e.data_end ? e.data[0] : 0;
}

bool read_bin_lists(const Event& e, bool continues, std::vector<BinListRecord>* lists, std::string* error) {
  Cursor c{e.data, e.data_end};
  auto fail = [&](const char* what) {
    *error = "bin_lists at offset " + std::to_string(e.offset) + ": " + what;
    return false;
  };
  if (!c.p || c.p >= c.end) return fail("no flags byte");
  ++c.p;
  uint64_t prev = 0;
  bool first = true;
  while (c.p < c.end) {
    if (c.end - c.p < 2) return fail("a list head runs past the record");
    uint8_t kind = *c.p++, index = *c.p++;
    uint64_t owner, n;
    if (kind == 0 || kind >= kNumBinKinds) return fail("a list of an unknown bin kind");
    if (!c.varint(owner) || owner > UINT32_MAX || !c.varint(n))
      return fail("a list head runs past the record");
    if (n > uint64_t(c.end - c.p)) return fail("a list has more chunks than the record has bytes");
    BinListRecord* r = nullptr;
    if (first && continues && !lists->empty()) {
      BinListRecord& last = lists->back();
      if (uint8_t(last.kind) == kind && last.index == index && last.owner == owner) r = &last;
    }
    first = false;
    if (!r) {
      lists->push_back(BinListRecord{BinKind(kind), index, uint32_t(owner), {}});
      r = &lists->back();
    }
    r->chunks.reserve(r->chunks.size() + n);
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t z;
      if (!c.varint(z)) return fail("a chunk runs past the record");
      prev += uint64_t(unzigzag(z));
      r->chunks.push_back(prev);
    }
  }
  return true;
}

bool BinListsAssembler::feed(const Event& e) {
  bool continues = open_;
  if (!open_) {
    lists_ = BinLists{};
    error_.clear();
    lists_.flags = uint8_t(bin_lists_flags(e) & ~kSnapshotMore);
    open_ = true;
  }
  lists_.seq = e.seq;
  lists_.offset = e.offset;
  bool ok = read_bin_lists(e, continues, &lists_.lists, &error_);
  if (ok && (bin_lists_flags(e) & kSnapshotMore)) return false;
  open_ = false;
  return true;
}

} // namespace hv::trace
