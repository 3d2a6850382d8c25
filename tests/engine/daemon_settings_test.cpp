// syndic run's settings: the TOML file, the flags (through a real CLI11 parse), the token's
// sources, and messages that name the file, the line and the key.

#include "daemon/settings.hpp"
#include "daemon/text.hpp"
#include "poll/poller.hpp"
#include "poll/sources_file.hpp"

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

namespace syndic::daemon {
namespace {

constexpr const char* good_token = "s3cr3t-t0ken-of-20ch";

// A fixed environment, so the tests do not depend on the process's.
env_lookup env(std::map<std::string, std::string> vars = {}) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [shared](const char* name) -> const char* {
    auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

std::string errors_text(const settings_result& r) {
  std::string s;
  for (const auto& e : r.errors) s += e.to_string() + "\n";
  return s;
}

settings_result load(std::string_view toml, const run_flags& flags = {},
                     const env_lookup& e = env({{"SYNDIC_TOKEN", good_token}})) {
  return load_run_settings(toml, "syndic.toml", flags, e);
}

// Parses `args` as `syndic run ARGS` through CLI11, as the binary does.
run_flags parse_flags(std::vector<std::string> args) {
  CLI::App app{"t", "syndic"};
  CLI::App* run = app.add_subcommand("run", "run");
  run_flags flags;
  add_run_flags(*run, flags);
  std::vector<std::string> argv{"syndic", "run"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<const char*> c;
  for (const auto& a : argv) c.push_back(a.c_str());
  app.parse(static_cast<int>(c.size()), c.data());
  return flags;
}

struct temp_file {
  std::string path;
  explicit temp_file(std::string_view text, std::string name = "f") {
    path = (std::filesystem::temp_directory_path() /
            ("syndic_settings_" + std::to_string(::getpid()) + "_" + name)).string();
    std::ofstream(path, std::ios::binary) << text;
  }
  ~temp_file() { std::remove(path.c_str()); }
};

TEST(DaemonSettings, DefaultsWithTokenFromEnvironment) {
  auto r = load("");
  ASSERT_TRUE(r.ok()) << errors_text(r);
  const run_settings& s = r.settings;
  EXPECT_EQ(s.data_dir, "syndic-data");
  EXPECT_EQ(s.listen.to_string(), "127.0.0.1:8080");
  EXPECT_EQ(s.token, good_token);
  EXPECT_EQ(s.token_source, "SYNDIC_TOKEN");
  EXPECT_EQ(s.synchronous, sync_mode::full);
  EXPECT_EQ(s.commit_interval.count(), 0);
  EXPECT_FALSE(s.allow_private_targets);
  EXPECT_EQ(s.base_url(8080), "http://127.0.0.1:8080");
  EXPECT_TRUE(r.warnings.empty());
}

TEST(DaemonSettings, EveryKeyFromTheFile) {
  auto r = load(R"(# a wire
data = "/var/lib/syndic"
listen = "[::1]:9443"
outlets = "outlets.csv"
public_url = "https://wire.example.com/syndic/"
shards = 4
max_body_bytes = 1_048_576
allow_private_targets = true
feed_items = 20
shutdown_deadline_ms = 2500
log_level = "DEBUG"

[store]
synchronous = "normal"
commit_interval_ms = 10
commit_batch = 500

[websub]
lease_seconds = 3600
min_lease_seconds = 10
max_lease_seconds = 7200
)");
  ASSERT_TRUE(r.ok()) << errors_text(r);
  const run_settings& s = r.settings;
  EXPECT_EQ(s.data_dir, "/var/lib/syndic");
  EXPECT_EQ(s.listen.host, "::1");
  EXPECT_TRUE(s.listen.ipv6);
  EXPECT_EQ(s.listen.port, 9443);
  EXPECT_EQ(s.outlets_file, "outlets.csv");
  EXPECT_EQ(s.public_url, "https://wire.example.com/syndic");
  EXPECT_EQ(s.base_url(1), "https://wire.example.com/syndic");
  EXPECT_EQ(s.shards, 4u);
  EXPECT_EQ(s.max_body_bytes, 1048576u);
  EXPECT_TRUE(s.allow_private_targets);
  EXPECT_EQ(s.feed_items, 20u);
  EXPECT_EQ(s.shutdown_deadline.count(), 2500);
  EXPECT_EQ(s.log, log_level::debug);
  EXPECT_EQ(s.synchronous, sync_mode::normal);
  EXPECT_EQ(s.commit_interval.count(), 10);
  EXPECT_EQ(s.commit_batch, 500u);
  EXPECT_EQ(s.lease_default.count(), 3600);
  EXPECT_EQ(s.lease_min.count(), 10);
  EXPECT_EQ(s.lease_max.count(), 7200);
}

TEST(DaemonSettings, ErrorNamesFileLineAndKey) {
  auto r = load("# 1\n# 2\n# 3\n# 4\n# 5\n# 6\nlisten = \"localhost:80\"\n");
  ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
  EXPECT_EQ(r.errors[0].to_string(),
            "syndic.toml:7: key 'listen': expected ADDR:PORT, got 'localhost:80': write 127.0.0.1 for localhost");
}

TEST(DaemonSettings, EveryErrorIsCollectedWithItsLine) {
  auto r = load(R"(listen = "127.0.0.1:99999"
shards = -1
lisen = "x"
log_level = "loud"

[store]
synchronous = "sometimes"
commit_interval_ms = 10001

[websub]
min_lease_seconds = 0
)");
  ASSERT_EQ(r.errors.size(), 7u) << errors_text(r);
  std::map<std::string, std::size_t> line_of;
  for (const auto& e : r.errors) line_of[e.key] = e.line;
  EXPECT_EQ(line_of["listen"], 1u);
  EXPECT_EQ(line_of["shards"], 2u);
  EXPECT_EQ(line_of["lisen"], 3u);
  EXPECT_EQ(line_of["log_level"], 4u);
  EXPECT_EQ(line_of["store.synchronous"], 7u);
  EXPECT_EQ(line_of["store.commit_interval_ms"], 8u);
  EXPECT_EQ(line_of["websub.min_lease_seconds"], 11u);
  std::string all = errors_text(r);
  EXPECT_NE(all.find("syndic.toml:1: key 'listen': expected ADDR:PORT, got '127.0.0.1:99999': the port must be"),
            std::string::npos) << all;
  EXPECT_NE(all.find("syndic.toml:2: key 'shards': expected a number of shards from 0 to 1024, got '-1'"),
            std::string::npos) << all;
  EXPECT_NE(all.find("syndic.toml:7: key 'store.synchronous': expected normal or full, got 'sometimes'"),
            std::string::npos) << all;
}

TEST(DaemonSettings, UnknownKeysSuggestACloseOne) {
  auto r = load("lisen = \"127.0.0.1:1\"\nsynchronous = \"full\"\nfrobnicate = 1\n[store]\ncommit_intervl_ms = 5\n");
  ASSERT_EQ(r.errors.size(), 4u) << errors_text(r);
  EXPECT_EQ(r.errors[0].to_string(), "syndic.toml:1: key 'lisen': unknown key (did you mean 'listen'?)");
  EXPECT_EQ(r.errors[1].to_string(),
            "syndic.toml:2: key 'synchronous': unknown key (did you mean 'store.synchronous', written "
            "'synchronous' under [store]?)");
  EXPECT_EQ(r.errors[2].to_string(),
            "syndic.toml:3: key 'frobnicate': unknown key (the keys are listed in docs/daemon.md and by "
            "'syndic run --help')");
  EXPECT_EQ(r.errors[3].line, 5u);
  EXPECT_NE(r.errors[3].message.find("did you mean 'store.commit_interval_ms'"), std::string::npos);
}

TEST(DaemonSettings, WrongTypesAreErrors) {
  auto r = load(R"(shards = "4"
listen = 8080
allow_private_targets = "yes"
feed_items = 2.5
store = 5
[data]
x = 1
)");
  ASSERT_EQ(r.errors.size(), 6u) << errors_text(r);
  EXPECT_EQ(r.errors[0].to_string(),
            "syndic.toml:1: key 'shards': expected an integer, got a string (write the number without quotes)");
  EXPECT_EQ(r.errors[1].to_string(), "syndic.toml:2: key 'listen': expected a string, got an integer");
  EXPECT_EQ(r.errors[2].to_string(),
            "syndic.toml:3: key 'allow_private_targets': expected true or false, got a string (write true or "
            "false without quotes)");
  EXPECT_EQ(r.errors[3].to_string(),
            "syndic.toml:4: key 'feed_items': expected an integer, got a floating-point number");
  EXPECT_EQ(r.errors[4].to_string(), "syndic.toml:5: key 'store': expected a table ([store]), got an integer");
  EXPECT_EQ(r.errors[5].to_string(), "syndic.toml:6: key 'data': expected a string, got a table");
}

TEST(DaemonSettings, TomlSyntaxErrorHasItsLine) {
  auto r = load("listen = \"127.0.0.1:1\"\nshards = = 3\n");
  ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
  EXPECT_EQ(r.errors[0].line, 2u);
  EXPECT_TRUE(r.errors[0].to_string().starts_with("syndic.toml:2: ")) << errors_text(r);
}

TEST(DaemonSettings, FlagsOverrideTheFile) {
  run_flags flags = parse_flags({"--listen", "0.0.0.0:9000", "--no-allow-private-targets",
                                 "--store-synchronous", "normal", "--websub-max-lease-seconds=1000000"});
  auto r = load("listen = \"127.0.0.1:1\"\nallow_private_targets = true\nshards = 3\n"
                "[store]\nsynchronous = \"full\"\n",
                flags);
  ASSERT_TRUE(r.ok()) << errors_text(r);
  EXPECT_EQ(r.settings.listen.to_string(), "0.0.0.0:9000");
  EXPECT_FALSE(r.settings.allow_private_targets);
  EXPECT_EQ(r.settings.synchronous, sync_mode::normal);
  EXPECT_EQ(r.settings.shards, 3u);  // from the file: no flag given
  EXPECT_EQ(r.settings.lease_max.count(), 1000000);
  EXPECT_EQ(r.settings.base_url(9000), "http://127.0.0.1:9000");
}

// The flags are plain strings once parsed: copies work after the parser is gone (they used
// to ask CLI11's options, freed with the App: a use after free under ASan).
TEST(DaemonSettings, FlagsOutliveTheParser) {
  run_flags copy;
  {
    run_flags parsed = parse_flags({"--listen", "127.0.0.1:1", "--no-allow-private-targets"});
    copy = parsed;
  }
  EXPECT_EQ(copy.given(), (std::map<std::string, std::string>{{"allow_private_targets", "false"},
                                                               {"listen", "127.0.0.1:1"}}));
  EXPECT_TRUE(parse_flags({}).given().empty());
}

TEST(DaemonSettings, BooleanFlagForms) {
  auto value = [](std::vector<std::string> args) {
    auto r = load("allow_private_targets = true\n", parse_flags(std::move(args)));
    EXPECT_TRUE(r.ok()) << errors_text(r);
    return r.settings.allow_private_targets;
  };
  EXPECT_TRUE(value({}));  // the file's
  EXPECT_FALSE(value({"--no-allow-private-targets"}));
  EXPECT_FALSE(value({"--allow-private-targets=false"}));
  EXPECT_FALSE(value({"--allow-private-targets=off"}));
  EXPECT_THROW(parse_flags({"--no-allow-private-targets", "--allow-private-targets"}), CLI::ParseError);
  EXPECT_FALSE(load("", parse_flags({"--allow-private-targets=false"})).settings.allow_private_targets);
  EXPECT_TRUE(load("", parse_flags({"--allow-private-targets"})).settings.allow_private_targets);
}

TEST(DaemonSettings, ConfigFileNamedByFlag) {
  temp_file config("listen = \"127.0.0.1:7000\"\nfeed_items = 0\n", "syndic.toml");
  run_flags flags = parse_flags({"--config", config.path, "--shards", "2"});
  auto r = load_run_settings(flags, env({{"SYNDIC_TOKEN", good_token}}));
  ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
  EXPECT_EQ(r.errors[0].to_string(),
            config.path + ":2: key 'feed_items': expected a number of items from 1 to 10000, got '0'");
  EXPECT_EQ(r.settings.listen.port, 7000);
  EXPECT_EQ(r.settings.shards, 2u);

  run_flags missing = parse_flags({"--config", config.path + ".absent"});
  auto m = load_run_settings(missing, env({{"SYNDIC_TOKEN", good_token}}));
  ASSERT_EQ(m.errors.size(), 1u) << errors_text(m);
  EXPECT_EQ(m.errors[0].to_string(), config.path + ".absent: cannot read the config file (--config)");
}

TEST(DaemonSettings, BadFlagValuesNameTheFlag) {
  run_flags flags = parse_flags({"--listen", "::1:80", "--allow-private-targets=maybe", "--shards", "x"});
  auto r = load("", flags);
  ASSERT_EQ(r.errors.size(), 3u) << errors_text(r);
  std::string all = errors_text(r);
  EXPECT_NE(all.find("command line: --listen: expected ADDR:PORT, got '::1:80': write an IPv6 address in brackets"),
            std::string::npos) << all;
  EXPECT_NE(all.find("command line: --allow-private-targets: expected true or false, got 'maybe'"),
            std::string::npos) << all;
  EXPECT_NE(all.find("command line: --shards: expected a number of shards from 0 to 1024, got 'x'"),
            std::string::npos) << all;
}

TEST(DaemonSettings, ListenAddresses) {
  struct row {
    const char* text;
    bool ok;
    const char* canonical;
  };
  const row rows[] = {
      {"127.0.0.1:8080", true, "127.0.0.1:8080"}, {"0.0.0.0:0", true, "0.0.0.0:0"},
      {"[::]:443", true, "[::]:443"},             {"[::ffff:10.0.0.1]:1", true, "[::ffff:10.0.0.1]:1"},
      {"127.0.0.1", false, ""},                   {"127.0.0.1:", false, ""},
      {"127.0.0.1:65536", false, ""},             {"127.0.0.1:+80", false, ""},
      {"1.2.3:80", false, ""},                    {"[::1]80", false, ""},
      {"[::1:80", false, ""},                     {"[nope]:80", false, ""},
      {"example.com:80", false, ""},              {":80", false, ""},
  };
  for (const row& r : rows) {
    std::string error;
    listen_address a = parse_listen_address(r.text, error);
    EXPECT_EQ(error.empty(), r.ok) << r.text << ": " << error;
    if (r.ok) {
      EXPECT_EQ(a.to_string(), r.canonical);
    }
  }
}

TEST(DaemonSettings, TokenSourcesInOrder) {
  temp_file token_file(std::string("  ") + "file-token-0123456789" + "\n", "token");
  ::chmod(token_file.path.c_str(), 0600);
  // The command line first, then SYNDIC_TOKEN, then the file.
  {
    run_flags flags = parse_flags({"--token-file", token_file.path});
    auto r = load("token = \"config-token-0123456789\"\n", flags, env({{"SYNDIC_TOKEN", "env-token-0123456789"}}));
    ASSERT_TRUE(r.ok()) << errors_text(r);
    EXPECT_EQ(r.settings.token, "file-token-0123456789");
    EXPECT_EQ(r.settings.token_source, "--token-file " + token_file.path);
    EXPECT_TRUE(r.warnings.empty());
  }
  {
    auto r = load("token = \"config-token-0123456789\"\n", {}, env({{"SYNDIC_TOKEN", "env-token-0123456789"}}));
    ASSERT_TRUE(r.ok()) << errors_text(r);
    EXPECT_EQ(r.settings.token, "env-token-0123456789");
  }
  {
    auto r = load("\ntoken_file = \"" + token_file.path + "\"\n", {}, env());
    ASSERT_TRUE(r.ok()) << errors_text(r);
    EXPECT_EQ(r.settings.token, "file-token-0123456789");
    EXPECT_EQ(r.settings.token_source, "token_file " + token_file.path);
  }
  {
    auto r = load("", parse_flags({"--token", "flag-token-0123456789"}), env({{"SYNDIC_TOKEN", "env-token-0123456789"}}));
    ASSERT_TRUE(r.ok()) << errors_text(r);
    EXPECT_EQ(r.settings.token, "flag-token-0123456789");
    EXPECT_EQ(r.settings.token_source, "--token");
  }
}

TEST(DaemonSettings, TokenErrorsNeverQuoteTheToken) {
  {
    auto r = load("", {}, env());
    ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
    EXPECT_NE(r.errors[0].message.find("no API token"), std::string::npos);
  }
  {
    auto r = load("\n\ntoken = \"short\"\n", {}, env());
    ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
    EXPECT_EQ(r.errors[0].to_string(), "syndic.toml:3: key 'token': the token must be 16 to 4096 characters long (it has 5)");
  }
  {
    auto r = load("", parse_flags({"--token", "has a space in it, 0123456789"}), env());
    ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
    EXPECT_EQ(r.errors[0].key, "--token");
    EXPECT_EQ(r.errors[0].to_string().find("space"), std::string::npos) << errors_text(r);
  }
  {
    auto r = load("token = \"config-token-0123456789\"\ntoken_file = \"/x\"\n", {}, env());
    ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
    EXPECT_NE(r.errors[0].message.find("not both"), std::string::npos);
  }
  {
    auto r = load("", parse_flags({"--token-file", "/nonexistent/token"}), env());
    ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
    EXPECT_EQ(r.errors[0].to_string(), "command line: --token-file: cannot read the token file '/nonexistent/token'");
  }
  {
    temp_file token_file("file-token-0123456789", "open-token");
    ::chmod(token_file.path.c_str(), 0644);
    auto r = load("", parse_flags({"--token-file", token_file.path}), env());
    ASSERT_TRUE(r.ok()) << errors_text(r);
    ASSERT_EQ(r.warnings.size(), 1u);
    EXPECT_NE(r.warnings[0].message.find("can be read by other users"), std::string::npos);
  }
}

TEST(DaemonSettings, LeaseBoundsAreChecked) {
  auto r = load("[websub]\nlease_seconds = 100\nmin_lease_seconds = 200\n");
  ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
  EXPECT_EQ(r.errors[0].to_string(), "syndic.toml:2: key 'websub.lease_seconds': the default lease (100 s) is outside [200, 2592000] s");
  auto r2 = load("[websub]\nmin_lease_seconds = 200\n", parse_flags({"--websub-max-lease-seconds", "100"}));
  ASSERT_EQ(r2.errors.size(), 1u) << errors_text(r2);
  EXPECT_EQ(r2.errors[0].to_string(),
            "syndic.toml:2: key 'websub.min_lease_seconds': the minimum lease (200 s) is above the maximum (100 s)");
}

TEST(DaemonSettings, PublicUrl) {
  EXPECT_EQ(load("public_url = \"http://a.example:81\"").settings.public_url, "http://a.example:81");
  for (const char* bad : {"ftp://a.example", "wire.example.com", "https://u:p@a.example", "https://a.example/?x=1"}) {
    auto r = load(std::string("public_url = \"") + bad + "\"");
    EXPECT_EQ(r.errors.size(), 1u) << bad;
  }
}

TEST(DaemonSettings, PrintedConfigReadsBack) {
  auto r = load("listen = \"[::1]:9\"\nshards = 7\n[store]\nsynchronous = \"normal\"\n");
  ASSERT_TRUE(r.ok()) << errors_text(r);
  std::string text = to_toml(r.settings);
  EXPECT_EQ(text.find(good_token), std::string::npos);
  auto back = load(text.replace(text.find("<redacted>"), 10, good_token));
  ASSERT_TRUE(back.ok()) << errors_text(back);
  EXPECT_EQ(to_toml(back.settings), to_toml(r.settings));
}

// Every setting has a flag, and docs/daemon.md documents every key and flag.
TEST(DaemonSettings, TableAndDocsAgree) {
  std::ifstream docs(std::string(SYNDIC_SOURCE_DIR) + "/docs/daemon.md");
  ASSERT_TRUE(docs) << "docs/daemon.md is missing";
  std::string text((std::istreambuf_iterator<char>(docs)), {});
  for (const setting_info& s : run_setting_table()) {
    EXPECT_TRUE(s.flag.starts_with("--")) << s.key;
    std::string key = s.key.substr(s.key.find('.') + 1);
    EXPECT_NE(text.find("`" + key + "`"), std::string::npos) << "docs/daemon.md lacks key " << s.key;
    EXPECT_NE(text.find("`" + s.flag), std::string::npos) << "docs/daemon.md lacks flag " << s.flag;
  }
}

TEST(DaemonSettings, PollKeysFromTheFile) {
  auto r = load(R"toml(sources = "sources.csv"

[poll]
parse_threads = 3
host_connections = 4
host_gap_ms = 0
max_body_bytes = 65536
timeout_ms = 5000
max_redirects = 0
start_spread_s = 0
user_agent = "wire-bot/2 (+https://wire.example.com)"
min_interval_s = 30
max_interval_s = 86400
)toml");
  ASSERT_TRUE(r.ok()) << errors_text(r);
  const run_settings& s = r.settings;
  EXPECT_EQ(s.sources_file, "sources.csv");
  EXPECT_EQ(s.poll_parse_threads, 3u);
  EXPECT_EQ(s.poll_host_connections, 4u);
  EXPECT_EQ(s.poll_host_gap.count(), 0);
  EXPECT_EQ(s.poll_max_body_bytes, 65536u);
  EXPECT_EQ(s.poll_timeout.count(), 5000);
  EXPECT_EQ(s.poll_max_redirects, 0u);
  EXPECT_EQ(s.poll_start_spread.count(), 0);
  EXPECT_EQ(s.poll_user_agent, "wire-bot/2 (+https://wire.example.com)");
  EXPECT_EQ(s.poll_min_interval.count(), 30);
  EXPECT_EQ(s.poll_max_interval.count(), 86400);
}

// The settings' defaults are the poller's own (poller_options), so leaving [poll] out and
// writing the documented defaults in it mean the same.
TEST(DaemonSettings, PollDefaultsAreThePollersDefaults) {
  auto r = load("");
  ASSERT_TRUE(r.ok()) << errors_text(r);
  const run_settings& s = r.settings;
  poll::poller_options o;
  poll::source d;
  EXPECT_EQ(s.poll_parse_threads, o.parse_threads);
  EXPECT_EQ(s.poll_host_connections, o.host_connections);
  EXPECT_EQ(s.poll_host_gap, o.host_gap);
  EXPECT_EQ(s.poll_max_body_bytes, o.max_body_bytes);
  EXPECT_EQ(s.poll_timeout, o.timeout);
  EXPECT_EQ(s.poll_max_redirects, o.max_redirects);
  EXPECT_EQ(s.poll_start_spread, o.start_spread);
  EXPECT_EQ(s.poll_user_agent, "");
  EXPECT_EQ(s.poll_min_interval, d.min_interval);
  EXPECT_EQ(s.poll_max_interval, d.max_interval);
  EXPECT_EQ(s.sources_file, "");
}

TEST(DaemonSettings, PollFlagsAndBadValues) {
  run_flags f = parse_flags({"--sources", "s.toml", "--poll-parse-threads", "2", "--poll-host-gap-ms", "10",
                             "--poll-user-agent", "x/1", "--poll-min-interval-s", "5"});
  auto r = load("[poll]\nparse_threads = 8\n", f);
  ASSERT_TRUE(r.ok()) << errors_text(r);
  EXPECT_EQ(r.settings.sources_file, "s.toml");
  EXPECT_EQ(r.settings.poll_parse_threads, 2u);
  EXPECT_EQ(r.settings.poll_host_gap.count(), 10);
  EXPECT_EQ(r.settings.poll_user_agent, "x/1");
  EXPECT_EQ(r.settings.poll_min_interval.count(), 5);

  r = load(R"([poll]
parse_threads = 0
host_connections = 5000
timeout_ms = 10
max_redirects = 21
start_spread_s = "30"
user_agent = "bad\nagent"
min_interval_s = 0
parse_thread = 2
)");
  ASSERT_EQ(r.errors.size(), 8u) << errors_text(r);
  EXPECT_EQ(r.errors[0].to_string(), "syndic.toml:2: key 'poll.parse_threads': expected a number of threads from 1 to 64, got '0'");
  EXPECT_EQ(r.errors[1].to_string(),
            "syndic.toml:3: key 'poll.host_connections': expected a number of requests from 1 to 1024, got '5000'");
  EXPECT_EQ(r.errors[2].to_string(), "syndic.toml:4: key 'poll.timeout_ms': expected milliseconds from 100 to 3600000, got '10'");
  EXPECT_EQ(r.errors[3].to_string(), "syndic.toml:5: key 'poll.max_redirects': expected a number of redirects from 0 to 20, got '21'");
  EXPECT_EQ(r.errors[4].to_string(),
            "syndic.toml:6: key 'poll.start_spread_s': expected an integer, got a string (write the number without quotes)");
  EXPECT_EQ(r.errors[5].to_string(),
            "syndic.toml:7: key 'poll.user_agent': expected printable ASCII (a header value), got 'bad\\x0aagent'");
  EXPECT_EQ(r.errors[6].to_string(), "syndic.toml:8: key 'poll.min_interval_s': expected seconds from 1 to 2592000, got '0'");
  EXPECT_EQ(r.errors[7].to_string().substr(0, 86), "syndic.toml:9: key 'poll.parse_thread': unknown key (did you mean 'poll.parse_threads'");

  r = load("", parse_flags({"--poll-max-body-bytes", "12"}));
  ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
  EXPECT_EQ(r.errors[0].to_string(),
            "command line: --poll-max-body-bytes: expected a size in bytes from 1024 to 1073741824, got '12'");
}

TEST(DaemonSettings, PollIntervalBoundsAreChecked) {
  auto r = load("[poll]\nmin_interval_s = 600\nmax_interval_s = 60\n");
  ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
  EXPECT_EQ(r.errors[0].to_string(),
            "syndic.toml:2: key 'poll.min_interval_s': the default minimum interval (600 s) is above the default "
            "maximum (60 s)");
  r = load("[poll]\nmax_interval_s = 30\n");
  ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
  EXPECT_EQ(r.errors[0].line, 2u);
}

// [[source]] tables in the config file are sources (poll::load_sources_from_config), not
// unknown settings; a sources file's name is still the `sources` key.
TEST(DaemonSettings, SourceTablesAreLeftToTheSources) {
  auto r = load(R"(listen = "127.0.0.1:0"

[[source]]
id = "a"
url = "http://h/a"
colour = "ignored here, reported by the sources loader"

[[source]]
id = "b"
url = "http://h/b"

[store]
synchronous = "normal"
)");
  ASSERT_TRUE(r.ok()) << errors_text(r);
  EXPECT_EQ(r.settings.listen.port, 0);
  EXPECT_EQ(r.settings.synchronous, sync_mode::normal);

  r = load("[[sources]]\nid = \"a\"\n");
  ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
  EXPECT_EQ(r.errors[0].to_string(),
            "syndic.toml:1: key 'sources': expected a string, got an array (a file's name; sources in this file "
            "are [[source]] tables)");
}

TEST(DaemonSettings, PrintedConfigWithPollReadsBack) {
  auto r = load("sources = \"s.csv\"\n[poll]\nhost_gap_ms = 7\nuser_agent = \"a \\\"b\\\"\"\nmax_interval_s = 99\n");
  ASSERT_TRUE(r.ok()) << errors_text(r);
  std::string text = to_toml(r.settings);
  auto back = load(text.replace(text.find("<redacted>"), 10, good_token));
  ASSERT_TRUE(back.ok()) << errors_text(back) << text;
  EXPECT_EQ(back.settings.sources_file, "s.csv");
  EXPECT_EQ(back.settings.poll_host_gap.count(), 7);
  EXPECT_EQ(back.settings.poll_user_agent, "a \"b\"");
  EXPECT_EQ(back.settings.poll_max_interval.count(), 99);
  EXPECT_EQ(to_toml(back.settings), to_toml(r.settings));
}

// The example in docs/daemon.md loads as written (it once set a default lease above its
// maximum), with its [[source]] table read by the sources loader.
TEST(DaemonSettings, DocsExampleLoads) {
  std::ifstream docs(std::string(SYNDIC_SOURCE_DIR) + "/docs/daemon.md");
  ASSERT_TRUE(docs) << "docs/daemon.md is missing";
  std::string text((std::istreambuf_iterator<char>(docs)), {});
  auto at = text.find("### Example");
  ASSERT_NE(at, std::string::npos);
  auto begin = text.find("```toml\n", at);
  ASSERT_NE(begin, std::string::npos);
  begin += 8;
  auto end = text.find("```", begin);
  ASSERT_NE(end, std::string::npos);
  std::string example = text.substr(begin, end - begin);
  auto r = load(example);
  EXPECT_TRUE(r.ok()) << errors_text(r) << example;
  temp_file file(example, "docs_example.toml");
  auto sources = poll::load_sources_from_config(file.path);
  EXPECT_TRUE(sources.ok()) << (sources.errors.empty() ? "" : sources.errors[0].to_string());
  EXPECT_EQ(sources.sources.size(), 1u);
}

}  // namespace
TEST(DaemonSettings, StoreUrlAndClusterKeys) {
  auto r = load("[store]\nurl = \"postgres://app:s3cret@db.example:5432/wire\"\nschema = \"wire_1\"\n"
                "[cluster]\ninstance_id = \"node-a\"\npartitions = 64\nlease_ttl_ms = 5000\n");
  ASSERT_TRUE(r.ok()) << errors_text(r);
  EXPECT_EQ(r.settings.store_url, "postgres://app:s3cret@db.example:5432/wire");
  EXPECT_EQ(r.settings.store_schema, "wire_1");
  EXPECT_EQ(r.settings.instance_id, "node-a");
  EXPECT_EQ(r.settings.cluster_partitions, 64u);
  EXPECT_EQ(r.settings.lease_ttl, std::chrono::milliseconds(5000));
  // The password never shows: not in --print-config's text, not in an error.
  std::string toml = to_toml(r.settings);
  EXPECT_EQ(toml.find("s3cret"), std::string::npos) << toml;
  EXPECT_NE(toml.find("postgres://app:<redacted>@db.example:5432/wire"), std::string::npos) << toml;

  run_flags bad;
  bad.set("store.url", "mysql://app:s3cret@db/wire");
  bad.set("store.schema", "Wire;drop");
  bad.set("cluster.instance_id", "a b");
  bad.set("cluster.partitions", "0");
  auto b = load("", bad);
  ASSERT_EQ(b.errors.size(), 4u) << errors_text(b);
  std::string text = errors_text(b);
  EXPECT_EQ(text.find("s3cret"), std::string::npos) << text;
  EXPECT_NE(text.find("--store: expected a postgres://"), std::string::npos) << text;
  EXPECT_NE(text.find("--store-schema"), std::string::npos) << text;
  EXPECT_NE(text.find("--instance-id"), std::string::npos) << text;
  EXPECT_NE(text.find("--cluster-partitions"), std::string::npos) << text;
}

TEST(DaemonText, RedactUrl) {
  EXPECT_EQ(redact_url("postgres://u:p@h/db"), "postgres://u:<redacted>@h/db");
  EXPECT_EQ(redact_url("postgres://u@h/db"), "postgres://u@h/db");
  EXPECT_EQ(redact_url("postgres://h/db?user=u&password=p&sslmode=require"),
            "postgres://h/db?user=u&password=<redacted>&sslmode=require");
  EXPECT_EQ(redact_url("postgresql://u:p:q@h:5432/db?x=1#f"), "postgresql://u:<redacted>@h:5432/db?x=1#f");
  EXPECT_EQ(redact_url("postgres://h/db?xpassword=1"), "postgres://h/db?xpassword=1");
}

}  // namespace syndic::daemon
