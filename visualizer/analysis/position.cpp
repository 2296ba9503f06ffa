// position.cpp - see position.h.
#include "analysis/position.h"

#include <algorithm>
#include <vector>

#include "analysis/sites.h"
#include "trace/event_stream.h"

#include <cerrno>
#include <cstdlib>

namespace hv::analysis {

bool parse_position(const std::string& s, Position* out, std::string* error) {
  Position p;
  p.text = s;
  if (s == "end") {
    p.kind = Position::Kind::End;
  } else if (s == "peak") {
    p.kind = Position::Kind::Peak;
  } else if (s.rfind("mark:", 0) == 0 && s.size() > 5) {
    p.kind = Position::Kind::Mark;
    p.label = s.substr(5);
  } else {
    char* end = nullptr;
    errno = 0;
    // Digits only: strtoull would also take " 5", "+5" and "-5" (as 2^64 - 5).
    const bool digits = !s.empty() && s[0] >= '0' && s[0] <= '9';
    unsigned long long v = digits ? strtoull(s.c_str(), &end, 10) : 0;
    if (!digits || !end || *end || errno) {
      *error = "'" + s + "' is not a position: give an event number, end, peak or mark:LABEL";
      return false;
    }
    p.kind = Position::Kind::Events;
    p.events = v;
  }
  *out = p;
  return true;
}

bool resolve_position(const trace::TraceFile& f, const Position& p, uint64_t* events, std::string* error) {
  if (p.kind == Position::Kind::Events) {
    *events = p.events;
    return true;
  }
  trace::EventStream s(f);
  SiteTable sites;
  uint64_t n = 0, best = 0, best_at = 0;
  std::vector<std::string> labels; // the first few, for the message when the label is not there
  while (const trace::Event* e = s.next()) {
    ++n;
    if (p.kind == Position::Kind::Mark && e->type == trace::Ev::Mark && labels.size() < 8) {
      std::string l(reinterpret_cast<const char*>(e->data), size_t(e->data_end - e->data));
      if (std::find(labels.begin(), labels.end(), l) == labels.end()) labels.push_back(l);
    }
    if (p.kind == Position::Kind::Mark && e->type == trace::Ev::Mark &&
        std::string(reinterpret_cast<const char*>(e->data), size_t(e->data_end - e->data)) == p.label) {
      *events = n;
      return true;
    }
    if (p.kind == Position::Kind::Peak) {
      std::string err;
      if (!sites.add(*e, &err)) {
        *error = err;
        return false;
      }
      if (sites.live_bytes() > best) {
        best = sites.live_bytes();
        best_at = n;
      }
    }
  }
  if (s.error() && s.error()->kind != trace::ErrorKind::Truncated) {
    *error = s.error()->describe();
    return false;
  }
  if (p.kind == Position::Kind::Mark) {
    *error = "the trace has no mark '" + p.label + "'";
    if (labels.empty()) *error += " (it has no marks: hv_mark() in a program, `mark` in a scenario)";
    for (size_t i = 0; i < labels.size(); ++i)
      *error += (i ? ", '" : " (its marks: '") + labels[i] + "'" + (i + 1 == labels.size() ? ")" : "");
    return false;
  }
  // A trace whose live bytes never rose (a capture of a process that only freed what it had
  // before the attach): its peak is no earlier moment than the end, not the empty heap before
  // the baseline.
  *events = p.kind == Position::Kind::Peak && best > 0 ? best_at : n;
  return true;
}

} // namespace hv::analysis
