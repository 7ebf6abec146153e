// The inbox: see inbox.h.
#include "feed/inbox.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/file_io.h"
#include "core/manifest.h"
#include "core/numbers.h"

namespace noreboot::feed {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxPatchBytes = 16 << 20;

bool is_cve(std::string_view s) {
  // CVE-YYYY-NNNN with 4 or more digits at the end.
  if (s.size() < 13 || s.substr(0, 4) != "CVE-" || s[8] != '-') return false;
  auto digits = [](std::string_view d) { return !d.empty() && std::all_of(d.begin(), d.end(), is_ascii_digit); };
  return digits(s.substr(4, 4)) && s.size() - 9 >= 4 && s.size() - 9 <= 10 && digits(s.substr(9));
}

std::optional<std::string> strip(std::string_view name, std::string_view suffix) {
  if (name.size() <= suffix.size() || name.substr(name.size() - suffix.size()) != suffix) return std::nullopt;
  std::string_view cve = name.substr(0, name.size() - suffix.size());
  if (!is_cve(cve)) return std::nullopt;
  return std::string(cve);
}

// The file's text, "" when it cannot be read (callers treat that as an empty file).
std::string read_all(const fs::path& file) { return read_text(file, kMaxPatchBytes + 1).value_or(""); }

// The stable update waiting for a patch for this CVE (the newest one naming it), or nullptr.
VersionState* waiting_for(FeedState& s, const std::string& cve) {
  VersionState* found = nullptr;
  for (auto& v : s.versions)
    if (v.status == "needs_fix_patch" && std::find(v.cves.begin(), v.cves.end(), cve) != v.cves.end()) found = &v;
  return found;
}

VersionState* item_of(FeedState& s, const std::string& cve) {
  for (auto& v : s.versions)
    if (v.inbox_cve == cve) return &v;
  return nullptr;
}

std::string waiting_list(const FeedState& s) {
  std::string list;
  for (const auto& v : s.versions)
    if (v.status == "needs_fix_patch")
      for (const auto& c : v.cves) list += (list.empty() ? "" : ", ") + c;
  return list.empty() ? "none" : list;
}

}  // namespace

std::optional<std::string> inbox_patch_cve(std::string_view file_name) { return strip(file_name, ".patch"); }
std::optional<std::string> inbox_check_cve(std::string_view file_name) { return strip(file_name, ".check.sh"); }

bool looks_like_unified_diff(std::string_view text) {
  bool minus = false, plus = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    std::string_view line = text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (line.rfind("--- ", 0) == 0) minus = true;
    else if (minus && line.rfind("+++ ", 0) == 0) plus = true;
    else if (plus && line.rfind("@@ ", 0) == 0) return true;
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return false;
}

std::string inbox_item_name(const std::string& stable, const std::string& cve) { return stable + "+" + cve; }

Status reject_inbox_file(const fs::path& data_dir, const std::string& name, const std::string& reason, std::ostream& out) {
  fs::path inbox = data_dir / "inbox", rejected = inbox / "rejected";
  std::error_code ec;
  fs::create_directories(rejected, ec);
  if (ec) return Error(Errc::io, rejected.string() + ": " + ec.message());
  std::string why = reason + "\n(rejected " + rfc3339_utc_now() + "; fix it and drop it into " + inbox.string() +
                    " again, or delete it)\n";
  NR_TRY_STATUS(write_file(rejected / (name + ".why"), as_bytes(why), {.mode = 0640}));
  std::vector<std::string> files = {name};
  if (auto cve = inbox_patch_cve(name)) files.push_back(*cve + ".check.sh");
  for (const auto& f : files) {
    if (!fs::exists(inbox / f, ec)) continue;
    fs::rename(inbox / f, rejected / f, ec);
    if (ec) return Error(Errc::io, "moving " + (inbox / f).string() + " to " + rejected.string() + ": " + ec.message());
  }
  out << "noreboot-feed: inbox: rejected " << name << ": " << reason << " (moved to " << (rejected / name).string()
      << ")\n";
  return ok_status();
}

Result<int> take_inbox(const fs::path& data_dir, FeedState& s, std::ostream& out) {
  fs::path inbox = data_dir / "inbox";
  std::error_code ec;
  fs::create_directories(inbox, ec);
  if (ec) return Error(Errc::io, inbox.string() + ": " + ec.message());
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(inbox, ec))
    if (e.is_regular_file()) names.push_back(e.path().filename().string());
  if (ec) return Error(Errc::io, inbox.string() + ": " + ec.message());
  std::sort(names.begin(), names.end());
  int taken = 0;
  for (const auto& name : names) {
    if (name.ends_with(".tmp") || name.starts_with(".")) continue;  // still being written
    if (inbox_check_cve(name)) {
      if (!fs::exists(inbox / (*inbox_check_cve(name) + ".patch")) && !item_of(s, *inbox_check_cve(name)))
        NR_TRY_STATUS(reject_inbox_file(data_dir, name, "a check script without its patch " + *inbox_check_cve(name) +
                                                            ".patch (drop both together)", out));
      continue;  // taken with its patch
    }
    auto cve = inbox_patch_cve(name);
    if (!cve) {
      NR_TRY_STATUS(reject_inbox_file(data_dir, name,
                                      "not an inbox file name: expected CVE-YYYY-NNNN.patch (a fix patch for one CVE of "
                                      "a stable update) or CVE-YYYY-NNNN.check.sh (its check script)", out));
      continue;
    }
    std::string text = read_all(inbox / name);
    VersionState* stable = waiting_for(s, *cve);
    if (!stable) {
      NR_TRY_STATUS(reject_inbox_file(data_dir, name,
                                      *cve + " is not a CVE of a stable update waiting for a fix patch (waiting: " +
                                          waiting_list(s) + "; noreboot-feed status lists them)", out));
      continue;
    }
    if (text.size() > kMaxPatchBytes || !looks_like_unified_diff(text)) {
      NR_TRY_STATUS(reject_inbox_file(data_dir, name,
                                      "not a patch: expected a unified diff (---/+++ file lines and @@ hunks) against "
                                      "the kernel source, at most 16 MiB", out));
      continue;
    }
    // Copied: s.versions may grow below (pointers into it would dangle).
    const std::string stable_version = stable->version;
    const std::vector<ChangelogFix> stable_fixes = stable->fixes;
    VersionState* item = item_of(s, *cve);
    fs::path vdir;
    if (item) {
      vdir = data_dir / "versions" / item->version;
      if (item->status != "rejected" && read_all(vdir / "fix.patch") == text) {
        fs::remove(inbox / name, ec);  // taken before a kill: the item has it already
        fs::remove(inbox / (*cve + ".check.sh"), ec);
        continue;
      }
      if (item->status != "rejected") {
        NR_TRY_STATUS(reject_inbox_file(data_dir, name,
                                        *cve + " already has a fix from the inbox (" + item->version + ", " + item->status +
                                            "); a different patch for it is not taken while that one stands", out));
        continue;
      }
      // A corrected patch for a CVE whose last patch was rejected: start it again.
      *item = VersionState{};
      item->inbox_cve = *cve;
    } else {
      s.versions.push_back(VersionState{});
      item = &s.versions.back();
      item->inbox_cve = *cve;
    }
    item->version = inbox_item_name(stable_version, *cve);
    item->from = stable_version;
    item->cves = {*cve};
    item->fixes = {{*cve, *cve + " (Debian " + stable_version + " stable update; patch from the inbox)"}};
    for (const auto& f : stable_fixes)
      if (f.id == *cve) item->fixes[0].description = f.description;
    item->updated = rfc3339_utc_now();
    vdir = data_dir / "versions" / item->version;
    fs::remove_all(vdir, ec);
    fs::create_directories(vdir, ec);
    if (ec) return Error(Errc::io, vdir.string() + ": " + ec.message());
    NR_TRY_STATUS(write_file(vdir / "fix.patch", as_bytes(text), {.mode = 0640}));
    bool check = fs::exists(inbox / (*cve + ".check.sh"));
    if (check) NR_TRY_STATUS(write_file(vdir / "check.sh", as_bytes(read_all(inbox / (*cve + ".check.sh"))), {.mode = 0750}));
    item->add_step("derived");
    item->message = "taken from the inbox" + std::string(check ? " with its check script" : "");
    NR_TRY_STATUS(save_state(data_dir, s));
    fs::remove(inbox / name, ec);
    if (check) fs::remove(inbox / (*cve + ".check.sh"), ec);
    out << "noreboot-feed: inbox: took " << name << (check ? " and " + *cve + ".check.sh" : "") << " for " << *cve
        << " of Debian " << stable_version << "'s stable update\n";
    ++taken;
  }
  return taken;
}

std::vector<std::pair<std::string, std::string>> inbox_rejections(const fs::path& data_dir) {
  std::vector<std::pair<std::string, std::string>> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(data_dir / "inbox" / "rejected", ec)) {
    std::string name = e.path().filename().string();
    if (!name.ends_with(".why")) continue;
    std::string why = read_all(e.path());
    out.push_back({name.substr(0, name.size() - 4), why.substr(0, why.find('\n'))});
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace noreboot::feed
