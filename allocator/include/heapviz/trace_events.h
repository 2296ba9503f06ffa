// trace_events.h - the one table of trace events: every event's code, name, fields, index kind,
// the chunks it changes, and whether the replay model applies it. Everything else that must know
// the events is generated from HV_TRACE_EVENTS below: the Ev enum, the names, the size table, the
// decoder's dispatch and field reading, the encoders (allocator and TraceBuilder), the dump text,
// the event index's kinds, "changed chunks", the scatter's slot layout and the model's handler list.
// Adding an event is one row here plus, if the model applies it, its handler (CONTRIBUTING.md).
//
// Must not: depend on anything but the C++ standard headers (the allocator includes it), or hold
// code: only the table and constexpr facts derived from it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>

// X(Name, name, code, kind, chunks, model, fields...)
//   Name    the enum constant, Ev::Name
//   name    its text (dump, docs) and the TraceBuilder method that writes it
//   code    the type byte. 0x01-0x7f: fixed layouts (a reader must know them all). 0x80-0xfe: the
//           extension range, each event `u8 type, varint seq_delta, varint ts_delta, varint length,
//           length bytes`, so that readers skip the ones they do not know (docs/trace-format.md);
//           the generated encoders write the length, the decoder reads a known row's fields within
//           it and skips the bytes after them (fields a later version appended).
//   kind    EvKind: the event index's class (the timeline's and the event list's filters)
//   chunks  EvChunks: which chunk the event changes (views highlight it; prefetch)
//   model   Apply: the replay model has a handler HeapModel::on<Ev::Name>; Note: an annotation
//   fields  (codec, slot, label, dump prefix), in encoding order. codec: how the bytes are read
//           and written (FieldCodec below); slot: the Event member it is decoded into; label: its
//           name (the builder's parameter); dump prefix: the text before its value in `dump`.
// Codecs: U varint, A address (zigzag delta from the block's address register), C chunk size
// (varint of size/16), S signed (zigzag varint), Idx a bin index byte, Kind a BinKind byte, How a
// MergeHow byte, Tc a tcache index byte (bin kind Tcache implied), Code an ErrorCode byte, Ix an
// arena index (varint; sets the block's current arena), Label (varint length + at most 255
// bytes), Blob (varint length + bytes), Snap (a snapshot's entries: docs/trace-format.md).
#define HV_TRACE_EVENTS(X)                                                                                   \
  /* API calls: what the program asked and what it got (user pointers) */                                    \
  X(Malloc, malloc, 0x01, Alloc, User, Apply, (U, size, size, " size="), (A, addr, result, " -> "))          \
  X(Calloc, calloc, 0x02, Alloc, User, Apply, (U, n, count, " n="), (U, size, size, " size="),               \
    (A, addr, result, " -> "))                                                                               \
  X(Realloc, realloc, 0x03, Alloc, User, Apply, (A, addr2, old_ptr, " "), (U, size, size, " size="),         \
    (A, addr, result, " -> "))                                                                               \
  X(Memalign, memalign, 0x04, Alloc, User, Apply, (U, n, alignment, " align="), (U, size, size, " size="),   \
    (A, addr, result, " -> "))                                                                               \
  X(Free, free, 0x05, Free, User, Apply, (A, addr, ptr, " "))                                                \
  /* a free() whose chunk went straight into the tcache: the call and its bin_in in one event */             \
  X(FreeTcache, free_tcache, 0x06, Free, User, Apply, (A, addr, ptr, " "), (Tc, b1, index, " -> tcache"))    \
  /* Chunk-level changes (chunk starts: user pointer - 16) */                                                \
  X(ChunkAlloc, chunk_alloc, 0x10, Chunk, Chunk, Apply, (A, addr, chunk, " "), (C, size, size, " size="))    \
  X(ChunkFree, chunk_free, 0x11, Chunk, Chunk, Apply, (A, addr, chunk, " "), (C, size, size, " size="))      \
  /* [chunk, +first) stays, [chunk + first, +rest) is new */                                                 \
  X(Split, split, 0x12, Split, Split, Apply, (A, addr, chunk, " "), (C, size, first, " first="),             \
    (C, size2, rest, " rest="))                                                                              \
  X(Merge, merge, 0x13, Merge, Chunk, Apply, (How, b0, how, " "), (A, addr, result, " "),                    \
    (C, size, size, " size="), (A, addr2, absorbed, " absorbed="))                                           \
  X(BinIn, bin_in, 0x14, Bin, Chunk, Apply, (A, addr, chunk, " "), (C, size, size, " size="),                \
    (Kind, b0, bin, " "), (Idx, b1, index, ""))                                                              \
  X(BinOut, bin_out, 0x15, Bin, Chunk, Apply, (A, addr, chunk, " "), (Kind, b0, bin, " "),                   \
    (Idx, b1, index, ""))                                                                                    \
  /* the current arena's top chunk is now this one */                                                        \
  X(Top, top, 0x16, Top, Chunk, Apply, (A, addr, chunk, " "), (C, size, size, " size="))                     \
  /* an unusable in-use chunk: a fencepost, the scrap of an old top */                                       \
  X(Fence, fence, 0x17, Top, Chunk, Apply, (A, addr, chunk, " "), (C, size, size, " size="))                 \
  X(ReallocInPlace, realloc_in_place, 0x18, Chunk, Chunk, Apply, (A, addr, chunk, " "),                      \
    (C, size, old_size, " old="), (C, size2, new_size, " new="))                                             \
  X(ReallocMoved, realloc_moved, 0x19, Chunk, Moved, Note, (A, addr, from, " "), (A, addr2, to, " -> "))     \
  /* Arenas, heaps and the OS */                                                                             \
  X(ArenaNew, arena_new, 0x20, Grow, None, Apply, (U, n, index, " index="), (A, addr, at, " at="))           \
  /* a region of the current arena (main: an sbrk segment) */                                                \
  X(HeapNew, heap_new, 0x21, Grow, None, Apply, (A, addr, start, " "), (U, size, size, " size="))            \
  X(HeapResize, heap_resize, 0x22, Grow, None, Apply, (A, addr, start, " "), (U, size, size, " size="))      \
  X(HeapFree, heap_free, 0x23, Trim, None, Apply, (A, addr, start, " "))                                     \
  /* kind Grow for delta >= 0, Trim below (event_kind()) */                                                  \
  X(Sbrk, sbrk, 0x24, Grow, None, Apply, (A, addr, old_break, " "), (S, delta, delta, " delta="))            \
  X(Mmap, mmap, 0x25, Grow, None, Note, (A, addr, addr, " "), (U, size, length, " length="))                 \
  X(Munmap, munmap, 0x26, Trim, None, Note, (A, addr, addr, " "), (U, size, length, " length="))             \
  /* size: the mapping's length minus the chunk's leading offset */                                          \
  X(MmapChunk, mmap_chunk, 0x27, Grow, Chunk, Apply, (A, addr, chunk, " "), (U, size, size, " size="))       \
  X(MunmapChunk, munmap_chunk, 0x28, Trim, Gone, Apply, (A, addr, chunk, " "))                               \
  /* bytes released (systrim, heap_trim, malloc_trim) */                                                     \
  X(Trim, trim, 0x29, Trim, None, Note, (U, size, bytes, " bytes="))                                         \
  /* Context, diagnostics, annotations */                                                                    \
  /* later events of this block belong to arena `index` */                                                   \
  X(Arena, arena, 0x30, Other, None, Apply, (Ix, n, index, " index="))                                       \
  X(Error, error, 0x31, Error, None, Apply, (Code, b0, code, " "), (A, addr, addr, " "))                     \
  X(Mark, mark, 0x32, Mark, None, Note, (Label, data, label, " "))                                           \
  /* n chunks, flags (SnapshotFlags), then per chunk: A chunk, C size, B ChunkState, B bin index */          \
  X(Snapshot, snapshot, 0x40, Other, None, Apply, (Snap, data, entries, " chunks="))                         \
  /* new nodes of the call-stack tree (docs/trace-format.md, "Call stacks") */                               \
  X(Stack, stack, 0x41, Other, None, Note, (Blob, data, nodes, " length="))                                  \
  /* The extension range: length-prefixed, so that older readers skip these */                               \
  /* the chunk (in use) is the allocator's own, not the program's: glibc's tcache_perthread_struct */        \
  X(Internal, internal, 0x80, Other, Chunk, Apply, (A, addr, chunk, " "), (C, size, size, " size="))         \
  /* a module (executable, shared library) mapped in the process: where, which file, its build-id. */        \
  /* (A variable-length field is always an event's last: the decoder's fast path needs that.) */             \
  X(Module, module, 0x81, Other, None, Note, (Blob, data, record, " length="))                               \
  /* pages handed back to the system inside the heap (madvise MADV_DONTNEED: malloc_trim's free */           \
  /* chunks, a heap shrunk); resident again once a byte of them is used (docs/trace-format.md) */            \
  X(Release, release, 0x82, Trim, None, Apply, (A, addr, addr, " "), (U, size, length, " length="))          \
  /* the allocator's bins in list order, head first, after a snapshot (docs/trace-format.md, "Bin order") */ \
  X(BinLists, bin_lists, 0x83, Other, None, Apply, (Blob, data, lists, " length="))                          \
  /* what the error event before it found: kind, the check's message, the call's stack, the pointer, */      \
  /* the chunk, the bytes that differ (docs/trace-format.md, "Error reports") */                             \
  X(ErrorReport, error_report, 0x84, Other, None, Note, (Blob, data, record, " length="))

// Applies M to each parenthesized field of a row: M(codec, slot, label, prefix) per field.
#define HV_EV_FOR_EACH(M, ...)                                                                               \
  HV_EV_FE_N(__VA_ARGS__, HV_EV_FE4, HV_EV_FE3, HV_EV_FE2, HV_EV_FE1)(M, __VA_ARGS__)
#define HV_EV_FE_N(a, b, c, d, N, ...) N
#define HV_EV_FE1(M, a) M a
#define HV_EV_FE2(M, a, b) M a M b
#define HV_EV_FE3(M, a, b, c) M a M b M c
#define HV_EV_FE4(M, a, b, c, d) M a M b M c M d
// The same with a comma between the expansions (parameter lists).
#define HV_EV_FOR_EACH_COMMA(M, ...)                                                                         \
  HV_EV_FE_N(__VA_ARGS__, HV_EV_FC4, HV_EV_FC3, HV_EV_FC2, HV_EV_FC1)(M, __VA_ARGS__)
#define HV_EV_FC1(M, a) M a
#define HV_EV_FC2(M, a, b) M a, M b
#define HV_EV_FC3(M, a, b, c) M a, M b, M c
#define HV_EV_FC4(M, a, b, c, d) M a, M b, M c, M d

namespace hv::trace {

enum class Ev : uint8_t {
#define HV_EV_ENUM(Name, name, code, ...) Name = code,
  HV_TRACE_EVENTS(HV_EV_ENUM)
#undef HV_EV_ENUM
  // An event of the extension range (0x80-0xfe) that this reader does not know: decoded with its
  // code in b0 and its payload in data..data_end, skipped by every stage. Never written.
  Unknown = 0xff,
};
inline constexpr uint8_t kFirstExtensionCode = 0x80, kLastExtensionCode = 0xfe;
inline constexpr bool is_extension_code(uint8_t t) {
  return t >= kFirstExtensionCode && t <= kLastExtensionCode;
}

// The event index's classes (one bit each in its masks).
enum class EvKind : uint8_t { Alloc, Free, Split, Merge, Bin, Top, Grow, Trim, Error, Mark, Chunk, Other };
inline constexpr int kNumEvKinds = 12;
// Which chunk an event changes: None; Chunk: the chunk starting at addr; User: the chunk of the
// user pointer addr (addr - 16); Split: the chunk at addr and the new one at addr + size; Moved:
// the new chunk addr2 (realloc_moved: from addr); Gone: the chunk at addr goes away (no longer on
// the map afterwards, so views do not highlight it).
enum class EvChunks : uint8_t { None, Chunk, User, Split, Moved, Gone };
enum class EvModel : uint8_t { Note, Apply };
enum class FieldCodec : uint8_t { U, A, C, S, Idx, Kind, How, Tc, Code, Ix, Label, Blob, Snap };
// The Event member a field is decoded into (event_decoder.h).
enum class FieldSlot : uint8_t { addr, addr2, size, size2, n, delta, b0, b1, data };

struct FieldSpec {
  FieldCodec codec;
  FieldSlot slot;
  const char* label;
  const char* prefix; // before the value in dump text
};

inline constexpr bool is_variable(FieldCodec c) {
  return c == FieldCodec::Label || c == FieldCodec::Blob || c == FieldCodec::Snap;
}
// The most bytes a fixed-size field takes encoded (variable ones: their length prefix).
inline constexpr size_t max_field_bytes(FieldCodec c) {
  switch (c) {
  case FieldCodec::Idx:
  case FieldCodec::Kind:
  case FieldCodec::How:
  case FieldCodec::Tc:
  case FieldCodec::Code:
    return 1;
  case FieldCodec::Snap:
    return 11; // count and flags
  default:
    return 10; // a varint
  }
}

struct EventInfo {
  const char* name = nullptr; // nullptr: no such event
  EvKind kind = EvKind::Other;
  EvChunks chunks = EvChunks::None;
  EvModel model = EvModel::Note;
  uint8_t nfields = 0;
  FieldSpec fields[4] = {};
  // Encoded size at most (type byte, seq and ts deltas, fixed fields); for an event with a
  // variable field, without that field's bytes.
  uint8_t max_bytes = 0;
  bool variable = false;  // has a Label, Blob or Snap field
  bool extension = false; // a code of the extension range: its fields are length-prefixed
  // An API call (malloc family, free): from format version 2 on, its fields are followed by the
  // call's stack (U stack: a node of the stack tree, 0 for none), written and read outside the
  // field list (BlockEncoder::call_stack, BlockDecoder's api_stack).
  bool api = false;
  // The one field of addr2, size2, n and delta the event uses, if any (FieldSlot::data: none):
  // the scatter keeps it in a second word.
  FieldSlot second = FieldSlot::data;
};

namespace detail {
#define HV_EV_FIELD(codec, slot, label, prefix) FieldSpec{FieldCodec::codec, FieldSlot::slot, #label, prefix},
constexpr EventInfo make_info(const char* name, uint8_t code, EvKind kind, EvChunks chunks, EvModel model,
                              std::initializer_list<FieldSpec> fields) {
  EventInfo i;
  i.name = name;
  i.kind = kind;
  i.chunks = chunks;
  i.model = model;
  i.extension = is_extension_code(code);
  size_t bytes = 1 + 10 + 10 + (i.extension ? 10 : 0); // type, seq and ts deltas, the length
  for (const FieldSpec& f : fields) {
    i.fields[i.nfields++] = f;
    bytes += max_field_bytes(f.codec);
    i.variable |= is_variable(f.codec);
    if (f.slot == FieldSlot::addr2 || f.slot == FieldSlot::size2 || f.slot == FieldSlot::n ||
        f.slot == FieldSlot::delta)
      i.second = f.slot;
  }
  i.api = kind == EvKind::Alloc || kind == EvKind::Free;
  if (i.api) bytes += 10; // the stack
  i.max_bytes = uint8_t(bytes);
  return i;
}
struct EventTable {
  EventInfo at[256] = {};
  constexpr EventTable() {
#define HV_EV_INFO(Name, name, code, kind, chunks, model, ...)                                               \
  at[code] = make_info(#name, code, EvKind::kind, EvChunks::chunks, EvModel::model,                          \
                       {HV_EV_FOR_EACH(HV_EV_FIELD, __VA_ARGS__)});
    HV_TRACE_EVENTS(HV_EV_INFO)
#undef HV_EV_INFO
    at[0xff].name = nullptr; // Unknown is not a written event
  }
};
} // namespace detail

inline constexpr detail::EventTable kEventTable{};
// A label, blob or snapshot is always its event's last field: after one, the decoder's BMI2 path
// would read the next varint through a stale window of stop bits.
inline constexpr bool variable_fields_last() {
  for (int t = 0; t < 256; ++t)
    for (int f = 0; f + 1 < kEventTable.at[t].nfields; ++f)
      if (is_variable(kEventTable.at[t].fields[f].codec)) return false;
  return true;
}
static_assert(variable_fields_last(), "a variable-length field must be its event's last");
// Facts about event type t (a default EventInfo with name == nullptr for an unknown code).
inline constexpr const EventInfo& event_info(uint8_t t) {
  return kEventTable.at[t];
}
inline constexpr const EventInfo& event_info(Ev t) {
  return kEventTable.at[uint8_t(t)];
}

// The chunks column alone, a byte per code (hot paths: one load, no scaled index).
struct EvChunksByCode {
  EvChunks at[256] = {};
  constexpr EvChunksByCode() {
    for (int t = 0; t < 256; ++t)
      at[t] = kEventTable.at[t].chunks;
  }
};
inline constexpr EvChunksByCode kEvChunksByCode{};
inline constexpr EvChunks event_chunks(uint8_t t) {
  return kEvChunksByCode.at[t];
}

// Every event type, in code order (loops in tests and tools).
inline constexpr Ev kAllEvents[] = {
#define HV_EV_LIST(Name, ...) Ev::Name,
    HV_TRACE_EVENTS(HV_EV_LIST)
#undef HV_EV_LIST
};
inline constexpr int kNumEvents = int(sizeof kAllEvents / sizeof kAllEvents[0]);

// The size table: the most bytes any event's fixed part takes (the decoder reads fixed fields
// without bounds checks while this many bytes and a load's width are left in its block).
constexpr size_t max_fixed_event_bytes() {
  size_t m = 0;
  for (Ev e : kAllEvents)
    if (event_info(e).max_bytes > m) m = event_info(e).max_bytes;
  return m;
}
inline constexpr size_t kMaxFixedEventBytes = max_fixed_event_bytes();
constexpr bool codes_valid() {
  for (Ev e : kAllEvents)
    if (uint8_t(e) == 0 || uint8_t(e) == 0xff) return false;
  return true;
}
static_assert(codes_valid(), "event codes are 0x01-0xfe (0xff is Ev::Unknown)");
constexpr bool codes_unique() {
  for (int i = 0; i < kNumEvents; ++i)
    for (int j = i + 1; j < kNumEvents; ++j)
      if (kAllEvents[i] == kAllEvents[j]) return false;
  return true;
}
static_assert(codes_unique(), "two rows of the event table share a code");

} // namespace hv::trace
