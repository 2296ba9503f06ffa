// error_report.cpp - see error_report.h.
#include "trace/error_report.h"

namespace hv::trace {

const char* error_kind_name(HeapErrorKind k) {
  switch (k) {
  case HeapErrorKind::DoubleFree:
    return "double-free";
  case HeapErrorKind::InvalidFree:
    return "invalid-free";
  case HeapErrorKind::HeapBufferOverflow:
    return "heap-buffer-overflow";
  case HeapErrorKind::WriteAfterFree:
    return "write-after-free";
  case HeapErrorKind::Corruption:
    return "corruption";
  }
  return "corruption";
}

bool read_error_report(const Event& e, ErrorReport* out, std::string* error) {
  const uint8_t *p = e.data, *end = e.data_end;
  auto fail = [&](const char* what) {
    *error = "error_report at offset " + std::to_string(e.offset) + ": " + what;
    return false;
  };
  auto varint = [&](uint64_t& v) {
    uint64_t r = 0;
    for (int i = 0; i < 10 && p < end; ++i) {
      uint8_t b = *p++;
      r |= uint64_t(b & 0x7f) << (7 * i);
      if (!(b & 0x80)) {
        v = r;
        return true;
      }
    }
    return false;
  };
  *out = ErrorReport{};
  if (!p || end - p < 3) return fail("the record is too short");
  uint8_t kind = *p++, source = *p++;
  out->flags = *p++;
  if (kind == 0 || kind >= kNumHeapErrorKinds) return fail("an unknown error kind");
  if (source != uint8_t(HeapErrorSource::Glibc) && source != uint8_t(HeapErrorSource::Heapviz))
    return fail("an unknown error source");
  out->kind = HeapErrorKind(kind);
  out->source = HeapErrorSource(source);
  uint64_t stack, n;
  if (!varint(stack) || stack > UINT32_MAX || !varint(out->ptr) || !varint(out->chunk) || !varint(n))
    return fail("the record runs short");
  out->stack = uint32_t(stack);
  if (n > uint64_t(end - p)) return fail("the message runs past the record");
  out->message.assign(reinterpret_cast<const char*>(p), size_t(n));
  p += n;
  uint64_t runs;
  if (!varint(runs)) return fail("the record runs short");
  if (runs > kMaxErrorRuns) return fail("too many byte runs");
  for (uint64_t r = 0; r < runs; ++r) {
    ErrorBytes b;
    uint64_t len;
    if (!varint(b.offset) || !varint(len)) return fail("a byte run runs past the record");
    if (len > kMaxErrorRunBytes || 2 * len > uint64_t(end - p))
      return fail("a byte run runs past the record");
    b.expected.assign(p, p + len);
    b.found.assign(p + len, p + 2 * len);
    p += 2 * len;
    out->bytes.push_back(std::move(b));
  }
  return true;
}

} // namespace hv::trace
