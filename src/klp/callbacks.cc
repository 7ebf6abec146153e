// See callbacks.h.
#include "klp/callbacks.h"

#include <map>
#include <utility>

namespace noreboot::klp {

namespace {

constexpr std::string_view kPrefix = "__noreboot_cb_";
constexpr std::pair<CallbackKind, const char*> kKinds[] = {
    {CallbackKind::pre_patch, "pre_patch"},
    {CallbackKind::post_patch, "post_patch"},
    {CallbackKind::pre_unpatch, "pre_unpatch"},
    {CallbackKind::post_unpatch, "post_unpatch"},
};

bool valid_object_name(const std::string& n) {
  if (n.empty() || n.size() > 55) return false;
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

}  // namespace

const char* callback_field(CallbackKind kind) {
  for (const auto& [k, name] : kKinds)
    if (k == kind) return name;
  return "?";
}

Result<std::vector<Callback>> find_callbacks(const elf::Object& obj, const std::string& target, const std::string& what) {
  std::vector<Callback> out;
  std::string refusals;
  for (const auto& s : obj.symbols) {
    if (s.name.compare(0, kPrefix.size(), kPrefix) != 0 || !s.is_defined_in_section()) continue;
    std::string rest = s.name.substr(kPrefix.size());
    size_t sep = rest.find("__");
    bool known = false;
    Callback cb;
    if (sep != std::string::npos) {
      for (const auto& [k, name] : kKinds)
        if (rest.compare(0, sep, name) == 0 && sep == std::string(name).size()) {
          cb.kind = k;
          known = true;
        }
      cb.object = rest.substr(sep + 2);
    }
    if (cb.object == "this_object") cb.object = target;
    if (!known || !valid_object_name(cb.object) || s.type() != elf::STT_FUNC) {
      refusals += (refusals.empty() ? "" : "\n") + what + ": " + s.name +
                  ": not a callback noreboot knows: declare callbacks only with the macros of <noreboot/livepatch.h> "
                  "(NOREBOOT_PRE_PATCH_CALLBACK(object, fn) and the like), whose names this prefix is reserved for";
      continue;
    }
    if (cb.object != target && target != "vmlinux") {
      refusals += (refusals.empty() ? "" : "\n") + what + ": " + s.name + ": a callback for object " + cb.object +
                  " declared in a unit of " + target + ": its code is relocated only while " + target +
                  " is loaded, but it would run whenever " + cb.object +
                  " is patched; declare it in a file of " + cb.object + " or of vmlinux";
      continue;
    }
    cb.symbol = s.name;
    cb.what = what;
    out.push_back(std::move(cb));
  }
  if (!refusals.empty()) return Error(Errc::unsupported, refusals);
  return out;
}

Status check_unique_callbacks(const std::vector<Callback>& callbacks) {
  std::map<std::pair<std::string, CallbackKind>, const Callback*> seen;
  std::string refusals;
  for (const auto& cb : callbacks) {
    auto [it, fresh] = seen.emplace(std::make_pair(cb.object, cb.kind), &cb);
    if (!fresh)
      refusals += (refusals.empty() ? "" : "\n") + cb.what + " and " + it->second->what + " both declare a " +
                  callback_field(cb.kind) + " callback for " + cb.object +
                  ": the kernel has one per object; call both functions from one callback";
  }
  if (!refusals.empty()) return Error(Errc::unsupported, refusals);
  return ok_status();
}

}  // namespace noreboot::klp
