// verify_for_host, case by case: each row is a bundle, the host's facts, and the verdict.
// No kernel, fake or real, and no files: the checks are a pure function of their inputs.
#include "agent/verify.h"

#include <gtest/gtest.h>

#include <functional>

#include "agent/test_support.h"
#include "core/bundle.h"

namespace noreboot::agent {
namespace {

const KernelIdentity kHost{"6.1.0-56-amd64",
                           "Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) #1 SMP",
                           "0123456789abcdef0123456789abcdef01234567", "x86_64"};

const SecretKey& publisher() {
  static const SecretKey k = SecretKey::generate("test publisher");
  return k;
}
const SecretKey& stranger() {
  static const SecretKey k = SecretKey::generate("someone else");
  return k;
}

// What a row changes from a good bundle: sequence 5 of lp_fix for kHost, signed by publisher().
struct BundleSpec {
  uint64_t sequence = 5;
  std::string module_name = "lp_fix";  // the .modinfo name (the manifest says lp_fix)
  bool livepatch = true;
  std::string code = "code";           // distinct code: distinct content under one sequence
  const SecretKey* signer = &publisher();
  KernelIdentity target = kHost;
};

Bytes make_bundle(const BundleSpec& spec) {
  Manifest m;
  m.name = "lp_fix";
  m.sequence = spec.sequence;
  m.kernel = spec.target;
  m.fixes = {{"CVE-2026-0001", "cmdline leak"}};
  m.builder_version = "test";
  auto module = testing::make_module_bytes(spec.module_name, spec.livepatch, spec.code);
  auto b = build_bundle(m, as_bytes(module), *spec.signer);
  EXPECT_TRUE(b.ok()) << b.error().message();
  return b.ok() ? *b : Bytes{};
}

// The host's side of a row, filled in by the row's `host` function from a good default.
struct HostSpec {
  TrustStore trust;
  Result<KernelIdentity> running = kHost;
  std::vector<LivepatchInfo> live;
  AgentState state;
  bool automatic = false;
};

AppliedPatch applied(const std::string& sha, uint64_t seq) {
  return AppliedPatch{"lp_fix", sha, seq, kHost.release, kHost.build_id, {}, "boot", 1};
}

struct Row {
  std::string name;
  BundleSpec bundle;
  // Adjusts the host; gets the sha of the row's bundle and of a good bundle (sequence 5).
  std::function<void(HostSpec&, const std::string& sha, const std::string& good_sha)> host;
  bool garbage = false;          // the archive is not a tar at all
  std::optional<Errc> refused;   // nullopt: accepted
  std::string text;              // in the refusal's message
  bool already_live = false;
};

std::vector<Row> rows() {
  auto no_change = [](HostSpec&, const std::string&, const std::string&) {};
  std::vector<Row> r;
  r.push_back({"good bundle", {}, no_change, false, std::nullopt, "", false});
  r.push_back({"garbage archive", {}, no_change, true, Errc::invalid_input, "", false});
  r.push_back({"no trusted keys", {},
               [](HostSpec& h, const std::string&, const std::string&) { h.trust = TrustStore(); }, false,
               Errc::signature, "no trusted publisher keys", false});
  BundleSpec foreign;
  foreign.signer = &stranger();
  r.push_back({"untrusted signer", foreign, no_change, false, Errc::signature, "", false});
  BundleSpec renamed;
  renamed.module_name = "lp_other";
  r.push_back({"module name differs from the manifest", renamed, no_change, false, Errc::invalid_input,
               "manifest says 'lp_fix'", false});
  BundleSpec plain;
  plain.livepatch = false;
  r.push_back({"module is not a livepatch", plain, no_change, false, Errc::invalid_input, "not a livepatch",
               false});
  r.push_back({"running kernel unreadable", {},
               [](HostSpec& h, const std::string&, const std::string&) {
                 h.running = Error(Errc::io, "cannot read /proc/version");
               },
               false, Errc::io, "reading the running kernel's identity: cannot read /proc/version", false});
  BundleSpec other_kernel;
  other_kernel.target.build_id = "ffffffffffffffffffffffffffffffffffffffff";
  r.push_back({"built for another kernel build", other_kernel, no_change, false, Errc::refused, "build ID",
               false});
  r.push_back({"lower sequence than the highest applied", {},
               [](HostSpec& h, const std::string&, const std::string&) {
                 h.state.highest_sequence[kHost.build_id] = 6;
               },
               false, Errc::refused, "refusing a rollback", false});
  BundleSpec other_content;
  other_content.code = "other code";
  r.push_back({"same sequence, other content", other_content,
               [](HostSpec& h, const std::string&, const std::string& good) {
                 h.state.highest_sequence[kHost.build_id] = 5;
                 h.state.highest_sha256[kHost.build_id] = good;
               },
               false, Errc::refused, "with different content", false});
  r.push_back({"same sequence, the bundle that reached it (reverted since)", {},
               [](HostSpec& h, const std::string& sha, const std::string&) {
                 h.state.highest_sequence[kHost.build_id] = 5;
                 h.state.highest_sha256[kHost.build_id] = sha;
               },
               false, std::nullopt, "", false});
  r.push_back({"the applied bundle, live in the kernel", {},
               [](HostSpec& h, const std::string& sha, const std::string&) {
                 h.state.applied = applied(sha, 5);
                 h.state.highest_sequence[kHost.build_id] = 5;
                 h.live = {{"lp_fix", true, false}};
               },
               false, std::nullopt, "", true});
  r.push_back({"the applied bundle, gone after a reboot: reload", {},
               [](HostSpec& h, const std::string& sha, const std::string&) {
                 h.state.applied = applied(sha, 5);
                 h.state.highest_sequence[kHost.build_id] = 5;
               },
               false, std::nullopt, "", false});
  r.push_back({"the applied bundle, disabled in the kernel: reload", {},
               [](HostSpec& h, const std::string& sha, const std::string&) {
                 h.state.applied = applied(sha, 5);
                 h.state.highest_sequence[kHost.build_id] = 5;
                 h.live = {{"lp_fix", false, false}};
               },
               false, std::nullopt, "", false});
  r.push_back({"quarantined, automatic", {},
               [](HostSpec& h, const std::string& sha, const std::string&) {
                 h.state.quarantined.push_back({sha, "lp_fix", "crashed right after the load", 1});
                 h.automatic = true;
               },
               false, Errc::refused, "quarantined: crashed right after the load", false});
  r.push_back({"quarantined, by hand", {},
               [](HostSpec& h, const std::string& sha, const std::string&) {
                 h.state.quarantined.push_back({sha, "lp_fix", "crashed right after the load", 1});
               },
               false, std::nullopt, "", false});
  BundleSpec newer;
  newer.sequence = 9;
  r.push_back({"higher sequence replaces the applied one", newer,
               [](HostSpec& h, const std::string&, const std::string& good) {
                 h.state.applied = applied(good, 5);
                 h.state.highest_sequence[kHost.build_id] = 5;
                 h.live = {{"lp_fix", true, false}};
               },
               false, std::nullopt, "", false});
  return r;
}

TEST(VerifyForHost, EachRowGetsItsVerdict) {
  const std::string good_sha = sha256_hex(make_bundle({}));
  for (const Row& row : rows()) {
    SCOPED_TRACE(row.name);
    const std::string garbage = "this is not a tar archive";
    Bytes bundle = row.garbage ? Bytes(garbage.begin(), garbage.end()) : make_bundle(row.bundle);
    std::string sha = sha256_hex(bundle);
    HostSpec h;
    h.trust.add(publisher().public_key());
    row.host(h, sha, good_sha);
    HostFacts facts;
    facts.trust = &h.trust;
    facts.running = h.running;
    facts.live_patches = h.live;
    facts.state = &h.state;

    HostVerdict v = verify_for_host(bundle, sha, facts, h.automatic);
    if (row.refused) {
      ASSERT_FALSE(v.accepted()) << "accepted, want " << errc_name(*row.refused);
      EXPECT_EQ(v.refusal.error().code(), *row.refused) << v.refusal.error().message();
      EXPECT_NE(v.refusal.error().message().find(row.text), std::string::npos) << v.refusal.error().message();
      EXPECT_FALSE(v.already_live);
    } else {
      ASSERT_TRUE(v.accepted()) << v.refusal.error().message();
      ASSERT_TRUE(v.contents.has_value());
      EXPECT_EQ(v.contents->manifest.name, "lp_fix");
      EXPECT_EQ(v.running, kHost);
      EXPECT_EQ(v.already_live, row.already_live);
    }
    // The journal names the refused patch once the archive was read.
    EXPECT_EQ(v.contents.has_value(), !row.garbage);
  }
}

}  // namespace
}  // namespace noreboot::agent
