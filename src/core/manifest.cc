#include "core/manifest.h"

#include <nlohmann/json.hpp>

#include <ctime>
#include <set>
#include <vector>

#include "core/bytes.h"
#include "core/json_fields.h"

namespace noreboot {

namespace {

using Json = nlohmann::json;
using json_fields::FieldReader;
using json_fields::valid_rfc3339_utc;

Status check_fields(const Manifest& m, std::string_view source) {
  auto bad = [&](std::string_view field, std::string_view what) {
    return Error(Errc::invalid_input,
                 std::string(source) + ": field '" + std::string(field) + "' " + std::string(what));
  };
  if (m.format_version != kManifestFormatVersion)
    return bad("format_version", "is " + std::to_string(m.format_version) + "; this noreboot reads version " +
                                     std::to_string(kManifestFormatVersion) + " (upgrade noreboot to read newer bundles)");
  if (!valid_module_name(m.name))
    return bad("name", "'" + m.name + "' is not a valid kernel module name (1-55 of A-Z a-z 0-9 _)");
  if (m.sequence == 0) return bad("sequence", "must be at least 1");
  if (m.kernel.release.empty()) return bad("kernel.release", "must not be empty");
  if (m.kernel.version.empty()) return bad("kernel.version", "must not be empty");
  if (m.kernel.build_id.empty() || m.kernel.build_id.size() % 2 != 0 || !is_lower_hex(m.kernel.build_id))
    return bad("kernel.build_id", "must be the build ID in lowercase hex");
  if (m.kernel.arch.empty()) return bad("kernel.arch", "must not be empty");
  if (m.module.file != m.name + ".ko")
    return bad("module.file", "is '" + m.module.file + "' but must be '" + m.name + ".ko' (the patch name)");
  if (m.module.sha256.size() != 64 || !is_lower_hex(m.module.sha256))
    return bad("module.sha256", "must be 64 lowercase hex digits");
  if (m.module.size == 0) return bad("module.size", "must be at least 1");
  if (m.module.vermagic.empty()) return bad("module.vermagic", "must not be empty");
  for (size_t i = 0; i < m.fixes.size(); ++i)
    if (m.fixes[i].id.empty()) return bad("fixes[" + std::to_string(i) + "].id", "must not be empty");
  for (size_t i = 0; i < m.sources.size(); ++i) {
    if (m.sources[i].name.empty()) return bad("sources[" + std::to_string(i) + "].name", "must not be empty");
    if (m.sources[i].text.empty()) return bad("sources[" + std::to_string(i) + "].patch", "must not be empty");
  }
  if (m.builder_version.empty()) return bad("builder_version", "must not be empty");
  if (!valid_rfc3339_utc(m.created))
    return bad("created", "'" + m.created + "' is not an RFC 3339 UTC time like 2026-11-23T00:15:00Z");
  return ok_status();
}

Result<Manifest> parse_json_manifest(const Json& root, const std::string& src) {
  if (!root.is_object()) return Error(Errc::invalid_input, src + ": must be a JSON object");
  FieldReader r(root, src, "");
  Manifest m;
  NR_TRY(auto fv, r.unsigned_number("format_version"));
  if (fv != static_cast<std::uint64_t>(kManifestFormatVersion))
    return r.error("format_version", "is " + std::to_string(fv) + "; this noreboot reads version " +
                                         std::to_string(kManifestFormatVersion) +
                                         " (upgrade noreboot to read newer bundles)");
  m.format_version = static_cast<int>(fv);
  NR_TRY(m.name, r.string("name"));
  NR_TRY(m.sequence, r.unsigned_number("sequence"));
  NR_TRY(auto k, r.object("kernel"));
  NR_TRY(m.kernel.release, k.string("release"));
  NR_TRY(m.kernel.version, k.string("version"));
  NR_TRY(m.kernel.build_id, k.string("build_id"));
  NR_TRY(m.kernel.arch, k.string("arch"));
  NR_TRY(auto mod, r.object("module"));
  NR_TRY(m.module.file, mod.string("file"));
  NR_TRY(m.module.sha256, mod.string("sha256"));
  NR_TRY(m.module.size, mod.unsigned_number("size"));
  NR_TRY(m.module.vermagic, mod.string("vermagic"));
  NR_TRY(const Json* fixes, r.get("fixes"));
  if (!fixes->is_array()) return r.error("fixes", "must be an array");
  for (size_t i = 0; i < fixes->size(); ++i) {
    std::string key = "fixes[" + std::to_string(i) + "]";
    const Json& f = (*fixes)[i];
    if (!f.is_object()) return r.error(key, "must be an object {\"id\", \"description\"}");
    FieldReader fr(f, src, key);
    Fix fix;
    NR_TRY(fix.id, fr.string("id"));
    NR_TRY(fix.description, fr.string("description", true));
    m.fixes.push_back(std::move(fix));
  }
  if (root.contains("sources")) {
    NR_TRY(const Json* sources, r.get("sources"));
    if (!sources->is_array()) return r.error("sources", "must be an array");
    for (size_t i = 0; i < sources->size(); ++i) {
      std::string key = "sources[" + std::to_string(i) + "]";
      const Json& f = (*sources)[i];
      if (!f.is_object()) return r.error(key, "must be an object {\"name\", \"patch\"}");
      FieldReader fr(f, src, key);
      SourcePatch sp;
      NR_TRY(sp.name, fr.string("name"));
      NR_TRY(sp.text, fr.string("patch"));
      m.sources.push_back(std::move(sp));
    }
  }
  NR_TRY(m.builder_version, r.string("builder_version"));
  NR_TRY(m.created, r.string("created"));
  NR_TRY_STATUS(check_fields(m, src));
  return m;
}

}  // namespace

// The one rule for a livepatch module's name, used by the builder (--name, and the name it
// makes from the fix's file name), the module generator, the bundle reader and the fix record:
// 1-55 characters of [A-Za-z0-9_].
// Why 55: the kernel keeps a module's name in struct module::name[MODULE_NAME_LEN], with
// MODULE_NAME_LEN = 64 - sizeof(unsigned long) = 56 on 64-bit, NUL included, and modpost
// refuses a longer one ("module name is too long"). Why these characters: the name is the .ko's
// file name, KBUILD_MODNAME (kbuild turns '-' and ',' into '_'), a folder under /sys/module and
// /sys/kernel/livepatch, and part of C identifiers in the generated source; [A-Za-z0-9_] is what
// every one of them takes unchanged.
bool valid_module_name(std::string_view name) {
  if (name.empty() || name.size() > 55) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

Result<Manifest> parse_manifest(std::string_view text, std::string_view source) {
  std::string src(source);
  NR_TRY(Json root, json_fields::parse_strict(text, src));
  try {
    return parse_json_manifest(root, src);
  } catch (const std::exception& e) {  // nlohmann type errors should not happen after the checks
    return Error(Errc::invalid_input, src + ": " + e.what());
  }
}

Status validate_manifest(const Manifest& manifest) { return check_fields(manifest, "manifest"); }

std::string serialize_manifest(const Manifest& m) {
  nlohmann::ordered_json j;
  j["format_version"] = m.format_version;
  j["name"] = m.name;
  j["sequence"] = m.sequence;
  j["kernel"] = {{"release", m.kernel.release},
                 {"version", m.kernel.version},
                 {"build_id", m.kernel.build_id},
                 {"arch", m.kernel.arch}};
  j["module"] = {{"file", m.module.file},
                 {"sha256", m.module.sha256},
                 {"size", m.module.size},
                 {"vermagic", m.module.vermagic}};
  j["fixes"] = nlohmann::ordered_json::array();
  for (const auto& f : m.fixes) j["fixes"].push_back({{"id", f.id}, {"description", f.description}});
  if (!m.sources.empty()) {
    j["sources"] = nlohmann::ordered_json::array();
    for (const auto& sp : m.sources) j["sources"].push_back({{"name", sp.name}, {"patch", sp.text}});
  }
  j["builder_version"] = m.builder_version;
  j["created"] = m.created;
  // Replace invalid UTF-8 rather than throw: serialize must not fail on odd text from a person.
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

namespace {
std::string format_utc(std::int64_t unix_seconds, const char* format) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}
}  // namespace

std::string rfc3339_utc(std::int64_t unix_seconds) { return format_utc(unix_seconds, "%Y-%m-%dT%H:%M:%SZ"); }

std::string readable_utc(std::int64_t unix_seconds) {
  return unix_seconds <= 0 ? "-" : format_utc(unix_seconds, "%Y-%m-%d %H:%M:%SZ");
}

std::string rfc3339_utc_now() { return rfc3339_utc(static_cast<std::int64_t>(std::time(nullptr))); }

}  // namespace noreboot
