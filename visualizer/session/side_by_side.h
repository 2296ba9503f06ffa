// side_by_side.h - the app's "one scenario, several policies" mode (docs/app.md, "Side by
// side"): the comparison's runs and a Document for each policy's trace but the first (the app's
// own document shows the first), kept at the operation the first one has reached.
//
// Owns: those documents and the position each is at. Must not: draw (views/policies.cpp does),
// or seek the app's own document (the user's intent does, through the app).
#pragma once

#include "session/document.h"
#include "session/policy_compare.h"

#include <memory>
#include <string>
#include <vector>

namespace hv::session {

class SideBySide {
public:
  // Runs the scenario on every policy (policy_compare.h) and starts opening each trace but the
  // first. False with *error when nothing can be run; a policy that stops early still shows the
  // operations before (its run's error says where it stopped).
  bool start(const std::string& scenario, const std::vector<std::string>& policies, std::string* error);
  bool active() const { return !runs_.empty(); }
  const std::string& scenario() const { return scenario_; }
  const std::vector<PolicyRun>& runs() const { return runs_; }
  size_t size() const { return runs_.size(); }
  // The document of run i (i >= 1; nullptr for 0, which the app's document shows).
  Document* doc(size_t i) { return i && i < docs_.size() ? docs_[i].get() : nullptr; }
  // Brings every other document to the end of the operations the first policy has done at
  // `position` (of its trace): all of them show the same moment of the scenario.
  void follow(uint64_t position);
  size_t ops_done() const { return done_; }
  // The chunk of run i that the same operation allocated as the chunk the first run's picture
  // item with allocating event `seq` (0 when there is none): the same named block in every map.
  uint64_t same_block_seq(size_t i, uint64_t seq) const;

private:
  std::string scenario_;
  std::vector<PolicyRun> runs_;
  std::vector<std::unique_ptr<Document>> docs_; // [0] stays empty
  size_t done_ = 0;
};

} // namespace hv::session
