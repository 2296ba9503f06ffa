// policy_trace.cpp - heapviz/policy_trace.h: TraceWriter (trace_hooks.h) and one thread's buffer
// behind the narrow public class that another allocator policy writes its trace through.
//
// Owns: the one ThreadState a simulated policy writes from, its current arena, and the
// generated forwarding of every fixed-size event to TraceWriter::event<E>.
// Must not: write anything but what the policy asks for (no glibc state: regions, snapshots and
// arenas are the policy's to write).
#include "heapviz/policy_trace.h"

#include "malloc_core.h" // TraceWriter, TraceAt, SnapshotChunk (trace_hooks.h), ThreadState

#include <cstddef>

namespace hv::alloc {

struct PolicyTrace::Impl {
  TraceWriter w;
  ThreadState ts{};
  uint32_t arena = 0;
  TraceAt at() { return TraceAt{ts, arena, nullptr, true}; }
  template <trace::Ev E, class... F> void emit(F... f) {
    if (w.on()) w.event<E>(at(), f...);
  }
};

PolicyTrace::PolicyTrace() : impl_(std::make_unique<Impl>()) {}
uint64_t PolicyTrace::events() const {
  return impl_->w.sink().events_written();
}

PolicyTrace::~PolicyTrace() {
  stop();
}

bool PolicyTrace::start(const char* path, const char* policy, const uint64_t* params, uint64_t heap_base,
                        uint32_t flags) {
  stop();
  uint64_t p[trace::kNumParams] = {};
  if (params)
    for (size_t i = 0; i < trace::kNumParams; ++i)
      p[i] = params[i];
  return impl_->w.sink().open(path, false, policy, p, heap_base, flags | trace::kFileSimulated, 4096);
}

void PolicyTrace::stop() {
  if (!impl_->w.on()) return;
  impl_->w.sink().close(); // flushes every buffer, this thread's included
  impl_->w.sink().release(impl_->ts);
}

bool PolicyTrace::on() const {
  return impl_->w.on();
}

void PolicyTrace::call() {
  if (impl_->w.on()) impl_->w.call_begin(impl_->ts);
}

void PolicyTrace::set_arena(uint32_t index) {
  impl_->arena = index;
}

void PolicyTrace::mark(const char* label) {
  if (impl_->w.on()) impl_->w.mark(impl_->at(), label);
}

static_assert(sizeof(PolicyTrace::Chunk) == sizeof(SnapshotChunk) &&
                  offsetof(PolicyTrace::Chunk, addr) == offsetof(SnapshotChunk, addr) &&
                  offsetof(PolicyTrace::Chunk, size) == offsetof(SnapshotChunk, size) &&
                  offsetof(PolicyTrace::Chunk, state) == offsetof(SnapshotChunk, state) &&
                  offsetof(PolicyTrace::Chunk, bin) == offsetof(SnapshotChunk, bin),
              "PolicyTrace::Chunk is SnapshotChunk, field for field");

void PolicyTrace::snapshot(const Chunk* chunks, size_t n) {
  if (impl_->w.on()) impl_->w.snapshot(impl_->at(), reinterpret_cast<const SnapshotChunk*>(chunks), n, 0);
}

// Every fixed-size row forwards to TraceWriter::event<E> (rows with a label, blob or snapshot are
// deleted in the header, and not defined here: the row's first field's codec picks).
#define HV_PT_ARG(codec, slot, label, prefix) label
#define HV_PT_DEFINE_FIXED(Name, name, ...)                                                                  \
  void PolicyTrace::name(HV_EV_FOR_EACH_COMMA(HV_PT_PARAM, __VA_ARGS__)) {                                   \
    impl_->emit<trace::Ev::Name>(HV_EV_FOR_EACH_COMMA(HV_PT_ARG, __VA_ARGS__));                              \
  }
#define HV_PT_DEFINE_VARIABLE(Name, name, ...)
#define HV_PT_DEF_U HV_PT_DEFINE_FIXED
#define HV_PT_DEF_A HV_PT_DEFINE_FIXED
#define HV_PT_DEF_C HV_PT_DEFINE_FIXED
#define HV_PT_DEF_S HV_PT_DEFINE_FIXED
#define HV_PT_DEF_Idx HV_PT_DEFINE_FIXED
#define HV_PT_DEF_Tc HV_PT_DEFINE_FIXED
#define HV_PT_DEF_Kind HV_PT_DEFINE_FIXED
#define HV_PT_DEF_How HV_PT_DEFINE_FIXED
#define HV_PT_DEF_Code HV_PT_DEFINE_FIXED
#define HV_PT_DEF_Ix HV_PT_DEFINE_FIXED
#define HV_PT_DEF_Label HV_PT_DEFINE_VARIABLE
#define HV_PT_DEF_Blob HV_PT_DEFINE_VARIABLE
#define HV_PT_DEF_Snap HV_PT_DEFINE_VARIABLE
#define HV_PT_CODEC(codec, slot, label, prefix) codec
#define HV_PT_FIRST(a, ...) a
// Two levels before the paste: the first expands HV_PT_FIRST, the second the codec's name.
#define HV_PT_CAT(a, b) HV_PT_CAT1(a, b)
#define HV_PT_CAT1(a, b) HV_PT_CAT_(a, b)
#define HV_PT_CAT_(a, b) a##b
#define HV_PT_DEFINE(Name, name, code, kind, chunks, model, ...)                                             \
  HV_PT_CAT(HV_PT_DEF_, HV_PT_CODEC HV_PT_FIRST(__VA_ARGS__))(Name, name, __VA_ARGS__)
HV_TRACE_EVENTS(HV_PT_DEFINE)

} // namespace hv::alloc
