// malloclab.cpp - .rep traces -> scenario operations (see malloclab.h, docs/malloclab.md).
#include "sim/malloclab.h"

#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace hv::sim {

namespace {

// One blank-separated word of a line, with the rest of the line after it.
std::string_view next_word(std::string_view* rest) {
  size_t b = 0;
  while (b < rest->size() && ((*rest)[b] == ' ' || (*rest)[b] == '\t'))
    ++b;
  size_t e = b;
  while (e < rest->size() && (*rest)[e] != ' ' && (*rest)[e] != '\t')
    ++e;
  std::string_view w = rest->substr(b, e - b);
  rest->remove_prefix(e);
  return w;
}

// A decimal number that fits in 64 bits (mdriver reads them with %d/%u: no sign, no 0x).
bool decimal(std::string_view w, uint64_t* out) {
  if (w.empty() || w.size() > 20) return false;
  for (char c : w)
    if (c < '0' || c > '9') return false;
  std::string s(w);
  errno = 0;
  char* end = nullptr;
  *out = strtoull(s.c_str(), &end, 10);
  return errno == 0 && *end == 0;
}

const char* const kHeaderForms =
    "sugg_heapsize num_ids num_ops weight, or weight num_ids num_ops ignore_ranges";

// What an id has been through so far.
struct IdState {
  enum { Never, Live, Null, Freed } state = Never; // Null: `r ID 0` left a NULL pointer
  int line = 0;                                    // where it became Live or Freed
};

} // namespace

bool is_malloclab_path(std::string_view path) {
  return path.size() > 4 && path.substr(path.size() - 4) == ".rep";
}

bool parse_malloclab(std::string_view text, std::vector<Op>* ops, ParseError* err, MalloclabHeader* header) {
  auto fail = [&](int line, std::string msg) {
    err->line = line;
    err->message = std::move(msg);
    return false;
  };
  MalloclabHeader h;
  uint64_t hdr[4] = {};
  int hdr_line[4] = {};
  int nhdr = 0, line_no = 0, last_line = 0;
  uint64_t nops = 0;
  std::vector<IdState> ids;
  ops->clear();
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view rest = line;
    std::string_view first = next_word(&rest);
    if (first.empty()) continue; // blank lines are skipped everywhere (mdriver's fscanf does too)
    last_line = line_no;

    if (nhdr < 4) { // the header: four numbers, one per line or several on a line (fscanf)
      for (std::string_view w = first; !w.empty(); w = next_word(&rest)) {
        if (nhdr == 4)
          return fail(line_no, "malformed malloclab header: '" + std::string(w) +
                                   "' after its four numbers (" + kHeaderForms + ")");
        hdr_line[nhdr] = line_no;
        if (!decimal(w, &hdr[nhdr]))
          return fail(line_no, "malformed malloclab header: '" + std::string(w) + "' is not a number (" +
                                   kHeaderForms + ")");
        ++nhdr;
      }
      if (nhdr < 4) continue;
      // The 2002 order starts with a suggested heap size (20000 in the handout's example); the
      // 15-213 order starts with a weight, which is 0 or 1 (0..3 in later drivers).
      h.weight_first = hdr[0] <= 3;
      h.num_ids = hdr[1];
      h.num_ops = hdr[2];
      if (h.weight_first) {
        h.weight = hdr[0];
        h.ignore_ranges = hdr[3];
      } else {
        h.sugg_heapsize = hdr[0];
        h.weight = hdr[3];
      }
      if (h.num_ids > (1u << 24))
        return fail(hdr_line[1], "malformed malloclab header: num_ids " + std::to_string(h.num_ids) +
                                     " is more than heapviz takes (16777216)");
      ids.assign(size_t(h.num_ids), IdState{});
      continue;
    }

    // An operation: `a ID SIZE`, `r ID SIZE`, `f ID` or `f -1`.
    if (nops == h.num_ops)
      return fail(line_no, "more operations than the header's num_ops (" + std::to_string(h.num_ops) + ")");
    ++nops;
    if (first != "a" && first != "r" && first != "f")
      return fail(line_no, "unknown malloclab operation '" + std::string(first) + "' (expected a, r or f)");
    const char op = first[0];
    std::string_view id_w = next_word(&rest);
    std::string_view size_w = op == 'f' ? std::string_view() : next_word(&rest);
    std::string_view extra = next_word(&rest);
    if (id_w.empty() || (op != 'f' && size_w.empty()) || !extra.empty())
      return fail(line_no, op == 'f' ? "expected 'f ID'" : std::string("expected '") + op + " ID SIZE'");
    if (op == 'f' && id_w == "-1") continue; // free(NULL): nothing happens (docs/malloclab.md)
    uint64_t id = 0, size = 0;
    if (!decimal(id_w, &id))
      return fail(line_no, "bad id '" + std::string(id_w) + "': expected a decimal number" +
                               (op == 'f' ? " or -1" : ""));
    if (id >= h.num_ids)
      return fail(line_no, "id " + std::to_string(id) + " is out of range: the header says num_ids " +
                               std::to_string(h.num_ids) +
                               (h.num_ids ? " (ids 0 to " + std::to_string(h.num_ids - 1) + ")" : ""));
    if (op != 'f' && !decimal(size_w, &size))
      return fail(line_no, "bad size '" + std::string(size_w) + "': expected a decimal number of bytes");
    IdState& st = ids[size_t(id)];
    std::string name = std::to_string(id); // "b17" (not "b" + ...: GCC 12's false -Wrestrict)
    name.insert(name.begin(), 'b');
    std::string id_text; // "f of id 3"
    id_text += op;
    id_text += " of id ";
    id_text += std::to_string(id);
    Op o;
    o.kind = OpKind::Malloc;
    o.line = line_no;
    o.name = name;
    switch (op) {
    case 'a':
      if (st.state == IdState::Live)
        return fail(line_no,
                    id_text + ", which is still allocated (since line " + std::to_string(st.line) + ")");
      o.a = size;
      st = {IdState::Live, line_no};
      break;
    case 'r':
      if (st.state == IdState::Freed)
        return fail(line_no, id_text + ", which was freed at line " + std::to_string(st.line));
      o.kind = OpKind::Realloc;
      o.old_name = st.state == IdState::Never ? "" : name; // never allocated: realloc(NULL, SIZE)
      o.a = size;
      // realloc(p, 0) frees p and gives NULL; realloc(NULL, 0) is malloc(0), a real block.
      st = {st.state == IdState::Live && size == 0 ? IdState::Null : IdState::Live, line_no};
      break;
    default: // 'f'
      if (st.state == IdState::Never) return fail(line_no, id_text + ", which was never allocated");
      if (st.state == IdState::Freed)
        return fail(line_no, id_text + ", which was already freed at line " + std::to_string(st.line));
      o.kind = OpKind::Free;
      st = {IdState::Freed, line_no};
      break;
    }
    ops->push_back(std::move(o));
  }
  if (nhdr < 4)
    return fail(last_line ? last_line : 1, "malloclab header ends early: " + std::to_string(nhdr) +
                                               " of its 4 numbers (" + kHeaderForms + ")");
  if (nops < h.num_ops)
    return fail(last_line, "the file ends after " + std::to_string(nops) +
                               (nops == 1 ? " operation" : " operations") + "; the header's num_ops is " +
                               std::to_string(h.num_ops));
  if (header) *header = h;
  return true;
}

std::string malloclab_scenario_text(const std::vector<Op>& ops) {
  std::string out;
  for (const Op& o : ops) {
    std::string l;
    if (o.kind == OpKind::Malloc)
      l = o.name + " = malloc " + std::to_string(o.a);
    else if (o.kind == OpKind::Realloc)
      l = o.name + " = realloc " + (o.old_name.empty() ? std::string("NULL") : o.old_name) + " " +
          std::to_string(o.a);
    else if (o.kind == OpKind::Free)
      l = "free " + o.name;
    else
      continue; // a .rep makes no other kind
    if (l.size() < 26) l.resize(26, ' ');
    out += l + " # line " + std::to_string(o.line) + "\n";
  }
  return out;
}

bool parse_ops_for_path(std::string_view path, std::string_view text, std::vector<Op>* ops, ParseError* err) {
  return is_malloclab_path(path) ? parse_malloclab(text, ops, err) : parse_scenario(text, ops, err);
}

bool read_ops_file(const std::string& path, std::string* text, std::string* err) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = path + ": cannot open: " + strerror(errno);
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) { // (open(2) takes a directory: it reads as empty)
    ::close(fd);
    *err = path + ": is a directory, not a scenario";
    return false;
  }
  text->clear();
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *err = path + ": cannot read: " + strerror(errno);
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    text->append(buf, size_t(n));
  }
  ::close(fd);
  return true;
}

} // namespace hv::sim
