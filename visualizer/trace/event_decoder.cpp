// event_decoder.cpp - the cold paths of the decoder: long varints, errors, variable-length
// fields and snapshots (see event_decoder.h).
#include "trace/event_decoder.h"

#include <cstdio>

namespace hv::trace {

namespace {
bool cpu_has_bmi2() {
#if HV_DECODER_BMI2
  __builtin_cpu_init(); // may run before other static constructors
  return __builtin_cpu_supports("bmi2");
#else
  return false;
#endif
}
} // namespace

bool BlockDecoder::bmi2_ = cpu_has_bmi2();

bool BlockDecoder::set_bmi2(bool on) {
  bmi2_ = on && cpu_has_bmi2();
  return bmi2_;
}

bool BlockDecoder::fail(const char* what) {
  if (failed_) return false;
  failed_ = true;
  const char* name = event_name(static_cast<Ev>(cur_type_));
  char tname[32];
  if (!name) {
    snprintf(tname, sizeof tname, "event type 0x%02x", cur_type_);
    name = tname;
  }
  uint64_t pos = uint64_t(ev_start_ - base_);
  err_ = std::string(name) + ": " + what;
  if (zstd_) {
    err_ += " (zstd block, payload byte " + std::to_string(pos) + ")";
    err_off_ = file_off_;
  } else {
    err_off_ = file_off_ + pos;
  }
  return false;
}

bool BlockDecoder::failv(const char* what, uint64_t value) {
  char buf[96];
  if (std::string(what) == "unknown event type")
    snprintf(buf, sizeof buf, "unknown event type 0x%02x (thread %u)", unsigned(value), tid_);
  else
    snprintf(buf, sizeof buf, "%s (%llu)", what, static_cast<unsigned long long>(value));
  bool r = fail(buf);
  if (std::string(what) == "unknown event type") { // no event name to put in front
    size_t colon = err_.find(": ");
    if (colon != std::string::npos) err_ = err_.substr(colon + 2);
  }
  return r;
}

bool BlockDecoder::varint_slow(uint64_t& v) {
  uint64_t r = 0;
  for (int i = 0; i < 10; ++i) {
    if (p_ >= end_) return fail("varint runs past the end of the block");
    uint8_t b = *p_++;
    if (i == 9 && (b & 0x80)) return fail("varint longer than 10 bytes");
    if (i == 9 && b > 1) return fail("varint overflows 64 bits");
    r |= uint64_t(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) {
      v = r;
      return true;
    }
  }
  return fail("varint longer than 10 bytes");
}

bool BlockDecoder::addr_slow(uint64_t& a) {
  uint64_t z;
  if (!varint_slow(z)) return false;
  reg_ += static_cast<uint64_t>(unzigzag(z));
  a = reg_;
  return true;
}

bool BlockDecoder::csize_slow(uint64_t& s) {
  uint64_t v;
  if (!varint_slow(v)) return false;
  if (v >> 60) return fail("chunk size overflows 64 bits");
  s = v << 4;
  return true;
}

bool BlockDecoder::byte_slow(uint8_t& b) {
  if (p_ >= end_) return fail("field runs past the end of the block");
  b = *p_++;
  return true;
}

bool BlockDecoder::bytes(Event& e, uint64_t max) {
  if (!varint_slow(e.n)) return false;
  if (e.n > max) return failv("length too large", e.n);
  if (e.n > uint64_t(end_ - p_)) return failv("length runs past the end of the block", e.n);
  e.data = p_;
  e.data_end = p_ + e.n;
  p_ += e.n;
  return true;
}

bool BlockDecoder::snapshot(Event& e) {
  if (!varint_slow(e.n) || !byte_slow(e.b0)) return false;
  if (e.n > uint64_t(end_ - p_) / 4) return failv("chunk count larger than the block can hold", e.n);
  if (e.b0 & ~uint8_t(kSnapshotCoarse | kSnapshotBaseline | kSnapshotMore))
    return failv("unknown snapshot flags", e.b0);
  e.data = p_;
  e.data_reg = reg_;
  for (uint64_t i = 0; i < e.n; ++i) {
    uint64_t a, s;
    uint8_t st = 0, bin = 0;
    if (!addr_slow(a) || !csize_slow(s) || !byte_slow(st) || !byte_slow(bin)) return false;
    if (st > uint8_t(kLastSnapshotState)) return failv("invalid chunk state in snapshot", st);
  }
  e.data_end = p_;
  return true;
}

bool BlockDecoder::check_end() {
  if (failed_) return false;
  if (p_ != end_) {
    ev_start_ = p_;
    cur_type_ = 0;
    char buf[96];
    snprintf(buf, sizeof buf, "%llu trailing bytes after the block's last event",
             static_cast<unsigned long long>(end_ - p_));
    failed_ = true;
    err_ = buf;
    uint64_t pos = uint64_t(p_ - base_);
    err_off_ = zstd_ ? file_off_ : file_off_ + pos;
    return false;
  }
  return true;
}

bool SnapshotReader::next(SnapshotEntry& out) {
  if (left_ == 0) return false;
  auto vi = [&](uint64_t& v) {
    uint64_t r = 0;
    for (int i = 0; i < 10 && p_ < end_; ++i) {
      uint8_t b = *p_++;
      r |= uint64_t(b & 0x7f) << (7 * i);
      if (!(b & 0x80)) {
        v = r;
        return true;
      }
    }
    return false;
  };
  uint64_t z, c;
  if (!vi(z) || !vi(c) || end_ - p_ < 2) return false;
  reg_ += static_cast<uint64_t>(unzigzag(z));
  out.addr = reg_;
  out.size = c << 4;
  out.state = *p_++;
  out.bin = *p_++;
  --left_;
  return true;
}

} // namespace hv::trace
