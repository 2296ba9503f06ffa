// runner.cpp - scenario semantics on top of a Policy; see docs/scenarios.md.
#include "sim/runner.h"

#include <cstdio>

namespace hv::sim {

std::string ScenarioRunner::offset_text(void* p) const {
  if (!p) return "null";
  if (policy_.is_mmapped(p)) return "mmap";
  char buf[32];
  snprintf(buf, sizeof buf, "%#lx",
           static_cast<unsigned long>(reinterpret_cast<uintptr_t>(p) - policy_.heap_base()));
  if (reinterpret_cast<uintptr_t>(p) == policy_.heap_base()) return "0x0";
  return buf;
}

bool ScenarioRunner::prepare(const std::vector<Op>& ops, int* error_line, std::string* error_message) {
  if (prepared_) return true;
  prepared_ = true;
  for (const Op& op : ops) {
    std::string why;
    if (op.kind == OpKind::Tunable)
      why = policy_.tunable(op.name, op.a);
    else if (op.kind == OpKind::Mallopt)
      why = policy_.check_mallopt(op.name, op.value);
    if (!why.empty()) {
      *error_line = op.line;
      *error_message = std::move(why);
      return false;
    }
  }
  return true;
}

bool ScenarioRunner::run(const std::vector<Op>& ops, int* error_line, std::string* error_message,
                         const std::function<bool(const StepResult&, std::string*)>& after_each) {
  auto fail = [&](const Op& op, std::string msg) {
    *error_line = op.line;
    *error_message = std::move(msg);
    return false;
  };
  // Looks up a name that must be live; on failure explains why.
  auto take = [&](const Op& op, const std::string& name, const char* verb, NameState** out) {
    auto it = names_.find(name);
    if (it == names_.end())
      return fail(op, std::string(verb) + " of '" + name + "', which was never allocated");
    if (!it->second.live)
      return fail(op, std::string(verb) + " of '" + name + "', which was already " + it->second.freed_how +
                          " at line " + std::to_string(it->second.freed_line));
    *out = &it->second;
    return true;
  };
  auto bind = [&](const Op& op, void* p, uint64_t requested) {
    NameState& ns = names_[op.name];
    ns.ptr = p;
    ns.live = true;
    ns.freed_line = 0;
    if (p) live_[reinterpret_cast<uintptr_t>(p)] = Block{op.name, requested, op.line};
  };
  auto forget = [&](void* p) {
    if (p) live_.erase(reinterpret_cast<uintptr_t>(p));
  };

  if (!prepare(ops, error_line, error_message)) return false;
  for (const Op& op : ops) {
    StepResult r{&op};
    switch (op.kind) {
    case OpKind::Malloc:
      r.ptr = policy_.malloc(op.a);
      r.allocating = true;
      bind(op, r.ptr, op.a);
      break;
    case OpKind::Calloc:
      r.ptr = policy_.calloc(op.a, op.b);
      r.allocating = true;
      bind(op, r.ptr, op.a * op.b);
      break;
    case OpKind::Memalign:
      r.ptr = policy_.memalign(op.a, op.b);
      r.allocating = true;
      bind(op, r.ptr, op.b);
      break;
    case OpKind::Realloc: {
      void* old = nullptr;
      NameState* ns = nullptr;
      if (!op.old_name.empty()) {
        if (!take(op, op.old_name, "realloc", &ns)) return false;
        old = ns->ptr;
      }
      r.ptr = policy_.realloc(old, op.a);
      r.allocating = true;
      bool old_gone = old != nullptr && (r.ptr != nullptr || op.a == 0);
      if (old_gone) {
        forget(old);
        ns->live = false;
        ns->freed_line = op.line;
        ns->freed_how = op.a == 0 ? "freed by realloc to size 0" : "passed to realloc";
      }
      bind(op, r.ptr, op.a);
      break;
    }
    case OpKind::Free: {
      NameState* ns = nullptr;
      if (!take(op, op.name, "free", &ns)) return false;
      policy_.free(ns->ptr);
      forget(ns->ptr);
      ns->live = false;
      ns->freed_line = op.line;
      ns->freed_how = "freed";
      break;
    }
    case OpKind::Mark:
      policy_.mark(op.label);
      break;
    case OpKind::Mallopt:
      if (std::string why = policy_.mallopt(op.name, op.value); !why.empty()) return fail(op, why);
      break;
    case OpKind::MallocTrim:
      if (std::string why = policy_.malloc_trim(op.a); !why.empty()) return fail(op, why);
      break;
    case OpKind::Tunable: // applied by prepare()
      break;
    }
    if (after_each) {
      std::string msg;
      if (!after_each(r, &msg)) return fail(op, msg);
    }
  }
  return true;
}

} // namespace hv::sim
