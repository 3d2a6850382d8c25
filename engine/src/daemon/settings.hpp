#pragma once
// `syndic run`'s settings: one table of keys, read from a TOML file (`--config FILE`) and from
// command-line flags, the flags winning. Every key has exactly one flag (docs/daemon.md lists
// them): `listen` is `--listen`, `[store] synchronous` is `--store-synchronous`.
//
// Loading never stops at the first mistake: every bad key, value and type is collected, each
// naming where it came from ("syndic.toml:7: key 'listen': expected ADDR:PORT, got 'x'").
// Values are checked here; whether the data directory can be used is data_dir's job.
//
// The API token is read from, in this order: --token or --token-file on the command line,
// the SYNDIC_TOKEN environment variable, then `token` or `token_file` in the file. The first
// source that has one is used; giving both forms in one source is an error. No message ever
// quotes the token.
//
// The file may also hold `[[source]]` tables: they are skipped here and read by
// poll::load_sources_from_config (poll/sources_file.hpp), which reports their errors.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace syndic::daemon {

// SQLite's PRAGMA synchronous in WAL mode. normal: a commit survives a crash of the process,
// and may be lost (never corrupted) at power loss. full: it also survives power loss, at one
// fsync per group commit.
enum class sync_mode : std::uint8_t { normal, full };
enum class log_level : std::uint8_t { trace, debug, info, warn, error };

std::string_view to_string(sync_mode m);
std::string_view to_string(log_level l);

// Where the API listens: an IPv4 address or an IPv6 address (written in brackets), and a port.
// Port 0 asks the system for a free one (the daemon prints the port it got).
struct listen_address {
  std::string host = "127.0.0.1";  // without brackets
  std::uint16_t port = 8080;
  bool ipv6 = false;
  std::string to_string() const;  // "127.0.0.1:8080", "[::1]:8080"
};

// Parses "ADDR:PORT" ("[ADDR]:PORT" for IPv6). Empty `error` when it parsed.
listen_address parse_listen_address(std::string_view text, std::string& error);

struct run_settings {
  std::string data_dir = "syndic-data";  // the store, the lock file (data_dir.hpp)
  listen_address listen;
  std::string outlets_file;  // the outlets CSV or TOML; empty: outlets come from the API only
  // The sources CSV or TOML (poll/sources_file.hpp); empty: sources come from the config
  // file's [[source]] tables (read by poll::load_sources_from_config, not here) and the API.
  std::string sources_file;
  std::string token;         // the API's bearer token, read from wherever it was given
  std::string token_source;  // where it came from, for logs: "--token-file /etc/...", "SYNDIC_TOKEN", ...

  sync_mode synchronous = sync_mode::full;
  // How long a transaction waits for more writes after its first is queued. 0: none: the
  // writer commits as soon as it is free, and what comes during a commit (its fsync) goes in
  // the next one, so batches grow with load and an idle store answers in one fsync.
  std::chrono::milliseconds commit_interval{0};
  std::uint32_t commit_batch = 1000;             // ... or when this many events wait
  // The shared store: a postgres:// URL (libpq's syntax). Empty: SQLite in data_dir. With a
  // URL, several instances share the log and split the outlets (docs/cluster.md); the data
  // directory is not used.
  std::string store_url;
  std::string store_schema = "syndic";  // the PostgreSQL schema holding syndic's tables

  // [cluster]: instances sharing one PostgreSQL store.
  std::string instance_id;                       // empty: HOSTNAME-RANDOM, new at every start
  std::uint32_t cluster_partitions = 256;        // outlets hash into this many partitions
  std::chrono::milliseconds lease_ttl{10'000};   // a dead instance's partitions move after this

  std::uint32_t shards = 0;               // 0: one per CPU the process may run on
  std::uint32_t max_in_flight = 4096;     // requests in flight at once, all outlets together
  std::uint64_t max_body_bytes = 4 << 20;  // a request body larger than this gets 413
  // Lets API-supplied URLs (hub callbacks, outlets added through the API) reach loopback,
  // private, link-local and metadata addresses (ssrf.hpp). Outlets from the operator's own
  // files are trusted either way.
  bool allow_private_targets = false;
  // The base of the hub and self links in served feeds ("https://wire.example.com"), without
  // a trailing slash. Empty: http://LISTEN (see base_url()).
  std::string public_url;
  std::uint32_t feed_items = 50;  // items in each served feed
  std::chrono::milliseconds shutdown_deadline{10'000};  // SIGTERM: finish or persist by then

  // WebSub leases: a subscriber's hub.lease_seconds is clamped to [min, max]; without one it
  // gets the default.
  std::chrono::seconds lease_default{864'000};  // 10 days
  std::chrono::seconds lease_min{60};
  std::chrono::seconds lease_max{2'592'000};  // 30 days

  // [poll]: the poller (poll::poller_options; the defaults are the same).
  std::size_t poll_parse_threads = 1;               // feeds parsed at once, off the I/O thread
  std::size_t poll_host_connections = 2;            // requests to one host:port at once
  std::chrono::milliseconds poll_host_gap{250};     // between two request starts to one host:port
  std::uint64_t poll_max_body_bytes = 20u << 20;    // a larger feed is an error for that poll
  std::chrono::milliseconds poll_timeout{30'000};   // one fetch, DNS to the body's last byte
  std::uint32_t poll_max_redirects = 5;
  std::chrono::seconds poll_start_spread{30};       // first polls after a start spread over this
  std::string poll_user_agent;                      // empty: the poller's own ("syndic/0.1 ...")
  // The intervals of sources that set none (an empty CSV cell, a key left out, the API).
  std::chrono::seconds poll_min_interval{60};
  std::chrono::seconds poll_max_interval{3600};

  log_level log = log_level::info;

  // public_url, or http://HOST:PORT from `listen` with the port actually bound (an unspecified
  // address, 0.0.0.0 or ::, is written as the loopback address).
  std::string base_url(std::uint16_t bound_port) const;
};

struct settings_error {
  std::string source;  // the config file's name, or "command line", or "SYNDIC_TOKEN"
  std::size_t line = 0;  // 1-based line in the file; 0 when not from a file
  std::string key;       // "listen", "store.synchronous", "--listen"; empty for the whole source
  std::string message;
  // "syndic.toml:7: key 'listen': expected ADDR:PORT, got 'x'"
  // "command line: --listen: expected ADDR:PORT, got 'x'"
  std::string to_string() const;
};

struct settings_result {
  run_settings settings;
  std::vector<settings_error> errors;
  std::vector<settings_error> warnings;  // worth a log line, not a refusal (a token file others can read)
  bool ok() const { return errors.empty(); }
};

// One setting, for docs and --help: its key in the file ("store.synchronous"), its flag
// ("--store-synchronous"), the type written in messages, its default and a line of help.
struct setting_info {
  std::string key;
  std::string flag;
  std::string type;
  std::string default_value;
  std::string help;
};
const std::vector<setting_info>& run_setting_table();

// What the command line said: `--config` and the raw text of every flag that was given.
// Filled by CLI11 during the parse (add_run_flags); the values are checked by
// load_run_settings, with the file's, so a flag and a key share one parser and one message.
// After the parse it holds plain strings: it may be copied, and outlive the CLI::App.
class run_flags {
 public:
  std::string config_path;  // --config; empty when not given
  // key ("listen", "store.synchronous") -> the flag's text, for the flags that were given.
  const std::map<std::string, std::string>& given() const { return given_; }
  // For tests and embedders without CLI11: as if `--flag value` was on the command line.
  void set(std::string key, std::string value) { given_[std::move(key)] = std::move(value); }

 private:
  friend void add_run_flags(CLI::App& command, run_flags& flags);
  std::map<std::string, std::string> given_;
  std::map<std::string, std::string> bound_;  // where CLI11 writes the values it parses
};

// Registers --config and one flag per setting on `command` (the `run` subcommand). `flags`
// must stay where it is until the parse is over (CLI11 writes into it).
void add_run_flags(CLI::App& command, run_flags& flags);

// Reads the config file named by flags.config_path (if any), then the environment's
// SYNDIC_TOKEN, then the flags, and checks the result (a token is required, lease bounds in
// order, ...). `getenv` is a parameter so tests do not depend on the process environment.
using env_lookup = std::function<const char*(const char*)>;
settings_result load_run_settings(const run_flags& flags, const env_lookup& getenv);
settings_result load_run_settings(const run_flags& flags);  // with ::getenv

// The same from a file already in memory (`name` is used in messages); then flags and env.
settings_result load_run_settings(std::string_view toml_text, const std::string& name,
                                  const run_flags& flags, const env_lookup& getenv);

// The settings as a config file (token shown as "<redacted>"): for `--print-config` and logs.
std::string to_toml(const run_settings& s);

}  // namespace syndic::daemon
