// site_view.cpp - see site_view.h.
#include "session/site_view.h"

#include <chrono>
#include <string_view>
#include <unordered_map>

namespace hv::session {

void SiteView::reset(Document& doc) {
  ++restarts_;
  generation_ = doc.generation();
  stacks_ = &doc.stacks();
  table_ = std::make_unique<analysis::SiteTable>(stacks_);
  stream_ = std::make_unique<trace::EventStream>(doc.file());
  sym_.reset();
  frames_.clear();
  function_has_.clear();
  failed_ = false;
  problem_ = doc.stacks_error();
  if (problem_.empty() && doc.stacks().nodes() == 0)
    problem_ = "this trace has no call stacks (recorded with --no-stacks, simulated, or by an older heapviz)";
}

bool SiteView::update(Document& doc, double seconds, uint64_t target) {
  if (doc.state() != Document::State::Ready) return false;
  if (target == UINT64_MAX) target = doc.position();
  if (!table_ || generation_ != doc.generation() || table_->events() > target) reset(doc);
  if (failed_) return true;
  auto t0 = std::chrono::steady_clock::now();
  std::string err;
  while (table_->events() < target) {
    for (int k = 0; k < 4096 && table_->events() < target; ++k) {
      const trace::Event* e = stream_->next();
      if (!e) { // a live capture that grew (Document::extend): the stream takes the new blocks
        stream_->refresh_blocks();
        if (!(e = stream_->next())) return false; // nothing more yet
      }
      if (!table_->add(*e, &err)) {
        failed_ = true;
        problem_ = err;
        return true;
      }
    }
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > seconds) return false;
  }
  return true;
}

const std::vector<symbols::Frame>& SiteView::frames(uint32_t site) {
  auto it = frames_.find(site);
  if (it != frames_.end()) return it->second;
  if (!sym_) sym_ = std::make_unique<symbols::Symbolizer>(*stacks_);
  return frames_[site] = analysis::site_frames(*sym_, *stacks_, site);
}

const std::vector<symbols::Frame>& SiteView::stack_frames(uint32_t stack_id) {
  static const std::vector<symbols::Frame> kNone;
  if (!stacks_ || !stacks_->known(stack_id)) return kNone;
  return frames(stacks_->canonical(stack_id));
}

bool SiteView::has_function(uint32_t site, const std::string& fn) {
  if (fn != function_) {
    function_ = fn;
    function_has_.clear();
  }
  auto it = function_has_.find(site);
  if (it != function_has_.end()) return it->second;
  bool has = false;
  for (const symbols::Frame& f : frames(site))
    has |= f.function == fn;
  return function_has_[site] = has;
}

const std::vector<uint64_t>& SiteView::site_curve(Document& doc, uint32_t site, size_t points) {
  if (curve_site_ == site && curve_points_ == points && curve_generation_ == doc.generation()) return curve_;
  curve_site_ = site;
  curve_points_ = points;
  curve_generation_ = doc.generation();
  curve_.assign(points, 0);
  if (points < 2 || doc.state() != Document::State::Ready) return curve_;
  const trace::StackTable& st = doc.stacks();
  const uint64_t total = doc.events();
  std::unordered_map<uint64_t, uint64_t> live; // this site's live blocks: user pointer -> bytes
  uint64_t bytes = 0, n = 0;
  size_t next = 1;
  auto release = [&](uint64_t ptr) {
    auto it = live.find(ptr);
    if (it == live.end()) return;
    bytes -= it->second;
    live.erase(it);
  };
  auto alloc = [&](const trace::Event& e, uint64_t ptr, uint64_t size) {
    if (!ptr || !st.known(e.stack) || st.canonical(e.stack) != site) return;
    live[ptr] = size;
    bytes += size;
  };
  trace::EventStream s(doc.file());
  while (const trace::Event* e = s.next()) {
    switch (e->type) {
    case trace::Ev::Malloc:
    case trace::Ev::Memalign:
      alloc(*e, e->ptr(), e->size);
      break;
    case trace::Ev::Calloc:
      alloc(*e, e->ptr(), e->count() * e->size);
      break;
    case trace::Ev::Realloc:
      if (e->old_ptr() && (e->ptr() || e->size == 0)) release(e->old_ptr());
      alloc(*e, e->ptr(), e->size);
      break;
    case trace::Ev::Free:
    case trace::Ev::FreeTcache:
      release(e->ptr());
      break;
    default:
      break;
    }
    ++n;
    while (next < points && n * (points - 1) >= next * total)
      curve_[next++] = bytes;
  }
  while (next < points)
    curve_[next++] = bytes;
  return curve_;
}

namespace {

std::string frame_name(const symbols::Frame& f) {
  std::string s = f.function;
  if (!f.file.empty() && f.line) {
    size_t k = f.file.rfind('/');
    s += " (" + (k == std::string::npos ? f.file : f.file.substr(k + 1)) + ":" + std::to_string(f.line) + ")";
  }
  return s;
}

} // namespace

std::string SiteView::short_name(uint32_t site) {
  const std::vector<symbols::Frame>& f = frames(site);
  if (f.empty()) return "(no call stack)";
  return frame_name(f[0]);
}

std::vector<std::string> SiteView::distinct_names(const std::vector<uint32_t>& sites) {
  std::vector<std::string> names(sites.size());
  std::vector<size_t> depth(sites.size(), 1); // frames in each name
  std::vector<bool> numbered(sites.size(), false);
  for (size_t i = 0; i < sites.size(); ++i)
    names[i] = short_name(sites[i]);
  for (bool again = true; again;) {
    again = false;
    // Rows that read alike: a name that two different sites have (a site listed twice is one).
    std::unordered_map<std::string_view, int64_t> site_of_name; // -1: several sites
    for (size_t i = 0; i < sites.size(); ++i) {
      auto [it, fresh] = site_of_name.emplace(names[i], int64_t(sites[i]));
      if (!fresh && it->second != int64_t(sites[i])) it->second = -1;
    }
    std::vector<size_t> grow;
    for (size_t i = 0; i < sites.size(); ++i)
      if (site_of_name.at(names[i]) < 0) grow.push_back(i);
    for (size_t i : grow) {
      // The caller goes in front: the part that tells two rows apart is the one a narrow column
      // still shows.
      const std::vector<symbols::Frame>& f = frames(sites[i]);
      if (depth[i] < f.size()) {
        names[i] = frame_name(f[depth[i]++]) + " > " + names[i];
        again = true;
      } else if (!numbered[i]) {
        names[i] = "[site " + std::to_string(sites[i]) + "] " + names[i];
        numbered[i] = true;
      }
    }
  }
  return names;
}

} // namespace hv::session
