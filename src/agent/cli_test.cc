// The command line end to end, in process, against the fake kernel (--root).
#include "agent/cli.h"

#include <gtest/gtest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "agent/fake_kernel.h"
#include "agent/fs_util.h"
#include "agent/test_support.h"
#include "core/bundle.h"

namespace noreboot::agent {
namespace {

namespace fs = std::filesystem;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root = dir.path() / "root";
    ASSERT_TRUE(FakeKernel::create(root, host).ok());
    ASSERT_TRUE(make_dirs(root / "etc/noreboot").ok());
    ASSERT_TRUE(save_key_pair(dir.path() / "pub1", key).ok());
    ASSERT_TRUE(write_text(root / "etc/noreboot/agent.toml",
                           "[timeouts]\ntransition_seconds = 0.3\nsignal_seconds = 0.2\n"
                           "reverse_seconds = 2\nwatch_seconds = 0\n")
                    .ok());
  }
  fs::path write_bundle_file(const std::string& name, uint64_t seq, const std::string& build_id = "") {
    Manifest m;
    m.name = name;
    m.sequence = seq;
    m.kernel = KernelIdentity{host.release, host.version, build_id.empty() ? host.build_id_hex : build_id, host.arch};
    m.builder_version = "test";
    fs::path p = dir.path() / (name + "-" + std::to_string(seq) + ".nrp");
    auto w = write_bundle(p, m, as_bytes(testing::make_module_bytes(name)), key);
    EXPECT_TRUE(w.ok()) << w.error().message();
    return p;
  }
  Outcome run(std::vector<std::string> args) {
    out.str(""); err.str("");
    args.insert(args.begin(), {"--root", root.string()});
    return run_cli(args, out, err);
  }

  testing::TempDir dir;
  fs::path root;
  FakeHost host;
  SecretKey key = SecretKey::generate("cli test");
  std::ostringstream out, err;
};

TEST_F(CliTest, ApplyStatusRevert) {
  fs::path b = write_bundle_file("lp_cli", 1);
  EXPECT_EQ(run({"apply", b.string()}), Outcome::refused) << "no trusted key yet";
  EXPECT_NE(err.str().find("no trusted publisher keys"), std::string::npos) << err.str();

  ASSERT_EQ(run({"apply", "--trust", (dir.path() / "pub1.pub").string(), "--json", b.string()}), Outcome::ok) << err.str();
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["patch"], "lp_cli");
  EXPECT_EQ(j["transition"], "completed");

  ASSERT_EQ(run({"status", "--json"}), Outcome::ok) << err.str();
  auto s = nlohmann::json::parse(out.str());
  EXPECT_EQ(s["applied"]["patch"], "lp_cli");
  EXPECT_EQ(s["applied"]["loaded"], true);
  EXPECT_EQ(s["step"], "live");
  EXPECT_EQ(s["health"], "ok");

  ASSERT_EQ(run({"status"}), Outcome::ok);
  EXPECT_NE(out.str().find("lp_cli, sequence 1, live"), std::string::npos) << out.str();
  EXPECT_EQ(run({"check"}), Outcome::ok);
  EXPECT_NE(out.str().find("NOREBOOT OK"), std::string::npos);

  ASSERT_EQ(run({"revert"}), Outcome::ok) << err.str();
  EXPECT_NE(out.str().find("reverted lp_cli"), std::string::npos);
  EXPECT_FALSE(fs::exists(root / "sys/kernel/livepatch/lp_cli"));
  EXPECT_EQ(run({"revert"}), Outcome::ok);
  EXPECT_NE(out.str().find("nothing to revert"), std::string::npos);
}

TEST_F(CliTest, RefusalsExitWithRefusedAndLoadNothing) {
  std::string trust = (dir.path() / "pub1.pub").string();
  fs::path wrong = write_bundle_file("lp_wrong", 1, "1111111111111111111111111111111111111111");
  EXPECT_EQ(run({"apply", "--trust", trust, wrong.string()}), Outcome::refused);
  EXPECT_NE(err.str().find("build ID"), std::string::npos) << err.str();
  EXPECT_FALSE(fs::exists(root / "sys/module/lp_wrong"));

  EXPECT_EQ(run({"apply", "--trust", trust, (dir.path() / "missing.nrp").string()}), Outcome::refused);
  EXPECT_NE(err.str().find("missing.nrp"), std::string::npos);

  EXPECT_EQ(run({"check"}), Outcome::warning);
  EXPECT_NE(out.str().find("NOREBOOT WARNING"), std::string::npos);
}

TEST_F(CliTest, StalledTransitionExitsReversed) {
  ASSERT_TRUE(write_text(root / "fake/stall", "stall_target_sleep\n").ok());
  fs::path b = write_bundle_file("lp_stall", 1);
  EXPECT_EQ(run({"apply", "--trust", (dir.path() / "pub1.pub").string(), b.string()}), Outcome::reversed);
  EXPECT_NE(err.str().find("signalling"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("stall_target_sleep"), std::string::npos) << err.str();
  ASSERT_EQ(run({"status", "--json"}), Outcome::ok);
  auto s = nlohmann::json::parse(out.str());
  ASSERT_EQ(s["blocked"].size(), 1u);
  EXPECT_EQ(s["blocked"][0]["comm"], "stalled");
  EXPECT_EQ(s["step"], "failed");
}

TEST_F(CliTest, UsageErrors) {
  EXPECT_EQ(run({}), Outcome::usage);
  EXPECT_EQ(run({"frobnicate"}), Outcome::usage);
  EXPECT_NE(err.str().find("unknown command 'frobnicate'"), std::string::npos);
  EXPECT_EQ(run({"apply"}), Outcome::usage);
  EXPECT_EQ(run({"apply", "--bogus", "x.nrp"}), Outcome::usage);
  EXPECT_NE(err.str().find("noreboot: apply: unknown option '--bogus'"), std::string::npos) << err.str();
  EXPECT_EQ(run({"apply", "a.nrp", "b.nrp"}), Outcome::usage);
  EXPECT_NE(err.str().find("noreboot: apply: unexpected argument 'b.nrp'"), std::string::npos) << err.str();
  EXPECT_EQ(run({"enroll", "--token"}), Outcome::usage);
  EXPECT_NE(err.str().find("noreboot: enroll: option --token needs a value"), std::string::npos) << err.str();
  EXPECT_EQ(run({"check", "--json"}), Outcome::usage);
  EXPECT_NE(err.str().find("noreboot: check: unknown option '--json'"), std::string::npos) << err.str();
  EXPECT_EQ(run({"revert", "now"}), Outcome::usage);
  EXPECT_NE(err.str().find("noreboot: revert: unexpected argument 'now'"), std::string::npos) << err.str();
  EXPECT_EQ(run({"--state-dir"}), Outcome::usage);
  EXPECT_NE(err.str().find("option --state-dir needs a value"), std::string::npos) << err.str();
  ASSERT_TRUE(write_text(root / "etc/noreboot/agent.toml", "sever = 1\n").ok());
  EXPECT_EQ(run({"status"}), Outcome::usage);
  EXPECT_NE(err.str().find("unknown key 'sever'"), std::string::npos) << err.str();
  EXPECT_EQ(run({"check"}), Outcome::unknown);
}

TEST_F(CliTest, EveryCommandAnswersHelpWithUsageAndDoesNothing) {
  for (const char* cmd : {"apply", "revert", "status", "check", "enroll", "agent"}) {
    EXPECT_EQ(run({cmd, "--help"}), Outcome::ok) << cmd;
    EXPECT_NE(out.str().find("usage: noreboot"), std::string::npos) << cmd;
    EXPECT_EQ(err.str(), "") << cmd;
  }
  // --help wins even where the command would otherwise refuse its arguments.
  EXPECT_EQ(run({"apply", "-h", "--bogus"}), Outcome::ok);
}

}  // namespace
}  // namespace noreboot::agent
