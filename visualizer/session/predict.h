// predict.h - predict, then reveal (OSTEP's malloc.py, interactive; docs/app.md, "Predict"):
// before each allocation the student says where its block will land; the app reveals it, keeps
// the score and says why (analysis/why.h).
//
// Owns: the game: which allocation is asked, the position the map shows (before the call, then
// after it once revealed), the answer's verdict and the score. Must not: draw or seek (the view
// turns position() into the user's seek).
#pragma once

#include "analysis/why.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hv::session {

class PredictGame {
public:
  // What the student can answer besides a chunk on the map.
  enum class Answer { Chunk, Grows, Mapping, Null };

  // Starts at the first allocation whose call begins at or after `from` (stories: the document's
  // WhyLog, kept alive by the caller). False when there is none.
  bool start(const std::vector<analysis::CallStory>* stories, uint64_t from);
  void stop() { stories_ = nullptr; }
  bool active() const { return stories_ != nullptr && k_ < stories_->size(); }
  const analysis::CallStory* current() const { return active() ? &(*stories_)[k_] : nullptr; }
  size_t index() const { return k_; }
  size_t count() const { return stories_ ? stories_->size() : 0; }
  bool revealed() const { return revealed_; }
  // The position the map shows: the heap before the call, or after it once revealed.
  uint64_t position() const;
  // The answer: a chunk of the map before the call (its start and size: a hit when the block
  // lands inside it), or one of the buttons. Reveals.
  void answer_chunk(uint64_t addr, uint64_t size);
  void answer(Answer a);
  // To the next allocation; false at the end (the game stays on the last one, revealed).
  bool next();
  bool last_hit() const { return hit_; }
  int score() const { return score_; }
  int asked() const { return asked_; }
  // After a reveal: "Right." or "Not quite: ...", then the story's why.
  std::string verdict() const;
  // The right answer, as a button would say it ("" when it is a chunk on the map).
  static const char* answer_text(Answer a);
  Answer right_answer() const;

private:
  void reveal(bool hit);
  const std::vector<analysis::CallStory>* stories_ = nullptr;
  size_t k_ = 0;
  bool revealed_ = false, hit_ = false;
  Answer given_ = Answer::Chunk;
  int score_ = 0, asked_ = 0;
};

} // namespace hv::session
