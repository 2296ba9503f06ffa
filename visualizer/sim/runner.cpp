// runner.cpp - scenario semantics on top of a Policy; see docs/scenarios.md.
#include "sim/runner.h"

#include <cstdint>
#include <cstdio>

namespace hv::sim {
namespace {
constexpr uint64_t kDtvBytes = 272; // glibc's calloc(17, 16) for a new thread's DTV (glibc_policy.cpp)
} // namespace

std::string ScenarioRunner::heap_name(uintptr_t heap_start) const {
  size_t i = 0;
  while (i < heaps_.size() && heaps_[i] != heap_start)
    ++i;
  if (i == heaps_.size()) heaps_.push_back(heap_start);
  return "heap" + std::to_string(i + 1);
}

std::string ScenarioRunner::offset_text(void* p) const {
  if (!p) return "null";
  if (policy_.is_mmapped(p)) return "mmap";
  char buf[32];
  if (const uintptr_t start = policy_.region_start(p); start != policy_.heap_base()) {
    snprintf(buf, sizeof buf, "+%#lx", static_cast<unsigned long>(reinterpret_cast<uintptr_t>(p) - start));
    return heap_name(start) + buf;
  }
  snprintf(buf, sizeof buf, "%#lx",
           static_cast<unsigned long>(reinterpret_cast<uintptr_t>(p) - policy_.heap_base()));
  if (reinterpret_cast<uintptr_t>(p) == policy_.heap_base()) return "0x0";
  return buf;
}

std::string ScenarioRunner::check_expect(const Op& op) {
  auto addr_of = [&](const std::string& name, std::string* why) -> void* {
    auto it = names_.find(name);
    if (it == names_.end()) {
      *why = "expect names '" + name + "', which was never allocated";
      return nullptr;
    }
    if (!it->second.ptr) // (say which call failed: a small policy's NULL is easily missed)
      *why = "'" + name + "' is NULL: " +
             (*it->second.null_why
                  ? std::string(it->second.null_why) + " (line " + std::to_string(it->second.made_line) + ")"
                  : "its allocation of " + std::to_string(it->second.requested) + " bytes at line " +
                        std::to_string(it->second.made_line) + " failed on " + policy_.name());
    return it->second.ptr;
  };
  // The chunk holding p (its row), or nullptr (mmapped, or outside every heap).
  std::vector<ChunkRow> rows = policy_.walk();
  auto chunk_of = [&](void* p) -> const ChunkRow* {
    const uintptr_t a = reinterpret_cast<uintptr_t>(p);
    for (const ChunkRow& r : rows) {
      const uintptr_t start = (r.heap ? r.heap : policy_.heap_base()) + r.offset;
      if (a >= start && a < start + r.size) return &r;
    }
    return nullptr;
  };
  auto where = [&](void* p) {
    const ChunkRow* r = chunk_of(p);
    if (policy_.is_mmapped(p)) return std::string("mmapped");
    if (!r) return std::string("outside the heap");
    char buf[128];
    snprintf(buf, sizeof buf, "in the chunk at %s%#llx (size %#llx, %s)",
             r->heap ? (heap_name(r->heap) + "+").c_str() : "", static_cast<unsigned long long>(r->offset),
             static_cast<unsigned long long>(r->size),
             trace::state_text(uint8_t(r->state), uint8_t(r->bin)).c_str());
    return std::string(buf);
  };
  std::string why;
  void* p = addr_of(op.name, &why);
  if (!p) return why;
  if (op.label == "in") {
    std::string state = policy_.is_mmapped(p) ? "mmapped"
                        : chunk_of(p)         ? trace::state_name(uint8_t(chunk_of(p)->state))
                                              : "";
    if (state == op.old_name) return "";
    return "expected " + op.name + " in " + op.old_name + ", but it is " + where(p);
  }
  if (op.label == "at_offset") { // the pointer's offset from the heap base
    if (policy_.is_mmapped(p))
      return "expected " + op.name + " at " +
             offset_text(reinterpret_cast<void*>(policy_.heap_base() + op.a)) + ", but it is mmapped";
    if (reinterpret_cast<uintptr_t>(p) - policy_.heap_base() == op.a) return "";
    return "expected " + op.name + " at " + offset_text(reinterpret_cast<void*>(policy_.heap_base() + op.a)) +
           ", but it is at " + offset_text(p);
  }
  void* q = addr_of(op.old_name, &why);
  if (!q) return why;
  if (op.label == "at") {
    uintptr_t want = reinterpret_cast<uintptr_t>(q) + op.a;
    if (reinterpret_cast<uintptr_t>(p) == want) return "";
    char buf[200];
    snprintf(buf, sizeof buf, "expected %s at %s%s (%s), but it is at %s", op.name.c_str(),
             op.old_name.c_str(), op.a ? (" + " + std::to_string(op.a)).c_str() : "",
             offset_text(reinterpret_cast<void*>(want)).c_str(), offset_text(p).c_str());
    return buf;
  }
  // joins: one chunk holds both.
  const ChunkRow* a = chunk_of(p);
  if (a && a == chunk_of(q)) return "";
  return "expected " + op.name + " to share a chunk with " + op.old_name + ", but " + op.name + " is " +
         where(p) + " and " + op.old_name + " " + where(q);
}

std::vector<std::pair<std::string, uintptr_t>> ScenarioRunner::bound_names() const {
  std::vector<std::pair<std::string, uintptr_t>> out;
  out.reserve(names_.size());
  for (const auto& [name, ns] : names_)
    out.emplace_back(name, reinterpret_cast<uintptr_t>(ns.ptr));
  return out;
}

void scenario_policy_options(const std::vector<Op>& ops, PolicyOptions* opts) {
  for (const Op& op : ops)
    if (op.kind == OpKind::ArenaSize && !opts->arena_size) opts->arena_size = op.a;
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
    ns.made_line = op.line;
    ns.requested = requested;
    uint64_t product = 0;
    ns.null_why = op.kind == OpKind::Realloc && op.a == 0
                      ? "realloc to size 0 frees the block and returns NULL"
                  : op.kind == OpKind::Calloc && __builtin_mul_overflow(op.a, op.b, &product)
                      ? "calloc's count times size overflows"
                      : "";
    if (!p) return;
    Block& b = live_[reinterpret_cast<uintptr_t>(p)];
    live_bytes_ += requested - b.requested; // b.requested is 0 unless p was live already
    b = Block{op.name, requested, op.line};
  };
  auto forget = [&](void* p) {
    auto it = p ? live_.find(reinterpret_cast<uintptr_t>(p)) : live_.end();
    if (it == live_.end()) return;
    live_bytes_ -= it->second.requested;
    live_.erase(it);
  };

  if (!prepare(ops, error_line, error_message)) return false;
  for (const Op& op : ops) {
    StepResult r{&op};
    // The thread that runs it: `thread N start` runs on the main thread, `thread N exit` on N.
    const int runs_on = op.kind == OpKind::ThreadStart ? 0 : op.thread;
    if (runs_on != thread_) {
      if (std::string why = policy_.switch_thread(runs_on); !why.empty()) return fail(op, why);
      thread_ = runs_on;
    }
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
      if (std::string why = policy_.check_memalign(op.a, op.b); !why.empty()) return fail(op, why);
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
        if (std::string why = old ? policy_.check_free(old) : ""; !why.empty())
          return fail(op, "realloc: " + why);
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
      if (std::string why = ns->ptr ? policy_.check_free(ns->ptr) : ""; !why.empty()) return fail(op, why);
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
    case OpKind::Expect:
      if (!op.applies_to(policy_.name())) break;
      if (std::string why = check_expect(op); !why.empty()) return fail(op, why);
      break;
    case OpKind::Show: // a lesson names blocks that exist (freed ones too: their last pointer)
      if (!op.applies_to(policy_.name())) break;
      for (const std::string& n : op.args)
        if (!names_.count(n)) return fail(op, "show names '" + n + "', which was never allocated");
      break;
    case OpKind::ArenaSize: // read before the policy was made (scenario_policy_options)
    case OpKind::Title:
    case OpKind::Summary:
    case OpKind::Policies:
    case OpKind::Say:
      break;
    case OpKind::ThreadStart: {
      void* dtv = nullptr;
      if (std::string why = policy_.start_thread(op.thread, &dtv); !why.empty()) return fail(op, why);
      if (dtv) { // glibc's DTV for the thread: new, or an exited thread's reused with its stack
        Block& b = live_[reinterpret_cast<uintptr_t>(dtv)];
        if (b.name.empty()) live_bytes_ += kDtvBytes;
        b = Block{"(thread " + std::to_string(op.thread) + "'s DTV)", kDtvBytes, op.line};
      }
      break;
    }
    case OpKind::ThreadExit:
      if (std::string why = policy_.exit_thread(op.thread); !why.empty()) return fail(op, why);
      thread_ = 0; // the main thread joined it
      break;
    }
    if (r.allocating) offset_text(r.ptr); // numbers a new non-main heap (heapN) as results name it
    if (after_each) {
      std::string msg;
      if (!after_each(r, &msg)) return fail(op, msg);
    }
  }
  return true;
}

} // namespace hv::sim
