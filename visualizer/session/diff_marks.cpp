// diff_marks.cpp - see diff_marks.h.
#include "session/diff_marks.h"

#include "analysis/sites.h"
#include "symbols/symbolizer.h"
#include "trace/event_stream.h"

#include <algorithm>

namespace hv::session {

void compute_diff(Document& doc, uint64_t a, uint64_t b, DiffMarks* out) {
  *out = DiffMarks();
  if (doc.state() != Document::State::Ready) return;
  if (a > b) std::swap(a, b);
  uint64_t back = doc.position();
  out->a = a;
  out->b = b;
  doc.seek(a);
  std::vector<model::Chunk> ca = doc.replay().model().chunks_sorted();
  doc.seek(b);
  std::vector<model::Chunk> cb = doc.replay().model().chunks_sorted();
  doc.seek(back);
  for (const model::Chunk& c : ca)
    out->at_a[c.addr] = DiffMarks::Was{c.size, c.seq, c.state};
  for (const model::Chunk& c : cb)
    out->at_b[c.addr] = DiffMarks::Was{c.size, c.seq, c.state};
  out->layout = analysis::diff_layout(ca, cb);
  // Sites at A and at B: one pass, the stats copied at A.
  analysis::SiteTable t(&doc.stacks());
  trace::EventStream s(doc.file());
  std::string err;
  std::vector<analysis::SiteStats> at_a;
  while (t.events() < b) {
    if (t.events() == a)
      for (uint32_t k = 0; k < t.size(); ++k)
        at_a.push_back(t.site(k));
    const trace::Event* e = s.next();
    if (!e || !t.add(*e, &err)) break;
  }
  if (a == b || t.events() <= a)
    for (uint32_t k = 0; k < t.size() && at_a.size() < t.size(); ++k)
      at_a.push_back(t.site(k));
  symbols::Symbolizer sym(doc.stacks());
  out->sites = analysis::diff_sites(at_a, t, sym);
  out->ready = true;
}

} // namespace hv::session
