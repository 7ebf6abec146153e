// One run of the feed: see run.h.
#include "feed/run.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <ostream>

#include "core/file_io.h"
#include "core/manifest.h"
#include "core/process.h"
#include "feed/archive.h"
#include "feed/changelog.h"
#include "feed/debian_version.h"
#include "feed/fleet.h"
#include "feed/inbox.h"
#include "feed/metrics.h"
#include "feed/record.h"
#include "feed/state.h"

namespace noreboot::feed {
namespace fs = std::filesystem;

namespace {

// How the feed runs its tools: output appended to the step's log in the version's folder (so a
// resumed step keeps the history) or stdout captured for the small outputs it parses, and
// PR_SET_PDEATHSIG, so a feed killed mid-build takes its builder with it and the next run
// never races an orphan writing into the folder it starts again.
ProcessOptions tool_options(const fs::path& log, bool capture) {
  ProcessOptions o;
  o.log = log;
  o.capture_stdout = capture;
  o.die_with_parent = true;
  o.start_hint = "install it, or name it under [tools] in the feed's config";
  return o;
}

std::int64_t now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Status copy_atomically(const fs::path& from, const fs::path& to) {
  NR_TRY(auto bytes, read_file(from, 1ull << 30));
  return write_file(to, bytes, {.mode = 0644});
}

class Runner {
 public:
  Runner(const FeedConfig& c, FeedState& s, std::ostream& out) : c_(c), s_(s), out_(out), server_(c) {}

  Status save() { return save_state(c_.data_dir, s_); }

  // One step in the server's audit log (POST /v1/audit, action feed.<step>). A failed write
  // never fails the run: it is said on the output and counted (noreboot_feed_audit_failures_total).
  void note(const std::string& step, nlohmann::json detail) {
    auto st = server_.audit(step, detail);
    if (st) return;
    s_.counters.audit_failures++;
    out_ << "noreboot-feed: warning: the server's audit log did not take feed." << step << " ("
         << st.error().message() << "); the run goes on\n";
  }

  // Every step of one version; returns when it is finished or a step failed.
  Status process(const std::vector<std::string>& served, const std::string& version) {
    VersionState* vs = s_.find(version);
    if (!vs) {
      VersionState fresh;
      fresh.version = version;
      fresh.from = version_before(served, version);
      if (fresh.from.empty())
        return Error(Errc::not_found, "linux-source-" + c_.series + " " + version +
                                          " is the oldest version the archive serves: there is nothing to compare it with");
      fresh.updated = rfc3339_utc_now();
      s_.versions.push_back(fresh);
      vs = &s_.versions.back();
      NR_TRY_STATUS(save());
      note("found_version", {{"version", version}, {"from", vs->from}, {"series", c_.series}});
    }
    if (vs->status == "failed") vs->status = "in_progress";
    vdir_ = c_.data_dir / "versions" / version;
    fs::create_directories(vdir_);
    out_ << "noreboot-feed: " << vs->from << " -> " << version << (vs->steps.empty() ? "" : " (resuming after " + vs->steps.back() + ")") << "\n";
    if (!vs->has_step("derived")) NR_TRY_STATUS(derive(*vs));
    if (vs->status == "needs_fix_patch") return ok_status();
    return after_derive(*vs);
  }

  // A work item from the inbox (inbox.h), derived when it was taken: the other steps.
  Status process_inbox_item(VersionState& vs) {
    if (vs.status == "failed") vs.status = "in_progress";
    vdir_ = c_.data_dir / "versions" / vs.version;
    out_ << "noreboot-feed: inbox: " << vs.inbox_cve << " of " << vs.from
         << (vs.steps.size() > 1 ? " (resuming after " + vs.steps.back() + ")" : "") << "\n";
    return after_derive(vs);
  }

 private:
  fs::path out_dir() const { return vdir_ / "out"; }

  Status after_derive(VersionState& vs) {
    if (!vs.has_step("built")) NR_TRY_STATUS(build(vs));
    if (vs.status == "done" || vs.status == "rejected") return ok_status();
    if (!vs.has_step("tested")) NR_TRY_STATUS(test(vs));
    if (!vs.has_step("published")) NR_TRY_STATUS(publish(vs));
    if (!vs.has_step("rolled_out")) NR_TRY_STATUS(roll_out(vs));
    return ok_status();
  }

  // An inbox patch that gave no kernel a bundle and none "already fixed": nothing to publish.
  // It goes to DATA/inbox/rejected/ with the builder's answers, and is not built again.
  Status reject_item(VersionState& vs, const FixRecord& record) {
    std::string why = "the patch gave no fleet kernel a bundle:";
    for (const auto& k : record.kernels)
      why += " " + k.release + " " + std::string(kernel_outcome_name(k.outcome)) +
             (k.reason.empty() ? "" : " (" + k.reason.substr(0, 200) + ")") + ";";
    why += " check it applies to Debian " + vs.from + "'s source (log " + (vdir_ / "build.log").string() + ")";
    fs::path rejected = c_.data_dir / "inbox" / "rejected";
    fs::create_directories(rejected);
    std::string name = vs.inbox_cve + ".patch";
    NR_TRY_STATUS(copy_atomically(vdir_ / "fix.patch", rejected / name));
    std::string text = why + "\n(rejected " + rfc3339_utc_now() + "; fix it and drop it into " +
                       (c_.data_dir / "inbox").string() + " again)\n";
    NR_TRY_STATUS(write_file(rejected / (name + ".why"), as_bytes(text), {.mode = 0640}));
    note("inbox_rejected", {{"cve", vs.inbox_cve}, {"version", vs.from}, {"reason", why}});
    out_ << "noreboot-feed: inbox: rejected " << name << ": " << why << "\n";
    return finish(vs, "rejected", why);
  }

  Status finish(VersionState& vs, const std::string& status, const std::string& message) {
    vs.status = status;
    vs.message = message;
    vs.updated = rfc3339_utc_now();
    out_ << "noreboot-feed: " << vs.version << ": " << message << "\n";
    return save();
  }

  Status derive(VersionState& vs) {
    auto log = vdir_ / "derive.log";
    fs::remove(log);
    auto patch_tmp = vdir_ / "fix.patch.tmp";
    NR_TRY(auto r, run_process({c_.tools.debian_fix, vs.from, vs.version, "-o", patch_tmp.string(), "--max-files",
                                std::to_string(c_.max_files)},
                               tool_options(log, false)));
    std::string text = read_text(log, 64 << 20).value_or("");
    Changelog changelog = parse_changelog(text);
    if (r.exit_code == 3) {
      vs.cves = changelog.cves;
      // Each CVE with its changelog text: the description of the fix an inbox patch makes.
      if (!vs.cves.empty()) vs.fixes = fixes_of(changelog, vs.version);
      vs.add_step("derived");
      std::string list;
      for (const auto& c : vs.cves) list += " " + c;
      s_.counters.found += vs.cves.size();
      note("needs_fix_patch", {{"version", vs.version}, {"from", vs.from}, {"cves", vs.cves},
                               {"reason", "more than " + std::to_string(c_.max_files) + " files differ"}});
      return finish(vs, "needs_fix_patch",
                    "a stable update (more than " + std::to_string(c_.max_files) +
                        " files differ from " + vs.from + "): not built as one fix; needs a fix patch for each CVE:" +
                        (list.empty() ? " (the changelog names none)" : list));
    }
    if (r.exit_code != 0)
      return Error(Errc::unavailable, "deriving Debian's fix " + vs.from + " -> " + vs.version + " failed (" +
                                          c_.tools.debian_fix + " exit " + std::to_string(r.exit_code) +
                                          "; log " + log.string() + "):\n" + tail_of(log, 8, "  ") +
                                          "  the next run tries again (is the archive reachable? apt-get update?)");
    if (!fs::exists(patch_tmp) || fs::file_size(patch_tmp) == 0)
      return Error(Errc::invalid_input, c_.tools.debian_fix + " wrote no patch for " + vs.version);
    fs::rename(patch_tmp, vdir_ / "fix.patch");
    vs.fixes = fixes_of(changelog, vs.version);
    vs.cves = changelog.cves;
    s_.counters.found += vs.fixes.size();
    vs.add_step("derived");
    std::string ids;
    for (const auto& f : vs.fixes) ids += " " + f.id;
    vs.message = "derived:" + ids;
    {
      nlohmann::json fixes = nlohmann::json::array();
      for (const auto& f : vs.fixes) fixes.push_back({{"id", f.id}, {"description", f.description}});
      note("derived", {{"version", vs.version}, {"from", vs.from}, {"fixes", fixes}});
    }
    out_ << "noreboot-feed: " << vs.version << ": fix derived:" << ids << "\n";
    return save();
  }

  // The ABI Debian built from `version`, when kernel-fetch --list names one (so the record
  // says that kernel already has the fix); "" when it cannot tell.
  std::string abi_of_version(const std::string& version) {
    auto r = run_process({c_.tools.kernel_fetch, "--list"}, tool_options(vdir_ / "kernel-list.log", true));
    if (!r || r->exit_code != 0) return "";
    for (const auto& k : parse_kernel_list(r->out))
      if (k.version == version && k.complete) return k.abi;
    return "";
  }

  Status build(VersionState& vs) {
    NR_TRY(auto fleet, server_.fleet());
    std::vector<std::string> kernels, on_top_of;
    std::string notes;
    for (const auto& k : fleet.kernels) {
      if (!kernel_selected(c_.kernels, k)) continue;
      auto base = fleet.newest.find(k);
      if (base != fleet.newest.end()) {
        fs::path local = c_.data_dir / "bundles" / (base->second.sha256 + ".nrp");
        if (!fs::exists(local)) {
          notes += "; " + k + " left out: the server's newest bundle for it (" + base->second.sha256.substr(0, 12) +
                   "…, sequence " + std::to_string(base->second.sequence) +
                   ") was not built by this feed, and a patch not on top of it would drop its fixes (copy it to " +
                   local.string() + " to include " + k + ")";
          continue;
        }
        on_top_of.push_back(local.string());
      }
      kernels.push_back(k);
    }
    std::string own = abi_of_version(vs.inbox_cve.empty() ? vs.version : vs.from);
    if (!own.empty() && kernel_selected(c_.kernels, own) &&
        std::find(kernels.begin(), kernels.end(), own) == kernels.end())
      kernels.push_back(own);
    if (kernels.empty()) {
      note("built", {{"version", vs.version}, {"kernels", nlohmann::json::object()}, {"note", "no fleet kernel to build for" + notes}});
      for (const char* step : kSteps) vs.add_step(step);
      return finish(vs, "done", "no fleet kernel to build for" + notes);
    }
    auto tmp = vdir_ / "out.tmp";
    fs::remove_all(tmp);
    auto log = vdir_ / "build.log";
    std::vector<std::string> argv = {c_.tools.build};
    for (const auto& k : kernels) argv.insert(argv.end(), {"--kernel", "debian:" + k});
    argv.insert(argv.end(), {"--patch", (vdir_ / "fix.patch").string(), "-o", tmp.string() + "/", "--key",
                             c_.publisher_key.string()});
    for (const auto& f : vs.fixes) argv.insert(argv.end(), {"--fix", f.id + ":" + f.description});
    for (const auto& b : on_top_of) argv.insert(argv.end(), {"--on-top-of", b});
    out_ << "noreboot-feed: " << vs.version << ": building for " << kernels.size() << " kernel(s) (log " << log.string()
         << ")\n";
    NR_TRY(auto r, run_process(argv, tool_options(log, false)));
    if (!fs::exists(tmp / "fix.json") || !fs::exists(tmp / "fix.sig") || (r.exit_code != 0 && r.exit_code != 1 && r.exit_code != 3 && r.exit_code != 4))
      return Error(Errc::unavailable, "building " + vs.version + " failed (" + c_.tools.build + " exit " +
                                          std::to_string(r.exit_code) + ", no fix record; log " + log.string() +
                                          "):\n" + tail_of(log, 8, "  ") + "  the next run builds again");
    NR_TRY(auto record, read_record(tmp));
    fs::remove_all(out_dir());
    fs::rename(tmp, out_dir());
    auto built = built_kernels(record);
    std::string summary;
    nlohmann::json outcomes = nlohmann::json::object();
    for (const auto& k : record.kernels) {
      summary += " " + k.release + "=" + std::string(kernel_outcome_name(k.outcome));
      outcomes[k.release] = std::string(kernel_outcome_name(k.outcome));
    }
    note("built", {{"version", vs.version}, {"kernels", outcomes}, {"note", notes}});
    if (!vs.inbox_cve.empty() && built.empty() &&
        std::none_of(record.kernels.begin(), record.kernels.end(),
                     [](const FixRecordKernel& k) { return k.outcome == KernelOutcome::already_fixed; })) {
      vs.kernels = kernels;
      vs.add_step("built");
      return reject_item(vs, record);
    }
    if (!built.empty()) s_.counters.built += vs.fixes.size();
    vs.kernels = kernels;
    vs.add_step("built");
    vs.message = "built:" + summary + notes;
    out_ << "noreboot-feed: " << vs.version << ":" << summary << notes << "\n";
    return save();
  }

  Status test(VersionState& vs) {
    NR_TRY(auto record, read_record(out_dir()));
    for (const auto& k : built_kernels(record)) {
      if (vs.tests.count(k.release)) continue;
      if (!c_.test) {
        vs.tests[k.release] = "skipped (test = false)";
        continue;
      }
      auto log = vdir_ / ("test-" + k.release + ".log");
      fs::remove(log);
      out_ << "noreboot-feed: " << vs.version << ": testing " << k.file << " in QEMU (log " << log.string() << ")\n";
      auto started = now();
      std::vector<std::string> argv = {c_.tools.vm, "smoke", "--abi", k.release, "--timeout", std::to_string(c_.vm_timeout),
                                       (out_dir() / k.file).string()};
      // An inbox fix's check script runs in the guest while the patch is live.
      if (fs::exists(vdir_ / "check.sh")) argv.insert(argv.end(), {"--check", (vdir_ / "check.sh").string()});
      NR_TRY(auto r, run_process(argv, tool_options(log, false)));
      if (r.exit_code == 0) {
        vs.tests[k.release] = "passed";
        s_.counters.tested++;
        out_ << "noreboot-feed: " << vs.version << ": " << k.release << ": the QEMU smoke test passed (" << now() - started
             << " s)\n";
        note("tested", {{"version", vs.version}, {"kernel", k.release}, {"result", "passed"}});
      } else {
        std::string last = tail_of(log, 1, "");
        if (!last.empty()) last.pop_back();
        std::string reason = "the QEMU smoke test of the bundle failed (noreboot-vm exit " + std::to_string(r.exit_code) +
                             "): " + (last.empty() ? "no output" : last);
        NR_TRY_STATUS(refuse_kernel(out_dir(), k.release, reason, c_.publisher_key));
        vs.tests[k.release] = "failed: " + reason;
        s_.counters.failures++;
        note("tested", {{"version", vs.version}, {"kernel", k.release}, {"result", "failed"}, {"reason", reason}});
        out_ << "noreboot-feed: " << vs.version << ": " << k.release << ": " << reason
             << "; no bundle for it, the record says why\n";
      }
      NR_TRY_STATUS(save());
    }
    vs.add_step("tested");
    return save();
  }

  Status publish(VersionState& vs) {
    auto log = vdir_ / "publish.log";
    std::vector<std::string> argv = {c_.tools.admin, "publish", out_dir().string(), "--server", c_.server,
                                     "--token-file", c_.admin_token_file.string()};
    if (!c_.cacert.empty()) argv.insert(argv.end(), {"--cacert", c_.cacert.string()});
    NR_TRY(auto r, run_process(argv, tool_options(log, false)));
    if (r.exit_code != 0)
      return Error(Errc::unavailable, "publishing " + vs.version + " failed (" + c_.tools.admin + " exit " +
                                          std::to_string(r.exit_code) + "; log " + log.string() + "):\n" +
                                          tail_of(log, 8, "  ") + "  the next run publishes again (uploads are idempotent; the server stores "
                                          "the record only once all its bundles are there)");
    NR_TRY(auto record, read_record(out_dir()));
    fs::create_directories(c_.data_dir / "bundles");
    for (const auto& k : built_kernels(record))
      NR_TRY_STATUS(copy_atomically(out_dir() / k.file, c_.data_dir / "bundles" / (k.sha256 + ".nrp")));
    s_.counters.published++;
    {
      nlohmann::json fixes = nlohmann::json::array(), bundles = nlohmann::json::object();
      for (const auto& f : vs.fixes) fixes.push_back(f.id);
      for (const auto& k : built_kernels(record)) bundles[k.release] = k.sha256;
      note("published", {{"version", vs.version}, {"fixes", fixes}, {"bundles", bundles}});
    }
    vs.add_step("published");
    out_ << "noreboot-feed: " << vs.version << ": published " << built_kernels(record).size()
         << " bundle(s) and the fix record\n";
    return save();
  }

  Status roll_out(VersionState& vs) {
    NR_TRY(auto record, read_record(out_dir()));
    std::string message;
    if (built_kernels(record).empty()) {
      message = "published; no kernel got a bundle, nothing to roll out";
    } else {
      // approve = manual: the rollout is created awaiting approval (it offers nothing until
      // `noreboot-admin fix approve ID`); auto: it starts at once.
      message = c_.manual_approve ? "published; awaiting approval (approve = manual), start it with:" : "rolled out:";
      for (const auto& f : vs.fixes) {
        NR_TRY(auto what, server_.ensure_fix_rollout(f.id, c_.manual_approve));
        if (c_.manual_approve) message += "\n    noreboot-admin fix approve " + f.id + "   (rollout " + what + ")";
        else message += " " + f.id + " (" + what + ")";
        note(c_.manual_approve ? "awaiting_approval" : "rollout_created",
             {{"version", vs.version}, {"fix", f.id}, {"rollout", what}});
      }
    }
    vs.add_step("rolled_out");
    return finish(vs, "done", message);
  }

  const FeedConfig& c_;
  FeedState& s_;
  std::ostream& out_;
  ServerClient server_;
  fs::path vdir_;
};

Result<std::vector<std::string>> served_versions(const FeedConfig& c) {
  std::string pkg = "linux-source-" + c.series;
  fs::path log = c.data_dir / "apt-cache.log";
  fs::remove(log);
  NR_TRY(auto r, run_process({"apt-cache", "madison", pkg}, tool_options(log, true)));
  auto versions = parse_madison(r.out, pkg);
  if (r.exit_code != 0 || versions.empty())
    return Error(Errc::unavailable, "Debian's archive: 'apt-cache madison " + pkg + "' lists no version (exit " +
                                        std::to_string(r.exit_code) + ")\n" + tail_of(log, 3, "  ") +
                                        "  run 'apt-get update' and check the archive is reachable; the next run tries again");
  return versions;
}

}  // namespace

int run_feed(const FeedConfig& c, std::ostream& out, std::ostream& err) {
  std::error_code ec;
  fs::create_directories(c.data_dir, ec);
  if (ec) {
    err << "noreboot-feed: data_dir " << c.data_dir.string() << ": " << ec.message() << "\n";
    return 1;
  }
  auto lock = acquire_run_lock(c.data_dir);
  if (!lock) {
    err << "noreboot-feed: " << lock.error().message() << "\n";
    return 3;
  }
  auto loaded = load_state(c.data_dir);
  if (!loaded) {
    err << "noreboot-feed: " << loaded.error().message() << "\n";
    return 1;
  }
  FeedState state = std::move(*loaded);
  state.last_run = now();
  auto fail = [&](const Error& e) {
    err << "noreboot-feed: " << e.message() << "\n";
    state.counters.failures++;
    state.last_result = "failed: " + e.message();
    if (auto s = save_state(c.data_dir, state); !s) err << "noreboot-feed: " << s.error().message() << "\n";
    if (auto m = write_metrics(c.metrics_file, state, false); !m) err << "noreboot-feed: " << m.error().message() << "\n";
    return 1;
  };
  auto served = served_versions(c);
  if (!served) {
    Runner(c, state, out).note("failed", {{"error", served.error().message().substr(0, 4000)}});
    return fail(served.error());
  }
  if (state.processed_up_to.empty()) {
    state.processed_up_to = c.start_after.empty() ? served->back() : c.start_after;
    out << "noreboot-feed: first run: following linux-source-" << c.series << " after " << state.processed_up_to
        << (c.start_after.empty() ? " (the newest the archive serves; set start_after to process earlier versions)"
                                  : " (start_after)")
        << "\n";
  }
  Runner runner(c, state, out);
  auto todo = versions_after(*served, state.processed_up_to);
  if (todo.empty()) out << "noreboot-feed: nothing new: the archive's newest linux-source-" << c.series << " is "
                        << served->back() << ", processed up to " << state.processed_up_to << "\n";
  for (const auto& v : todo) {
    auto st = runner.process(*served, v);
    if (!st) {
      runner.note("failed", {{"version", v}, {"error", st.error().message().substr(0, 4000)}});
      if (VersionState* vs = state.find(v)) {
        vs->status = "failed";
        vs->message = st.error().message();
        vs->updated = rfc3339_utc_now();
      }
      return fail(st.error());
    }
    state.processed_up_to = v;
    if (auto s = runner.save(); !s) return fail(s.error());
  }
  // The inbox (inbox.h): per-CVE patches for stable updates, after the versions they build on.
  auto taken = take_inbox(c.data_dir, state, out);
  if (!taken) return fail(taken.error());
  for (std::size_t i = 0; i < state.versions.size(); ++i) {
    VersionState& item = state.versions[i];
    if (item.inbox_cve.empty() || item.status == "done" || item.status == "rejected") continue;
    auto st = runner.process_inbox_item(item);
    if (!st) {
      runner.note("failed", {{"version", item.version}, {"error", st.error().message().substr(0, 4000)}});
      item.status = "failed";
      item.message = st.error().message();
      item.updated = rfc3339_utc_now();
      return fail(st.error());
    }
  }
  state.last_success = now();
  state.last_result = todo.empty() ? "nothing new" : "processed up to " + state.processed_up_to;
  if (auto s = runner.save(); !s) return fail(s.error());
  if (auto m = write_metrics(c.metrics_file, state, true); !m) err << "noreboot-feed: " << m.error().message() << "\n";
  return 0;
}

int show_status(const FeedConfig& c, bool as_json, std::ostream& out, std::ostream& err) {
  auto loaded = load_state(c.data_dir);
  if (!loaded) {
    err << "noreboot-feed: " << loaded.error().message() << "\n";
    return 1;
  }
  const FeedState& s = *loaded;
  if (as_json) {
    out << serialize_state(s);
    return 0;
  }
  out << "processed up to: " << (s.processed_up_to.empty() ? "- (never ran)" : s.processed_up_to) << "\n"
      << "last run:        " << readable_utc(s.last_run) << (s.last_result.empty() ? "" : "  (" + s.last_result + ")")
      << "\n"
      << "last success:    " << readable_utc(s.last_success) << "\n"
      << "fixes found " << s.counters.found << ", built " << s.counters.built << ", bundles tested "
      << s.counters.tested << ", published " << s.counters.published << ", failures " << s.counters.failures << "\n";
  for (const auto& v : s.versions) {
    std::string steps;
    for (const auto& st : v.steps) steps += (steps.empty() ? "" : ",") + st;
    out << "\n" << v.from << " -> " << v.version << "  " << v.status << "  [" << (steps.empty() ? "-" : steps) << "]\n";
    if (v.status == "needs_fix_patch") {
      for (const auto& cve : v.cves) {
        std::string text, from_inbox;
        for (const auto& f : v.fixes)
          if (f.id == cve) text = ": " + f.description;
        for (const auto& item : s.versions)
          if (item.inbox_cve == cve) from_inbox = "  [inbox: " + item.status + "]";
        out << "  needs a fix patch: " << cve << text << from_inbox << "\n";
      }
    } else {
      for (const auto& f : v.fixes) out << "  fix " << f.id << ": " << f.description << "\n";
    }
    for (const auto& [abi, result] : v.tests) out << "  test " << abi << ": " << result << "\n";
    if (!v.message.empty()) out << "  " << v.message << "\n";
  }
  auto rejections = inbox_rejections(c.data_dir);
  if (!rejections.empty()) out << "\ninbox rejections (" << (c.data_dir / "inbox" / "rejected").string() << "):\n";
  for (const auto& [name, why] : rejections) out << "  " << name << ": " << why << "\n";
  return 0;
}

}  // namespace noreboot::feed
