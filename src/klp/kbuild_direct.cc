// See kbuild_direct.h.
#include "klp/kbuild_direct.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/file_io.h"
#include "core/log.h"
#include "core/file_lock.h"
#include "core/process.h"

namespace noreboot::klp {
namespace fs = std::filesystem;

namespace {

constexpr const char* kTemplateName = "nrklptemplate";

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) s.replace(pos, from.size(), to);
}

// The command of a Kbuild .cmd file: its first line, "cmd_<target> := <command>".
Result<std::string> read_cmd(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  if (!f || !std::getline(f, line)) return Error(Errc::not_found, path + ": Kbuild wrote no command file");
  auto pos = line.find(" := ");
  if (line.rfind("cmd_", 0) != 0 || pos == std::string::npos)
    return Error(Errc::invalid_input, path + ": unexpected first line");
  std::string cmd = line.substr(pos + 4);
  replace_all(cmd, "$$", "$");
  return cmd;
}

Result<LinkRecipe> parse_recipe(const std::string& path) {
  std::ifstream f(path);
  if (!f) return Error(Errc::not_found, path + ": no recipe");
  LinkRecipe r;
  std::string line;
  while (std::getline(f, line)) {
    auto tab = line.find('\t');
    if (tab == std::string::npos) continue;
    std::string key = line.substr(0, tab), value = line.substr(tab + 1);
    if (key == "stub") r.stub = value;
    else if (key == "link") r.link = value;
    else if (key == "modpost") r.modpost = value;
    else if (key == "modc") r.modc = value;
    else if (key == "ko") r.ko = value;
  }
  if (r.stub.empty() || r.link.empty() || r.modpost.empty() || r.modc.empty() || r.ko.empty())
    return Error(Errc::invalid_input, path + ": incomplete link recipe; delete it to record it again");
  return r;
}

}  // namespace

Result<LinkRecipe> ensure_link_recipe(const KernelFiles& k, const std::string& cc) {
  std::string dir = k.kdir + "/klp-kbuild";
  std::string path = dir + "/recipe-" + cc;
  if (fs::exists(path)) return parse_recipe(path);
  std::error_code ec;
  fs::create_directories(k.kdir, ec);
  NR_TRY(auto lock, FileLock::acquire(k.kdir + "/klp-kbuild.lock"));
  if (fs::exists(path)) return parse_recipe(path);
  std::string tmp = dir + ".tmp." + std::to_string(::getpid());
  fs::remove_all(tmp, ec);
  std::string work = tmp + "/w";
  fs::create_directories(work, ec);
  if (ec) return Error(Errc::io, work + ": " + ec.message());
  log::info("klp: recording Kbuild's module link commands for {} (once per kernel)", k.abi);
  NR_TRY_STATUS(write_text(work + "/noreboot_stub.c",
                           "#include <linux/module.h>\nstatic int __init t_init(void) { return 0; }\n"
                           "module_init(t_init);\nMODULE_LICENSE(\"GPL\");\n"));
  NR_TRY_STATUS(write_text(work + "/Kbuild", std::string("obj-m := ") + kTemplateName + ".o\n" + kTemplateName +
                                                 "-y := noreboot_stub.o\n"));
  auto log_out = run_shell("make -C " + shell_quote(k.headers) + " M=" + shell_quote(work) + " CC=" + shell_quote(cc) +
                               " V=1 modules",
                           "Kbuild (recording the module link)");
  if (!log_out) {
    fs::remove_all(tmp, ec);
    return std::move(log_out).error();
  }
  std::string modpost;
  std::istringstream lines(*log_out);
  for (std::string l; std::getline(lines, l);)
    if (l.find("scripts/mod/modpost") != std::string::npos) modpost = l.substr(l.find_first_not_of(' '));
  std::string name = kTemplateName;
  NR_TRY(auto stub, read_cmd(work + "/.noreboot_stub.o.cmd"));
  NR_TRY(auto link, read_cmd(work + "/." + name + ".o.cmd"));
  NR_TRY(auto modc, read_cmd(work + "/." + name + ".mod.o.cmd"));
  NR_TRY(auto ko, read_cmd(work + "/." + name + ".ko.cmd"));
  if (modpost.empty()) {
    fs::remove_all(tmp, ec);
    return Error(Errc::invalid_input, "Kbuild's verbose output shows no modpost command");
  }
  std::string recipe;
  for (auto [key, cmd] : std::vector<std::pair<std::string, std::string>>{
           {"stub", stub}, {"link", link}, {"modpost", modpost}, {"modc", modc}, {"ko", ko}}) {
    replace_all(cmd, work, "@DIR@");
    replace_all(cmd, name, "@NAME@");
    recipe += key + "\t" + cmd + "\n";
  }
  NR_TRY_STATUS(write_text(tmp + "/recipe-" + cc, recipe));
  fs::remove_all(work, ec);
  fs::remove_all(dir, ec);
  fs::rename(tmp, dir, ec);
  if (ec) return Error(Errc::io, dir + ": " + ec.message());
  return parse_recipe(path);
}

Status link_direct(const LinkRecipe& r, const KernelFiles& k, const std::string& workdir,
                   const std::string& module_name, const std::vector<std::string>& parts) {
  std::string mod_list = workdir + "/noreboot_stub.o\n";
  for (const auto& p : parts) mod_list += workdir + "/" + p + "\n";
  NR_TRY_STATUS(write_text(workdir + "/" + module_name + ".mod", mod_list));
  NR_TRY_STATUS(write_text(workdir + "/modules.order", workdir + "/" + module_name + ".ko\n"));
  // modpost opens every part's .cmd file (Kbuild's fixdep writes them); it reads source
  // dependencies there only for srcversion, which this kernel's config does not use.
  NR_TRY_STATUS(write_text(workdir + "/.noreboot_stub.o.cmd", "cmd_noreboot_stub.o := noreboot direct link\n"));
  std::string script = "cd " + shell_quote(k.headers);
  for (std::string cmd : {r.stub, r.link, r.modpost, r.modc, r.ko}) {
    replace_all(cmd, "@DIR@", workdir);
    replace_all(cmd, "@NAME@", module_name);
    script += " && { " + cmd + "; }";
  }
  NR_TRY(auto out, run_shell(script, "direct module link of " + module_name));
  (void)out;
  if (!fs::exists(workdir + "/" + module_name + ".ko"))
    return Error(Errc::io, "direct module link of " + module_name + " produced no .ko");
  return ok_status();
}

}  // namespace noreboot::klp
