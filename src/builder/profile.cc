#include "builder/profile.h"

#include <unistd.h>

#include <cstdlib>
#include <map>
#include <sstream>

#include "core/file_lock.h"
#include "core/process.h"
#include "core/file_io.h"
#include "core/log.h"

namespace noreboot::builder {
namespace fs = std::filesystem;

#ifndef NOREBOOT_SOURCE_DIR
#define NOREBOOT_SOURCE_DIR ""
#endif

fs::path cache_root() {
  if (const char* c = std::getenv("NOREBOOT_CACHE"); c && *c) return c;
  const char* home = std::getenv("HOME");
  return fs::path(home ? home : "/root") / ".cache/noreboot";
}

fs::path find_kernel_fetch() {
  if (const char* e = std::getenv("NOREBOOT_KERNEL_FETCH"); e && *e) return e;
  fs::path in_source = fs::path(NOREBOOT_SOURCE_DIR) / "scripts/kernel-fetch";
  if (!std::string(NOREBOOT_SOURCE_DIR).empty() && fs::exists(in_source)) return in_source;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path installed = self.parent_path().parent_path() / "lib/noreboot/kernel-fetch";
    if (fs::exists(installed)) return installed;
  }
  return "kernel-fetch";  // PATH
}

fs::path find_author_include() {
  fs::path in_source = fs::path(NOREBOOT_SOURCE_DIR) / "src/builder/include";
  if (!std::string(NOREBOOT_SOURCE_DIR).empty() && fs::exists(in_source / "noreboot/livepatch.h")) return in_source;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path installed = self.parent_path().parent_path() / "share/noreboot/include";
    if (fs::exists(installed / "noreboot/livepatch.h")) return installed;
  }
  return {};
}

std::vector<std::string> make_command(const KernelProfile& profile, int jobs) {
  return {"make", "-j" + std::to_string(jobs), "CC=" + profile.cc,
          "KERNELRELEASE=" + (profile.tree_release.empty() ? profile.abi : profile.tree_release),
          std::string("KCFLAGS=") + kKcflags};
}

namespace {

// Parses kernel-fetch's NAME=VALUE lines.
std::map<std::string, std::string> parse_assignments(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

// Sets CONFIG_MODULE_SIG_KEY to the in-tree default: Debian's build used a key path that
// does not exist here, and olddefconfig keeps the value either way; with the default the
// tree is self-consistent (KERNEL-NOTES: olddefconfig then changes nothing).
std::string with_default_sig_key(const std::string& config) {
  std::istringstream in(config);
  std::string line, out;
  bool seen = false;
  while (std::getline(in, line)) {
    if (line.rfind("CONFIG_MODULE_SIG_KEY=", 0) == 0) {
      line = "CONFIG_MODULE_SIG_KEY=\"certs/signing_key.pem\"";
      seen = true;
    }
    out += line + "\n";
  }
  if (!seen) out += "CONFIG_MODULE_SIG_KEY=\"certs/signing_key.pem\"\n";
  return out;
}

// The first lines where two configs differ, for the error message.
std::string config_difference(const std::string& a, const std::string& b) {
  std::istringstream ia(a), ib(b);
  std::string la, lb, out;
  int shown = 0;
  while (shown < 5) {
    bool ga = static_cast<bool>(std::getline(ia, la)), gb = static_cast<bool>(std::getline(ib, lb));
    if (!ga && !gb) break;
    if (!ga) la = "(end)";
    if (!gb) lb = "(end)";
    if (la != lb) {
      out += "    packaged: " + la + "\n    after olddefconfig: " + lb + "\n";
      ++shown;
    }
  }
  return out;
}

Status prepare_tree(const KernelProfile& p, const fs::path& source_deb, const PrepareOptions& opts) {
  StepClock& clock = *opts.clock;
  fs::path log = p.kdir / "tree.log";
  std::error_code ec;
  fs::remove(log, ec);
  ProcessOptions po{.cwd = p.tree, .log = log};

  if (source_deb.filename().string().find("_" + p.version + "_") == std::string::npos)
    return Error(Errc::internal, source_deb.string() + " is not the linux-source of " + p.abi + "'s own version " + p.version);
  {
    StepTimer untar(clock, "prepare:untar", "unpacking " + source_deb.filename().string() + " into " + p.tree.string());
    NR_TRY(auto tarball, source_tarball_in(source_deb));
    fs::create_directories(p.tree);
    std::string script = "set -o pipefail; dpkg-deb --fsys-tarfile " + shell_quote(source_deb.string()) +
                         " | tar -xO " + shell_quote(tarball) +
                         " | tar -xJ --strip-components=1 -C " + shell_quote(p.tree.string());
    NR_TRY_STATUS(run_checked({"bash", "-c", script}, {.log = log}));
  }

  auto make = make_command(p, opts.jobs);
  {
    StepTimer configure(clock, "prepare:config", "exact config from linux-headers-" + p.abi + ", make olddefconfig");
    NR_TRY(auto packaged, read_text(p.headers / ".config"));
    std::string config = with_default_sig_key(packaged);
    NR_TRY_STATUS(write_text(p.tree / ".config", config));
    auto olddef = make;
    olddef.push_back("olddefconfig");
    NR_TRY_STATUS(run_checked(olddef, po));
    NR_TRY(auto after, read_text(p.tree / ".config"));
    if (after != config)
      return Error(Errc::invalid_input,
                   "make olddefconfig changed the packaged config of " + p.abi +
                       ", so objects built here would not match the shipped kernel:\n" +
                       config_difference(config, after) +
                       "  check that linux-source and linux-headers-" + p.abi +
                       " are the same Debian version and that CC=" + p.cc + " is installed");
  }

  StepTimer prepare(clock, "prepare:make", "make prepare modules_prepare (about 25 s)");
  auto prep = make;
  prep.insert(prep.end(), {"prepare", "modules_prepare"});
  NR_TRY_STATUS(run_checked(prep, po));
  // One warm-up compile builds the host tools a first object needs (objtool, resolve_btfids),
  // so that no build pays for them later.
  auto warm = make;
  warm.push_back("lib/ctype.o");
  NR_TRY_STATUS(run_checked(warm, po));
  fs::copy_file(p.headers / "Module.symvers", p.tree / "Module.symvers",
                fs::copy_options::overwrite_existing, ec);
  if (ec) return Error(Errc::io, "cannot copy Module.symvers from " + p.headers.string() + ": " + ec.message());
  ::sync();
  return ok_status();
}

}  // namespace

Result<std::string> source_tarball_in(const fs::path& source_deb) {
  NR_TRY(auto listing, run_checked({"dpkg-deb", "-c", source_deb.string()}, {.capture_stdout = true}));
  std::istringstream in(listing);
  std::string line;
  while (std::getline(in, line)) {
    auto pos = line.find("./usr/src/linux-source-");
    if (pos != std::string::npos && line.find(".tar.xz", pos) != std::string::npos) return line.substr(pos);
  }
  return Error(Errc::invalid_input, source_deb.string() + " holds no usr/src/linux-source-*.tar.xz; is it a linux-source package?");
}

std::string tree_stamp(const std::string& abi, const std::string& version) { return abi + " " + version + "\n"; }

Result<KernelProfile> prepare_debian(const std::string& spec, const PrepareOptions& opts) {
  const std::string prefix = "debian:";
  if (spec.rfind(prefix, 0) != 0 || spec.size() == prefix.size())
    return Error(Errc::invalid_argument, "--kernel '" + spec +
                                             "': expected debian:ABI (e.g. debian:6.1.0-56-amd64) or debian:current");
  std::string abi = spec.substr(prefix.size());
  StepClock& clock = *opts.clock;
  std::string fetch_output;

  // Warm path: an explicit ABI whose tree is complete needs no package look-up at all; the
  // paths kernel-fetch printed when the tree was made are kept in fetch.env (apt-cache alone
  // costs 1-4 s, most of a warm build's budget).
  std::map<std::string, std::string> vars;
  fs::path known = cache_root() / "kernels" / abi;
  if (abi != "current" && fs::exists(known / "tree.done") && fs::exists(known / "fetch.env")) {
    NR_TRY(auto env, read_text(known / "fetch.env"));
    vars = parse_assignments(env);
    auto done = read_text(known / "tree.done");
    if (!done.ok() || done.value() != tree_stamp(abi, vars["NR_VERSION"])) vars.clear();  // made by an older builder
  }
  if (vars["NR_KDIR"].empty() || vars["NR_VERSION"].empty() || !fs::exists(vars["NR_HEADERS"])) {
    StepTimer fetching(clock, "fetch", "kernel packages for " + abi + " (scripts/kernel-fetch)");
    fs::path fetch = opts.kernel_fetch.empty() ? find_kernel_fetch() : opts.kernel_fetch;
    NR_TRY(auto r, run_process({fetch.string(), "--abi", abi, "--source", "--dbg"}, {.capture_stdout = true}));
    if (r.exit_code == 3)
      return Error(Errc::unavailable, "Debian's archive does not serve everything a build of " + abi +
                                          " needs (headers, -dbg and the linux-source of its exact version; "
                                          "the message above names what is missing): it cannot be built from its own source");
    if (r.exit_code != 0)
      return Error(r.exit_code == 2 ? Errc::invalid_argument : Errc::io,
                   fetch.string() + " --abi " + abi + " --source --dbg failed (exit " + std::to_string(r.exit_code) +
                       "); its message is above");
    vars = parse_assignments(r.out);
    for (const char* k : {"NR_ABI", "NR_VERSION", "NR_KDIR", "NR_HEADERS", "NR_SOURCE_DEB", "NR_MODDIR"})
      if (vars[k].empty())
        return Error(Errc::internal, fetch.string() + " printed no " + k + "; is it the project's kernel-fetch?");
    fetch_output = r.out;
  }

  KernelProfile p;
  p.abi = vars["NR_ABI"];
  p.version = vars["NR_VERSION"];
  p.kdir = vars["NR_KDIR"];
  p.headers = vars["NR_HEADERS"];
  p.vmlinuz = vars["NR_VMLINUZ"];
  p.vmlinux = vars["NR_VMLINUX"];
  p.moddir = vars["NR_MODDIR"];
  p.tree = p.kdir / "tree";
  p.from_debian = true;

  fs::path done = p.kdir / "tree.done";
  NR_TRY(auto lock,
         FileLock::acquire(p.kdir / ".tree.lock", {.holder = "noreboot-build", .why = "preparing the kernel tree"}));
  auto remember = [&]() -> Status {
    if (fetch_output.empty()) return ok_status();
    return write_text(p.kdir / "fetch.env", fetch_output);
  };
  std::string stamp = tree_stamp(p.abi, p.version);
  auto recorded = read_text(done);
  if (recorded.ok() && recorded.value() == stamp && fs::exists(p.tree / "Module.symvers")) {
    NR_TRY_STATUS(remember());
    return p;
  }
  std::error_code ec;
  if (fs::exists(p.tree)) {
    if (recorded.ok())
      log::info("[prepare] removing {}: it was prepared from another source ({}) than {}'s own, {}", p.tree.string(),
                recorded.value().empty() ? "unrecorded" : recorded.value().substr(0, recorded.value().size() - 1),
                p.abi, p.version);
    else
      log::info("[prepare] removing {}: an earlier prepare did not finish", p.tree.string());
    StepTimer clean(clock, "prepare:clean", "removing the incomplete tree");
    fs::remove(done, ec);
    fs::remove_all(p.tree, ec);
    if (ec) return Error(Errc::io, "cannot remove the incomplete tree " + p.tree.string() + ": " + ec.message());
  }
  if (auto st = prepare_tree(p, vars["NR_SOURCE_DEB"], opts); !st.ok()) {
    return std::move(st).error().context("preparing " + p.abi + " (the unfinished tree is removed by the next run)");
  }
  NR_TRY_STATUS(write_text(done, stamp));
  NR_TRY_STATUS(remember());
  return p;
}

Result<KernelProfile> profile_from_tree(const fs::path& dir) {
  std::error_code ec;
  fs::path tree = fs::canonical(dir, ec);
  if (ec) return Error(Errc::not_found, "--tree " + dir.string() + ": " + ec.message());
  auto rel = read_text(tree / "include/config/kernel.release");
  if (!rel.ok() || !fs::exists(tree / ".config"))
    return Error(Errc::invalid_argument,
                 "--tree " + tree.string() + " is not a configured and prepared kernel tree "
                 "(no .config or include/config/kernel.release): run `make olddefconfig prepare modules_prepare` in it");
  KernelProfile p;
  p.abi = rel.value();
  while (!p.abi.empty() && (p.abi.back() == '\n' || p.abi.back() == ' ')) p.abi.pop_back();
  // A tree prepared with KERNELRELEASE= on the command line (Debian's, ours) keeps only the
  // version in kernel.release ("6.1.192"); the release it was prepared with is UTS_RELEASE,
  // and a make with any other KERNELRELEASE would rewrite utsrelease.h.
  if (auto uts = read_text(tree / "include/generated/utsrelease.h"); uts.ok()) {
    auto q = uts->find("UTS_RELEASE \"");
    auto end = q == std::string::npos ? q : uts->find('"', q + 13);
    if (end != std::string::npos) p.abi = uts->substr(q + 13, end - q - 13);
  }
  p.tree = tree;
  if (fs::exists(tree / "vmlinux")) p.vmlinux = tree / "vmlinux";
  if (fs::exists(tree / "arch/x86/boot/bzImage")) p.vmlinuz = tree / "arch/x86/boot/bzImage";
  return p;
}

}  // namespace noreboot::builder
