// unwind.cpp - see unwind.h. The formats: the LSB's .eh_frame and .eh_frame_hdr sections
// (pointer encodings DW_EH_PE_*) and DWARF 4 section 6.4 (call frame instructions).
#include "unwind.h"

#include <cstring>
#include <elf.h>
#include <link.h>

namespace hv::alloc::unwind {
namespace {

constexpr int kRbp = 6, kRsp = 7, kRip = 16;

// A bounds-checked cursor over CFI bytes.
struct Cursor {
  const uint8_t* p;
  const uint8_t* end;
  bool ok = true;
  uint8_t u8() {
    if (p >= end) return ok = false, 0;
    return *p++;
  }
  uint64_t uleb() {
    uint64_t v = 0;
    for (int s = 0; s < 64; s += 7) {
      uint8_t b = u8();
      v |= uint64_t(b & 0x7f) << s;
      if (!(b & 0x80)) return v;
    }
    ok = false;
    return 0;
  }
  int64_t sleb() {
    int64_t v = 0;
    int s = 0;
    uint8_t b;
    do {
      b = u8();
      v |= int64_t(b & 0x7f) << s;
      s += 7;
    } while ((b & 0x80) && s < 64 && ok);
    if (s < 64 && (b & 0x40)) v |= -(int64_t(1) << s);
    return v;
  }
  template <class T> T fixed() {
    T v{};
    if (size_t(end - p) < sizeof v) return ok = false, v;
    memcpy(&v, p, sizeof v);
    p += sizeof v;
    return v;
  }
  // A DW_EH_PE-encoded pointer; datarel relative to `data` (the .eh_frame_hdr's start).
  uintptr_t ptr(uint8_t enc, uintptr_t data = 0) {
    if (enc == 0xff) return 0; // DW_EH_PE_omit
    uintptr_t at = reinterpret_cast<uintptr_t>(p);
    uintptr_t v;
    switch (enc & 0x0f) {
    case 0x00:
      v = fixed<uint64_t>();
      break;
    case 0x01:
      v = uleb();
      break;
    case 0x02:
      v = fixed<uint16_t>();
      break;
    case 0x03:
      v = fixed<uint32_t>();
      break;
    case 0x04:
      v = fixed<uint64_t>();
      break;
    case 0x09:
      v = uintptr_t(sleb());
      break;
    case 0x0a:
      v = uintptr_t(intptr_t(fixed<int16_t>()));
      break;
    case 0x0b:
      v = uintptr_t(intptr_t(fixed<int32_t>()));
      break;
    case 0x0c:
      v = uintptr_t(fixed<int64_t>());
      break;
    default:
      return ok = false, 0;
    }
    switch (enc & 0x70) {
    case 0x00:
      break;
    case 0x10:
      v += at;
      break; // pcrel
    case 0x30:
      v += data;
      break; // datarel
    default:
      return ok = false, 0;
    }
    if (enc & 0x80) return ok = false, 0; // indirect: never used for code addresses here
    return v;
  }
  void skip(uint64_t n) {
    if (uint64_t(end - p) < n) {
      ok = false;
      p = end;
    } else {
      p += n;
    }
  }
};

// The module that contains pc, and its .eh_frame_hdr.
struct Found {
  uintptr_t pc;
  const uint8_t* hdr = nullptr;
  size_t hdr_len = 0;
};
int find_module(dl_phdr_info* info, size_t, void* data) {
  auto* f = static_cast<Found*>(data);
  bool inside = false;
  const ElfW(Phdr)* eh = nullptr;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type == PT_LOAD && f->pc >= info->dlpi_addr + ph.p_vaddr &&
        f->pc < info->dlpi_addr + ph.p_vaddr + ph.p_memsz)
      inside = true;
    if (ph.p_type == PT_GNU_EH_FRAME) eh = &ph;
  }
  if (!inside) return 0;
  if (eh) {
    f->hdr = reinterpret_cast<const uint8_t*>(info->dlpi_addr + eh->p_vaddr);
    f->hdr_len = eh->p_memsz;
  }
  return 1;
}

// The FDE for pc from the .eh_frame_hdr's sorted table (nullptr if none).
const uint8_t* find_fde(const uint8_t* hdr, size_t len, uintptr_t pc) {
  Cursor c{hdr, hdr + len};
  uint8_t version = c.u8(), eh_enc = c.u8(), count_enc = c.u8(), table_enc = c.u8();
  if (!c.ok || version != 1) return nullptr;
  uintptr_t base = reinterpret_cast<uintptr_t>(hdr);
  c.ptr(eh_enc, base);
  uint64_t count = c.ptr(count_enc, base);
  if (!c.ok || table_enc != 0x3b || count == 0) return nullptr; // datarel sdata4: what ld writes
  const uint8_t* table = c.p;
  if (uint64_t(c.end - table) / 8 < count) return nullptr;
  auto entry = [&](uint64_t i, int k) {
    int32_t v;
    memcpy(&v, table + i * 8 + size_t(k) * 4, 4);
    return base + uintptr_t(intptr_t(v));
  };
  uint64_t lo = 0, hi = count; // the last entry whose start is <= pc
  if (pc < entry(0, 0)) return nullptr;
  while (hi - lo > 1) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (entry(mid, 0) <= pc)
      lo = mid;
    else
      hi = mid;
  }
  return reinterpret_cast<const uint8_t*>(entry(lo, 1));
}

// What the interpreter tracks: the CFA, rbp's and the return address's rules.
struct State {
  int cfa_reg = kRsp;
  int64_t cfa_off = 8;
  bool cfa_deref = false, cfa_unsupported = false;
  enum { Same, Offset, Lost } rbp = Same;
  int64_t rbp_off = 0;
  bool ra_undefined = false;
};

// Runs CFA instructions [c.p, c.end) while the location is <= pc. False on an error.
bool run(Cursor c, uintptr_t& loc, uintptr_t pc, uint64_t code_align, int64_t data_align, uint8_t fde_enc,
         State& s, const State& initial) {
  State stack[8];
  int depth = 0;
  while (c.p < c.end && c.ok) {
    uint8_t op = c.u8();
    uint8_t hi = op & 0xc0, low = op & 0x3f;
    uint64_t reg;
    if (hi == 0x40) { // advance_loc
      loc += low * code_align;
      if (loc > pc) return true;
      continue;
    }
    if (hi == 0x80) { // offset
      int64_t off = int64_t(c.uleb()) * data_align;
      if (low == kRbp) s.rbp = State::Offset, s.rbp_off = off;
      if (low == kRip) s.ra_undefined = false;
      continue;
    }
    if (hi == 0xc0) { // restore
      if (low == kRbp) s.rbp = initial.rbp, s.rbp_off = initial.rbp_off;
      continue;
    }
    switch (op) {
    case 0x00:
      break;   // nop
    case 0x01: // set_loc
      loc = c.ptr(fde_enc);
      if (loc > pc) return true;
      break;
    case 0x02: // advance_loc1, 2, 4
    case 0x03:
    case 0x04: {
      uint64_t d = op == 0x02 ? c.u8() : op == 0x03 ? c.fixed<uint16_t>() : c.fixed<uint32_t>();
      loc += d * code_align;
      if (loc > pc) return c.ok;
      break;
    }
    case 0x05: // offset_extended
    case 0x11: // offset_extended_sf
      reg = c.uleb();
      {
        int64_t off = op == 0x05 ? int64_t(c.uleb()) * data_align : c.sleb() * data_align;
        if (reg == kRbp) s.rbp = State::Offset, s.rbp_off = off;
      }
      break;
    case 0x06: // restore_extended
      if (c.uleb() == kRbp) s.rbp = initial.rbp, s.rbp_off = initial.rbp_off;
      break;
    case 0x07: // undefined
      reg = c.uleb();
      if (reg == kRip) s.ra_undefined = true;
      if (reg == kRbp) s.rbp = State::Lost;
      break;
    case 0x08: // same_value
      if (c.uleb() == kRbp) s.rbp = State::Same;
      break;
    case 0x09: // register
      reg = c.uleb();
      c.uleb();
      if (reg == kRbp) s.rbp = State::Lost;
      if (reg == kRip) return false;
      break;
    case 0x0a: // remember_state
      if (depth == 8) return false;
      stack[depth++] = s;
      break;
    case 0x0b: // restore_state
      if (depth == 0) return false;
      s = stack[--depth];
      break;
    case 0x0c: // def_cfa
      s.cfa_reg = int(c.uleb());
      s.cfa_off = int64_t(c.uleb());
      s.cfa_deref = s.cfa_unsupported = false;
      break;
    case 0x12: // def_cfa_sf
      s.cfa_reg = int(c.uleb());
      s.cfa_off = c.sleb() * data_align;
      s.cfa_deref = s.cfa_unsupported = false;
      break;
    case 0x0d: // def_cfa_register
      s.cfa_reg = int(c.uleb());
      break;
    case 0x0e: // def_cfa_offset
      s.cfa_off = int64_t(c.uleb());
      break;
    case 0x13: // def_cfa_offset_sf
      s.cfa_off = c.sleb() * data_align;
      break;
    case 0x0f: { // def_cfa_expression: only DW_OP_breg<rbp|rsp> off [DW_OP_deref]
      uint64_t n = c.uleb();
      Cursor e{c.p, c.p + (n < uint64_t(c.end - c.p) ? n : uint64_t(c.end - c.p))};
      c.skip(n);
      uint8_t bop = e.u8();
      s.cfa_unsupported = true;
      if (bop == 0x70 + kRbp || bop == 0x70 + kRsp) {
        int64_t off = e.sleb();
        bool deref = e.p < e.end && e.u8() == 0x06;
        if (e.ok && e.p == e.end) {
          s.cfa_reg = bop - 0x70;
          s.cfa_off = off;
          s.cfa_deref = deref;
          s.cfa_unsupported = !deref; // a plain breg would be def_cfa; keep to what GCC writes
        }
      }
      break;
    }
    case 0x10: // expression
    case 0x16: // val_expression
      reg = c.uleb();
      c.skip(c.uleb());
      if (reg == kRbp) s.rbp = State::Lost;
      if (reg == kRip) return false;
      break;
    case 0x14: // val_offset
      reg = c.uleb();
      c.uleb();
      if (reg == kRbp) s.rbp = State::Lost;
      break;
    case 0x15: // val_offset_sf
      reg = c.uleb();
      c.sleb();
      if (reg == kRbp) s.rbp = State::Lost;
      break;
    case 0x2e: // GNU_args_size
      c.uleb();
      break;
    case 0x2f: // GNU_negative_offset_extended
      reg = c.uleb();
      {
        int64_t off = -int64_t(c.uleb()) * data_align;
        if (reg == kRbp) s.rbp = State::Offset, s.rbp_off = off;
      }
      break;
    default:
      return false;
    }
  }
  return c.ok;
}

} // namespace

bool find_rule(uintptr_t pc, Rule* out) {
  Found f{pc};
  if (!dl_iterate_phdr(find_module, &f) || !f.hdr) return false;
  const uint8_t* fde = find_fde(f.hdr, f.hdr_len, pc);
  if (!fde) return false;
  // The FDE: length, CIE pointer (back from here), pc_begin, pc_range, augmentation, program.
  Cursor c{fde, fde + 12};
  uint32_t len = c.fixed<uint32_t>();
  if (len == 0 || len == 0xffffffffu) return false;
  c.end = fde + 4 + len;
  const uint8_t* cie_ptr_at = c.p;
  uint32_t cie_off = c.fixed<uint32_t>();
  if (!c.ok || cie_off == 0) return false;
  const uint8_t* cie = cie_ptr_at - cie_off;
  // The CIE: version, augmentation, alignments, return address column, augmentation data.
  uint32_t clen;
  memcpy(&clen, cie, 4);
  if (clen == 0 || clen == 0xffffffffu) return false;
  Cursor k{cie + 8, cie + 4 + clen};
  uint8_t version = k.u8();
  const char* aug = reinterpret_cast<const char*>(k.p);
  while (k.p < k.end && *k.p)
    ++k.p;
  k.u8();
  uint64_t code_align = k.uleb();
  int64_t data_align = k.sleb();
  uint64_t ra_col = version == 1 ? k.u8() : k.uleb();
  uint8_t fde_enc = 0;
  bool has_z = aug[0] == 'z';
  if (!k.ok || ra_col != kRip) return false;
  if (has_z) {
    uint64_t n = k.uleb();
    const uint8_t* aug_end = k.p + n;
    for (const char* a = aug + 1; *a && k.ok; ++a) {
      if (*a == 'R')
        fde_enc = k.u8();
      else if (*a == 'P')
        k.ptr(k.u8());
      else if (*a == 'L')
        k.u8();
      else if (*a == 'S')
        return false; // a signal frame: its registers are in a ucontext, not followed
      else
        return false;
    }
    if (!k.ok || k.p > aug_end) return false;
    k.p = aug_end;
  } else if (aug[0] != 0) {
    return false;
  }
  uintptr_t pc_begin = c.ptr(fde_enc);
  uintptr_t pc_range = c.ptr(fde_enc & 0x0f);
  if (!c.ok || pc < pc_begin || pc >= pc_begin + pc_range) return false;
  if (has_z) c.skip(c.uleb());
  if (!c.ok) return false;

  State s;
  uintptr_t loc = pc_begin;
  State none;
  if (!run(k, loc, UINTPTR_MAX, code_align, data_align, fde_enc, s, none)) return false;
  State initial = s;
  loc = pc_begin;
  if (!run(c, loc, pc, code_align, data_align, fde_enc, s, initial)) return false;

  if (s.cfa_unsupported || (s.cfa_reg != kRsp && s.cfa_reg != kRbp)) return false;
  if (s.cfa_off < INT32_MIN || s.cfa_off > INT32_MAX || s.rbp_off < INT16_MIN || s.rbp_off > INT16_MAX)
    return false;
  Rule r;
  r.cfa_reg = uint8_t(s.cfa_reg);
  r.cfa_off = int32_t(s.cfa_off);
  r.flags = uint8_t((s.cfa_deref ? kCfaDeref : 0) | (s.ra_undefined ? kOutermost : 0) |
                    (s.rbp == State::Offset ? kRbpSaved : 0) | (s.rbp == State::Lost ? kRbpLost : 0));
  r.rbp_off = int16_t(s.rbp_off);
  *out = r;
  return true;
}

} // namespace hv::alloc::unwind
