// site_view.h - the open document's allocation sites for the views: the site table at the
// current position, names for its stacks, and which site each live chunk belongs to.
//
// Owns: an incremental pass over the document's trace that keeps a site table
// (analysis/sites.h) at the document's position (forward from where it is, into the blocks a
// live capture gains; from the start after a seek backwards or another document), with a
// bounded amount of work per call (the UI's frame);
// a symbolizer over the document's stack table (lazy, cached); and each site's frames as shown.
// Must not: include ImGui or GL, or change the document (it reads the file on its own stream).
#pragma once

#include "analysis/sites.h"
#include "session/document.h"
#include "symbols/symbolizer.h"

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace hv::session {

class SiteView {
public:
  // Brings the site table up to doc's position (or to event `target`, e.g. the end for leaks),
  // for at most `seconds`. True when it is there.
  bool update(Document& doc, double seconds, uint64_t target = UINT64_MAX);
  // The table at position() (nullptr before the first update of a Ready document).
  const analysis::SiteTable* table() const { return table_.get(); }
  uint64_t position() const { return table_ ? table_->events() : 0; }
  bool at(const Document& doc, uint64_t target = UINT64_MAX) const {
    return table_ && generation_ == doc.generation() &&
           table_->events() == (target == UINT64_MAX ? doc.position() : target);
  }
  const analysis::SiteStats& site(uint32_t s) const { return table_->site(s); }
  // How many times the table was started over (another document, or a seek backwards); a live
  // capture that grows goes on where it was.
  uint64_t restarts() const { return restarts_; }
  // Why sites cannot be shown ("" when they can): a malformed stack record, no stacks recorded.
  const std::string& problem() const { return problem_; }

  // Site s's frames as users read them (analysis::site_frames), cached.
  const std::vector<symbols::Frame>& frames(uint32_t site);
  // A stack id's frames (an event's stack), the same way.
  const std::vector<symbols::Frame>& stack_frames(uint32_t stack_id);
  // The site of the live chunk whose user pointer is ptr, -1 if none is live there.
  int64_t site_of(uint64_t ptr) const { return table_ ? table_->live_site(ptr) : -1; }
  // Whether site s's stack has a frame of function fn (cached per function).
  bool has_function(uint32_t site, const std::string& fn);
  // Site s's live bytes (requested) over the whole trace, at `points` evenly spaced positions
  // (point i: after i * events / (points - 1) events); one pass over the trace, cached for the
  // last site and width asked.
  const std::vector<uint64_t>& site_curve(Document& doc, uint32_t site, size_t points);
  // The innermost frame of site s outside the allocator ("" if none): for tooltips and lists.
  std::string short_name(uint32_t site);
  // Names for rows of sites shown together: each its short_name, and where two rows would read
  // the same (one helper, malloc'ing for several callers), as many of its callers in front of
  // it ("main > f > helper") as tell them apart; sites still alike at their outermost frame
  // get "[site N] " in front.
  std::vector<std::string> distinct_names(const std::vector<uint32_t>& sites);
  const std::vector<symbols::Symbolizer::Problem>* symbol_problems() const {
    return sym_ ? &sym_->problems() : nullptr;
  }

private:
  void reset(Document& doc);
  uint64_t generation_ = UINT64_MAX;
  const trace::StackTable* stacks_ = nullptr;
  std::unique_ptr<analysis::SiteTable> table_;
  std::unique_ptr<trace::EventStream> stream_;
  std::unique_ptr<symbols::Symbolizer> sym_;
  std::unordered_map<uint32_t, std::vector<symbols::Frame>> frames_;
  std::string function_; // has_function's cache is for this function
  std::unordered_map<uint32_t, bool> function_has_;
  std::string problem_;
  bool failed_ = false;
  uint64_t restarts_ = 0;
  std::vector<uint64_t> curve_;
  uint32_t curve_site_ = UINT32_MAX;
  size_t curve_points_ = 0;
  uint64_t curve_generation_ = UINT64_MAX;
};

} // namespace hv::session
