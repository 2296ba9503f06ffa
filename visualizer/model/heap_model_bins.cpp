// heap_model_bins.cpp - HeapModel's side of the bin lists (bin_order.h): which list a chunk that
// enters a bin joins, and where; a baseline's lists (in address order from its snapshot, then in
// their real order from the BIN_LISTS event that follows it).
//
// Owns: the choice of rule (largebins sorted, every other bin at the head; the list: list_of(),
// heap_model.h), and on<Ev::BinLists>.
// Must not: touch metrics or states (heap_model.cpp does).
#include "model/heap_model.h"

#include "trace/bin_lists.h"

namespace hv::model {

using trace::BinKind;
using trace::Ev;

// glibc 2.36: tcache_put pushes at the head (tcache->entries[tc_idx] = e); _int_free pushes a
// fastbin's head (`p->fd = old; *fb = p`) and puts other chunks at the unsorted bin's head
// (`bck = unsorted_chunks (av); fwd = bck->fd`), as malloc_consolidate does (`first_unsorted =
// unsorted_bin->fd`) and the remainders of splits; the unsorted scan puts a chunk at its
// smallbin's head (`bck = bin_at (av, victim_index); fwd = bck->fd`) and sorts it into its
// largebin. Chunks leave from anywhere (the address says which), through leave(). (enter_list,
// heap_model.h, inline: most frees and mallocs take it.)

// Address order, for want of better: the BIN_LISTS event after the snapshot (if the trace has
// one) gives the real order. A baseline names no arenas: its chunks' arena is 0, and a tcache
// is the snapshot writer's.
void HeapModel::load_baseline_order(const Snapshot& s) {
  for (const trace::SnapshotEntry& en : s.entries) {
    const Chunk* c = en.addr ? chunks_.find(en.addr) : nullptr;
    if (!c || !trace::is_binned(c->state)) continue;
    BinKind k = trace::bin_of(c->state);
    order_.push_tail(BinList{k, c->bin, k == BinKind::Tcache ? s.tid : c->arena}.key(), c->addr, c->size);
  }
}

// A baseline's lists (the heap as the trace found it) are the model's from here on, and name the
// arena of each chunk in an arena's bin; the lists of other snapshots are checked against the
// model (analysis::SnapshotCheck), not applied.
template <> void HeapModel::on<Ev::BinLists>(const Event& e) {
  if (!(trace::bin_lists_flags(e) & trace::kSnapshotBaseline)) return;
  std::vector<trace::BinListRecord> lists;
  std::string error;
  if (!trace::read_bin_lists(e, false, &lists, &error)) anomaly(e, "%s", error.c_str());
  for (const trace::BinListRecord& r : lists) { // (a list split over two events continues at the tail)
    uint64_t list = BinList{r.kind, r.index, r.owner}.key();
    for (uint64_t a : r.chunks)
      if (const Chunk* c = chunks_.find(a); c && trace::is_binned(c->state)) order_.remove(a, list_of(*c));
    for (uint64_t a : r.chunks) {
      Chunk* c = chunks_.find(a);
      if (!c || trace::bin_of(c->state) != r.kind || c->bin != r.index) {
        anomaly(e, "the baseline's bin lists put 0x%llx in %s, but the snapshot has %s",
                static_cast<unsigned long long>(a), trace::bin_text(r.kind, r.index).c_str(),
                c ? trace::state_text(c->state, c->bin).c_str() : "no such chunk");
        continue;
      }
      if (r.kind != BinKind::Tcache && c->arena != r.owner) { // (the snapshot did not say)
        note(*c);
        c->arena = r.owner;
      }
      order_.push_tail(list, a, c->size);
    }
  }
}

} // namespace hv::model
