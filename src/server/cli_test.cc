// noreboot-server's command line: options override the config file; usage errors name the
// argument.
#include "server/cli.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace noreboot::server {
namespace {

std::string error_of(std::vector<std::string> args) {
  auto r = parse_server_command_line(args);
  return r.ok() ? "(parsed)" : r.error().message();
}

TEST(ServerCli, OptionsOverrideTheConfigFile) {
  auto dir = std::filesystem::temp_directory_path() / ("server_cli_test." + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream f(dir / "server.toml");
    f << "listen = \"127.0.0.1:9000\"\ndata = \"/srv/a\"\ntrust = [\"/keys/a.pub\", \"/keys/b.pub\"]\nthreads = 3\n";
  }
  auto c = parse_server_command_line({"--config", (dir / "server.toml").string(), "--data", "/srv/b", "--trust",
                                      "/keys/c.pub", "--threads", "5"});
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_FALSE(c->admin_token);
  auto cfg = config_for(*c);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(cfg.ok()) << cfg.error().message();
  EXPECT_EQ(cfg->listen, "127.0.0.1:9000");  // from the file
  EXPECT_EQ(cfg->data, "/srv/b");            // the option wins
  EXPECT_EQ(cfg->trust, (std::vector<std::string>{"/keys/c.pub"}));
  EXPECT_EQ(cfg->threads, 5);
}

TEST(ServerCli, PostgresSelectsItsStoreAndAdminTokenTakesTheSameOptions) {
  auto c = parse_server_command_line({"admin-token", "--postgres", "dbname=nr", "--data", "/d"});
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_TRUE(c->admin_token);
  auto cfg = config_for(*c);
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ(cfg->store, "postgres");
  EXPECT_EQ(cfg->postgres, "dbname=nr");
  EXPECT_EQ(cfg->data, "/d");
}

TEST(ServerCli, UsageErrorsNameTheArgument) {
  EXPECT_EQ(error_of({"admin-token", "--data", "/d", "--bogus", "x"}), "unknown option '--bogus'");
  EXPECT_EQ(error_of({"--listen"}), "option --listen needs a value");
  EXPECT_EQ(error_of({"--threads", "many"}), "--threads 'many' is not a valid number");
  EXPECT_EQ(error_of({"serve"}), "unknown command 'serve'");
  auto help = parse_server_command_line({"--data", "/d", "--help"});
  ASSERT_TRUE(help.ok());
  EXPECT_TRUE(help->help);
  auto missing = config_for(*parse_server_command_line({"--config", "/nonexistent/server.toml"}));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("/nonexistent/server.toml"), std::string::npos) << missing.error().message();
}

}  // namespace
}  // namespace noreboot::server
