// snapshot_check.cpp - see snapshot_check.h.
#include "analysis/snapshot_check.h"

#include <cinttypes>
#include <cstdio>
#include <map>
#include <set>

namespace hv::analysis {

namespace {

std::string hex(uint64_t v) {
  char b[24];
  snprintf(b, sizeof b, "0x%" PRIx64, v);
  return b;
}

// "tcache[1] of thread 4242", "smallbin[4] of arena 0", "unsorted of arena 1".
std::string list_name(const model::BinList& l) {
  return std::string(trace::bin_text(l.kind, l.index).c_str()) +
         (l.kind == trace::BinKind::Tcache ? " of thread " : " of arena ") + std::to_string(l.owner);
}

// Where the model has chunk a: "at position 5", "in fastbin[2] of arena 0 at position 0", "in no list".
std::string model_place(const model::HeapModel& m, uint64_t list, uint64_t a) {
  auto p = m.bin_order().place(a);
  if (!p) return "in no list";
  std::string at = "at position " + std::to_string(p->index);
  return p->list == list ? at : "in " + list_name(model::BinList::of_key(p->list)) + " " + at;
}

} // namespace

std::optional<std::string> verify_bin_lists(const model::HeapModel& m, const trace::BinLists& s) {
  using trace::BinKind;
  bool coarse = s.flags & trace::kSnapshotCoarse;
  auto compared = [coarse](BinKind k) {
    return !coarse || k == BinKind::Unsorted || k == BinKind::Small || k == BinKind::Large;
  };
  std::map<uint64_t, std::vector<uint64_t>> want; // (a list named twice: its parts, joined)
  for (const trace::BinListRecord& r : s.lists) {
    std::vector<uint64_t>& w = want[model::BinList{r.kind, r.index, r.owner}.key()];
    w.insert(w.end(), r.chunks.begin(), r.chunks.end());
  }
  std::set<uint64_t> keys;
  for (const auto& [k, w] : want)
    if (!w.empty()) keys.insert(k);
  for (uint64_t k : m.bin_order().lists())
    if (compared(model::BinList::of_key(k).kind)) keys.insert(k);
  static const std::vector<uint64_t> kNone;
  for (uint64_t k : keys) {
    auto it = want.find(k);
    const std::vector<uint64_t>& w = it == want.end() ? kNone : it->second;
    std::vector<uint64_t> mine = m.bin_order().chunks_of(k);
    if (w == mine) continue;
    size_t i = 0;
    while (i < w.size() && i < mine.size() && w[i] == mine[i])
      ++i;
    std::string at = list_name(model::BinList::of_key(k)) + ", position " + std::to_string(i) +
                     " (0 = head; " + std::to_string(w.size()) + " chunks in the snapshot, " +
                     std::to_string(mine.size()) + " in the model): snapshot has ";
    if (i == w.size()) return at + "the end of the list, model has " + hex(mine[i]);
    at += hex(w[i]) + ", model has " + (i == mine.size() ? "the end of the list" : hex(mine[i]));
    return at + " (and " + hex(w[i]) + " " + model_place(m, k, w[i]) + ")";
  }
  return std::nullopt;
}

bool SnapshotCheck::check(const trace::Event& e, const model::HeapModel& m) {
  if (!parts_.feed(e)) return true; // more parts to come
  const model::Snapshot& snap = parts_.snapshot();
  if (auto mm = model::verify_snapshot(m, snap)) {
    failure_ = "offset " + std::to_string(snap.offset) + ": snapshot at seq " + std::to_string(snap.seq) +
               " differs from the model: " + mm->describe();
    return false;
  }
  ++verified_;
  return true;
}

bool SnapshotCheck::check_lists(const trace::Event& e, const model::HeapModel& m) {
  if (!lists_.feed(e)) return true; // more parts to come
  const trace::BinLists& l = lists_.lists();
  std::string where = "offset " + std::to_string(l.offset) + ": bin lists at seq " + std::to_string(l.seq);
  if (!lists_.error().empty()) {
    failure_ = where + " cannot be read: " + lists_.error();
    return false;
  }
  if (auto d = verify_bin_lists(m, l)) {
    failure_ = where + " differ from the model: " + *d;
    return false;
  }
  ++orders_verified_;
  return true;
}

} // namespace hv::analysis
