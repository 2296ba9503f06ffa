// playground.cpp - the app's side of the Playground (docs/app.md, "Playground"): the editor's
// text re-simulated as it is typed, Save and Open. The view (views/playground.cpp) edits; this
// file writes the text to a scratch scenario, simulates it in a document of its own (on the
// loading thread, as any scenario), and shows it once it is ready, keeping the last good heap
// while a text does not parse.
//
// Must not: draw (the view does), or block a frame on a simulation.
#include "app/app.h"

#include "session/policy_compare.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace hv::app {
namespace {

constexpr double kSettleSeconds = 0.12; // typing pauses this long before the text runs

bool read_text(const std::string& path, std::string* out, std::string* err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *err = path + ": cannot open: " + strerror(errno);
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

bool write_text(const std::string& path, const std::string& text, std::string* err) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (out) out << text;
  if (!out) {
    *err = path + ": cannot write: " + strerror(errno);
    return false;
  }
  return true;
}

const char* kStarter = "# The playground: edit this scenario and the heap follows (docs/scenarios.md).\n"
                       "a = malloc 24\n"
                       "b = malloc 100\n"
                       "c = malloc 24\n"
                       "free a\n"
                       "d = malloc 24      # a's chunk again: tcache[0]\n";

} // namespace

void App::start_playground(const std::string& path) {
  views::PlaygroundState& p = playground_;
  p.open = true;
  p.policies = session::known_policies();
  p.error.clear();
  std::string err;
  if (!path.empty()) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) {
      // A new file, as an editor takes one: the starter, saved there by Save (the bar says so).
      p.text = kStarter;
      p.path = path;
      p.unsaved_new = true;
      snprintf(p.path_buf, sizeof p.path_buf, "%s", path.c_str());
    } else if (!read_text(path, &p.text, &err)) {
      p.text = kStarter;
      p.error = err;
    } else {
      p.path = path;
      p.unsaved_new = false;
      snprintf(p.path_buf, sizeof p.path_buf, "%s", path.c_str());
    }
  } else if (doc_->is_scenario() && read_text(doc_->path(), &p.text, &err)) {
    p.path = doc_->path();
    p.unsaved_new = false;
    snprintf(p.path_buf, sizeof p.path_buf, "%s", p.path.c_str());
  } else if (p.text.empty()) {
    p.text = kStarter;
  }
  p.edited = true;
  p.focus = true;
}

void App::playground_tick() {
  views::PlaygroundState& p = playground_;
  if (!p.open) return;
  const auto now = std::chrono::steady_clock::now();
  std::string err;
  if (p.open_file) {
    p.open_file = false;
    std::string text;
    if (read_text(p.path_buf, &text, &err)) {
      p.text = text;
      p.path = p.path_buf;
      p.unsaved_new = false;
      p.edited = true;
      ++p.generation; // (the editor's own copy of the old text must not come back)
      p.focus = true;
      p.status = "opened " + p.path;
    } else {
      p.error = err, p.error_line = 0;
    }
  }
  if (p.save) {
    p.save = false;
    std::string to = p.path_buf[0] ? std::string(p.path_buf) : p.path;
    if (to.empty()) {
      p.error = "Save: give the file a name first", p.error_line = 0;
    } else if (write_text(to, p.text, &err)) {
      p.path = to;
      p.unsaved_new = false;
      p.status = "saved " + to;
    } else {
      p.error = err, p.error_line = 0;
    }
  }
  if (p.edited) {
    p.edited = false;
    pg_dirty_ = true;
    pg_edit_ = now;
  }
  // A settled edit runs once no simulation is in flight (the newest text wins).
  if (pg_dirty_ && !pg_doc_ && std::chrono::duration<double>(now - pg_edit_).count() >= kSettleSeconds) {
    pg_dirty_ = false;
    if (pg_dir_.empty()) {
      const char* tmp = getenv("TMPDIR");
      std::string t = std::string(tmp && *tmp ? tmp : "/tmp") + "/heapviz-playground-XXXXXX";
      if (mkdtemp(t.data())) pg_dir_ = t;
    }
    const std::string file = pg_dir_ + "/playground.hvs";
    if (pg_dir_.empty() || !write_text(file, p.text, &err)) {
      p.error = pg_dir_.empty() ? std::string("cannot make a scratch directory: ") + strerror(errno) : err;
      p.error_line = 0;
      return;
    }
    pg_doc_ = std::make_unique<session::Document>();
    const size_t k = size_t(std::clamp(p.policy, 0, int(std::max<size_t>(p.policies.size(), 1)) - 1));
    pg_doc_->set_scenario_policy(p.policies.empty() ? "glibc" : p.policies[k]);
    pg_doc_->open(file);
    pg_started_ = now;
    p.simulating = true;
  }
  if (!pg_doc_) return;
  const session::Document::State st = pg_doc_->state();
  if (st != session::Document::State::Ready && st != session::Document::State::Failed) return;
  p.simulating = false;
  const double ms = std::chrono::duration<double, std::milli>(now - pg_started_).count();
  // "FILE:LINE: message": the line is the editor's.
  std::string e = pg_doc_->error();
  const std::string prefix = pg_dir_ + "/playground.hvs:";
  p.error_line = 0;
  if (e.rfind(prefix, 0) == 0) {
    char* end = nullptr;
    long line = strtol(e.c_str() + prefix.size(), &end, 10);
    if (end && *end == ':') {
      p.error_line = int(line);
      e = std::string(end + 1);
      if (!e.empty() && e[0] == ' ') e.erase(0, 1);
    }
  }
  p.error = e;
  if (st == session::Document::State::Ready) { // the new heap, at its end; the selection goes
    why_.stop();
    predict_.game.stop();
    side_ = session::SideBySide(); // (the playground's heap is the one shown now)
    lesson_.active = false;
    doc_ = std::move(pg_doc_);
    reset_views();
    char b[96];
    snprintf(b, sizeof b, "%llu events, simulated and loaded in %.0f ms", (unsigned long long)doc_->events(),
             ms);
    p.status = b;
  }
  pg_doc_.reset(); // (Failed: the last good heap stays)
}

} // namespace hv::app
