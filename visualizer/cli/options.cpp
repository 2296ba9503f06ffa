// options.cpp - parsing argv against a CommandSpec, its --help, "did you mean", and the bash
// completion script (options.h).
#include "cli/options.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace hv::cli {

namespace {

bool optional_value(const Option& o) {
  return o.value && o.value[0] == '[';
}

bool is_number(const char* s) {
  if (!*s) return false;
  for (; *s; ++s)
    if (!isdigit(static_cast<unsigned char>(*s))) return false;
  return true;
}

const Option* find(const CommandSpec& spec, const std::string& name) {
  for (const Option& o : spec.options)
    if (name == o.name || (o.alias && name == o.alias)) return &o;
  return nullptr;
}

// Optimal string alignment distance (Levenshtein with adjacent transpositions).
size_t distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i)
    d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j)
    d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

std::string synopsis_line(const CommandSpec& spec) {
  return std::string("usage: heapviz ") + spec.name + (*spec.synopsis ? " " : "") + spec.synopsis + "\n";
}

std::string unknown_option(const CommandSpec& spec, const std::string& word) {
  std::vector<std::string> names = {"--help"};
  for (const Option& o : spec.options) {
    names.push_back(o.name);
    if (o.alias) names.push_back(o.alias);
  }
  std::string near = nearest(word, names);
  std::string m = "unknown option '" + word + "'";
  if (!near.empty()) m += " (did you mean '" + near + "'?)";
  return m;
}

void append_lines(std::string& out, const char* text, const char* indent) {
  const char* p = text;
  while (*p) {
    const char* nl = strchr(p, '\n');
    size_t n = nl ? size_t(nl - p) : strlen(p);
    if (n) out += indent;
    out.append(p, n);
    out += '\n';
    if (!nl) break;
    p = nl + 1;
  }
}

} // namespace

std::string nearest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const std::string& c : candidates) {
    size_t d = distance(word, c);
    // A unique prefix ("--no-st") or a word within a couple of typos.
    if (word.size() >= 3 && c.compare(0, word.size(), word) == 0) d = std::min<size_t>(d, 1);
    // An abbreviation ("--secs" for "--seconds"): its letters in order, its first three the same.
    const size_t w0 = std::min(word.find_first_not_of('-'), word.size()),
                 c0 = std::min(c.find_first_not_of('-'), c.size());
    if (word.size() - w0 >= 3 && w0 == c0 && c.compare(c0, 3, word, w0, 3) == 0) {
      size_t k = w0;
      for (size_t i = c0; i < c.size() && k < word.size(); ++i)
        k += c[i] == word[k];
      if (k == word.size()) d = std::min<size_t>(d, 2);
    }
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  size_t core = word.size() - std::min<size_t>(word.find_first_not_of('-'), word.size());
  size_t allowed = core <= 3 ? 1 : core <= 8 ? 2 : 3;
  return best_d <= allowed ? best : std::string();
}

int usage_error(const CommandSpec& spec, const std::string& message) {
  std::string o = std::string("heapviz ") + spec.name + ": " + message + "\n" + synopsis_line(spec) +
                  "Try 'heapviz " + spec.name + " --help' for more.\n";
  fputs(o.c_str(), stderr);
  return 2;
}

void print_help(const CommandSpec& spec, FILE* out) {
  std::string o = synopsis_line(spec) + "\n";
  append_lines(o, spec.summary, "  ");
  o += "\noptions:\n";
  auto row = [&](const std::string& left, const char* help, const char* env) {
    const size_t kCol = 30;
    std::string line = "  " + left;
    std::string text = help;
    if (env) text += std::string(text.empty() ? "" : "\n") + "(environment: " + env + ")";
    if (line.size() + 2 <= kCol) {
      line.resize(kCol, ' ');
    } else {
      o += line + "\n";
      line = std::string(kCol, ' ');
    }
    size_t start = 0;
    bool first = true;
    while (start <= text.size()) {
      size_t nl = text.find('\n', start);
      if (nl == std::string::npos) nl = text.size();
      o += (first ? line : std::string(kCol, ' ')) + text.substr(start, nl - start) + "\n";
      first = false;
      start = nl + 1;
    }
  };
  for (const Option& opt : spec.options) {
    std::string left;
    if (opt.alias && opt.alias[1] != '-') left = std::string(opt.alias) + ", ";
    left += opt.name;
    if (opt.value && optional_value(opt))
      left += std::string("[=") + std::string(opt.value).substr(1); // --compress[=LEVEL]
    else if (opt.value)
      left += std::string(" ") + opt.value;
    if (opt.alias && opt.alias[1] == '-') left += std::string(" (or ") + opt.alias + ")";
    row(left, opt.help, opt.env);
  }
  row("-h, --help", "show this help", nullptr);
  if (spec.examples) {
    o += "\nexamples:\n";
    append_lines(o, spec.examples, "  ");
  }
  if (spec.see) o += std::string("\nmore: ") + spec.see + "\n";
  fputs(o.c_str(), out);
}

int Args::parse(const CommandSpec& spec, int argc, char** argv) {
  given_.clear();
  positionals_.clear();
  program_ = nullptr;
  program_argc_ = 0;
  int i = 0;
  std::string took; // the last option that took the next argument as its value, and that value
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "-h" || a == "--help") {
      print_help(spec, stdout);
      return 0;
    }
    if (a.size() > 1 && a[0] == '-') {
      std::string name = a;
      const char* inline_value = nullptr;
      const Option* opt = nullptr;
      if (a[1] == '-') {
        if (size_t eq = a.find('='); eq != std::string::npos) {
          name = a.substr(0, eq);
          inline_value = argv[i] + eq + 1;
        }
        opt = find(spec, name);
      } else {
        opt = find(spec, name);
        if (!opt && a.size() > 2) { // -oFILE
          const Option* o = find(spec, a.substr(0, 2));
          if (o && o->value) {
            opt = o;
            name = a.substr(0, 2);
            inline_value = argv[i] + 2;
          }
        }
      }
      if (!opt) return usage_error(spec, unknown_option(spec, name));
      const char* v = nullptr;
      if (!opt->value) {
        if (inline_value) return usage_error(spec, std::string(opt->name) + " takes no value");
      } else if (inline_value) {
        v = inline_value;
      } else if (optional_value(*opt)) {
        if (i + 1 < argc && is_number(argv[i + 1])) v = argv[++i];
      } else if (i + 1 < argc && !(argv[i + 1][0] == '-' && argv[i + 1][1] == '-' && argv[i + 1][2])) {
        v = argv[++i];
        took = name + " took '" + v + "' as its " + opt->value;
      } else {
        return usage_error(spec, std::string(name) + " needs a value: " + opt->value);
      }
      if (opt->value && !optional_value(*opt) && v && !*v)
        return usage_error(spec, std::string(name) + " needs a value: " + opt->value + " (it is empty)");
      given_.emplace_back(opt->name, v);
      continue;
    }
    if (spec.program) break;
    positionals_.push_back(argv[i]);
  }
  if (spec.program) {
    if (i < argc) {
      program_ = argv + i;
      program_argc_ = argc - i;
    } else if (spec.min_args > 0) {
      return usage_error(spec, "which program? give it after the options");
    }
    return -1;
  }
  for (; i < argc; ++i)
    positionals_.push_back(argv[i]); // after "--"
  int n = int(positionals_.size());
  if (n < spec.min_args) {
    std::string what = spec.synopsis;
    size_t sp = what.rfind(' ');
    what = sp == std::string::npos ? what : what.substr(sp + 1);
    // `stats --at FILE`: the option swallowed the file; say so rather than only "missing FILE".
    return usage_error(spec, "missing " + (what.empty() ? std::string("argument") : what) +
                                 (took.empty() ? "" : " (" + took + ")"));
  }
  if (spec.max_args >= 0 && n > spec.max_args)
    return usage_error(spec, std::string("unexpected argument '") + positionals_[size_t(spec.max_args)] +
                                 "'" + (spec.max_args == 1 ? " (one file at a time)" : ""));
  return -1;
}

bool Args::has(const char* name) const {
  for (const auto& g : given_)
    if (strcmp(g.first, name) == 0) return true;
  return false;
}

const char* Args::value(const char* name) const {
  const char* v = nullptr;
  for (const auto& g : given_)
    if (strcmp(g.first, name) == 0) v = g.second;
  return v;
}

std::vector<const char*> Args::values(const char* name) const {
  std::vector<const char*> out;
  for (const auto& g : given_)
    if (strcmp(g.first, name) == 0 && g.second) out.push_back(g.second);
  return out;
}

namespace {

// The literal words of a value ("N|end|peak|mark:LABEL" -> "end peak mark:"); "" for none.
std::string value_words(const char* value) {
  std::string out, v = value;
  if (!v.empty() && v[0] == '[') v = v.substr(1, v.size() - 2);
  size_t start = 0;
  while (start <= v.size()) {
    size_t bar = v.find('|', start);
    if (bar == std::string::npos) bar = v.size();
    std::string w = v.substr(start, bar - start);
    if (size_t colon = w.find(':'); colon != std::string::npos) w = w.substr(0, colon + 1);
    bool literal = !w.empty() && std::all_of(w.begin(), w.end(), [](char c) {
      return islower(static_cast<unsigned char>(c)) || c == '-' || c == ':';
    });
    if (literal) {
      if (!out.empty()) out += ' ';
      out += w;
    }
    start = bar + 1;
  }
  return out;
}

bool value_is_path(const char* value) {
  std::string v = value;
  return v.find("FILE") != std::string::npos || v.find("DIR") != std::string::npos ||
         v.find(".png") != std::string::npos || v.find(".txt") != std::string::npos ||
         v.find(".hvt") != std::string::npos;
}

} // namespace

std::string bash_completion(const std::vector<const CommandSpec*>& commands) {
  std::string names, cases;
  for (const CommandSpec* c : commands) {
    if (!names.empty()) names += ' ';
    names += c->name;
    std::string opts = "--help", files, words;
    for (const Option& o : c->options) {
      opts += std::string(" ") + o.name + (o.alias ? std::string(" ") + o.alias : "");
      if (!o.value) continue;
      std::string pat = std::string(o.name) + (o.alias ? std::string("|") + o.alias : "");
      std::string line = "      ";
      line += pat;
      if (value_is_path(o.value)) {
        files += line + ") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n";
      } else if (std::string w = value_words(o.value); !w.empty()) {
        words += line + ") COMPREPLY=($(compgen -W \"" + w + "\" -- \"$cur\")); return ;;\n";
      } else {
        words += line + ") return ;;\n";
      }
    }
    cases += std::string("    ") + c->name + ")\n      opts=\"" + opts + "\"\n" +
             (c->program ? "      program=1\n" : "") + "      case \"$prev\" in\n" + files + words +
             "      esac\n      ;;\n";
  }
  return "# bash completion for heapviz (made by `heapviz completion bash`; docs/cli.md)\n"
         "_heapviz() {\n"
         "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
         "  local opts=\"\" program=0 i\n"
         "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
         "    COMPREPLY=($(compgen -W \"" +
         names +
         " help --help --version\" -- \"$cur\") $(compgen -f -- \"$cur\"))\n"
         "    return\n"
         "  fi\n"
         "  case \"${COMP_WORDS[1]}\" in\n" +
         cases +
         "    *) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
         "  esac\n"
         "  if [ \"$program\" = 1 ]; then # record/run: after the program's name, its own arguments\n"
         "    for ((i = 2; i < COMP_CWORD; i++)); do\n"
         "      case \"${COMP_WORDS[i]}\" in\n"
         "        --) COMPREPLY=($(compgen -c -- \"$cur\") $(compgen -f -- \"$cur\")); return ;;\n"
         "      esac\n"
         "    done\n"
         "  fi\n"
         "  if [[ \"$cur\" == -* ]]; then\n"
         "    COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
         "  elif [ \"$program\" = 1 ]; then\n"
         "    COMPREPLY=($(compgen -c -- \"$cur\") $(compgen -f -- \"$cur\"))\n"
         "  else\n"
         "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
         "  fi\n"
         "}\n"
         "complete -o filenames -F _heapviz heapviz\n";
}

} // namespace hv::cli
