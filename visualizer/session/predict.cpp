// predict.cpp - the predict-then-reveal game (see predict.h).
#include "session/predict.h"

#include <algorithm>

namespace hv::session {

using analysis::BlockSource;

bool PredictGame::start(const std::vector<analysis::CallStory>* stories, uint64_t from) {
  stories_ = stories;
  revealed_ = hit_ = false;
  score_ = asked_ = 0;
  auto it = std::lower_bound(stories->begin(), stories->end(), from,
                             [](const analysis::CallStory& s, uint64_t p) { return s.first < p; });
  k_ = size_t(it - stories->begin());
  if (!active()) {
    stories_ = nullptr;
    return false;
  }
  return true;
}

uint64_t PredictGame::position() const {
  const analysis::CallStory* s = current();
  if (!s) return 0;
  return revealed_ ? s->event + 1 : s->first;
}

PredictGame::Answer PredictGame::right_answer() const {
  const analysis::CallStory* s = current();
  if (!s) return Answer::Chunk;
  switch (s->source) {
  case BlockSource::None:
    return Answer::Null;
  case BlockSource::Mmapped:
    return Answer::Mapping;
  case BlockSource::Grown:
    return Answer::Grows;
  case BlockSource::Top:
    return s->grew || s->new_arena ? Answer::Grows : Answer::Chunk; // (top too small, or a new arena)
  default:
    return Answer::Chunk;
  }
}

void PredictGame::answer_chunk(uint64_t addr, uint64_t size) {
  const analysis::CallStory* s = current();
  if (!s || revealed_) return;
  given_ = Answer::Chunk;
  // The block lands inside the clicked chunk (a free chunk it is taken from or cut out of, top,
  // or for a realloc that stays, the block itself).
  const bool from_chunk = s->source == BlockSource::Bin || s->source == BlockSource::Split ||
                          s->source == BlockSource::Top || s->source == BlockSource::InPlace;
  reveal(from_chunk && s->chunk >= addr && s->chunk < addr + size);
}

void PredictGame::answer(Answer a) {
  if (!current() || revealed_) return;
  given_ = a;
  reveal(a != Answer::Chunk && a == right_answer());
  // (A heap that grew into top: clicking top was right too, answer_chunk says so.)
}

void PredictGame::reveal(bool hit) {
  revealed_ = true;
  hit_ = hit;
  ++asked_;
  if (hit) ++score_;
}

bool PredictGame::next() {
  if (!stories_ || k_ + 1 >= stories_->size()) return false;
  ++k_;
  revealed_ = hit_ = false;
  return true;
}

const char* PredictGame::answer_text(Answer a) {
  switch (a) {
  case Answer::Grows:
    return "the heap grows for it";
  case Answer::Mapping:
    return "a mapping of its own (mmap)";
  case Answer::Null:
    return "NULL";
  default:
    return "";
  }
}

std::string PredictGame::verdict() const {
  const analysis::CallStory* s = current();
  if (!s || !revealed_) return "";
  std::string v = hit_ ? "Right. " : "Not quite. ";
  return v + s->why;
}

} // namespace hv::session
