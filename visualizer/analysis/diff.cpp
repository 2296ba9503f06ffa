// diff.cpp - see diff.h.
#include "analysis/diff.h"

#include <algorithm>
#include <map>
#include <string>

namespace hv::analysis {

namespace {
std::string key_of(const std::vector<symbols::Frame>& frames) {
  std::string k;
  for (const symbols::Frame& f : frames) {
    // Unresolved frames are "module+0xoffset": stable across runs of the same binary.
    k += f.function;
    k += '\t';
    k += f.file;
    k += '\t';
    k += std::to_string(f.line);
    k += '\n';
  }
  return k;
}
struct Side {
  SiteStats s;
  std::vector<symbols::Frame> frames;
  bool seen = false;
};
void accumulate(SiteStats& into, const SiteStats& s) {
  into.allocs += s.allocs;
  into.bytes += s.bytes;
  into.live_bytes += s.live_bytes;
  into.live += s.live;
}
std::vector<SiteDelta> finish(std::map<std::string, std::pair<Side, Side>>& m) {
  std::vector<SiteDelta> out;
  for (auto& [k, ab] : m) {
    const Side &a = ab.first, &b = ab.second;
    SiteDelta d;
    d.allocs_delta = int64_t(b.s.allocs) - int64_t(a.s.allocs);
    d.bytes_delta = int64_t(b.s.bytes) - int64_t(a.s.bytes);
    d.live_bytes_delta = int64_t(b.s.live_bytes) - int64_t(a.s.live_bytes);
    d.live_bytes_a = a.s.live_bytes;
    d.live_bytes_b = b.s.live_bytes;
    d.stack = b.seen ? b.frames : a.frames;
    d.only_a = !b.seen;
    d.only_b = !a.seen;
    if (d.allocs_delta || d.bytes_delta || d.live_bytes_delta) out.push_back(std::move(d));
  }
  auto mag = [](int64_t v) { return v < 0 ? uint64_t(-v) : uint64_t(v); };
  std::stable_sort(out.begin(), out.end(), [&](const SiteDelta& x, const SiteDelta& y) {
    if (mag(x.live_bytes_delta) != mag(y.live_bytes_delta))
      return mag(x.live_bytes_delta) > mag(y.live_bytes_delta);
    return mag(x.bytes_delta) > mag(y.bytes_delta);
  });
  return out;
}
} // namespace

std::vector<SiteDelta> diff_sites(const SiteTable& a, symbols::Symbolizer& sym_a, const SiteTable& b,
                                  symbols::Symbolizer& sym_b) {
  std::map<std::string, std::pair<Side, Side>> m;
  for (int side = 0; side < 2; ++side) {
    const SiteTable& t = side ? b : a;
    symbols::Symbolizer& sym = side ? sym_b : sym_a;
    for (uint32_t s = 0; s < t.size(); ++s) {
      if (!t.site(s).allocs) continue;
      std::vector<symbols::Frame> frames = site_frames(sym, t.stacks(), s);
      Side& into = side ? m[key_of(frames)].second : m[key_of(frames)].first;
      accumulate(into.s, t.site(s));
      if (!into.seen) into.frames = std::move(frames);
      into.seen = true;
    }
  }
  return finish(m);
}

std::vector<SiteDelta> diff_sites(const std::vector<SiteStats>& a, const SiteTable& b,
                                  symbols::Symbolizer& sym) {
  std::map<std::string, std::pair<Side, Side>> m;
  for (uint32_t s = 0; s < b.size(); ++s) {
    bool in_a = s < a.size() && a[s].allocs;
    if (!b.site(s).allocs && !in_a) continue;
    std::vector<symbols::Frame> frames = site_frames(sym, b.stacks(), s);
    auto& ab = m[key_of(frames)];
    if (in_a) {
      accumulate(ab.first.s, a[s]);
      ab.first.seen = true;
      ab.first.frames = frames;
    }
    accumulate(ab.second.s, b.site(s));
    ab.second.seen |= b.site(s).allocs != 0;
    ab.second.frames = std::move(frames);
  }
  return finish(m);
}

LayoutDelta diff_layout(const std::vector<model::Chunk>& a, const std::vector<model::Chunk>& b) {
  LayoutDelta d;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i].addr < b[j].addr)) {
      ++d.died;
      d.died_bytes += a[i++].size;
    } else if (i == a.size() || b[j].addr < a[i].addr) {
      ++d.born;
      d.born_bytes += b[j++].size;
    } else {
      if (a[i].size != b[j].size) {
        ++d.died;
        d.died_bytes += a[i].size;
        ++d.born;
        d.born_bytes += b[j].size;
      } else if (a[i].state != b[j].state || a[i].seq != b[j].seq) {
        ++d.changed;
        d.changed_bytes += b[j].size;
      } else {
        ++d.unchanged;
        d.unchanged_bytes += b[j].size;
      }
      ++i;
      ++j;
    }
  }
  return d;
}

} // namespace hv::analysis
