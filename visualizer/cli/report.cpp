// report.cpp - see report.h.
#include "cli/report.h"

#include <cinttypes>
#include <cstdio>

namespace hv::cli {

std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else {
      o += c;
    }
  }
  return o + "\"";
}

std::string frames_json(const std::vector<symbols::Frame>& frames) {
  std::string o = "[";
  for (size_t i = 0; i < frames.size(); ++i) {
    const symbols::Frame& f = frames[i];
    char addr[32];
    snprintf(addr, sizeof addr, "\"0x%" PRIx64 "\"", f.address);
    o += std::string(i ? ", " : "") + "{\"function\": " + json_string(f.function) +
         ", \"file\": " + json_string(f.file) + ", \"line\": " + std::to_string(f.line) +
         ", \"module\": " + json_string(f.module) + ", \"address\": " + addr + "}";
  }
  return o + "]";
}

std::string frames_text(const std::vector<symbols::Frame>& frames, const char* indent, size_t max_frames) {
  if (frames.empty()) return std::string(indent) + "(no call stack)\n";
  std::string o;
  size_t n = max_frames && frames.size() > max_frames ? max_frames : frames.size();
  for (size_t i = 0; i < n; ++i) {
    const symbols::Frame& f = frames[i];
    o += indent + f.function;
    if (!f.file.empty() && f.line > 0)
      o += " (" + f.file + ":" + std::to_string(f.line) + ")";
    else if (!f.module.empty() && f.resolved)
      o += " (" + f.module + ")";
    if (f.inlined) o += " [inlined]";
    o += "\n";
  }
  if (n < frames.size())
    o += std::string(indent) + "... " + std::to_string(frames.size() - n) + " more frames\n";
  return o;
}

void warn_symbol_problems(const symbols::Symbolizer& sym) {
  for (const symbols::Symbolizer::Problem& p : sym.problems())
    fprintf(stderr, "heapviz: warning: %s: %s; its frames show as module+offset\n", p.module.c_str(),
            p.why.c_str());
}

} // namespace hv::cli
