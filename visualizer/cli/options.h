// options.h - the command line's grammar, declared once per subcommand: its options, what value
// each takes, its help, the environment variable it stands for, and examples.
//
// Owns: parsing argv against a declaration (--name VALUE, --name=VALUE, -o VALUE, -oVALUE,
// flags, optional values, "--"), the `--help` text, "did you mean" for unknown options and
// commands, the message for a missing value, and the bash completion script made from every
// declaration (docs/cli.md "Options").
// Must not: check what a value means (each command does, and says so naming the option), or know
// what any command does.
#pragma once

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace hv::cli {

struct Option {
  const char* name;            // "--at"
  const char* alias = nullptr; // another spelling: "-o", "--colour"
  // nullptr: a flag. Else what the value is, shown in help ("N|end|peak|mark:LABEL", "FILE");
  // in brackets ("[LEVEL]") the value is optional and given only as --name=VALUE or as the next
  // argument when that is a number.
  const char* value = nullptr;
  const char* help = "";     // one or more lines, without a trailing newline
  const char* env = nullptr; // the environment variable the option sets for the program
  bool repeat = false;       // may be given more than once (else the last one counts)
};

struct CommandSpec {
  const char* name;     // "stats"
  const char* brief;    // one line for `heapviz --help`: "a trace's summary: ..."
  const char* synopsis; // after "heapviz NAME ": "[--json] FILE"
  const char* summary;  // what it does, lines without a trailing newline
  std::vector<Option> options;
  const char* examples = nullptr; // lines "heapviz stats prog.hvt   # ..." (no indent)
  int min_args = 1, max_args = 1; // positional arguments (max -1: any number)
  // The first positional argument starts a program to run (record, run): options end there,
  // and everything after it is the program's.
  bool program = false;
  const char* see = nullptr; // the docs page, "docs/cli.md"
};

class Args {
public:
  // -1: parsed, go on. 0: --help was printed to stdout. 2: a usage error was printed to stderr
  // ("heapviz NAME: ...", with a "did you mean" or the synopsis, and a pointer to --help).
  int parse(const CommandSpec& spec, int argc, char** argv);

  bool has(const char* name) const;
  // The value of the last --name given (nullptr when not given, or given without its optional
  // value).
  const char* value(const char* name) const;
  std::vector<const char*> values(const char* name) const;
  // Every option given, in order: (its declaration's name, value or nullptr).
  const std::vector<std::pair<const char*, const char*>>& given() const { return given_; }
  const std::vector<char*>& positionals() const { return positionals_; }
  // The program and its arguments (CommandSpec::program): argv from the first positional.
  char** program() const { return program_; }
  int program_argc() const { return program_argc_; }

private:
  std::vector<std::pair<const char*, const char*>> given_;
  std::vector<char*> positionals_;
  char** program_ = nullptr;
  int program_argc_ = 0;
};

// Options several commands share, with their usual help.
inline Option
at_option(const char* help = "the heap after the first N events, at the end (the default), at the\n"
                             "peak of live bytes, or right after the first mark LABEL") {
  return {"--at", nullptr, "N|end|peak|mark:LABEL", help};
}
inline Option json_option(const char* help = "print JSON instead of text (keys: docs/cli.md)") {
  return {"--json", nullptr, nullptr, help};
}
inline Option top_option() {
  return {"--top", nullptr, "K", "show the first K rows (default 20; 0: all)"};
}

// Prints "heapviz NAME: MESSAGE" and "Try 'heapviz NAME --help'." to stderr; returns 2.
int usage_error(const CommandSpec& spec, const std::string& message);
// The whole --help text.
void print_help(const CommandSpec& spec, FILE* out);
// The nearest of candidates to word ("" when none is near enough to suggest).
std::string nearest(const std::string& word, const std::vector<std::string>& candidates);
// A bash completion script for these commands (heapviz completion bash).
std::string bash_completion(const std::vector<const CommandSpec*>& commands);

} // namespace hv::cli
