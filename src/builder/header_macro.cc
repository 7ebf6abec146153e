#include "builder/header_macro.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "builder/c_scanner.h"
#include "builder/compile.h"
#include "core/file_lock.h"
#include "builder/header_units.h"
#include "builder/steps.h"
#include "core/file_io.h"
#include "core/log.h"
#include "core/numbers.h"
#include "core/process.h"

namespace noreboot::builder {
namespace fs = std::filesystem;

namespace {

std::string trimmed(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r") - a + 1);
}

// Built into the image as a separate blob, never as patchable functions (x86).
bool in_blob_folder(const std::string& f) {
  for (const char* d : {"arch/x86/boot/", "arch/x86/realmode/", "arch/x86/purgatory/", "arch/x86/entry/vdso/"})
    if (f.rfind(d, 0) == 0) return true;
  return false;
}

bool other_architecture(const std::string& f) { return f.rfind("arch/", 0) == 0 && f.rfind("arch/x86/", 0) != 0; }

std::string some_of(const std::vector<std::string>& names, size_t n = 5) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < n; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > n) out += " and " + std::to_string(names.size() - n) + " more";
  return out;
}

std::string preprocessed_of(const std::string& source) { return source.substr(0, source.size() - 2) + ".i"; }


}  // namespace

std::vector<TypeSpan> type_spans(const std::vector<std::string>& text) {
  std::vector<TypeSpan> out;
  int depth = 0;
  std::string item;   // the code of the current top-level item, up to its first '{'
  int item_first = 0;
  bool is_type = false;
  TypeSpan span;
  auto code = code_lines(text);  // comments and literal contents blanked (c_scanner.h)
  for (size_t ln = 0; ln < code.size(); ++ln) {
    if (code[ln].directive) continue;  // a macro's braces are not a definition
    for (char c : code[ln].code) {
      if (depth == 0) {
        if (c == '{') {
          // struct/union/enum NAME { ... } (typedef'd or not); '=' or '(' before it: data or a function.
          std::string t = " " + item + " ";
          bool keyword = t.find(" struct ") != std::string::npos || t.find(" union ") != std::string::npos ||
                         t.find(" enum ") != std::string::npos || t.find(" struct\t") != std::string::npos;
          is_type = keyword && item.find('=') == std::string::npos && item.find('(') == std::string::npos;
          if (is_type) {
            std::string name = trimmed(item);
            if (name.rfind("typedef ", 0) == 0) name = trimmed(name.substr(8));
            span = {name, item_first ? item_first : static_cast<int>(ln) + 1, 0};
          }
          depth = 1;
          continue;
        }
        if (c == ';') { item.clear(); item_first = 0; continue; }
        if (item_first == 0 && c != ' ' && c != '\t') item_first = static_cast<int>(ln) + 1;
        item += c;
        continue;
      }
      if (c == '{') ++depth;
      else if (c == '}' && --depth == 0) {
        if (is_type) {
          span.last = static_cast<int>(ln) + 1;
          out.push_back(span);
        }
        is_type = false;
        item.clear();
        item_first = 0;
        // A function body ends its item at '}'; a type or data definition at the next ';'.
      }
    }
    if (depth == 0) item += ' ';
  }
  return out;
}

std::string without_root(const std::string& text, const std::string& root) {
  std::string needle = root + "/", out;
  out.reserve(text.size());
  size_t pos = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, pos)) {
    out.append(text, pos, at - pos);
    pos = at + needle.size();
  }
  out.append(text, pos, std::string::npos);
  return out;
}

bool names_tree_copy(const std::string& text, const std::string& header) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    // A line marker: # LINE "PATH" FLAGS
    if (end - pos > 4 && text[pos] == '#' && text[pos + 1] == ' ' && is_ascii_digit(text[pos + 2])) {
      size_t q1 = text.find('"', pos);
      size_t q2 = q1 < end ? text.find('"', q1 + 1) : std::string::npos;
      if (q2 != std::string::npos && q2 < end && text[q1 + 1] != '/') {
        std::string path = fs::path(text.substr(q1 + 1, q2 - q1 - 1)).lexically_normal().string();
        if (path == header) return true;
      }
    }
    pos = end + 1;
  }
  return false;
}

Result<MacroReach> units_by_preprocessing(const KernelProfile& profile, const HeaderIndex& index,
                                          const IncludeGraph& graph, const std::string& header, const std::string& what,
                                          const std::vector<std::string>& headers, const fs::path& work,
                                          const MacroOptions& opts) {
  MacroReach out;
  std::string change = what + " of " + header + " (not inside the body of a function: a macro, declaration or data)";
  Stopwatch start;
  Reach reach = files_reaching(graph, header);
  for (const auto& f : reach.forced)
    log::info("[header] {}: reached through '-include {}' of {}", header, f.name, f.makefile);

  // 1. The superset, and what in it cannot be livepatched.
  std::set<std::string> units;
  for (const auto& u : index.units) {
    std::string base = fs::path(u.source).filename().string();
    if (base.ends_with(".mod.c") || base.rfind('.', 0) == 0) continue;  // Kbuild's data-only metadata
    if (reach.files.count(u.source)) units.insert(u.source);
  }
  std::vector<std::string> asm_files, blob_files;
  for (const auto& f : reach.files) {
    if (other_architecture(f)) continue;
    if (f.ends_with(".S")) asm_files.push_back(f);
    else if (f.ends_with(".c") && in_blob_folder(f) && !units.count(f)) blob_files.push_back(f);
  }
  std::sort(asm_files.begin(), asm_files.end());
  std::sort(blob_files.begin(), blob_files.end());
  log::info("[header] {}: the include graph names {} file(s) that may include it; {} unit(s) of this kernel ({})", header,
            reach.files.size() - 1, units.size(), start.text());
  if (!asm_files.empty())
    out.refusals.push_back({header, change + " may reach assembly: " + some_of(asm_files) +
                                        "; a livepatch replaces C functions only, so the units it changes cannot all be patched",
                            "change the C functions that use the macro instead (in their .c files), or ship the fix "
                            "with a new kernel (docs/patch-author-guide.md, Headers)"});
  if (!blob_files.empty())
    out.refusals.push_back({header, change + " may reach code built as a separate image (boot code, vDSO, real mode, "
                                             "purgatory): " + some_of(blob_files) + "; a livepatch cannot replace it",
                            "change the C functions that use the macro instead, or ship the fix with a new kernel"});
  if (!out.refusals.empty()) return out;
  if (units.size() > opts.preprocess_limit) {
    out.refusals.push_back({header, change + " may reach " + std::to_string(units.size()) + " units of this kernel (" +
                                        (reach.forced.empty() ? "files that include it, directly or not"
                                                              : "every unit: the build forces it with -include") +
                                        "), more than the " + std::to_string(opts.preprocess_limit) +
                                        " the builder preprocesses to find the ones that change",
                            "make the fix smaller: change the functions that use the macro, in their .c files, or add a "
                            "fixed copy of it under a new name where it is needed (docs/patch-author-guide.md, Headers)"});
    return out;
  }
  if (units.empty()) return out;

  // 2. Kbuild's preprocessing command of every candidate (make dir/foo.i, under the tree's lock).
  std::vector<std::string> sources(units.begin(), units.end());
  Stopwatch kbuild_start;
  std::vector<std::string> commands(sources.size());
  {
    NR_TRY(auto lock, FileLock::acquire(tree_lock_path(profile), {.holder = "noreboot-build", .why = "preprocessing in the kernel tree"}));
    auto make = make_command(profile, opts.jobs);
    make.push_back("-k");
    for (const auto& s : sources) make.push_back(preprocessed_of(s));
    fs::path log = work / "kbuild-cpp.log";
    NR_TRY(auto ran, run_process(make, {.cwd = profile.tree, .log = log}));
    (void)ran;  // -k: every target is tried; each one's .cmd says whether it was made
    std::vector<std::string> failed;
    for (size_t k = 0; k < sources.size(); ++k) {
      std::string target = preprocessed_of(sources[k]);
      auto cmd = read_recorded_command(profile.tree, target);
      std::error_code ec;
      if (!cmd.ok() || !fs::exists(profile.tree / target)) failed.push_back(sources[k]);
      else commands[k] = *cmd;
      fs::remove(profile.tree / target, ec);  // a few MB each; the command is all we need
    }
    if (!failed.empty())
      return Error(Errc::invalid_input, "Kbuild could not preprocess " + some_of(failed) + " (units of this kernel that may "
                                        "include " + header + "); see " + log.string() + ":\n" + tail_of(log));
  }
  log::info("[header] {}: Kbuild's preprocessing commands of {} unit(s) in {}", header, sources.size(),
            kbuild_start.text());

  // 3. Preprocess each candidate with the original and the patched headers; compare.
  NR_TRY_STATUS(stage_unchanged_sources(profile, sources, work));
  Stopwatch cpp_start;
  std::vector<int> verdict(sources.size(), 0);  // 0 same, 1 changed, 2 patched copy not seen, -1 failed
  std::vector<std::string> logs(sources.size());
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::vector<Error> errors;
  auto worker = [&] {
    for (size_t k = next++; k < sources.size(); k = next++) {
      Unit u{.source = sources[k], .object = preprocessed_of(sources[k]), .command = commands[k]};
      std::string text[2];
      bool ok = true;
      for (int side = 0; side < 2 && ok; ++side) {
        fs::path root = work / (side ? "src-patched" : "src-orig");
        fs::path o = work / "cpp" / (side ? "patched" : "orig") / u.object;
        std::error_code ec;
        fs::create_directories(o.parent_path(), ec);
        fs::path log = o;
        log += ".log";
        auto r = run_process({"sh", "-e", "-c", fast_command(u, root, o, "", headers)}, {.cwd = profile.tree, .log = log});
        if (!r.ok() || r->exit_code != 0) {
          std::lock_guard<std::mutex> g(mu);
          logs[k] = log.string();
          verdict[k] = -1;
          ok = false;
          break;
        }
        auto t = read_text(o);
        if (!t.ok()) {
          std::lock_guard<std::mutex> g(mu);
          errors.push_back(t.error());
          ok = false;
          break;
        }
        text[side] = without_root(*t, root.string());
        if (side == 1 && names_tree_copy(*t, header)) verdict[k] = 2;
        fs::remove(o, ec);
      }
      if (ok && verdict[k] == 0 && text[0] != text[1]) verdict[k] = 1;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, opts.jobs); ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (!errors.empty()) return errors.front();
  std::vector<std::string> unseen;
  for (size_t k = 0; k < sources.size(); ++k) {
    if (verdict[k] == -1)
      return Error(Errc::invalid_input, "the preprocessor failed on " + sources[k] + " with " + header +
                                            " (original or patched); see " + logs[k] + ":\n" + tail_of(logs[k]));
    if (verdict[k] == 2) unseen.push_back(sources[k]);
    if (verdict[k] == 1) out.sources.push_back(sources[k]);
  }
  log::info("[header] {}: {} of {} unit(s) preprocess differently with the fix ({})", header, out.sources.size(),
            sources.size(), cpp_start.text());
  if (!unseen.empty()) {
    out.refusals.push_back({header, change + ": " + some_of(unseen) + " include(s) " + header +
                                        " through another header of the tree, which the builder compiles unpatched, so "
                                        "the patched copy would not see the fix",
                            "change that including header too (so that it is staged), or change the functions that use "
                            "the macro instead"});
    return out;
  }
  if (out.sources.size() > opts.unit_limit) {
    out.refusals.push_back({header, change + " changes the preprocessed text of " + std::to_string(out.sources.size()) +
                                        " units (" + some_of(out.sources, 3) + "), more than the limit of " +
                                        std::to_string(opts.unit_limit),
                            "make the fix smaller (change the functions that use the macro, in their .c files), or raise "
                            "the limit with --header-unit-limit N (each unit is compiled twice and its functions diffed)"});
  }
  return out;
}

}  // namespace noreboot::builder
