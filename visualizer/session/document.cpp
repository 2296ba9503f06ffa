// document.cpp - opening, background loading and seeking (see document.h).
#include "session/document.h"

#include "sim/simulate.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace hv::session {

namespace {
// The process's resident file-backed memory (RssFile in /proc/self/status), in KiB; -1 if unknown.
long file_rss_kb() {
  FILE* f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long v = -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "RssFile:", 8) == 0) v = strtol(line + 8, nullptr, 10);
  fclose(f);
  return v;
}
} // namespace

namespace {

struct Cancelled {};

} // namespace

Document::~Document() {
  close();
}

void Document::close() {
  for (auto& w : jobs_)
    if (auto j = w.lock()) j->stop(true); // before the file and the index go
  jobs_.clear();
  cancel_.store(true);
  if (thread_.joinable()) thread_.join();
  cancel_.store(false);
  index_.reset();
  replay_.reset();
  file_ = trace::TraceFile();
  policy_warning_.clear();
  scenario_note_.clear();
  policy_ = model::PolicyInfo();
  stacks_ = trace::StackTable();
  stacks_error_.clear();
  errors_ = ErrorList();
  scenario_marks_.clear();
  static std::atomic<uint64_t> generations{0}; // unique across documents: views key their caches by it
  generation_ = generations.fetch_add(1) + 1;
  state_.store(State::Empty, std::memory_order_release);
  std::lock_guard<std::mutex> g(mu_);
  error_.clear();
}

void Document::open(const std::string& path) {
  open_prefix(path, UINT64_MAX);
}

void Document::open_prefix(const std::string& path, uint64_t max_bytes) {
  close();
  path_ = path;
  max_bytes_ = max_bytes;
  scenario_ = false;
  phase_ = 0;
  done_ = 0;
  expected_ = 0;
  state_.store(State::Loading, std::memory_order_release);
  thread_ = std::thread([this] { load(); });
}

Document::State Document::wait() {
  if (thread_.joinable()) thread_.join();
  return state();
}

void Document::fail(const std::string& msg) {
  {
    std::lock_guard<std::mutex> g(mu_);
    error_ = msg;
  }
  state_.store(State::Failed, std::memory_order_release);
}

std::string Document::error() const {
  std::lock_guard<std::mutex> g(mu_);
  return error_;
}

bool Document::only_truncated() const {
  std::lock_guard<std::mutex> g(mu_);
  if (!scenario_note_.empty() || !policy_warning_.empty()) return false;
  const std::optional<trace::TraceError>& e = replay_->error() ? replay_->error() : file_.error();
  return e && e->kind == trace::ErrorKind::Truncated;
}

double Document::progress(std::string* what) const {
  uint64_t replayed = done_.load(std::memory_order_relaxed);
  int phase = phase_.load(std::memory_order_relaxed);
  uint64_t expected = expected_.load(std::memory_order_relaxed);
  double total = double(expected ? expected : 1);
  char buf[160];
  double f = 0;
  if (phase == 0) {
    snprintf(buf, sizeof buf,
             scenario_.load(std::memory_order_relaxed) ? "simulating the scenario"
                                                       : "opening and indexing blocks");
  } else {
    f = double(replayed) / total; // the replay feeds the event index as it goes
    snprintf(buf, sizeof buf, "replaying and indexing %.1f M of %.1f M events", double(replayed) / 1e6,
             total / 1e6);
  }
  if (what) *what = buf;
  return f > 1 ? 1 : f;
}

void Document::load() {
  auto t0 = std::chrono::steady_clock::now();
  std::string note; // a partial-file warning for the banner
  std::string trace_path = path_;
  std::string temp;
  if (sim::is_scenario_file(path_)) {
    scenario_ = true;
    temp = sim::temp_trace_path();
    if (temp.empty()) return fail("cannot create a temporary trace file in $TMPDIR or /tmp");
    std::string err;
    std::vector<sim::MarkNames> marks;
    const bool simulated = sim::simulate_to_trace(path_, temp, scenario_policy_, &err, &marks);
    for (sim::MarkNames& m : marks)
      scenario_marks_.push_back(ScenarioMark{m.line, std::move(m.label), std::move(m.names)});
    if (!simulated) {
      // A parse error or an unknown policy writes nothing; a scenario error keeps the operations
      // before it.
      if (!sim::looks_like_trace(temp)) {
        unlink(temp.c_str());
        return fail(err.rfind(path_, 0) == 0 ? err : path_ + ": " + err);
      }
      note = err + " (showing the operations before it)";
    }
    trace_path = temp;
  }
  bool ok = file_.open(trace_path, max_bytes_);
  if (!temp.empty()) unlink(temp.c_str()); // mapped: the data stays until we close it
  if (!ok) return fail(path_ + ": " + file_.error()->describe());
  std::string policy_warning;
  policy_ = model::policy_from_header(file_.header().policy, &policy_warning);
  const uint64_t expected = file_.indexed_events();
  expected_.store(expected, std::memory_order_relaxed);
  // The event index is fed by the replay pass (its stream positions and its events): the file
  // is decoded once.
  index_ = std::make_unique<EventIndex>(file_);
  try {
    replay_ = std::make_unique<model::Replay>(file_);
    EventIndex* ix = index_.get();
    replay_->set_position_tap(EventIndex::kGroup, [ix](uint64_t pos, const trace::EventStream::Position& p) {
      ix->add_position(pos, p);
    });
    phase_ = 1;
    uint64_t n = 0;
    summary_ = analysis::TraceSummary(expected);
    // Pages of the file behind the replay are released as it goes (see TraceFile::release):
    // with a 100 M-event trace the mapping alone would otherwise be most of the app's memory.
    constexpr uint64_t kKeepBehind = 32u << 20, kReleaseStep = 64u << 20;
    uint64_t released = 0;
    auto last_preview = std::chrono::steady_clock::now();
    replay_->build([&](const trace::Event& e, const model::HeapModel& m) {
      ++n;
      if (e.offset > released + kKeepBehind + kReleaseStep) {
        file_.release(released, e.offset - kKeepBehind);
        released = e.offset - kKeepBehind;
      }
      summary_.add(e, m);
      ix->add(e);
      add_stack_event(e);
      if ((n & 0xffff) == 0) {
        done_.store(n, std::memory_order_relaxed);
        if (cancel_.load(std::memory_order_relaxed)) throw Cancelled{};
        if (preview_) {
          auto now = std::chrono::steady_clock::now();
          if (std::chrono::duration<double>(now - last_preview).count() >= preview_interval_) {
            preview_(m, n);
            last_preview = now;
          }
        }
      }
    });
    summary_.finish(replay_->model()); // after build: the model at the end
    done_.store(n, std::memory_order_relaxed);
    // Heap errors: a pass of their own (each block's history), only when there is one to list.
    if (summary_.count(trace::Ev::Error) &&
        !errors_.build(file_, policy_, replay_->size(), *replay_, &cancel_))
      throw Cancelled{};
  } catch (const Cancelled&) {
    return;
  }
  file_.release(0, file_.file_size());
  policy_warning_ = policy_warning;
  scenario_note_ = note;
  replay_->seek(replay_->size());
  load_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  {
    std::lock_guard<std::mutex> g(mu_);
    error_ = partial_note();
  }
  file_rss_base_kb_ = file_rss_kb();
  state_.store(State::Ready, std::memory_order_release);
}

// Why only part of the file is shown, and how (the banner), or "".
std::string Document::partial_note() const {
  std::string note = scenario_note_;
  if (replay_->error()) {
    char buf[160];
    snprintf(buf, sizeof buf, " (showing the %llu events before it)", (unsigned long long)replay_->size());
    note = path_ + ": " + replay_->error()->describe() + buf;
  } else if (file_.error()) {
    note = path_ + ": " + file_.error()->describe();
  }
  if (!policy_warning_.empty()) note += (note.empty() ? "" : "; ") + path_ + ": " + policy_warning_;
  return note;
}

trace::TraceFile::Growth Document::extend(uint64_t max_bytes, uint64_t max_events) {
  using Growth = trace::TraceFile::Growth;
  if (state() != State::Ready || is_scenario()) return Growth::Reopen;
  auto t0 = std::chrono::steady_clock::now();
  // The searches read the file and the index on their threads: stopped while they grow.
  std::vector<std::shared_ptr<QueryJob>> jobs;
  for (auto& w : jobs_)
    if (auto j = w.lock()) {
      j->stop();
      jobs.push_back(std::move(j));
    }
  struct Resume {
    std::vector<std::shared_ptr<QueryJob>>& jobs;
    ~Resume() {
      for (auto& j : jobs)
        j->resume();
    }
  } resume{jobs};
  Growth g = file_.grow(max_bytes);
  if (g == Growth::Reopen) return g;
  if (g == Growth::Same && !replay_->behind()) return g;
  if (g == Growth::Grown) {
    max_bytes_ = max_bytes;
    index_->refresh_blocks();
  }
  summary_.resume();
  EventIndex* ix = index_.get();
  const bool had_errors = errors_.built();
  replay_->extend(
      [&](const trace::Event& e, const model::HeapModel& m) {
        summary_.add(e, m);
        ix->add(e);
        add_stack_event(e);
        if (had_errors) errors_.add(e, ix->size() - 1, m);
      },
      max_events);
  summary_.finish(replay_->model());
  // The first error of a growing file: the log needs every block's history, so one pass over
  // what is replayed so far (later growth feeds it as above).
  if (!had_errors && summary_.count(trace::Ev::Error)) {
    errors_.build(file_, policy_, replay_->size(), *replay_);
    replay_->seek(replay_->size()); // left at the new end, as extend() promises
  }
  file_.release(0, file_.file_size());
  extend_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::lock_guard<std::mutex> lock(mu_);
  error_ = partial_note();
  return Growth::Grown;
}

std::shared_ptr<QueryJob> Document::query(const analysis::Filter& f, size_t max_matches) {
  jobs_.erase(std::remove_if(jobs_.begin(), jobs_.end(), [](const auto& w) { return w.expired(); }),
              jobs_.end());
  auto j = std::make_shared<QueryJob>(*index_, f, max_matches);
  jobs_.push_back(j);
  return j;
}

bool Document::searching() {
  for (auto& w : jobs_)
    if (auto j = w.lock(); j && j->running()) return true;
  return false;
}

void Document::wait_searches() {
  for (auto& w : jobs_)
    if (auto j = w.lock()) j->wait();
}

void Document::seek(uint64_t n) {
  if (state() != State::Ready) return;
  if (n > replay_->size()) n = replay_->size();
  if (n != replay_->position()) replay_->seek(n);
  trim_pages();
}

void Document::trim_pages() {
  if (state() != State::Ready || file_rss_base_kb_ < 0) return;
  auto now = std::chrono::steady_clock::now();
  if (now < next_trim_) return;
  next_trim_ = now + std::chrono::milliseconds(100);
  long kb = file_rss_kb();
  if (kb < 0 || uint64_t(kb - std::min(kb, file_rss_base_kb_)) * 1024 <= kTraceResidentBudget) return;
  file_.release(0, file_.file_size());
  ++trims_;
}

} // namespace hv::session
