#include "builder/livepatch.h"

#include <cctype>
#include <cstdlib>
#include <sstream>

#include "core/bundle.h"
#include "core/file_io.h"
#include "core/kernel_identity.h"
#include "core/keys.h"
#include "core/log.h"
#include "core/manifest.h"

#include "diff/differ.h"
#include "elf/object.h"
#include "klp/module_gen.h"
#include "klp/symbol_cache.h"

namespace noreboot::builder {
namespace fs = std::filesystem;

std::string default_module_name(const fs::path& patch) {
  std::string stem = patch.stem().string(), out = "nr_";
  for (char c : stem) out += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
  if (out.size() > 55) out.resize(55);  // the module name rule: core/manifest.cc, valid_module_name
  return out;
}

fs::path default_key_path() {
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) return fs::path(x) / "noreboot/publisher.key";
  const char* home = std::getenv("HOME");
  return fs::path(home ? home : "/root") / ".config/noreboot/publisher.key";
}

Result<SecretKey> load_publisher_key(const fs::path& key, std::string& note) {
  fs::path key_path = key.empty() ? default_key_path() : key;
  if (key.empty() && !fs::exists(key_path)) {
    std::error_code ec;
    fs::create_directories(key_path.parent_path(), ec);
    auto generated = SecretKey::generate("noreboot-build default publisher key");
    fs::path prefix = key_path;
    prefix.replace_extension();
    NR_TRY_STATUS(save_key_pair(prefix, generated));
    note = " (created the publisher key " + key_path.string() + "; hosts must trust " + prefix.string() + ".pub)";
  }
  return load_secret_key(key_path);
}

Result<DiffSummary> diff_units(const std::vector<CompiledUnit>& units, const fs::path& work) {
  DiffSummary summary;
  for (const auto& cu : units) {
    if (cu.identical) continue;
    NR_TRY(auto orig, elf::read_object_file(cu.original.string()));
    NR_TRY(auto patched, elf::read_object_file(cu.patched.string()));
    diff::DiffOptions opts;
    opts.orig_name = "original " + cu.unit.object;
    opts.patched_name = "patched " + cu.unit.object;
    auto r = diff::diff_objects(orig, patched, opts);
    if (!r.ok()) return std::move(r).error().context("diff of " + cu.unit.source);
    for (const auto& ref : r->refused)
      summary.refusals.push_back({cu.unit.source + ": " + ref.symbol, ref.reason, ref.hint});
    for (const auto& name : r->removed)
      log::info("[diff] {}: {} no longer exists in the patched file (the old code stays in place)",
                cu.unit.source, name);
    if (!r->refused.empty() || r->no_change()) {
      if (r->no_change()) log::info("[diff] {}: no function changed", cu.unit.source);
      continue;
    }
    UnitDiff ud;
    ud.unit = cu;
    ud.changed = r->changed;
    ud.added = r->added;
    for (const auto& f : r->functions)
      if (f.kind == diff::ChangeKind::changed) ud.replaced.emplace_back(f.patched_name, f.name);
    for (const auto& ref : r->references)
      if (ref.bind == 0 /* STB_LOCAL */) ud.local_references.push_back(ref.name);
    if (!r->has_output) return Error(Errc::internal, "the differ found changes in " + cu.unit.source + " but wrote no object");
    ud.output = work / "diff" / cu.unit.object;
    std::error_code ec;
    fs::create_directories(ud.output.parent_path(), ec);
    NR_TRY_STATUS(elf::write_object_file(r->output, ud.output.string()));
    std::string what;
    for (const auto& c : ud.changed) what += " " + c;
    for (const auto& a : ud.added) what += " +" + a;
    log::info("[diff] {} ({}):{}", cu.unit.source, cu.unit.owner, what);
    summary.units.push_back(std::move(ud));
  }
  return summary;
}

Result<fs::path> make_module(const KernelProfile& profile, const DiffSummary& diffs, const std::string& module_name,
                             const fs::path& work) {
  if (!profile.from_debian)
    return Error(Errc::unsupported, "livepatch modules are made for Debian kernel profiles only for now "
                                    "(--kernel debian:ABI): the symbol index comes from the -dbg package");
  klp::ModuleRequest req;
  req.module_name = module_name;
  req.description = "noreboot livepatch " + module_name;
  req.kernel = klp::kernel_files_for(profile.abi);
  req.workdir = (work / "klp").string();
  req.output = (work / (module_name + ".ko")).string();
  req.cc = profile.cc;
  for (const auto& ud : diffs.units) {
    klp::PatchObject po;
    po.path = ud.output.string();
    po.input.target = ud.unit.unit.owner;
    for (const auto& [patched, kernel] : ud.replaced) po.input.functions.push_back({patched, kernel});
    for (const auto& ref : ud.local_references) po.input.references[ref] = klp::ReferenceInfo{true, ""};
    req.objects.push_back(std::move(po));
  }
  auto r = klp::build_livepatch_module(req);
  if (!r.ok()) return std::move(r).error().context("livepatch module " + module_name);
  for (const auto& t : r->times) log::info("[klp] {}: {} s", t.step, t.seconds);
  log::info("[klp] {}: {} livepatch relocation(s)", r->ko, r->klp_relocations);
  return fs::path(r->ko);
}

namespace {

// read_kernel_image reads and hashes a 65 MB vmlinux (0.8 s here); the identity is cached in
// the kernel's folder, keyed by the image's size and modification time.
Result<KernelIdentity> cached_image_identity(const KernelProfile& profile, const fs::path& image) {
  std::error_code ec;
  auto size = fs::file_size(image, ec);
  auto mtime = fs::last_write_time(image, ec).time_since_epoch().count();
  if (ec) return Error(Errc::not_found, "cannot read the kernel image " + image.string() + ": " + ec.message());
  std::string key = std::to_string(size) + " " + std::to_string(mtime);
  fs::path cache = profile.kdir.empty() ? fs::path() : profile.kdir / "image-identity";
  if (!cache.empty()) {
    if (auto text = read_text(cache); text.ok()) {
      std::vector<std::string> lines;
      std::string line;
      std::istringstream in(text.value());
      while (std::getline(in, line)) lines.push_back(line);
      if (lines.size() == 5 && lines[0] == key) return KernelIdentity{lines[1], lines[2], lines[3], lines[4]};
    }
  }
  NR_TRY(auto id, read_kernel_image(image));
  if (!cache.empty())
    (void)write_text(cache, key + "\n" + id.release + "\n" + id.version + "\n" + id.build_id + "\n" + id.arch + "\n");
  return id;
}

}  // namespace

Result<std::string> write_signed_bundle(const KernelProfile& profile, const BundleRequest& req) {
  if (profile.vmlinuz.empty() && profile.vmlinux.empty())
    return Error(Errc::not_found, "no kernel image for " + profile.abi +
                                      ": the bundle's target identity is read from it (arch/x86/boot/bzImage or vmlinux)");
  fs::path image = !profile.vmlinux.empty() ? profile.vmlinux : profile.vmlinuz;
  NR_TRY(auto identity, cached_image_identity(profile, image));
  if (identity.release != profile.abi)
    return Error(Errc::invalid_input, "the image " + image.string() + " says release " + identity.release +
                                          ", the tree was prepared for " + profile.abi);
  std::string note;
  NR_TRY(auto key, load_publisher_key(req.key, note));
  NR_TRY(auto module, read_file(req.module, 64u << 20));

  Manifest m;
  m.name = req.name;
  m.sequence = req.sequence;
  m.kernel = identity;
  for (const auto& f : req.fixes) {
    bool seen = false;
    for (const auto& e : m.fixes) seen |= e.id == f.id;
    if (!seen) m.fixes.push_back(f);
  }
  m.sources = req.sources;
  m.builder_version = "noreboot-build 0.1.0";
  m.created = rfc3339_utc_now();
  NR_TRY(auto final_manifest, write_bundle(req.output, m, module, key));
  return req.output.string() + ": " + final_manifest.name + " sequence " + std::to_string(final_manifest.sequence) +
         " for " + identity.release + " (build ID " + identity.build_id.substr(0, 12) + "...), module " +
         std::to_string(module.size()) + " bytes, signed by key " + key.id() + note;
}

}  // namespace noreboot::builder
