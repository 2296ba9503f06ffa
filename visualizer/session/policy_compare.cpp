// policy_compare.cpp - one scenario on several policies (see policy_compare.h).
#include "session/policy_compare.h"

#include "model/heap_model.h"
#include "sim/malloclab.h"
#include "sim/policy.h"
#include "sim/runner.h"
#include "sim/scenario.h"
#include "sim/simulate.h"
#include "trace/event_stream.h"
#include "trace/trace_file.h"

#include "heapviz/chunk_states.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <sys/stat.h>

namespace hv::session {

double PolicyRun::external_frag(size_t done) const {
  const OpMetrics* m = after(done);
  return m && m->free_bytes ? 1.0 - double(m->largest_free) / double(m->free_bytes) : 0.0;
}
double PolicyRun::internal_frag(size_t done) const {
  const OpMetrics* m = after(done);
  return m && m->in_use ? double(m->in_use - std::min(m->in_use, m->live)) / double(m->in_use) : 0.0;
}
Figures PolicyRun::figures(size_t done) const {
  Figures g;
  uint64_t n = 0, searched_so_far = 0;
  for (size_t k = 0; k < std::min(done, ops.size()); ++k) {
    g.peak_footprint = std::max(g.peak_footprint, ops[k].footprint);
    g.peak_live = std::max(g.peak_live, ops[k].live);
    if (ops[k].allocating) ++n, searched_so_far += ops[k].searched;
  }
  if (const OpMetrics* m = after(done)) g.footprint = m->footprint, g.live = m->live;
  g.utilization = g.peak_footprint ? double(g.peak_live) / double(g.peak_footprint) : 0.0;
  g.external = external_frag(done);
  g.internal = internal_frag(done);
  g.searched_per_malloc = n ? double(searched_so_far) / double(n) : 0.0;
  return g;
}
size_t PolicyRun::ops_done(uint64_t position) const {
  auto it = std::upper_bound(ops.begin(), ops.end(), position,
                             [](uint64_t p, const OpMetrics& m) { return p < m.end; });
  return size_t(it - ops.begin());
}
uint64_t PolicyRun::position_after(size_t done) const {
  if (done == 0) return start;
  return ops[std::min(done, ops.size()) - 1].end;
}
int64_t PolicyRun::op_of_seq(uint64_t seq) const {
  // An allocating operation's API event is its last event: its sequence number is the position
  // after it (sequence numbers count events from 1).
  auto it =
      std::lower_bound(ops.begin(), ops.end(), seq, [](const OpMetrics& m, uint64_t s) { return m.end < s; });
  if (it == ops.end() || it->end != seq || !it->allocating) return -1;
  return int64_t(it - ops.begin());
}

std::vector<std::string> known_policies() {
  return sim::policy_names();
}

bool parse_policy_list(const std::string& list, std::vector<std::string>* names, std::string* error) {
  names->clear();
  const std::vector<std::string> known = sim::policy_names();
  size_t i = 0;
  while (i <= list.size()) {
    size_t j = list.find(',', i);
    if (j == std::string::npos) j = list.size();
    std::string n = list.substr(i, j - i);
    if (n.empty()) {
      *error = "an empty policy name in '" + list + "'";
      return false;
    }
    if (std::find(known.begin(), known.end(), n) == known.end()) {
      std::string all;
      for (const auto& k : known)
        all += (all.empty() ? "" : ", ") + k;
      *error = "unknown policy '" + n + "' (known: " + all + ")";
      return false;
    }
    if (std::find(names->begin(), names->end(), n) != names->end()) {
      *error = "policy '" + n + "' is named twice";
      return false;
    }
    names->push_back(n);
    i = j + 1;
  }
  return true;
}

namespace {

bool is_call(sim::OpKind k) {
  using K = sim::OpKind;
  return k == K::Malloc || k == K::Calloc || k == K::Realloc || k == K::Memalign || k == K::Free;
}

// glibc counts no search: the chunks each allocating call took off a list (a bin's chunk handed
// out, each chunk the unsorted scan sorted, each chunk consolidated), from its trace.
bool count_from_trace(PolicyRun* run, std::string* error) {
  trace::TraceFile f;
  if (!f.open(run->trace_path)) {
    *error = run->trace_path + ": " + f.error()->describe();
    return false;
  }
  trace::EventStream s(f);
  model::HeapModel m;
  size_t k = 0;
  uint64_t pos = 0;
  std::set<uint64_t> seen;
  auto look = [&](uint64_t c) {
    const model::Chunk* ch = m.find(c);
    if (ch && trace::is_binned(ch->state) && seen.insert(c).second) ++run->ops[k].searched;
  };
  while (const trace::Event* e = s.next()) {
    while (k < run->ops.size() && pos >= run->ops[k].end) { // e belongs to operation k
      ++k;
      seen.clear();
    }
    if (k < run->ops.size() && run->ops[k].allocating && pos >= (k ? run->ops[k - 1].end : run->start)) {
      switch (trace::event_info(e->type).chunks) {
      case trace::EvChunks::User:
        look(e->ptr() - 16);
        break;
      case trace::EvChunks::Chunk:
      case trace::EvChunks::Split:
      case trace::EvChunks::Gone:
        look(e->chunk());
        break;
      default:
        break;
      }
      if (e->type == trace::Ev::Merge) look(e->addr2);
    }
    m.apply(*e);
    ++pos;
  }
  if (s.error() && s.error()->kind != trace::ErrorKind::Truncated) {
    *error = run->trace_path + ": " + s.error()->describe();
    return false;
  }
  run->events = pos;
  return true;
}

std::string make_temp_dir() {
  const char* tmp = getenv("TMPDIR");
  std::string t = std::string(tmp && *tmp ? tmp : "/tmp") + "/heapviz-policies-XXXXXX";
  std::vector<char> buf(t.begin(), t.end());
  buf.push_back(0);
  return mkdtemp(buf.data()) ? std::string(buf.data()) : std::string();
}

} // namespace

bool compare_policies(const std::string& scenario_path, const CompareOptions& opts,
                      std::vector<PolicyRun>* runs, std::string* error) {
  runs->clear();
  if (sim::looks_like_trace(scenario_path)) { // a recording has no requests to run again
    *error =
        scenario_path +
        ": a trace, not a scenario: side by side runs a scenario (.hvs) or a malloclab trace (.rep) on each "
        "policy";
    return false;
  }
  std::string text;
  if (!sim::read_ops_file(scenario_path, &text, error)) return false;
  std::vector<sim::Op> ops;
  sim::ParseError perr;
  if (!sim::parse_ops_for_path(scenario_path, text, &ops, &perr)) { // a .hvs, or a malloclab .rep
    *error = scenario_path + ":" + std::to_string(perr.line) + ": " + perr.message;
    return false;
  }
  // An expect line states one allocator's layout: side by side, none is checked.
  ops.erase(
      std::remove_if(ops.begin(), ops.end(), [](const sim::Op& o) { return o.kind == sim::OpKind::Expect; }),
      ops.end());
  std::string dir = opts.trace_dir;
  if (dir.empty()) {
    dir = make_temp_dir();
    if (dir.empty()) {
      *error = std::string("cannot make a directory for the traces: ") + strerror(errno);
      return false;
    }
  } else if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    *error = dir + ": cannot make the directory: " + strerror(errno);
    return false;
  }
  for (const std::string& name : opts.policies) {
    std::string err;
    std::unique_ptr<sim::Policy> policy = sim::make_policy(name, &err);
    if (!policy) {
      *error = err;
      return false;
    }
    PolicyRun run;
    run.policy = name;
    run.trace_path = dir + "/" + name + ".hvt";
    sim::ScenarioRunner runner(*policy);
    int eline = 0;
    std::string emsg;
    if (!runner.prepare(ops, &eline, &emsg)) {
      run.error = scenario_path + ":" + std::to_string(eline) + ": " + emsg;
      emsg.clear();
    }
    if (!policy->start_trace(run.trace_path, 0)) {
      *error = run.trace_path + ": cannot write: " + strerror(errno);
      return false;
    }
    run.start = policy->trace_events();
    const bool counts = policy->blocks_searched() != UINT64_MAX;
    uint64_t searched_before = counts ? policy->blocks_searched() : 0;
    auto after = [&](const sim::StepResult& r, std::string*) {
      if (!is_call(r.op->kind)) return true;
      OpMetrics m;
      m.line = r.op->line;
      m.end = policy->trace_events();
      m.allocating = r.op->kind != sim::OpKind::Free;
      sim::HeapSummary hs = policy->summary();
      m.footprint = hs.heap_bytes + hs.mmapped_bytes;
      m.in_use = hs.mmapped_bytes; // (walk() gives the main heap's chunks; live counts mmapped blocks)
      m.live = runner.live_requested_bytes();
      for (const sim::ChunkRow& c : policy->walk()) {
        if (c.internal) continue;
        if (c.state == trace::ChunkState::InUse || c.state == trace::ChunkState::Mmapped) {
          m.in_use += c.size;
        } else if (trace::is_binned(uint8_t(c.state))) {
          m.free_bytes += c.size;
          m.largest_free = std::max(m.largest_free, c.size);
        }
      }
      if (counts) {
        m.searched = policy->blocks_searched() - searched_before;
        searched_before = policy->blocks_searched();
      }
      run.ops.push_back(m);
      return true;
    };
    if (run.error.empty() && !runner.run(ops, &eline, &emsg, after))
      run.error = scenario_path + ":" + std::to_string(eline) + ": " + emsg;
    policy->stop_trace();
    if (!counts && !count_from_trace(&run, error)) return false;
    if (counts) run.events = run.ops.empty() ? run.start : run.ops.back().end;
    for (size_t k = 0; k < run.ops.size(); ++k) {
      const OpMetrics& m = run.ops[k];
      run.peak_footprint = std::max(run.peak_footprint, m.footprint);
      if (m.live > run.peak_live || k == 0) {
        run.peak_live = m.live;
        run.peak_done = k + 1;
      }
      if (m.allocating) {
        ++run.mallocs;
        run.searched += m.searched;
      }
    }
    runs->push_back(std::move(run));
  }
  return true;
}

} // namespace hv::session
