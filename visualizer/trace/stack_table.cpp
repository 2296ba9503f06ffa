// stack_table.cpp - see stack_table.h.
#include "trace/stack_table.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace hv::trace {

namespace {
// A cursor over an event's bytes; every read is bounds-checked.
struct Reader {
  const uint8_t* p;
  const uint8_t* end;
  bool varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p >= end) return false;
      uint8_t b = *p++;
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  bool bytes(size_t n, const uint8_t*& out) {
    if (size_t(end - p) < n) return false;
    out = p;
    p += n;
    return true;
  }
};

std::string at(const Event& e, const char* what) {
  char b[96];
  snprintf(b, sizeof b, "offset %" PRIu64 ": %s: ", e.offset, what);
  return b;
}
} // namespace

std::string ModuleInfo::build_id_hex() const {
  static const char* const kHex = "0123456789abcdef";
  std::string s;
  for (unsigned char c : build_id) {
    s += kHex[c >> 4];
    s += kHex[c & 15];
  }
  return s;
}

bool StackTable::add(const Event& e, std::string* error) {
  if (e.type == Ev::Stack) return add_nodes(e, error);
  if (e.type == Ev::Module) return add_module(e, error);
  return true;
}

StackTable::Node* StackTable::slot(uint64_t id) {
  // A trace uses about as many ids as it defines; an id far from them is corruption, not a
  // reason to allocate gigabytes.
  const uint64_t reach = 16 * (defined_ + 1024);
  if (nodes_.empty()) {
    offset_ = id;
  } else if (id < offset_) {
    if (offset_ - id > reach) return nullptr;
    nodes_.insert(nodes_.begin(), size_t(offset_ - id), Node{});
    offset_ = id;
  }
  uint64_t i = id - offset_;
  if (i >= nodes_.size()) {
    if (i - nodes_.size() > reach) return nullptr;
    nodes_.resize(size_t(i) + 1);
  }
  return &nodes_[size_t(i)];
}

bool StackTable::add_nodes(const Event& e, std::string* error) {
  Reader r{e.data, e.data_end};
  uint64_t first;
  if (!r.varint(first)) return *error = at(e, "stack") + "no first node id", false;
  if (first == 0 || first > UINT32_MAX - uint64_t(r.end - r.p))
    return *error = at(e, "stack") + "node id " + std::to_string(first) + " is out of range", false;
  uint64_t ip = 0;
  uint64_t id = first;
  while (r.p < r.end) {
    uint64_t parent, z;
    if (!r.varint(parent) || !r.varint(z))
      return *error = at(e, "stack") + "node " + std::to_string(id) + " runs past the event's end", false;
    ip += uint64_t(int64_t(z >> 1) ^ -int64_t(z & 1));
    if (parent > UINT32_MAX || !known(uint32_t(parent)) || parent == id)
      return *error = at(e, "stack") + "node " + std::to_string(id) + " names parent " +
                      std::to_string(parent) + ", which is not defined before it",
             false;
    uint32_t cp = parent ? node(uint32_t(parent))->canon : 0;
    Node* n = slot(id);
    if (!n) return *error = at(e, "stack") + "node id " + std::to_string(id) + " is out of range", false;
    if (n->defined)
      return *error = at(e, "stack") + "node " + std::to_string(id) + " is defined twice", false;
    n->ip = ip;
    n->parent = uint32_t(parent);
    n->defined = true;
    auto [it, fresh] = canon_.try_emplace({cp, ip}, uint32_t(canon_.size() + 1));
    if (fresh) {
      canon_parent_.push_back(cp);
      canon_ip_.push_back(ip);
    }
    n->canon = it->second;
    ++defined_;
    ++id;
  }
  return true;
}

bool StackTable::add_module(const Event& e, std::string* error) {
  Reader r{e.data, e.data_end};
  ModuleInfo m;
  m.seq = e.seq;
  uint64_t n;
  const uint8_t* b;
  if (!r.varint(m.base)) return *error = at(e, "module") + "no base address", false;
  if (!r.varint(n) || n > 4096 || !r.bytes(size_t(n), b)) return *error = at(e, "module") + "bad path", false;
  m.path.assign(reinterpret_cast<const char*>(b), size_t(n));
  if (!r.varint(n) || n > 64 || !r.bytes(size_t(n), b))
    return *error = at(e, "module") + "bad build-id", false;
  m.build_id.assign(reinterpret_cast<const char*>(b), size_t(n));
  uint64_t nseg;
  if (!r.varint(nseg) || nseg > 256) return *error = at(e, "module") + "bad segment count", false;
  m.lo = UINT64_MAX;
  for (uint64_t i = 0; i < nseg; ++i) {
    ModuleSegment s;
    const uint8_t* f;
    if (!r.varint(s.vaddr) || !r.varint(s.memsz) || !r.bytes(1, f))
      return *error = at(e, "module") + "segment " + std::to_string(i) + " runs past the event's end", false;
    s.flags = *f;
    m.segments.push_back(s);
    m.lo = std::min(m.lo, m.base + s.vaddr);
    m.hi = std::max(m.hi, m.base + s.vaddr + s.memsz);
  }
  if (m.segments.empty()) m.lo = m.hi = m.base;
  modules_.push_back(std::move(m));
  return true;
}

void StackTable::frames(uint32_t id, std::vector<uint64_t>& out) const {
  canonical_frames(canonical(id), out);
}

void StackTable::canonical_frames(uint32_t canon, std::vector<uint64_t>& out) const {
  out.clear();
  // A canonical stack's parent was numbered before it (a smaller number): the walk ends.
  while (canon != 0 && canon <= canon_ip_.size()) {
    out.push_back(canon_ip_[canon - 1]);
    canon = canon_parent_[canon - 1];
  }
}

const ModuleInfo* StackTable::module_of(uint64_t ip) const {
  for (size_t i = modules_.size(); i-- > 0;) {
    const ModuleInfo& m = modules_[i];
    if (ip < m.lo || ip >= m.hi) continue;
    for (const ModuleSegment& s : m.segments)
      if (ip >= m.base + s.vaddr && ip < m.base + s.vaddr + s.memsz) return &m;
  }
  return nullptr;
}

} // namespace hv::trace
