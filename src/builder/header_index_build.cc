#include "builder/header_index_build.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <unordered_map>

#include "core/file_lock.h"
#include "builder/header_index.h"
#include "core/log.h"

namespace noreboot::builder {
namespace fs = std::filesystem;

namespace {

// A file name as DWARF spells it, made tree-relative: "./include/linux/list.h",
// "/build/linux-6.1/include/linux/list.h" (under the unit's comp_dir) and
// "include/linux/list.h" are one header. Empty for files outside the tree (gcc's own headers).
std::string tree_relative(std::string name, const std::string& comp_dir) {
  if (!name.empty() && name[0] == '/') {
    if (comp_dir.empty() || name.rfind(comp_dir + "/", 0) != 0) return "";
    name = name.substr(comp_dir.size() + 1);
  }
  std::string out;
  size_t i = 0;
  while (i < name.size()) {
    size_t j = name.find('/', i);
    if (j == std::string::npos) j = name.size();
    std::string part = name.substr(i, j - i);
    if (part == "..") return "";  // outside the tree
    if (!part.empty() && part != ".") out += (out.empty() ? "" : "/") + part;
    i = j + 1;
  }
  return out;
}

const Dwfl_Callbacks kOfflineCallbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = nullptr,
};

// Indexes every compile unit of the ELF file open on FD (consumed); OWNER names it.
Status index_fd(int fd, const std::string& owner, HeaderIndexWriter& w) {
  Dwfl* dwfl = dwfl_begin(&kOfflineCallbacks);
  if (!dwfl) {
    close(fd);
    return Error(Errc::internal, std::string("libdwfl: ") + dwfl_errmsg(-1));
  }
  struct End { Dwfl* d; ~End() { dwfl_end(d); } } end{dwfl};
  Dwfl_Module* mod = dwfl_report_offline(dwfl, owner.c_str(), owner.c_str(), fd);
  if (!mod) return Error(Errc::invalid_input, owner + ": " + dwfl_errmsg(-1));
  dwfl_report_end(dwfl, nullptr, nullptr);
  Dwarf_Addr bias = 0;
  Dwarf* dw = dwfl_module_getdwarf(mod, &bias);
  if (!dw) return ok_status();  // no DWARF (a module built without -g): nothing to index

  Dwarf_Off off = 0, next = 0;
  size_t header_size = 0;
  while (dwarf_nextcu(dw, off, &next, &header_size, nullptr, nullptr, nullptr) == 0) {
    Dwarf_Die cu;
    Dwarf_Off die_off = off + header_size;
    off = next;
    if (!dwarf_offdie(dw, die_off, &cu) || dwarf_tag(&cu) != DW_TAG_compile_unit) continue;
    const char* cu_name = dwarf_diename(&cu);
    if (!cu_name) continue;
    Dwarf_Attribute attr;
    const char* comp_dir_c = dwarf_formstring(dwarf_attr(&cu, DW_AT_comp_dir, &attr));
    std::string comp_dir = comp_dir_c ? comp_dir_c : "";
    std::string source = tree_relative(cu_name, comp_dir);
    if (source.empty() || source.ends_with(".S")) continue;  // assembly units hold no C functions
    w.unit(owner, source);

    // DWARF file name -> tree-relative header (empty: not a header of the tree).
    std::unordered_map<const char*, std::string> headers;
    auto header_of = [&](const char* file) -> const std::string& {
      auto [it, fresh] = headers.try_emplace(file);
      if (fresh && file) {
        std::string rel = tree_relative(file, comp_dir);
        if (rel.ends_with(".h")) it->second = rel;
      }
      return it->second;
    };

    // Every C function is a direct child of its unit: abstract instances of inline functions
    // (DW_AT_inline), out-of-line definitions, and declarations. Children are skipped.
    Dwarf_Die die;
    if (dwarf_child(&cu, &die) == 0) {
      std::set<std::tuple<std::string, int, std::string>> seen;
      do {
        if (dwarf_tag(&die) != DW_TAG_subprogram) continue;
        const char* name = dwarf_diename(&die);
        const char* file = dwarf_decl_file(&die);
        int line = 0;
        if (!name || !file || dwarf_decl_line(&die, &line) != 0) continue;
        const std::string& h = header_of(file);
        if (h.empty()) continue;
        if (seen.emplace(h, line, name).second) w.function(h, line, name);
      } while (dwarf_siblingof(&die, &die) == 0);
    }

    // Line rows from headers, as runs of consecutive lines per header.
    Dwarf_Lines* lines = nullptr;
    size_t nlines = 0;
    if (dwarf_getsrclines(&cu, &lines, &nlines) == 0) {
      std::map<std::string, std::set<int>> rows;
      for (size_t i = 0; i < nlines; ++i) {
        Dwarf_Line* l = dwarf_onesrcline(lines, i);
        int lineno = 0;
        if (!l || dwarf_lineno(l, &lineno) != 0 || lineno <= 0) continue;
        const std::string& h = header_of(dwarf_linesrc(l, nullptr, nullptr));
        if (!h.empty()) rows[h].insert(lineno);
      }
      for (const auto& [h, set] : rows) {
        int first = -1, last = -1;
        for (int n : set) {
          if (first >= 0 && n == last + 1) { last = n; continue; }
          if (first >= 0) w.lines(h, first, last);
          first = last = n;
        }
        if (first >= 0) w.lines(h, first, last);
      }
    }
  }
  return ok_status();
}

// Copies LEN bytes of IN into an anonymous memory file (the tar member), positioned at 0.
Result<int> member_to_memfd(FILE* in, std::uintmax_t len, const std::string& name) {
  int fd = memfd_create("noreboot-dbg", MFD_CLOEXEC);
  if (fd < 0) return Error(Errc::io, "memfd_create: " + std::string(strerror(errno)));
  std::vector<char> buf(1 << 20);
  while (len > 0) {
    size_t want = static_cast<size_t>(std::min<std::uintmax_t>(len, buf.size()));
    size_t got = fread(buf.data(), 1, want, in);
    if (got != want) {
      close(fd);
      return Error(Errc::invalid_input, name + ": the package ends inside this file (truncated download?)");
    }
    for (size_t done = 0; done < got;) {
      ssize_t n = write(fd, buf.data() + done, got - done);
      if (n <= 0) {
        close(fd);
        return Error(Errc::io, "memory file for " + name + ": " + strerror(errno));
      }
      done += static_cast<size_t>(n);
    }
    len -= got;
  }
  lseek(fd, 0, SEEK_SET);
  return fd;
}

std::uintmax_t tar_number(const char* field, size_t len) {
  if (static_cast<unsigned char>(field[0]) & 0x80) {  // base-256 (GNU), for sizes >= 8 GiB
    std::uintmax_t v = static_cast<unsigned char>(field[0]) & 0x7f;
    for (size_t i = 1; i < len; ++i) v = (v << 8) | static_cast<unsigned char>(field[i]);
    return v;
  }
  std::uintmax_t v = 0;
  for (size_t i = 0; i < len && field[i]; ++i)
    if (field[i] >= '0' && field[i] <= '7') v = v * 8 + static_cast<std::uintmax_t>(field[i] - '0');
  return v;
}

bool skip_bytes(FILE* in, std::uintmax_t n) {
  char buf[65536];
  while (n > 0) {
    size_t want = static_cast<size_t>(std::min<std::uintmax_t>(n, sizeof buf));
    if (fread(buf, 1, want, in) != want) return false;
    n -= want;
  }
  return true;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

Result<IndexStats> index_elf_file(const fs::path& elf, const std::string& owner, std::ostream& out) {
  auto start = std::chrono::steady_clock::now();
  int fd = open(elf.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error(Errc::not_found, "cannot open " + elf.string() + ": " + strerror(errno));
  HeaderIndexWriter w(out);
  NR_TRY_STATUS(index_fd(fd, owner, w));
  w.finish();
  IndexStats s{.objects = 1, .units = w.unit_count(), .functions = w.function_count(), .runs = w.run_count()};
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return s;
}

Result<IndexStats> index_dbg_package(const fs::path& dbg_deb, std::ostream& out) {
  auto start = std::chrono::steady_clock::now();
  if (!fs::exists(dbg_deb)) return Error(Errc::not_found, dbg_deb.string() + " does not exist (scripts/kernel-fetch --dbg downloads it)");
  std::string cmd = "dpkg-deb --fsys-tarfile " + shell_quote(dbg_deb.string());
  FILE* in = popen(cmd.c_str(), "r");
  if (!in) return Error(Errc::io, "cannot run " + cmd);
  struct Close { FILE* f; int rc = 0; ~Close() { if (f) pclose(f); } } closer{in};
  HeaderIndexWriter w(out);
  IndexStats stats;
  std::string long_name;
  char hdr[512];
  auto last_report = start;
  while (fread(hdr, 1, sizeof hdr, in) == sizeof hdr) {
    if (hdr[0] == 0) break;  // end of archive
    std::uintmax_t size = tar_number(hdr + 124, 12);
    char type = hdr[156];
    std::uintmax_t padded = (size + 511) / 512 * 512;
    std::string name;
    if (!long_name.empty()) {
      name = std::move(long_name);
      long_name.clear();
    } else {
      std::string prefix(hdr + 345, strnlen(hdr + 345, 155));
      name = std::string(hdr, strnlen(hdr, 100));
      if (std::memcmp(hdr + 257, "ustar", 5) == 0 && !prefix.empty()) name = prefix + "/" + name;
    }
    if (type == 'L') {  // GNU long name: the next member's name is this payload
      std::string payload(static_cast<size_t>(size), '\0');
      if (fread(payload.data(), 1, payload.size(), in) != payload.size() || !skip_bytes(in, padded - size))
        return Error(Errc::invalid_input, dbg_deb.string() + ": truncated long name record");
      long_name = payload.c_str();
      continue;
    }
    bool is_vmlinux = name.find("/usr/lib/debug/boot/vmlinux-") != std::string::npos;
    bool is_ko = name.ends_with(".ko") && name.find("/usr/lib/debug/lib/modules/") != std::string::npos;
    if ((type != '0' && type != '\0') || (!is_vmlinux && !is_ko)) {
      if (!skip_bytes(in, padded)) return Error(Errc::invalid_input, dbg_deb.string() + ": truncated at " + name);
      continue;
    }
    // The owner: "vmlinux", or the module's path under lib/modules/ABI/ (kernel/fs/nfsd/nfsd.ko).
    std::string owner = "vmlinux";
    if (is_ko) {
      auto k = name.find("/kernel/");
      owner = k == std::string::npos ? fs::path(name).filename().string() : name.substr(k + 1);
    }
    NR_TRY(int fd, member_to_memfd(in, size, name));
    if (!skip_bytes(in, padded - size)) return Error(Errc::invalid_input, dbg_deb.string() + ": truncated after " + name);
    NR_TRY_STATUS(index_fd(fd, owner, w));
    ++stats.objects;
    auto now = std::chrono::steady_clock::now();
    if (now - last_report > std::chrono::seconds(15)) {
      last_report = now;
      log::info("[header-index] {} objects, {} units read ({} s)", stats.objects, w.unit_count(),
                static_cast<int>(std::chrono::duration<double>(now - start).count()));
    }
  }
  int rc = pclose(in);
  closer.f = nullptr;
  if (rc != 0) return Error(Errc::invalid_input, cmd + " failed (exit status " + std::to_string(rc) + "): is the package complete?");
  if (stats.objects == 0) return Error(Errc::invalid_input, dbg_deb.string() + " holds no vmlinux or debug module");
  w.finish();
  stats.units = w.unit_count();
  stats.functions = w.function_count();
  stats.runs = w.run_count();
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

Result<fs::path> ensure_header_index(const KernelProfile& profile) {
  if (profile.kdir.empty() || profile.version.empty())
    return Error(Errc::unsupported, "header changes need a Debian kernel profile (--kernel debian:ABI): the header "
                                    "index comes from its -dbg package");
  fs::path index = profile.kdir / "header-index";
  if (fs::exists(index)) return index;
  NR_TRY(auto lock, FileLock::acquire(profile.kdir / "header-index.lock",
                                      {.holder = "noreboot-build", .why = "building the header index"}));
  if (fs::exists(index)) return index;  // built while we waited
  fs::path deb = cache_root() / "debs" / ("linux-image-" + profile.abi + "-dbg_" + profile.version + "_amd64.deb");
  log::info("[header-index] building the header index of {} from {} (once per kernel; a few minutes)", profile.abi,
            deb.string());
  fs::path tmp = index;
  tmp += ".tmp";
  IndexStats stats;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Error(Errc::io, "cannot write " + tmp.string());
    NR_TRY(stats, index_dbg_package(deb, out));
    out.flush();
    if (!out) return Error(Errc::io, "cannot write " + tmp.string() + " (disk full?)");
  }
  std::error_code ec;
  fs::rename(tmp, index, ec);
  if (ec) return Error(Errc::io, "cannot rename " + tmp.string() + ": " + ec.message());
  log::info("[header-index] {} objects, {} units, {} header functions, {} line runs; {} MB in {} s",
            stats.objects, stats.units, stats.functions, stats.runs, fs::file_size(index) / 1000000,
            static_cast<int>(stats.seconds));
  return index;
}

}  // namespace noreboot::builder
