// scenario.cpp - parser for the scenario language; see docs/scenarios.md for the grammar.
#include "sim/scenario.h"

#include <algorithm>
#include <cctype>

namespace hv::sim {
namespace {

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

std::vector<std::string_view> tokenize(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
      ++i;
    if (i >= line.size()) break;
    if (line[i] == '=') {
      out.push_back(line.substr(i, 1));
      ++i;
      continue;
    }
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r' && line[j] != '=')
      ++j;
    out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

bool valid_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_name_char(c)) return false;
  return true;
}

// Decimal or 0x-hex, the whole token, no overflow.
bool parse_number(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    for (size_t i = 2; i < s.size(); ++i) {
      int d;
      char c = s[i];
      if (c >= '0' && c <= '9')
        d = c - '0';
      else if (c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
      else
        return false;
      if (v > (UINT64_MAX >> 4)) return false;
      v = (v << 4) | static_cast<uint64_t>(d);
    }
  } else {
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      uint64_t d = static_cast<uint64_t>(c - '0');
      if (v > (UINT64_MAX - d) / 10) return false;
      v = v * 10 + d;
    }
  }
  *out = v;
  return true;
}

// A C int: an optional '-', then decimal or 0x-hex.
bool parse_int(std::string_view s, int* out) {
  bool neg = !s.empty() && s[0] == '-';
  if (neg) s.remove_prefix(1);
  uint64_t v = 0;
  if (!parse_number(s, &v) || v > (neg ? 2147483648u : 2147483647u)) return false;
  *out = neg ? static_cast<int>(-static_cast<int64_t>(v)) : static_cast<int>(v);
  return true;
}

bool valid_tunable_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_name_char(c) && c != '.') return false;
  return true;
}

bool valid_policy_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_name_char(c) && c != '-') return false;
  return true;
}

std::string quote(std::string_view s) {
  std::string q;
  q.reserve(s.size() + 2);
  q.push_back('\'');
  q.append(s);
  q.push_back('\'');
  return q;
}

} // namespace

const std::vector<std::string_view>& mallopt_params() {
  static const std::vector<std::string_view> names = {
      "M_MXFAST",   "M_TRIM_THRESHOLD", "M_TOP_PAD",   "M_MMAP_THRESHOLD",
      "M_MMAP_MAX", "M_ARENA_TEST",     "M_ARENA_MAX", "M_PERTURB",
  };
  return names;
}

bool parse_scenario(std::string_view text, std::vector<Op>* ops, ParseError* err) {
  int lineno = 0;
  int first_op_line = 0; // the first line that calls the allocator (tunables must come before it)
  size_t pos = 0;
  auto fail = [&](std::string msg) {
    err->line = lineno;
    err->message = std::move(msg);
    return false;
  };
  // Threads: the line that started each running thread, and the line that ended each exited one.
  std::vector<int> started(kMaxThreadNumber + 1, 0), exited(kMaxThreadNumber + 1, 0);
  int starts = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++lineno;
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    auto tok = tokenize(line);
    if (tok.empty()) continue;

    // `thread N start`, `thread N exit`, `thread N: OPERATION` (docs/scenarios.md, "Threads");
    // `thread` is a keyword unless `=` follows it (`thread = malloc 8` names a block).
    int thread = 0;
    if (tok[0] == "thread" && (tok.size() < 2 || tok[1] != "=")) {
      const char* usage = "expected 'thread N start', 'thread N exit' or 'thread N: OPERATION'";
      if (tok.size() < 2) return fail(usage);
      std::string_view num = tok[1];
      const bool colon = num.size() > 1 && num.back() == ':';
      if (colon) num.remove_suffix(1);
      uint64_t n = 0;
      if (!parse_number(num, &n) || n < 1 || n > uint64_t(kMaxThreadNumber))
        return fail("bad thread number " + quote(num) + ": threads are numbered 1 to " +
                    std::to_string(kMaxThreadNumber) + " (the main thread's lines have no prefix)");
      thread = int(n);
      const auto state = [&]() -> std::string {
        if (exited[thread])
          return "thread " + std::to_string(thread) + " exited at line " + std::to_string(exited[thread]);
        return "thread " + std::to_string(thread) + " was never started";
      };
      if (!colon && tok.size() == 3 && (tok[2] == "start" || tok[2] == "exit")) {
        Op op{};
        op.line = lineno;
        op.thread = thread;
        if (tok[2] == "start") {
          if (started[thread])
            return fail("thread " + std::to_string(thread) + " is already running (started at line " +
                        std::to_string(started[thread]) + ")");
          if (++starts > kMaxThreadStarts)
            return fail("more than " + std::to_string(kMaxThreadStarts) + " thread starts in one scenario");
          op.kind = OpKind::ThreadStart;
          started[thread] = lineno;
          exited[thread] = 0;
        } else {
          if (!started[thread]) return fail("exit of a thread that is not running: " + state());
          op.kind = OpKind::ThreadExit;
          exited[thread] = lineno;
          started[thread] = 0;
        }
        if (!first_op_line) first_op_line = lineno;
        ops->push_back(std::move(op));
        continue;
      }
      if (colon)
        tok.erase(tok.begin(), tok.begin() + 2);
      else if (tok.size() >= 3 && tok[2] == ":")
        tok.erase(tok.begin(), tok.begin() + 3);
      else
        return fail(usage);
      if (tok.empty()) return fail(usage);
      if (!started[thread])
        return fail(state() + " (add 'thread " + std::to_string(thread) + " start' before)");
      if ((tok[0] == "tunable" || tok[0] == "thread") && (tok.size() < 2 || tok[1] != "="))
        return fail(quote(tok[0]) + " lines have no thread prefix");
      const size_t at = size_t(tok[0].data() - line.data());
      line = line.substr(at); // mark takes the rest of the line
    }

    Op op{};
    op.line = lineno;
    op.thread = thread;
    // `under POLICY[,POLICY...] LINE`: an expect, say or show line for those policies only.
    if (tok[0] == "under" && (tok.size() < 2 || tok[1] != "=")) {
      const char* usage = "expected 'under POLICY[,POLICY...] expect|say|show ...'";
      if (tok.size() < 3) return fail(usage);
      std::string_view list = tok[1];
      while (!list.empty()) {
        size_t comma = list.find(',');
        std::string_view p = list.substr(0, comma);
        if (!valid_policy_name(p)) return fail("bad policy name " + quote(p) + " in " + usage);
        op.only.emplace_back(p);
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
      }
      if (op.only.empty()) return fail(usage);
      if (tok[2] != "expect" && tok[2] != "say" && tok[2] != "show")
        return fail("'under' takes an expect, say or show line (the requests are the same under every "
                    "policy), not " +
                    quote(tok[2]));
      line = line.substr(size_t(tok[2].data() - line.data()));
      tok = tokenize(line);
    }
    // The text after the first token, trimmed (mark, title, summary, say).
    auto rest_of_line = [&]() {
      std::string_view rest = line.substr(size_t(tok[0].data() - line.data()) + tok[0].size());
      while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t'))
        rest.remove_prefix(1);
      while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t' || rest.back() == '\r'))
        rest.remove_suffix(1);
      return std::string(rest);
    };
    auto number = [&](std::string_view t, const char* what, uint64_t* out) {
      if (parse_number(t, out)) return true;
      fail("bad " + std::string(what) + " " + quote(t) +
           ": expected a decimal or 0x-hex number that fits in 64 bits");
      return false;
    };

    if (tok[0] == "free") {
      if (tok.size() != 2) return fail("expected 'free NAME'");
      if (!valid_name(tok[1])) return fail("bad name " + quote(tok[1]) + ": use letters, digits and _");
      op.kind = OpKind::Free;
      op.name = tok[1];
      if (!first_op_line) first_op_line = lineno;
      ops->push_back(std::move(op));
      continue;
    }
    // `mallopt`, `malloc_trim` and `tunable` are keywords unless they name a block
    // (`mallopt = malloc 8`).
    const bool keyword = tok.size() < 2 || tok[1] != "=";
    if (tok[0] == "mallopt" && keyword) {
      const auto& known = mallopt_params();
      if (tok.size() != 3) return fail("expected 'mallopt M_NAME VALUE'");
      if (std::find(known.begin(), known.end(), tok[1]) == known.end()) {
        std::string list;
        for (auto n : known)
          list += (list.empty() ? "" : ", ") + std::string(n);
        return fail("unknown mallopt parameter " + quote(tok[1]) + " (expected " + list + ")");
      }
      if (!parse_int(tok[2], &op.value))
        return fail("bad mallopt value " + quote(tok[2]) +
                    ": expected a decimal or 0x-hex number that fits in a C int");
      op.kind = OpKind::Mallopt;
      op.name = tok[1];
      if (!first_op_line) first_op_line = lineno;
      ops->push_back(std::move(op));
      continue;
    }
    if (tok[0] == "malloc_trim" && keyword) {
      if (tok.size() != 2) return fail("expected 'malloc_trim PAD'");
      if (!number(tok[1], "pad", &op.a)) return false;
      op.kind = OpKind::MallocTrim;
      if (!first_op_line) first_op_line = lineno;
      ops->push_back(std::move(op));
      continue;
    }
    if (tok[0] == "tunable" && keyword) {
      if (tok.size() != 4 || tok[2] != "=" || !valid_tunable_name(tok[1]))
        return fail(
            "expected 'tunable NAME=VALUE', as in GLIBC_TUNABLES (tunable glibc.malloc.tcache_count=0)");
      if (first_op_line)
        return fail("tunable after the first operation (line " + std::to_string(first_op_line) +
                    "): glibc reads GLIBC_TUNABLES once, when malloc starts; put tunable lines first");
      if (tok[3].size() > 1 && tok[3][0] == '0' && tok[3][1] >= '0' && tok[3][1] <= '9')
        return fail("bad tunable value " + quote(tok[3]) +
                    ": glibc reads a leading 0 as octal; write it in decimal or 0x-hex");
      if (!number(tok[3], "tunable value", &op.a)) return false;
      op.kind = OpKind::Tunable;
      op.name = tok[1];
      ops->push_back(std::move(op));
      continue;
    }
    if (tok[0] == "expect" && keyword) { // an assertion on the heap so far (docs/scenarios.md)
      const char* usage = "expected 'expect NAME at NAME2 [+ N]', 'expect NAME at OFFSET', 'expect NAME in "
                          "STATE' or 'expect NAME "
                          "joins NAME2'";
      if (tok.size() < 4 || !valid_name(tok[1])) return fail(usage);
      op.kind = OpKind::Expect;
      op.name = tok[1];
      op.label = tok[2];
      op.old_name = tok[3];
      uint64_t offset = 0;
      if (tok[2] == "at" && tok.size() == 4 && tok[3][0] >= '0' && tok[3][0] <= '9') {
        // `expect NAME at OFFSET`: the pointer's offset from the heap base (as --offsets prints it)
        if (!number(tok[3], "offset", &offset)) return false;
        op.label = "at_offset";
        op.old_name.clear();
        op.a = offset;
      } else if (tok[2] == "at" && (tok.size() == 4 || (tok.size() == 6 && tok[4] == "+"))) {
        if (!valid_name(tok[3])) return fail("bad name " + quote(tok[3]) + ": use letters, digits and _");
        if (tok.size() == 6 && !number(tok[5], "offset", &op.a)) return false;
      } else if (tok[2] == "joins" && tok.size() == 4) {
        if (!valid_name(tok[3])) return fail("bad name " + quote(tok[3]) + ": use letters, digits and _");
      } else if (tok[2] == "in" && tok.size() == 4) {
        static const char* kStates[] = {"in_use",   "tcache",   "fastbin", "unsorted",
                                        "smallbin", "largebin", "top",     "mmapped"};
        if (std::find(std::begin(kStates), std::end(kStates), tok[3]) == std::end(kStates))
          return fail("unknown state " + quote(tok[3]) +
                      " (expected in_use, tcache, fastbin, unsorted, smallbin, largebin, top or mmapped)");
      } else {
        return fail(usage);
      }
      ops->push_back(std::move(op));
      continue;
    }
    // A lesson's lines (docs/lessons.md): keywords unless they name a block, as mallopt.
    if ((tok[0] == "title" || tok[0] == "summary" || tok[0] == "say") && keyword) {
      op.kind = tok[0] == "title" ? OpKind::Title : tok[0] == "summary" ? OpKind::Summary : OpKind::Say;
      op.label = rest_of_line();
      if (op.label.empty()) return fail("expected '" + std::string(tok[0]) + " TEXT'");
      ops->push_back(std::move(op));
      continue;
    }
    if ((tok[0] == "policy" || tok[0] == "show") && keyword) {
      const bool show = tok[0] == "show";
      if (tok.size() < 2) return fail(show ? "expected 'show NAME...'" : "expected 'policy NAME...'");
      for (size_t i = 1; i < tok.size(); ++i) {
        if (show ? !valid_name(tok[i]) : !valid_policy_name(tok[i]))
          return fail("bad " + std::string(show ? "name " : "policy name ") + quote(tok[i]) +
                      (show ? ": use letters, digits and _" : ": use letters, digits and -"));
        op.args.emplace_back(tok[i]);
      }
      op.kind = show ? OpKind::Show : OpKind::Policies;
      ops->push_back(std::move(op));
      continue;
    }
    if (tok[0] == "arena-size") { // never a block's name ('-')
      if (tok.size() != 2) return fail("expected 'arena-size BYTES'");
      if (!number(tok[1], "arena size", &op.a)) return false;
      op.kind = OpKind::ArenaSize;
      ops->push_back(std::move(op));
      continue;
    }
    if (tok[0] == "mark") {
      if (tok.size() < 2) return fail("expected 'mark LABEL'");
      std::string_view rest = line.substr(line.find("mark") + 4);
      while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t'))
        rest.remove_prefix(1);
      while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t' || rest.back() == '\r'))
        rest.remove_suffix(1);
      op.kind = OpKind::Mark;
      op.label = rest;
      ops->push_back(std::move(op));
      continue;
    }
    if (tok.size() < 3 || tok[1] != "=")
      return fail("expected 'NAME = malloc|calloc|realloc|memalign ...', 'free NAME', 'mark LABEL', "
                  "'mallopt M_NAME VALUE', 'malloc_trim PAD' or 'tunable NAME=VALUE'");
    if (!valid_name(tok[0])) return fail("bad name " + quote(tok[0]) + ": use letters, digits and _");
    if (tok[0] == "NULL") return fail("'NULL' is reserved and cannot name a block");
    op.name = tok[0];
    std::string_view verb = tok[2];
    size_t nargs = tok.size() - 3;
    if (verb == "malloc") {
      if (nargs != 1) return fail("expected 'NAME = malloc SIZE'");
      op.kind = OpKind::Malloc;
      if (!number(tok[3], "size", &op.a)) return false;
    } else if (verb == "calloc") {
      if (nargs != 2) return fail("expected 'NAME = calloc N SIZE'");
      op.kind = OpKind::Calloc;
      if (!number(tok[3], "count", &op.a) || !number(tok[4], "size", &op.b)) return false;
    } else if (verb == "realloc") {
      if (nargs != 2) return fail("expected 'NAME = realloc NAME|NULL SIZE'");
      op.kind = OpKind::Realloc;
      if (tok[3] != "NULL") {
        if (!valid_name(tok[3])) return fail("bad name " + quote(tok[3]) + ": use letters, digits and _");
        op.old_name = tok[3];
      }
      if (!number(tok[4], "size", &op.a)) return false;
    } else if (verb == "memalign") {
      if (nargs != 2) return fail("expected 'NAME = memalign ALIGN SIZE'");
      op.kind = OpKind::Memalign;
      if (!number(tok[3], "alignment", &op.a) || !number(tok[4], "size", &op.b)) return false;
    } else {
      return fail("unknown operation " + quote(verb) + " (expected malloc, calloc, realloc or memalign)");
    }
    if (!first_op_line) first_op_line = lineno;
    ops->push_back(std::move(op));
  }
  return true;
}

} // namespace hv::sim
