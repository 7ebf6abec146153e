#include "builder/units.h"

#include <fstream>
#include <sstream>

#include "core/file_io.h"

namespace noreboot::builder {
namespace fs = std::filesystem;

namespace {

std::string base_name(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

}  // namespace

std::string object_of(const std::string& source) { return source.substr(0, source.size() - 2) + ".o"; }

std::string cmd_file_of(const std::string& object) {
  auto slash = object.rfind('/');
  std::string dir = slash == std::string::npos ? "" : object.substr(0, slash + 1);
  return dir + "." + base_name(object) + ".cmd";
}

std::string format_refusal(const Refusal& r) {
  return "refused: " + r.what + ": " + r.reason + "\n  what to do: " + r.todo;
}

TouchedFiles classify_files(const PatchSet& patch) {
  TouchedFiles out;
  for (const auto& f : patch.files) {
    const std::string& p = f.path;
    const std::string base = base_name(p);
    if (p.starts_with("Documentation/") || p.ends_with(".rst") || p.ends_with(".txt") || base == "MAINTAINERS" ||
        base == "CREDITS") {
      out.ignored.push_back(p + ": documentation, not kernel code");
      continue;
    }
    if (p.starts_with("tools/") || p.starts_with("samples/")) {
      out.ignored.push_back(p + ": userspace tools and samples are not part of the running kernel");
      continue;
    }
    if (f.kind != ChangeKind::modified) {
      out.refusals.push_back({p, "the fix " + std::string(change_kind_name(f.kind)) +
                                     " a file; that changes which objects the kernel is built from",
                              "change existing .c files only (put new functions into the .c file that uses them)"});
      continue;
    }
    if (p.ends_with(".c")) {
      out.sources.push_back(p);
    } else if (p.ends_with(".h")) {
      out.headers.push_back(p);  // header_units.h finds the units it reaches
    } else if (p.ends_with(".S") || p.ends_with(".s")) {
      out.refusals.push_back({p, "assembly is not compared function by function, so a change in it cannot be patched safely",
                              "fix it in C, or ship it with a new kernel"});
    } else if (base == "Makefile" || base == "Kbuild" || base.starts_with("Kconfig") || p.ends_with(".mk")) {
      out.refusals.push_back({p, "build and configuration files decide how the kernel was built; a running kernel cannot change that",
                              "ship it with a new kernel; keep the livepatch to .c changes"});
    } else {
      out.refusals.push_back({p, "not a C source file; noreboot patches functions compiled from .c files only",
                              "leave this file out of the livepatch and ship it with a new kernel"});
    }
  }
  return out;
}

Result<std::string> read_recorded_command(const fs::path& tree, const std::string& object) {
  fs::path cmd_file = tree / cmd_file_of(object);
  if (!fs::exists(cmd_file))
    return Error(Errc::not_found, cmd_file.string() + " does not exist (Kbuild has not compiled " + object + ")");
  std::ifstream in(cmd_file);
  std::string line;
  std::getline(in, line);
  const std::string key = "cmd_" + object + " := ";
  if (!line.starts_with(key))
    return Error(Errc::invalid_input, cmd_file.string() + ": first line is not 'cmd_" + object + " := ...'");
  std::string raw = line.substr(key.size()), cmd;
  // Undo make's escaping of the recorded command: $$ -> $, \# -> #.
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '$' && i + 1 < raw.size() && raw[i + 1] == '$') { cmd += '$'; ++i; }
    else if (raw[i] == '\\' && i + 1 < raw.size() && raw[i + 1] == '#') { cmd += '#'; ++i; }
    else cmd += raw[i];
  }
  return cmd;
}

Status resolve_owner(Unit& unit, const fs::path& modules_order) {
  const std::string& c = unit.command;
  unit.in_module = c.find(" -DMODULE ") != std::string::npos;
  if (!unit.in_module) {
    unit.owner = "vmlinux";
    return ok_status();
  }
  const std::string key = "-DKBUILD_MODNAME='\"";
  auto pos = c.find(key);
  if (pos == std::string::npos)
    return Error(Errc::invalid_input, unit.object + ": the recorded command has -DMODULE but no -DKBUILD_MODNAME");
  auto end = c.find('"', pos + key.size());
  std::string name = c.substr(pos + key.size(), end - pos - key.size());
  for (auto& ch : name)
    if (ch == '-') ch = '_';
  unit.owner = name;
  if (modules_order.empty()) return ok_status();
  std::ifstream in(modules_order);
  if (!in) return Error(Errc::not_found, "cannot read " + modules_order.string());
  std::string line;
  while (std::getline(in, line)) {
    std::string mod = base_name(line);
    if (mod.ends_with(".ko")) mod.resize(mod.size() - 3);
    for (auto& ch : mod)
      if (ch == '-') ch = '_';
    if (mod == name) return ok_status();
  }
  return Error(Errc::unsupported, unit.source + " belongs to module " + name +
                                      ", which this kernel does not ship (not in " + modules_order.string() +
                                      "): the fix touches code the target kernel does not run");
}

}  // namespace noreboot::builder
