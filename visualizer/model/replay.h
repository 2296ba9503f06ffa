// replay.h - a trace replayed once, then seekable: the heap after any number of events.
//
// Owns: the full replay pass (model + merged event stream, applied as decoded; for a trace of raw
// blocks the events are decoded ahead by trace::SeqScatter on a second core, and the pass goes
// on with the EventStream from a checkpoint at the first irregularity), checkpoints (the model
// encoded by HeapModel::save() and the stream position every K events, K = max(2^18, 4 x chunk
// records), so that a seek replays at most K events after a restore that costs far less; on a
// huge heap, deltas between them: HeapModel::save_delta), local checkpoints that seeks leave
// behind (a seek that restores a checkpoint saves one on its way: stepping backward and
// scrubbing near its target then replay fewer than kLocalEvery events; a seek forward that needs
// no restore saves none), seek/step forward/step backward.
// Must not: draw (views read model() through const accessors), or summarise the pass: counts,
// peaks and curves are the analysis layer's (analysis/trace_summary.h, fed by build's callback).
#pragma once

#include "model/heap_model.h"
#include "trace/event_stream.h"
#include "trace/seq_scatter.h"

#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace hv::model {

class Replay {
public:
  // The pass checkpoints every max(kMinCheckpointEvery, kEventsPerRecord x chunk records)
  // events. A checkpoint costs about as much as replaying 1.5 events per chunk record (a walk
  // of the chunk table); a seek on a small heap replays at most 2^18 events (about 8 ms). On a
  // heap of a million chunks the interval is 4 M events: checkpoints take 4.5 bytes per event
  // there (18 a record), and a random seek on the benchmark heap replays 0.5 M events at the
  // median (at 8 records, 0.77 M: 20 ms more, for half the memory).
  static constexpr uint64_t kMinCheckpointEvery = uint64_t(1) << 18;
  static constexpr uint64_t kEventsPerRecord = 4;
  // On a heap of kDeltaChunks records or more, the pass also saves a delta (HeapModel::save_delta:
  // the records changed since the checkpoint before) every max(kMinCheckpointEvery, records /
  // kRecordsPerDeltaEvent) events between two full ones: up to seven deltas after each. A seek
  // restores the full one and applies the deltas after it, then replays at most that interval.
  static constexpr size_t kDeltaChunks = size_t(1) << 17;
  static constexpr uint64_t kRecordsPerDeltaEvent = 2;
  // The pass goes back to its loop every kRunEvents events (checkpoints fall on these bounds).
  static constexpr uint64_t kRunEvents = 4096;
  // A seek that restores a checkpoint and then replays kLocalEvery events or more saves a local
  // checkpoint where it passes the last multiple of kLocalEvery before its target: the next
  // step back, or a seek nearby, starts from there. At most kLocalMax of them and kLocalBytes
  // of memory (Local::cost()) are kept; the least recently restored or saved goes first. A heap
  // too large for the budget keeps none.
  static constexpr uint64_t kLocalEvery = 4096;
  static constexpr size_t kLocalMax = 32;
  static constexpr size_t kLocalBytes = size_t(64) << 20;

  explicit Replay(const trace::TraceFile& file);
  ~Replay();

  // How build() decodes: Auto takes Scatter for a trace of raw blocks with at least
  // kScatterMinEvents events on a machine with two cores or more, else Stream. Scatter decodes
  // on a worker thread (SeqScatter), ScatterInline on the calling thread (tests), Stream through
  // the EventStream alone. All give the same result. round: SeqScatter's events per round (tests
  // take small ones to wrap the ring often).
  enum class Decode { Auto, Stream, Scatter, ScatterInline };
  static constexpr uint64_t kScatterMinEvents = 1u << 17;
  void set_decode(Decode d, uint32_t round = trace::SeqScatter::kRound) {
    decode_ = d;
    round_ = round;
  }
  // The least number of events between the pass's checkpoints (tests take small ones to have
  // many). Ignored after build().
  void set_checkpoint_every(uint64_t min) {
    if (!built_) checkpoint_every_ = min ? min : 1;
  }
  // From how many chunk records the pass saves deltas between its full checkpoints (kDeltaChunks;
  // tests: 0 and SIZE_MAX). Before build().
  void set_delta_from(size_t chunks) {
    if (!built_) delta_from_ = chunks;
  }
  size_t delta_checkpoints() const { return deltas_; } // of checkpoints()
  // The local checkpoints' limits (tests: small ones to reach them; before the first seek): at
  // most max (at least 1), bytes of memory, and an arena of their own from arena_chunks records.
  void set_local_limits(size_t max, size_t bytes, size_t arena_chunks) {
    local_max_ = max ? max : 1;
    local_bytes_max_ = bytes;
    local_arena_chunks_ = arena_chunks;
  }
  // From how many chunk records a seek's local checkpoint is light (kLightLocalChunks; tests: 0
  // and SIZE_MAX).
  void set_light_local_from(size_t chunks) { light_from_ = chunks; }
  // From how many chunk records seeks load records ahead (kDelayedApplyChunks; tests: 0 and
  // SIZE_MAX, to compare the two).
  void set_delayed_apply_from(size_t chunks) { delayed_from_ = chunks; }
  // What the last build() used (Stream, Scatter or ScatterInline), and the position at which a
  // scatter handed over to the EventStream (an irregularity; UINT64_MAX: it did not).
  Decode decoded_with() const { return used_; }
  uint64_t handed_over_at() const { return handed_over_at_; }

  // The full pass: replays every readable event, taking checkpoints; calls
  // on_event(event, model) after each event is applied. Stops at the first error (error()).
  template <class F> void build(F&& on_event);
  // After the file grew (TraceFile::grow, the events already replayed unchanged: a live
  // capture's next sync): replays the new events as build() would have had they been there,
  // with checkpoints, taps and on_event, and leaves the model at the new end. Costs the new
  // events, plus a reload at the old end when the model was elsewhere (at most a checkpoint
  // interval). Seeks, checkpoints and local checkpoints stay valid. False before build().
  // max_events: stop at the first run bound (kRunEvents) at or past that many new events; any
  // prefix of the events is a heap state, and behind() says more are waiting.
  template <class F> bool extend(F&& on_event, uint64_t max_events = UINT64_MAX);
  uint64_t extended() const { return extended_; } // events the last extend() added
  bool behind() const { return behind_; }         // it stopped at max_events
  // Stream positions for an event index (session::EventIndex) without a second decode: the
  // pass calls tap(pos, position) at pos 0 and then at the first run bound (or, decoding ahead,
  // round end) at least `every` events after the last, where the stream's next event is
  // number pos. Set before build().
  using PositionTap = std::function<void(uint64_t pos, const trace::EventStream::Position&)>;
  void set_position_tap(uint64_t every, PositionTap tap) {
    tap_every_ = every ? every : 1;
    tap_ = std::move(tap);
  }
  void build() {
    build([](const Event&, const HeapModel&) {});
  }

  uint64_t size() const { return total_; }   // readable events
  uint64_t position() const { return pos_; } // events applied to model()
  const HeapModel& model() const { return model_; }
  // The event at position()-1 (the last one applied); nullptr at position 0.
  const Event* last_event() const { return pos_ ? &last_ : nullptr; }
  // Moves to the state after the first n events (n <= size()). False if n > size().
  bool seek(uint64_t n);
  bool step_forward() {
    replayed_ = 0;
    return pos_ < total_ && seek(pos_ + 1);
  }
  bool step_back() {
    replayed_ = 0;
    return pos_ > 0 && seek(pos_ - 1);
  }

  const std::optional<trace::TraceError>& error() const { return error_; }
  size_t checkpoints() const { return checkpoints_.size(); }                    // the pass's
  size_t checkpoint_bytes() const { return arena_.used(); }                     // their chunk records' bytes
  size_t checkpoint_mapped() const { return arena_.mapped(); }                  // the slabs that hold them
  size_t local_checkpoints() const { return local_.size() + (light_ ? 1 : 0); } // seeks' (kLocalEvery)
  size_t local_bytes() const { return local_bytes_; } // their memory (Local::cost())
  uint64_t replayed() const { return replayed_; }     // events the last seek or step applied
  // The pass's checkpoint i (i < checkpoints()): its position, and whether it is a delta.
  uint64_t checkpoint_position(size_t i) const { return checkpoints_[i].pos; }
  bool checkpoint_is_delta(size_t i) const { return checkpoints_[i].model.delta; }
  // Restores of a delta that went back through the model's undo to an earlier delta of its
  // chain, instead of restoring the chain's full checkpoint (a seek forward within a chain).
  uint64_t chain_undos() const { return chain_undos_; }

private:
  template <class F> struct BuildSink;
  template <class F> bool build_scattered(BuildSink<F>& sink, trace::SeqScatter& sc);
  template <class F> void stream_pass(BuildSink<F>& sink, uint64_t limit);
  // Hands the tap a stream position (made by save()) at pos, if one is due.
  template <class Save> void tap_at(uint64_t pos, Save&& save) {
    if (!tap_ || pos < next_tap_) return;
    tap_(pos, save());
    next_tap_ = pos + tap_every_;
  }
  Decode choose() const;
  struct Checkpoint {
    uint64_t pos;
    HeapModel::Saved model;
    trace::EventStream::Position stream;
    Event last;
  };
  void take_checkpoint();
  void take_checkpoint(trace::EventStream::Position p); // the stream is not at pos_ (a scatter)
  struct Local {
    Checkpoint cp;
    uint64_t used;                    // tick_ when last restored or saved
    std::unique_ptr<ByteArena> arena; // cp's records, for a large heap (else in cp.model.own)
    size_t cost() const;              // the memory it holds, as counted against the budget
  };
  // A checkpoint to restore, and the local checkpoint it is (nullptr: the pass's). Pointers into
  // checkpoints_ and local_: valid until keep_local() changes local_.
  struct Nearest {
    const Checkpoint* cp;
    Local* local;
  };
  // Heaps of this many chunk records or more (about 2 MiB encoded) save local checkpoints in an
  // arena of their own: on huge pages, 1.3 M records take 4 ms instead of 130 (a 4 KiB fault
  // costs ~3 ms/MB here).
  static constexpr size_t kLocalArenaChunks = size_t(1) << 17;
  // Heaps of this many chunk records or more keep a light local checkpoint instead
  // (HeapModel::save_light: no records): good while the model's undo reaches it, which a step
  // back or a seek near it uses, and nothing after the next restore of another checkpoint. A
  // save of the records there costs 15-40 ms a seek, and a budget of kLocalBytes holds two or
  // three of them, which random seeks seldom come back to.
  static constexpr size_t kLightLocalChunks = size_t(1) << 17;
  // Heaps of this many chunk records or more (a table of 2.6 MB, past the core's L2) replay
  // seeks with the records of the next events loading ahead (replay.cpp: DelayedSeekSink).
  static constexpr size_t kDelayedApplyChunks = size_t(1) << 15;
  bool forward_to(uint64_t n);
  template <class Sink> bool forward_with(Sink& sink, uint64_t n);
  Nearest nearest(uint64_t n); // the last checkpoint at or before n, local or not
  void restore(Nearest at);    // (and marks a local checkpoint used)
  void keep_local();           // a local checkpoint at pos_
  bool reload(uint64_t n);     // from the last checkpoint at or before n

  const trace::TraceFile& file_;
  std::unique_ptr<trace::EventStream> stream_;
  HeapModel model_;
  Event last_{};
  uint64_t pos_ = 0, total_ = 0, next_checkpoint_ = 0;
  uint64_t next_full_ = 0; // the pass's next full checkpoint (deltas come between)
  size_t delta_from_ = kDeltaChunks, deltas_ = 0;
  uint64_t chain_undos_ = 0;
  uint64_t checkpoint_every_ = kMinCheckpointEvery;
  std::vector<Checkpoint> checkpoints_;
  std::vector<Local> local_;
  std::optional<Checkpoint> light_; // the light local checkpoint (kLightLocalChunks), if any
  size_t light_from_ = kLightLocalChunks;
  size_t local_bytes_ = 0;
  size_t local_max_ = kLocalMax, local_bytes_max_ = kLocalBytes, local_arena_chunks_ = kLocalArenaChunks;
  size_t delayed_from_ = kDelayedApplyChunks;
  size_t too_large_chunks_ = SIZE_MAX; // a heap of this many records did not fit the budget
  uint64_t tick_ = 0, replayed_ = 0;
  // The arena of the last local checkpoint dropped, kept for the next one: its pages are touched
  // already (a fresh arena faults in ~3 ms/MB: 20-40 ms a seek on a heap of a million chunks).
  std::unique_ptr<ByteArena> spare_arena_;
  ByteArena arena_; // the checkpoints' chunk records (huge pages: fresh memory is slow to touch)
  std::optional<trace::TraceError> error_;
  bool built_ = false;
  bool stream_at_pos_ = true; // stream_ is at pos_ (after a scatter it is not, until a restore)
  Decode decode_ = Decode::Auto, used_ = Decode::Stream;
  uint32_t round_ = trace::SeqScatter::kRound;
  uint64_t handed_over_at_ = UINT64_MAX;
  uint64_t extended_ = 0;
  bool behind_ = false;
  PositionTap tap_;
  uint64_t tap_every_ = 0, next_tap_ = 0;
};

// Applies each event to the model as it is decoded (EventStream::run), then calls on_event.
template <class F> struct Replay::BuildSink {
  HeapModel& m;
  F& on_event;
  const Event* last = nullptr;
  template <trace::Ev T> void apply(const Event& e) {
    m.apply_as<T>(e);
    on_event(e, static_cast<const HeapModel&>(m));
    last = &e;
  }
  template <trace::Ev T> void ahead(const Event& e) { m.prefetch_as<T>(e); }
};

template <class F> void Replay::build(F&& on_event) {
  take_checkpoint();
  tap_at(pos_, [&] { return stream_->save(); });
  BuildSink<F> sink{model_, on_event};
  used_ = choose();
  handed_over_at_ = UINT64_MAX;
  if (used_ != Decode::Stream) {
    trace::SeqScatter sc(file_, used_ == Decode::Scatter, round_);
    bool gap = build_scattered(sink, sc);
    if (!gap && sc.clean_end()) {
      total_ = pos_;
      error_ = file_.error(); // what EventStream says at the end of a clean prefix
      built_ = true;
      model_.set_undo(true); // seeks keep what they change (HeapModel::restore)
      stream_at_pos_ = false;
      return;
    }
    // An irregularity (a gap, a decode error, a sequence error): the EventStream goes on from
    // here and reports it as it would have from the start.
    handed_over_at_ = pos_;
    sink.last = nullptr;
    if (pos_ == 0) // a fresh stream: its constructor meets (and reports) an error in a first event
      stream_ = std::make_unique<trace::EventStream>(file_);
    else
      reload(pos_);
    if (next_checkpoint_ <= pos_) take_checkpoint();
  }
  stream_pass(sink, UINT64_MAX);
  built_ = true;
  model_.set_undo(true); // seeks keep what they change (HeapModel::restore)
}

template <class F> bool Replay::extend(F&& on_event, uint64_t max_events) {
  if (!built_) return false;
  uint64_t from = total_;
  stream_->refresh_blocks(); // the blocks and threads the file gained
  if (!(stream_at_pos_ && pos_ == total_)) reload(total_);
  replayed_ = 0;
  BuildSink<F> sink{model_, on_event};
  error_.reset();
  stream_pass(sink, max_events >= UINT64_MAX - pos_ ? UINT64_MAX : pos_ + max_events);
  extended_ = total_ - from;
  return true;
}

// The stream's part of a pass, from pos_ to the end, an error, or the first run bound at or past
// limit (behind_): checkpoints and position taps at run bounds; sets total_, error_ and last_,
// and leaves the model at total_.
template <class F> void Replay::stream_pass(BuildSink<F>& sink, uint64_t limit) {
  behind_ = false;
  for (;;) { // to the next run bound or checkpoint, whichever is first
    uint64_t stop = std::min((pos_ / kRunEvents + 1) * kRunEvents, next_checkpoint_);
    uint64_t n = stream_->run(sink, stop - pos_);
    pos_ += n;
    if (pos_ != stop) break; // the end, or an error
    if (pos_ == next_checkpoint_) {
      last_ = *sink.last;
      take_checkpoint();
    }
    tap_at(pos_, [&] { return stream_->save(); });
    if (pos_ >= limit) { // the caller's budget: the rest next time
      behind_ = true;
      break;
    }
  }
  total_ = pos_;
  error_ = stream_->error();
  stream_at_pos_ = true;
  // At a clean end the last event is still where the stream left it (none: last_ stays); after
  // an error its storage may hold the event that failed, so replay from the last checkpoint.
  if (!error_ && sink.last)
    last_ = *sink.last;
  else if (error_)
    reload(total_);
}

// The pass over a SeqScatter's ring: events in seq order from the slots in runs as build()
// makes them, checkpoints at round ends (where the scatter saved a stream position).
// Returns at the end (false) or at the first slot that does not hold the event numbered next
// (true: a gap, though the worker may have decoded the whole file); pos_ and last_ are then the
// events applied.
template <class F> bool Replay::build_scattered(BuildSink<F>& sink, trace::SeqScatter& sc) {
  // The chunk record of the event this far ahead is fetched while the ones before it are
  // applied (a real heap's chunk table does not fit in the core's L2: the model alone applies
  // the churn 12% faster so; the whole pass gains about 3%).
  constexpr uint64_t kAhead = 16;
  uint64_t s = sc.first_seq(), ready = s;
  auto want_next = [&] { // the nearer of the next checkpoint and the next tap
    uint64_t at = std::min(next_checkpoint_, tap_ ? next_tap_ : UINT64_MAX);
    sc.want_position(s + (at > pos_ ? at - pos_ : 1));
  };
  want_next();
  Event e{};
  for (;;) {
    if (s == ready) {
      ready = sc.wait(s);
      if (ready == s) break;
    }
    uint64_t end = std::min(ready, s + ((pos_ / kRunEvents + 1) * kRunEvents - pos_));
    uint64_t from = s;
    for (; s < end; ++s) {
      if (s + kAhead < ready) model_.prefetch_key(sc.chunk_key(s + kAhead));
      if (!sc.take(s, e)) break;
      trace::dispatch(e, sink);
    }
    pos_ += s - from;
    if (s != end) { // a gap
      if (pos_) last_ = e;
      return true;
    }
    trace::EventStream::Position at;
    if ((pos_ >= next_checkpoint_ || (tap_ && pos_ >= next_tap_)) && sc.position_at(s, at)) {
      at.emitted = pos_;
      at.last_seq = s - 1;
      at.gaps = 0;
      tap_at(pos_, [&] { return at; });
      if (pos_ >= next_checkpoint_) {
        last_ = e;
        take_checkpoint(std::move(at));
      }
      want_next();
    }
  }
  if (pos_) last_ = e;
  return false;
}

} // namespace hv::model
