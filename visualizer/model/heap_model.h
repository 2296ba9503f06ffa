// heap_model.h - the replayed heap: what every chunk, arena and region is after a prefix of a
// trace's events, as docs/trace-format.md "How a reader rebuilds the heap" says.
//
// Owns: the chunk map (address -> size, state, bin, requested size, allocating seq, whether it is
// the allocator's own), arenas and
// their tops, heap regions, mmapped chunks, running metrics (footprint, live, free, largest
// free, fragmentation, released pages: model/released.h), the anomalies it meets (events that
// do not fit the state), snapshot assembly (parts joined), baseline snapshots, and verification
// against a snapshot.
// Must not: read files or draw anything; it sees only decoded Events (hv_trace_reader).
#pragma once

#include "model/bin_order.h"
#include "model/byte_arena.h"
#include "model/flat_map.h"
#include "model/released.h"
#include "trace/event_decoder.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hv::model {

using trace::ChunkState;
using trace::Event;

// The model's chunk states are the vocabulary's (heapviz/chunk_states.h): the format's ChunkState
// and "in hand" (taken out of a bin or freed, not placed yet), with their names.
using trace::kInHand;

struct Chunk {
  uint64_t addr; // chunk start (user pointer - 16); the key
  uint64_t size;
  uint64_t req; // bytes the program asked for (in use / mmapped), else 0
  uint64_t seq; // the event that allocated it (the API call; else chunk_alloc/mmap_chunk)
  uint32_t arena;
  uint8_t state; // a ChunkState (kInHand included)
  uint8_t bin;   // bin index while in a bin, else 0
  bool internal; // the allocator's own chunk (an `internal` event; glibc: the tcache struct), until
                 // the chunk changes again
  // Allocated by a call that has not returned yet (chunk_alloc or mmap_chunk, until the call's
  // API event hands it to the program): in the middle of a call, so counted neither as in use
  // nor in the overhead; the map draws it "in hand".
  bool pending;
};

struct Region { // a heap region (main arena: an sbrk segment; others: a heap)
  uint64_t addr;
  uint64_t size;
  uint32_t arena;
};

struct Metrics {
  uint64_t heap_bytes;     // sum of region sizes + mmapped chunk sizes
  uint64_t live_bytes;     // requested bytes of in-use and mmapped chunks
  uint64_t free_bytes;     // chunks in bins (tcache, fast, unsorted, small, large); not top
  uint64_t largest_free;   // the largest chunk in a bin
  uint64_t chunks;         // chunk records (every state, top, fences and mmapped included)
  uint64_t in_use;         // chunks in use or mmapped
  uint64_t released_bytes; // bytes of the regions handed back to the system (model/released.h)
  // Footprint minus released: what the heap may keep resident (the resident estimate).
  uint64_t resident_bytes() const { return heap_bytes - std::min(heap_bytes, released_bytes); }
  // External fragmentation: 1 - largest free / total free (0 with nothing free).
  double fragmentation() const { return free_bytes ? 1.0 - double(largest_free) / double(free_bytes) : 0.0; }
};

// Sizes of the free (binned) chunks, for the largest one in O(1): exact counts below 64 KiB
// (a two-level bitmap finds the highest), a sorted list above (there are few such chunks).
class FreeSizes {
public:
  void add(uint64_t size);
  void remove(uint64_t size);
  uint64_t largest() const;

private:
  static constexpr unsigned kExact = 4096; // size / 16 < kExact
  uint32_t count_[kExact] = {};
  uint64_t bits_[kExact / 64] = {};
  uint64_t summary_ = 0;
  std::vector<uint64_t> large_; // sorted
};

// A whole snapshot, its parts (flag kSnapshotMore) joined.
struct Snapshot {
  uint64_t seq = 0;    // of the last part
  uint64_t offset = 0; // file offset of the last part
  uint8_t flags = 0;   // of the first part (coarse, baseline)
  uint32_t tid = 0;    // the thread that wrote it
  std::vector<trace::SnapshotEntry> entries;
};
class SnapshotAssembler {
public:
  // Feeds one SNAPSHOT event; true when a whole snapshot is ready in snapshot().
  bool feed(const Event& e);
  const Snapshot& snapshot() const { return snap_; }

private:
  Snapshot snap_;
  bool open_ = false;
};

// The first difference between a snapshot and the model (see verify_snapshot).
struct Mismatch {
  uint64_t addr;
  std::string expected; // what the snapshot says, e.g. "size 48 smallbin[3]" or "no chunk"
  std::string got;      // what the model has
  std::string describe() const;
};

// The model's state apart from its chunk table and what is derived from it: HeapModel derives
// from it so that a checkpoint (HeapModel::Saved) copies it whole and encodes the chunk table.
struct HeapModelState {
  FlatMap<Region> regions_;
  std::vector<uint64_t> tops_ = std::vector<uint64_t>(1, 0); // per arena
  std::vector<uint64_t> unowned_tops_;                       // tops from a baseline snapshot, arena unknown
  uint64_t heap_bytes_ = 0, live_bytes_ = 0, free_bytes_ = 0, in_use_ = 0, in_hand_ = 0;
  uint64_t brk_ = 0, errors_ = 0, anomalies_ = 0;
  uint64_t fake_frees_ = 0; // frees of a chunk outside every region (see fake_frees())
  uint32_t arenas_ = 1;
  std::string first_anomaly_;
  SnapshotAssembler baseline_;
  ReleasedPages released_;
  uint64_t baseline_seq_ = 0; // the first baseline's seq: that of every block in use it brought (0: none)
  // The mmapped chunks a baseline lists come right after it, as MMAP_CHUNK events (and before
  // any other event but its own parts, bin lists and `internal` events): in use since before the trace (a
  // later baseline's: as the trace says them), not "in hand" in a call.
  bool baseline_mmaps_ = false;
  std::vector<Chunk> baseline_known_mmaps_; // a later baseline's: the mmapped blocks already known
};

class HeapModel : private HeapModelState {
public:
  HeapModel();
  // Applies one event (in seq order).
  void apply(const Event& e);
  // The same for an event whose type is known at compile time (the decoder's switch already
  // chose it): no second switch. T must be e.type.
  template <trace::Ev T> inline void apply_as(const Event& e);
  // Starts loading the record of the chunk at a (an event the replay will apply soon looks it
  // up; a wrong or unknown a only costs the load).
  void prefetch_key(uint64_t a) const { chunks_.prefetch(a); }
  // Starts loading the chunk record an event of type T will touch first (an event the replay
  // will apply soon: a thread's next event while other threads' events go first).
  template <trace::Ev T> void prefetch_as(const Event& e) const {
    constexpr trace::EvChunks k = trace::event_info(T).chunks;
    if constexpr (k == trace::EvChunks::User)
      chunks_.prefetch(e.ptr() - 16);
    else if constexpr (k == trace::EvChunks::Chunk || k == trace::EvChunks::Split ||
                       k == trace::EvChunks::Gone)
      chunks_.prefetch(e.chunk());
  }

  Metrics metrics() const;
  // The blocks in use now that were allocated before the trace began: those of a baseline
  // snapshot (heapviz attached to a running process), never freed since. Their requests and
  // call stacks are unknown, so live_bytes leaves them out; bytes are their chunks' sizes.
  // O(chunks). Nothing for a trace that has no baseline (one recorded from the start).
  struct BeforeTrace {
    uint64_t blocks = 0, bytes = 0;
  };
  BeforeTrace before_trace() const;
  // Is c one of those blocks? (The one test of it: reports, the chunk list and the map ask here.)
  bool is_before_trace(const Chunk& c) const {
    return baseline_seq_ != 0 && c.seq == baseline_seq_ && !c.internal && trace::is_in_use(c.state);
  }
  bool has_baseline() const { return baseline_seq_ != 0; }
  uint64_t heap_bytes() const { return heap_bytes_; }
  uint64_t live_bytes() const { return live_bytes_; }
  uint64_t in_hand() const { return in_hand_; }
  // Pages handed back to the system inside the regions (model/released.h).
  const ReleasedPages& released() const { return released_; }
  uint64_t released_bytes() const { return released_.bytes(); }
  // The trace's page size (FileHeader::page_size): the unit in which pages come back.
  void set_page_size(uint64_t p) { released_.set_page_size(p); }
  const Chunk* find(uint64_t chunk_addr) const { return chunks_.find(chunk_addr); }
  size_t chunk_count() const { return chunks_.size(); }
  std::vector<Chunk> chunks_sorted() const; // by address
  std::vector<Region> regions_sorted() const;
  template <class F> void for_each_chunk(F&& f) const { chunks_.for_each(f); }
  // The chunks of part `part` of `parts` (in table order): the parts together are every chunk once.
  template <class F> void for_each_chunk_in(size_t part, size_t parts, F&& f) const {
    chunks_.for_each_in_part(part, parts, f);
  }
  // Every bin's list in its order, head first (bin_order.h): a tcache's list per thread, an
  // arena's bins per arena.
  const BinOrder& bin_order() const { return order_; }
  // The arena's top chunk address (0 if none known).
  uint64_t top(uint32_t arena) const { return arena < tops_.size() ? tops_[arena] : 0; }
  uint32_t arena_count() const { return arenas_; } // highest arena index seen + 1
  uint64_t program_break() const { return brk_; }
  uint64_t errors() const { return errors_; } // ERROR events (the program's heap errors)
  // Frees of a pointer outside every region and every known chunk: a fake chunk (on the stack,
  // in static data) whose header passed glibc's checks, which then took it as it is (the tcache,
  // a fastbin). The program's bug, not the trace's: the events about that chunk that follow do
  // not fit the replayed heap (HEAPVIZ_CHECKS reports such a free: docs/checks.md).
  uint64_t fake_frees() const { return fake_frees_; }

  // Events that did not fit the state (a free of an unknown chunk, ...): a count and the first.
  uint64_t anomalies() const { return anomalies_; }
  const std::string& first_anomaly() const { return first_anomaly_; } // "offset N: seq S: ..."

  static constexpr uint32_t kMaxArenas = 4096; // arena indices beyond are anomalies

  // A log of the chunk records changed, for a view that keeps what it drew (the map's picture):
  // start_change_log() empties it and returns its id (never 0, never reused); while
  // change_log_complete(id), changed() holds the address of every record changed since (an
  // address may repeat). restore(), a baseline snapshot, a copy of the model, or more entries than
  // two per record end it. One log at a time: a newer start ends the older.
  uint64_t start_change_log() const;
  bool change_log_complete(uint64_t id) const { return id != 0 && id == log_.id && log_.on; }
  const std::vector<uint64_t>& changed() const { return log_.addrs; }

  // A copy for checkpoints in about 18 bytes per chunk record (the table takes 53 to 107, and
  // fresh memory is slow to touch): restore() gives back exactly the model save() was called
  // on, slot for slot (iteration order included), and every bin's list in its order. A light
  // save (save_light) has no records, a delta (save_delta) only the changed ones (its layout:
  // heap_model_delta.cpp); the data after order_at is the bin lists in all three.
  struct Saved {
    HeapModelState state;
    size_t capacity = 0, count = 0;
    // The records in probe order, varint-encoded (heap_model.cpp), then the bin lists
    // (BinOrder::save): in an arena (save(arena); valid while the arena lives) or, with save(),
    // in own.
    const uint8_t* chunks = nullptr;
    size_t bytes = 0;
    std::vector<uint8_t> own;
    size_t order_at = 0; // where the bin lists start in data()
    uint64_t id = 0;     // this save's (never 0, never reused): see restore()
    bool light = false;  // save_light(): no records, only for an undo (can_undo_to)
    bool delta = false;  // save_delta(): the records changed since the save before it
    size_t entries = 0;  // a delta's addresses (of records there or gone)
    const uint8_t* data() const { return own.empty() ? chunks : own.data(); }
  };
  // The fewest bytes a record takes saved: its address and four varints of a byte, and the bin.
  static constexpr size_t kMinSavedChunk = 8 + 4 + 1;
  Saved save(ByteArena& arena) const;
  Saved save() const;
  // A save without the chunk records (the state and the bin lists only, a few KB where save()
  // writes 18 bytes a record): restore() can take it only through the undo, so it is made only
  // at undo_from() and good while can_undo_to() says so (a huge heap's local checkpoint: a save
  // of 1.4 M records costs 15-40 ms a seek).
  Saved save_light() const;
  bool can_undo_to(const Saved& s) const { return undo_on_ && s.id != 0 && s.id == undo_base_; }
  // The model save() was called on. With undo on (set_undo), a restore of the save the model was
  // last restored from or saved as (undo_from), while no more than kUndoMax records have changed
  // since (a step back to the local checkpoint a seek left), puts back only those records (and
  // every bin's list): the same chunks, metrics and lists, and the change log goes on (it gains
  // those records).
  void restore(const Saved& s);
  // Undo for restore(): after undo_from() and after such a restore, each changed record's first
  // value is kept (seeks only; neither the replay's pass nor a seek's replay up to its local
  // checkpoint pays for it).
  static constexpr size_t kUndoMax = size_t(1) << 14;
  void set_undo(bool on) {
    undo_wanted_ = on;
    undo_give_up();
  }
  // Delta saves (a huge heap's pass: replay.h). While the dirty log is on (start_dirty_log(),
  // until a restore, a baseline, or more than `cap` changes), every record changed is noted;
  // save_delta() saves those records as they are now (or that they are gone), the state and the
  // bin lists, in about 16 bytes a changed record, and starts the log over. A model restored from
  // a save(), then given apply_delta() of each delta saved after it in turn, is the model the last
  // save_delta() was called on: the same records, metrics and lists (not slot for slot).
  void start_dirty_log(size_t cap);
  void stop_dirty_log() {
    dirty_on_ = false;
    dirty_.clear();
  }
  bool dirty_log_on() const { return dirty_on_; }
  Saved save_delta(ByteArena& arena);
  void apply_delta(const Saved& s);
  // The model is s's state (s was saved from it just now): undo from here, for a restore of s.
  void undo_from(const Saved& s) {
    if (!undo_wanted_) return;
    if (undo_.size()) undo_.reset(16);
    undo_on_ = true;
    undo_base_ = s.id;
  }

private:
  Chunk* upsert(uint64_t addr, const Event& e, bool& created);
  void unknown_free(const Event& e);
  void leave(const Chunk& c); // removes c's contribution to the metrics
  void enter(const Chunk& c); // adds it back
  void erase(Chunk* c);
  void erase_range(uint64_t start, uint64_t end); // every record in [start, end), and tops there
  void set_top(const Event& e);
  void api_result(const Event& e, uint64_t req);
  // The handler of each event the table marks Apply (declared below the class, defined in
  // heap_model.cpp): a row without its handler fails to link.
  template <trace::Ev T> void on(const Event& e);
  void on_chunk(const Event& e);       // chunk_alloc, chunk_free, fence
  void resident_again(const Chunk& c); // released.cpp: what c's change makes resident
  void load_baseline(const Snapshot& s);
  void end_baseline_mmaps() {
    baseline_mmaps_ = false;
    baseline_known_mmaps_.clear();
  }
  // The list a binned chunk is in: its arena's bin, or the tcache of the thread whose event is
  // being applied (glibc's threads take chunks from their own tcache only).
  uint64_t list_of(const Chunk& c) const {
    trace::BinKind k = trace::bin_of(c.state);
    return BinList{k, c.bin, k == trace::BinKind::Tcache ? tid_ : c.arena}.key();
  }
  // The chunk c (in a bin now) enters its list, at its glibc place (heap_model_bins.cpp says
  // why there); a baseline's lists.
  void enter_list(const Chunk& c) {
    if (trace::bin_of(c.state) == trace::BinKind::Large)
      order_.insert_sorted(list_of(c), c.addr, c.size);
    else
      order_.push_head(list_of(c), c.addr);
  }
  void load_baseline_order(const Snapshot& s);
  void anomaly(const Event& e, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
  void note_arena(uint32_t a);

  // The change log (see start_change_log): the views' bookkeeping, not the heap's state, so a
  // const model keeps it; a copy of the model starts without one.
  struct ChangeLog {
    bool on = false;
    uint64_t id = 0;
    std::vector<uint64_t> addrs;
    ChangeLog() = default;
    ChangeLog(const ChangeLog&) {}
    ChangeLog& operator=(const ChangeLog&) {
      on = false, id = 0, addrs.clear();
      return *this;
    }
    void note(uint64_t addr, size_t records) {
      if (addrs.size() < 2 * records + 4096)
        addrs.push_back(addr);
      else
        on = false, addrs.clear(); // a whole build is cheaper than this many changes
    }
  };

  // Every change of a record is noted before it is made (leave() does it; a change outside
  // leave() calls it): the change log, the undo and the dirty log see it.
  void note(const Chunk& c) {
    if (log_.on) [[unlikely]]
      note_change(c.addr);
    if (undo_on_) [[unlikely]]
      note_undo(c);
    if (dirty_on_) note_dirty(c.addr);
  }
  // (Out of line: leave() stays small enough to be inlined in the replay's loop.)
  [[gnu::noinline]] void note_undo(const Chunk& c);
  // A record changes several times in a row (a split's, a free's events) and a few are changed
  // again and again (the tcache's): the log skips an address that the last change with the same
  // hash named, which keeps it to about one entry per record changed.
  static constexpr unsigned kDirtySeenBits = 12;
  void note_dirty(uint64_t addr) {
    uint64_t& seen = dirty_seen_[(addr * FlatMap<Chunk>::kHashMul) >> (64 - kDirtySeenBits)];
    if (seen == addr) return;
    seen = addr;
    if (dirty_.size() < dirty_cap_)
      dirty_.push_back(addr);
    else
      stop_dirty_log(); // a full save is due
  }
  [[gnu::noinline]] void note_change(uint64_t addr) const { log_.note(addr, chunks_.size()); }
  void undo_give_up() {
    undo_on_ = false;
    undo_base_ = 0;
    if (undo_.size()) undo_.reset(16);
  }
  static constexpr uint8_t kNoRecord = 0xfe; // an undo entry's state: no record at that address

  FlatMap<Chunk> chunks_;
  mutable ChangeLog log_;
  bool undo_wanted_ = false, undo_on_ = false;
  uint64_t undo_base_ = 0; // the Saved::id last restored, while undo_ holds every change since
  FlatMap<Chunk> undo_;    // each record changed since, as it was (state kNoRecord: none)
  bool dirty_on_ = false;  // the dirty log (start_dirty_log): records changed since the last save
  size_t dirty_cap_ = 0;
  std::vector<uint64_t> dirty_, dirty_tmp_; // addresses (may repeat); save_delta's scratch
  std::vector<uint64_t> dirty_seen_;        // note_dirty's filter (kDirtySeenBits)
  FreeSizes free_sizes_;                    // of the chunks in bins
  BinOrder order_;                          // the binned chunks' lists (a chunk leaves its list in leave())
  uint32_t tid_ = 0;                        // the thread of the event being applied
};

#define HV_MODEL_ON_Apply(Name) template <> void HeapModel::on<trace::Ev::Name>(const Event& e);
#define HV_MODEL_ON_Note(Name)
#define HV_MODEL_ON(Name, name, code, kind, chunks, model, ...) HV_MODEL_ON_##model(Name)
HV_TRACE_EVENTS(HV_MODEL_ON)
#undef HV_MODEL_ON
#undef HV_MODEL_ON_Note
#undef HV_MODEL_ON_Apply

template <trace::Ev T> inline void HeapModel::apply_as(const Event& e) {
  if constexpr (T != trace::Ev::MmapChunk && T != trace::Ev::Snapshot && T != trace::Ev::BinLists &&
                T != trace::Ev::Internal)
    if (__builtin_expect(baseline_mmaps_, 0)) end_baseline_mmaps();
  if constexpr (trace::event_info(T).model == trace::EvModel::Apply) {
    tid_ = e.tid;
    on<T>(e);
  }
}

// Compares the model with a snapshot taken at the same point: every chunk of every arena, in
// address order (mmapped chunks are not listed). Sizes, states and, for binned chunks, bin
// indices must agree. With kSnapshotCoarse, tcache, fast and in-hand chunks count as in use
// and bin indices of those are not compared. Returns the first difference, by address.
std::optional<Mismatch> verify_snapshot(const HeapModel& m, const Snapshot& s);

} // namespace hv::model
