#include "diff/cli.h"

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/command_line.h"
#include "elf/elf_types.h"
#include "elf/object.h"

namespace noreboot::diff {

namespace {

constexpr const char* kUsage =
    "usage: noreboot-build diff ORIG.o PATCHED.o [--json] [-o OUT.o]\n"
    "  Compares two objects of one source file (compiled with -ffunction-sections\n"
    "  -fdata-sections), names the changed and new functions and writes OUT.o with what a\n"
    "  livepatch needs. Exit: 0 changes, 3 refused, 4 no change, 2 usage, 1 error.\n";

}  // namespace

std::string result_json(const DiffResult& r, const std::string& output_path) {
  using nlohmann::json;
  json j;
  j["changed"] = r.changed;
  j["new"] = r.added;
  json refused = json::array();
  for (const auto& x : r.refused) refused.push_back({{"symbol", x.symbol}, {"reason", x.reason}, {"hint", x.hint}});
  j["refused"] = refused;
  j["new_data"] = r.new_data;
  j["changed_rodata"] = r.changed_rodata;
  j["removed"] = r.removed;
  json clones = json::array();
  for (const auto& c : r.clones)
    clones.push_back({{"name", c.name}, {"patched_name", c.patched_name}, {"callers", c.callers}});
  j["clones"] = clones;
  j["ignored"] = r.ignored;
  json fns = json::array();
  for (const auto& f : r.functions)
    fns.push_back({{"name", f.name}, {"patched_name", f.patched_name},
                   {"status", f.kind == ChangeKind::changed ? "changed" : "new"},
                   {"bind", elf::bind_name(f.bind)}, {"section", f.section}});
  j["functions"] = fns;
  json refs = json::array();
  for (const auto& x : r.references)
    refs.push_back({{"name", x.name}, {"bind", elf::bind_name(x.bind)}, {"type", elf::type_name(x.type)},
                    {"defined_in_object", x.defined_in_object}});
  j["references"] = refs;
  j["output"] = output_path.empty() ? json(nullptr) : json(output_path);
  j["stats"] = {{"orig_functions", r.stats.orig_functions},
                {"patched_functions", r.stats.patched_functions},
                {"orig_objects", r.stats.orig_objects},
                {"patched_objects", r.stats.patched_objects},
                {"kept_special_entries", r.stats.kept_special_entries},
                {"timings_ms", r.stats.timings_ms}};
  return j.dump(2);
}

Result<DiffCommandLine> parse_diff_command_line(const std::vector<std::string>& args) {
  DiffCommandLine c;
  cli::App app;
  app.add_flag("--json", c.json);
  app.add_option("-o,--output", c.output);
  app.add_option("FILES", c.files);
  NR_TRY(auto parsed, cli::parse_command_line(app, args));
  c.help = parsed == cli::CommandLine::help;
  if (!c.help && c.files.size() != 2)
    return Error(Errc::invalid_argument, "expected ORIG.o and PATCHED.o, got " + std::to_string(c.files.size()) + " file(s)");
  return c;
}

int run_cli(const std::vector<std::string>& args) {
  auto command_line = parse_diff_command_line(args);
  if (!command_line) {
    std::cerr << "noreboot-build diff: " << command_line.error().message() << "\n" << kUsage;
    return 2;
  }
  if (command_line->help) {
    std::cout << kUsage;
    return 0;
  }
  const std::vector<std::string>& files = command_line->files;
  const std::string& out_path = command_line->output;
  const bool json_out = command_line->json;
  // The reported timings cover the whole command: loading both objects (zero-copy, see
  // elf/mapped_file.h) and writing the output count into "total" with the differ's passes.
  using Clock = std::chrono::steady_clock;
  auto ms_since = [](Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); };
  const auto load_start = Clock::now();
  auto orig = elf::read_object_file(files[0]);
  if (!orig) {
    std::cerr << "noreboot-build diff: " << orig.error().message() << "\n";
    return 1;
  }
  auto patched = elf::read_object_file(files[1]);
  if (!patched) {
    std::cerr << "noreboot-build diff: " << patched.error().message() << "\n";
    return 1;
  }
  const double load_ms = ms_since(load_start);
  DiffOptions opt;
  opt.orig_name = files[0];
  opt.patched_name = files[1];
  opt.build_output = !out_path.empty();
  auto result = diff_objects(*orig, *patched, opt);
  if (!result) {
    std::cerr << "noreboot-build diff: " << result.error().message() << "\n";
    return 1;
  }
  DiffResult& r = *result;
  r.stats.timings_ms["load"] = load_ms;
  r.stats.timings_ms["total"] += load_ms;
  bool wrote = false;
  if (r.has_output) {
    const auto write_start = Clock::now();
    auto st = elf::write_object_file(r.output, out_path);
    if (!st.ok()) {
      std::cerr << "noreboot-build diff: " << st.error().message() << "\n";
      return 1;
    }
    r.stats.timings_ms["write"] = ms_since(write_start);
    r.stats.timings_ms["total"] += r.stats.timings_ms["write"];
    wrote = true;
  }
  if (json_out) std::cout << result_json(r, wrote ? out_path : std::string()) << "\n";
  for (const auto& x : r.refused)
    std::cerr << "noreboot-build diff: refused: " << x.symbol << ": " << x.reason << "\n  what to do: " << x.hint << "\n";
  if (!r.refused.empty()) return 3;
  if (r.changed.empty() && r.added.empty()) {
    if (!json_out) std::cerr << "noreboot-build diff: no function changed\n";
    return 4;
  }
  if (!json_out) {
    for (const auto& f : r.functions)
      std::cout << (f.kind == ChangeKind::changed ? "changed " : "new ") << f.name << "\n";
  }
  return 0;
}

}  // namespace noreboot::diff
