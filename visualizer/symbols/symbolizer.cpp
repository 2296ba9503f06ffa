// symbolizer.cpp - see symbolizer.h. The inline chain follows eu-addr2line -i: the scopes of the
// address from dwarf_getscopes, each inlined subroutine named after its abstract origin and
// called from its DW_AT_call_file/DW_AT_call_line in the scope around it.
#include "symbols/symbolizer.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <unistd.h>

namespace hv::symbols {

namespace {
std::string demangle(const char* name) {
  if (!name) return "";
  if (name[0] == '_' && name[1] == 'Z') {
    int status = 0;
    char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    if (d && status == 0) {
      std::string s = d;
      free(d);
      return s;
    }
    free(d);
  }
  return name;
}

const char* die_name(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  for (int at : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name, DW_AT_name})
    if (Dwarf_Attribute* a = dwarf_attr_integrate(die, at, &attr))
      if (const char* s = dwarf_formstring(a)) return s;
  return nullptr;
}

std::string hex(uint64_t v) {
  char b[32];
  snprintf(b, sizeof b, "0x%" PRIx64, v);
  return b;
}

std::string basename_of(const std::string& p) {
  size_t k = p.rfind('/');
  return k == std::string::npos ? p : p.substr(k + 1);
}
} // namespace

struct Symbolizer::Impl {
  const trace::StackTable& table;
  std::string root;
  char* debuginfo_path = nullptr;
  Dwfl_Callbacks callbacks{};
  Dwfl* dwfl = nullptr;
  // Per module (index into table.modules()): 0 not yet looked at, 1 reported, 2 unusable.
  std::vector<uint8_t> state;
  std::vector<Dwfl_Module*> mods;

  Impl(const trace::StackTable& t, std::string r) : table(t), root(std::move(r)) {
    callbacks.find_elf = dwfl_build_id_find_elf;
    callbacks.find_debuginfo = dwfl_standard_find_debuginfo;
    callbacks.section_address = dwfl_offline_section_address;
    callbacks.debuginfo_path = &debuginfo_path;
    dwfl = dwfl_begin(&callbacks);
    state.assign(t.modules().size(), 0);
    mods.assign(t.modules().size(), nullptr);
  }
  ~Impl() {
    if (dwfl) dwfl_end(dwfl);
  }

  // Opens module i (once); nullptr with *why set if its file cannot be used.
  Dwfl_Module* open(size_t i, std::string* why) {
    const trace::ModuleInfo& m = table.modules()[i];
    if (state[i] == 1) return mods[i];
    if (state[i] == 2) return nullptr;
    state[i] = 2;
    if (m.path.empty() || m.path[0] == '[') {
      *why = "no file (" + m.path + ")";
      return nullptr;
    }
    std::string path = root.empty() ? m.path : root + m.path;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      *why = "the file is missing (" + std::string(strerror(errno)) + ")";
      return nullptr;
    }
    elf_version(EV_CURRENT);
    Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
    const void* bid = nullptr;
    ssize_t n = elf ? dwelf_elf_gnu_build_id(elf, &bid) : -1;
    bool same = !m.build_id.empty() && n == ssize_t(m.build_id.size()) &&
                memcmp(bid, m.build_id.data(), size_t(n)) == 0;
    bool none = m.build_id.empty();
    if (elf) elf_end(elf);
    ::close(fd);
    if (!elf) {
      *why = "not an ELF file";
      return nullptr;
    }
    if (!same && !none) {
      *why = "the file changed since recording (build-id " + (n > 0 ? std::string("differs") : "missing") +
             "; recorded " + m.build_id_hex() + ")";
      return nullptr;
    }
    dwfl_report_begin_add(dwfl);
    Dwfl_Module* mod = dwfl_report_elf(dwfl, basename_of(m.path).c_str(), path.c_str(), -1, m.base, false);
    dwfl_report_end(dwfl, nullptr, nullptr);
    if (!mod) {
      *why = std::string("libdwfl cannot read it: ") + dwfl_errmsg(-1);
      return nullptr;
    }
    state[i] = 1;
    mods[i] = mod;
    return mod;
  }
};

Symbolizer::Symbolizer(const trace::StackTable& table, std::string root)
    : impl_(std::make_unique<Impl>(table, std::move(root))) {}
Symbolizer::~Symbolizer() = default;

const std::vector<Frame>& Symbolizer::frames(uint64_t ip) {
  auto it = cache_.find(ip);
  if (it != cache_.end()) return it->second;
  std::vector<Frame>& out = cache_[ip];
  const trace::ModuleInfo* m = impl_->table.module_of(ip);
  Frame base;
  base.address = ip;
  if (!m) {
    base.function = hex(ip);
    out.push_back(base);
    return out;
  }
  base.module = m->path;
  size_t mi = size_t(m - impl_->table.modules().data());
  // A module's addresses in the file's terms: the offset from its load bias.
  base.function = basename_of(m->path) + "+" + hex(ip - m->base);
  std::string why;
  Dwfl_Module* mod = impl_->open(mi, &why);
  if (!mod) {
    bool seen = false;
    for (const Problem& p : problems_)
      seen |= p.module == m->path;
    if (!seen) problems_.push_back({m->path, why});
    out.push_back(base);
    return out;
  }
  // A return address: the call is the instruction before it.
  Dwarf_Addr pc = ip - 1;
  GElf_Off off = 0;
  GElf_Sym sym;
  const char* symname = dwfl_module_addrinfo(mod, pc, &off, &sym, nullptr, nullptr, nullptr);
  std::string outer = symname ? demangle(symname) : base.function;
  if (size_t at = outer.find('@'); symname && at != std::string::npos && at > 0)
    outer.resize(at); // a symbol version (__libc_start_main@@GLIBC_2.34)
  std::string file;
  int line = 0;
  if (Dwfl_Line* l = dwfl_module_getsrc(mod, pc)) {
    int ln = 0;
    if (const char* f = dwfl_lineinfo(l, nullptr, &ln, nullptr, nullptr, nullptr)) {
      file = f;
      line = ln;
    }
  }
  Dwarf_Addr bias = 0;
  Dwarf_Die* cu = dwfl_module_addrdie(mod, pc, &bias);
  Dwarf_Die* scopes = nullptr;
  int n = cu ? dwarf_getscopes(cu, pc - bias, &scopes) : 0;
  Dwarf_Files* files = nullptr;
  size_t nfiles = 0;
  if (cu) dwarf_getsrcfiles(cu, &files, &nfiles);
  bool done = false;
  for (int i = 0; i < n && !done; ++i) {
    int tag = dwarf_tag(&scopes[i]);
    if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram) continue;
    Frame f = base;
    const char* nm = die_name(&scopes[i]);
    f.function = nm ? demangle(nm) : outer;
    f.file = file;
    f.line = line;
    f.resolved = true;
    f.inlined = tag == DW_TAG_inlined_subroutine;
    if (tag == DW_TAG_subprogram) {
      if (symname) f.function = outer; // the symbol table's name is the full one
      done = true;
    } else { // where the inlined body sits in the scope around it
      Dwarf_Attribute a;
      Dwarf_Word cf = 0, cl = 0;
      if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &a), &cf) == 0 && files && cf < nfiles)
        if (const char* fn = dwarf_filesrc(files, cf, nullptr, nullptr)) file = fn;
      if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &a), &cl) == 0) line = int(cl);
    }
    out.push_back(std::move(f));
  }
  free(scopes);
  if (!symname) note_unnamed(m->path, mod);
  if (out.empty() || !done) { // no DWARF scope for it: the symbol table's name, the line table's place
    Frame f = base;
    f.function = outer;
    f.file = file;
    f.line = line;
    f.resolved = symname != nullptr;
    out.push_back(std::move(f));
  }
  return out;
}

// An address of a module that opened but names no symbol: once per module, a problem that says
// why when the reason is the usual one, a stripped file (no .symtab in it, and no debug file
// found beside it): a new user otherwise sees "git+0x2f1a4" and no hint what to do.
void Symbolizer::note_unnamed(const std::string& path, Dwfl_Module* mod) {
  for (const Problem& p : problems_)
    if (p.module == path) return;
  Dwarf_Addr bias = 0;
  Elf* elf = dwfl_module_getelf(mod, &bias);
  bool symtab = false;
  for (Elf_Scn* scn = elf ? elf_nextscn(elf, nullptr) : nullptr; scn && !symtab;
       scn = elf_nextscn(elf, scn)) {
    GElf_Shdr sh;
    symtab = gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB;
  }
  const char* debug_file = nullptr;
  dwfl_module_info(mod, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, &debug_file);
  if (symtab || debug_file) return; // symbols there: this address is just outside them (a PLT stub)
  problems_.push_back({path,
                       "stripped (no symbol table) and no debug symbols found for it: only its exported "
                       "functions have names, its other frames show as module+offset; install them "
                       "(Debian: its package's -dbgsym, from the debian-debug archive; or set "
                       "DEBUGINFOD_URLS), or record a build with symbols"});
}

bool is_allocation_function(const Frame& f) {
  static const char* const kNames[] = {
      "malloc",         "calloc",      "realloc",         "free",          "memalign",       "aligned_alloc",
      "posix_memalign", "valloc",      "pvalloc",         "reallocarray",  "__libc_malloc",  "__libc_calloc",
      "__libc_realloc", "__libc_free", "__libc_memalign", "__libc_valloc", "__libc_pvalloc",
  };
  const std::string& fn = f.function;
  for (const char* k : kNames)
    if (fn == k) return true;
  // operator new / new[] / delete in every variant (nothrow, aligned, sized).
  return fn.rfind("operator new", 0) == 0 || fn.rfind("operator delete", 0) == 0;
}

} // namespace hv::symbols
