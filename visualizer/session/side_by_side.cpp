// side_by_side.cpp - the documents of a side-by-side comparison (see side_by_side.h).
#include "session/side_by_side.h"

namespace hv::session {

bool SideBySide::start(const std::string& scenario, const std::vector<std::string>& policies,
                       std::string* error) {
  runs_.clear();
  docs_.clear();
  done_ = 0;
  CompareOptions o;
  o.policies = policies;
  std::vector<PolicyRun> runs;
  if (!compare_policies(scenario, o, &runs, error)) return false;
  scenario_ = scenario;
  runs_ = std::move(runs);
  docs_.resize(runs_.size());
  for (size_t i = 1; i < runs_.size(); ++i) {
    docs_[i] = std::make_unique<Document>();
    docs_[i]->open(runs_[i].trace_path);
  }
  return true;
}

void SideBySide::follow(uint64_t position) {
  if (runs_.empty()) return;
  done_ = runs_[0].ops_done(position);
  for (size_t i = 1; i < runs_.size(); ++i) {
    Document* d = docs_[i].get();
    if (!d || d->state() != Document::State::Ready) continue;
    uint64_t want = std::min(runs_[i].position_after(done_), d->events());
    if (d->position() != want) d->seek(want);
  }
}

uint64_t SideBySide::same_block_seq(size_t i, uint64_t seq) const {
  if (runs_.empty() || i >= runs_.size()) return 0;
  int64_t k = runs_[0].op_of_seq(seq);
  if (k < 0 || size_t(k) >= runs_[i].ops.size()) return 0;
  return runs_[i].ops[size_t(k)].end;
}

} // namespace hv::session
