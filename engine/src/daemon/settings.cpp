// `syndic run`'s settings: one table serves the TOML file, the flags, the docs and --help.

#include "daemon/settings.hpp"
#include "daemon/text.hpp"

#include <boost/url/parse.hpp>
#include <CLI/CLI.hpp>
#include <toml++/toml.h>

#include <arpa/inet.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

namespace syndic::daemon {
namespace {

constexpr std::string_view command_line = "command line";
constexpr std::size_t token_min = 16, token_max = 4096;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c + 32) : c; }

std::string lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

// The kinds of TOML value a key accepts; flags are text and parsed by the same setter.
enum class kind { text, integer, boolean };

// Token candidates of one source (file, environment, command line): resolved by priority
// at the end, so a file's token never overrides the command line's --token-file.
struct token_candidates {
  std::optional<std::string> token, token_file;
};

struct layer {
  run_settings& s;
  token_candidates& tokens;
};

// Returns an error message, or empty when the value was taken.
using setter = std::string (*)(layer&, std::string_view);

struct setting {
  std::string_view key;   // in the file: "listen", "store.synchronous"
  std::string_view flag;  // "--listen"
  kind type;
  std::string_view type_name;  // for --help: "ADDR:PORT", "MS"
  std::string_view help;
  setter set;
};

template <class T>
std::optional<T> parse_uint(std::string_view v, T min, T max) {
  if (v.empty() || v.front() == '+' || v.front() == '-') return std::nullopt;
  T n{};
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc{} || end != v.data() + v.size() || n < min || n > max) return std::nullopt;
  return n;
}

template <class T>
std::string range_error(std::string_view what, T min, T max, std::string_view v) {
  return "expected " + std::string(what) + " from " + std::to_string(min) + " to " + std::to_string(max) +
         ", got " + quote_value(v);
}

// A setter for an unsigned integer in [min, max], stored through `store`.
#define SYNDIC_UINT_SETTER(TYPE, MIN, MAX, WHAT, STORE)                     \
  [](layer& l, std::string_view v) -> std::string {                         \
    auto n = parse_uint<TYPE>(v, MIN, MAX);                                 \
    if (!n) return range_error<TYPE>(WHAT, MIN, MAX, v);                    \
    [[maybe_unused]] run_settings& s = l.s;                                 \
    STORE;                                                                  \
    return {};                                                              \
  }

bool parse_bool(std::string_view v, bool& out) {
  std::string l = lowered(v);
  if (l == "true" || l == "yes" || l == "on" || l == "1") out = true;
  else if (l == "false" || l == "no" || l == "off" || l == "0") out = false;
  else return false;
  return true;
}

std::string set_public_url(run_settings& s, std::string_view v) {
  if (v.empty()) {
    s.public_url.clear();
    return {};
  }
  auto u = boost::urls::parse_absolute_uri(v);
  if (!u || (u->scheme_id() != boost::urls::scheme::http && u->scheme_id() != boost::urls::scheme::https))
    return "expected an http:// or https:// URL (the base of served feeds' links), got " + quote_value(v);
  if (u->encoded_host().empty()) return "the URL has no host: " + quote_value(v);
  if (u->has_userinfo() || u->has_query())
    return "the base URL may not carry a user, a password or a query: " + quote_value(v);
  std::string out(v);
  while (out.ends_with('/')) out.pop_back();
  s.public_url = std::move(out);
  return {};
}

const std::vector<setting>& table() {
  static const std::vector<setting> t = {
      {"data", "--data", kind::text, "DIR",
       "data directory: the store and its lock (created if missing; one syndic per directory)",
       [](layer& l, std::string_view v) -> std::string {
         if (v.empty()) return "expected a directory, got an empty string";
         l.s.data_dir = std::string(v);
         return {};
       }},
      {"listen", "--listen", kind::text, "ADDR:PORT",
       "where the HTTP API listens: IPv4 ADDR:PORT or [IPv6]:PORT (port 0: any free port)",
       [](layer& l, std::string_view v) -> std::string {
         std::string error;
         listen_address a = parse_listen_address(v, error);
         if (!error.empty()) return error;
         l.s.listen = std::move(a);
         return {};
       }},
      {"outlets", "--outlets", kind::text, "FILE",
       "outlets CSV or TOML (by extension); reloaded on SIGHUP",
       [](layer& l, std::string_view v) -> std::string {
         l.s.outlets_file = std::string(v);
         return {};
       }},
      {"sources", "--sources", kind::text, "FILE",
       "sources CSV or TOML (by extension): id,url[,channel,min_interval,max_interval,tags,headers,enabled,republish_updates]; reloaded on SIGHUP",
       [](layer& l, std::string_view v) -> std::string {
         l.s.sources_file = std::string(v);
         return {};
       }},
      {"token", "--token", kind::text, "TOKEN",
       "API bearer token (prefer --token-file or SYNDIC_TOKEN: a flag shows in ps)",
       [](layer& l, std::string_view v) -> std::string {
         l.tokens.token = std::string(v);
         return {};
       }},
      {"token_file", "--token-file", kind::text, "FILE",
       "file holding the API bearer token (surrounding whitespace ignored)",
       [](layer& l, std::string_view v) -> std::string {
         if (v.empty()) return "expected a file name, got an empty string";
         l.tokens.token_file = std::string(v);
         return {};
       }},
      {"public_url", "--public-url", kind::text, "URL",
       "base URL of hub and self links in served feeds (default: http://LISTEN)",
       [](layer& l, std::string_view v) -> std::string { return set_public_url(l.s, v); }},
      {"shards", "--shards", kind::integer, "N", "delivery threads (0: one per CPU available)",
       SYNDIC_UINT_SETTER(std::uint32_t, 0u, 1024u, "a number of shards", s.shards = *n)},
      {"max_in_flight", "--max-in-flight", kind::integer, "N",
       "requests in flight at once, all outlets together (each outlet also has its own cap)",
       SYNDIC_UINT_SETTER(std::uint32_t, 1u, 1'000'000u, "a number of requests", s.max_in_flight = *n)},
      {"max_body_bytes", "--max-body-bytes", kind::integer, "BYTES",
       "largest request body accepted (larger: 413)",
       SYNDIC_UINT_SETTER(std::uint64_t, 1024ull, 1ull << 30, "a size in bytes", s.max_body_bytes = *n)},
      {"allow_private_targets", "--allow-private-targets", kind::boolean, "",
       "let API-supplied URLs (hub callbacks, API outlets) reach loopback, private and metadata addresses",
       [](layer& l, std::string_view v) -> std::string {
         if (!parse_bool(v, l.s.allow_private_targets)) return "expected true or false, got " + quote_value(v);
         return {};
       }},
      {"feed_items", "--feed-items", kind::integer, "N", "items in each served feed",
       SYNDIC_UINT_SETTER(std::uint32_t, 1u, 10'000u, "a number of items", s.feed_items = *n)},
      {"shutdown_deadline_ms", "--shutdown-deadline-ms", kind::integer, "MS",
       "on SIGTERM/SIGINT, finish or persist in-flight work within this time, then exit",
       SYNDIC_UINT_SETTER(std::uint64_t, 1ull, 3'600'000ull, "milliseconds",
                          s.shutdown_deadline = std::chrono::milliseconds(*n))},
      {"log_level", "--log-level", kind::text, "LEVEL", "trace, debug, info, warn or error",
       [](layer& l, std::string_view v) -> std::string {
         std::string x = lowered(v);
         if (x == "trace") l.s.log = log_level::trace;
         else if (x == "debug") l.s.log = log_level::debug;
         else if (x == "info") l.s.log = log_level::info;
         else if (x == "warn" || x == "warning") l.s.log = log_level::warn;
         else if (x == "error") l.s.log = log_level::error;
         else return "expected trace, debug, info, warn or error, got " + quote_value(v);
         return {};
       }},
      {"store.synchronous", "--store-synchronous", kind::text, "MODE",
       "normal (a commit survives a crash; power loss may lose the last ones) or full (survives power loss)",
       [](layer& l, std::string_view v) -> std::string {
         std::string x = lowered(v);
         if (x == "normal") l.s.synchronous = sync_mode::normal;
         else if (x == "full") l.s.synchronous = sync_mode::full;
         else return "expected normal or full, got " + quote_value(v);
         return {};
       }},
      {"store.commit_interval_ms", "--store-commit-interval-ms", kind::integer, "MS",
       "group commit: how long a transaction waits for more writes after its first (0: none; the writes that come during a commit go in the next)",
       SYNDIC_UINT_SETTER(std::uint32_t, 0u, 10'000u, "milliseconds",
                          s.commit_interval = std::chrono::milliseconds(*n))},
      {"store.commit_batch", "--store-commit-batch", kind::integer, "N",
       "group commit: or as soon as this many writes wait",
       SYNDIC_UINT_SETTER(std::uint32_t, 1u, 1'000'000u, "a number of writes", s.commit_batch = *n)},
      {"store.url", "--store", kind::text, "URL",
       "a postgres:// URL: the store shared by several instances (empty: SQLite in the data directory)",
       [](layer& l, std::string_view v) -> std::string {
         if (!v.empty() && !v.starts_with("postgres://") && !v.starts_with("postgresql://"))
           return "expected a postgres:// or postgresql:// URL (or nothing, for SQLite in the data directory), got " +
                  quote_value(redact_url(v));
         l.s.store_url = std::string(v);
         return {};
       }},
      {"store.schema", "--store-schema", kind::text, "NAME",
       "the PostgreSQL schema of syndic's tables (created if missing)",
       [](layer& l, std::string_view v) -> std::string {
         bool ok = !v.empty() && v.size() <= 63 && !(v[0] >= '0' && v[0] <= '9');
         for (char c : v) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
         if (!ok) return "expected a schema name of lowercase letters, digits and '_' (at most 63, not starting with a digit), got " + quote_value(v);
         l.s.store_schema = std::string(v);
         return {};
       }},
      {"cluster.instance_id", "--instance-id", kind::text, "ID",
       "this instance's name among those sharing the store (empty: HOSTNAME-RANDOM, new at every start)",
       [](layer& l, std::string_view v) -> std::string {
         bool ok = v.size() <= 100;
         for (char c : v) ok = ok && c > ' ' && c < 0x7f && c != '/';
         if (!ok) return "expected at most 100 printable ASCII characters without spaces or '/', got " + quote_value(v);
         l.s.instance_id = std::string(v);
         return {};
       }},
      {"cluster.partitions", "--cluster-partitions", kind::integer, "N",
       "outlets hash into this many partitions, each served by one instance (the same on every instance)",
       SYNDIC_UINT_SETTER(std::uint32_t, 1u, 4096u, "a number of partitions", s.cluster_partitions = *n)},
      {"cluster.lease_ttl_ms", "--cluster-lease-ttl-ms", kind::integer, "MS",
       "how long a partition's lease lasts unrenewed: a dead instance's outlets move after this",
       SYNDIC_UINT_SETTER(std::uint32_t, 1'000u, 600'000u, "milliseconds", s.lease_ttl = std::chrono::milliseconds(*n))},
      {"websub.lease_seconds", "--websub-lease-seconds", kind::integer, "S",
       "lease given to a subscriber that asks for none",
       SYNDIC_UINT_SETTER(std::uint32_t, 1u, 31'536'000u, "seconds", s.lease_default = std::chrono::seconds(*n))},
      {"websub.min_lease_seconds", "--websub-min-lease-seconds", kind::integer, "S",
       "shortest lease granted (shorter requests are raised to it)",
       SYNDIC_UINT_SETTER(std::uint32_t, 1u, 31'536'000u, "seconds", s.lease_min = std::chrono::seconds(*n))},
      {"websub.max_lease_seconds", "--websub-max-lease-seconds", kind::integer, "S",
       "longest lease granted (longer requests are cut to it)",
       SYNDIC_UINT_SETTER(std::uint32_t, 1u, 31'536'000u, "seconds", s.lease_max = std::chrono::seconds(*n))},
      {"poll.parse_threads", "--poll-parse-threads", kind::integer, "N",
       "threads that parse fetched feeds (off the thread doing I/O)",
       SYNDIC_UINT_SETTER(std::size_t, std::size_t{1}, std::size_t{64}, "a number of threads", s.poll_parse_threads = *n)},
      {"poll.host_connections", "--poll-host-connections", kind::integer, "N",
       "politeness: requests to one host:port at once",
       SYNDIC_UINT_SETTER(std::size_t, std::size_t{1}, std::size_t{1024}, "a number of requests",
                          s.poll_host_connections = *n)},
      {"poll.host_gap_ms", "--poll-host-gap-ms", kind::integer, "MS",
       "politeness: least time between two request starts to one host:port",
       SYNDIC_UINT_SETTER(std::uint32_t, 0u, 600'000u, "milliseconds", s.poll_host_gap = std::chrono::milliseconds(*n))},
      {"poll.max_body_bytes", "--poll-max-body-bytes", kind::integer, "BYTES",
       "largest feed fetched (larger: an error for that poll)",
       SYNDIC_UINT_SETTER(std::uint64_t, 1024ull, 1ull << 30, "a size in bytes", s.poll_max_body_bytes = *n)},
      {"poll.timeout_ms", "--poll-timeout-ms", kind::integer, "MS",
       "one fetch, from DNS to the body's last byte",
       SYNDIC_UINT_SETTER(std::uint32_t, 100u, 3'600'000u, "milliseconds", s.poll_timeout = std::chrono::milliseconds(*n))},
      {"poll.max_redirects", "--poll-max-redirects", kind::integer, "N",
       "redirects followed per fetch (more: an error)",
       SYNDIC_UINT_SETTER(std::uint32_t, 0u, 20u, "a number of redirects", s.poll_max_redirects = *n)},
      {"poll.start_spread_s", "--poll-start-spread-s", kind::integer, "S",
       "first polls after a start are spread over this many seconds (no stampede)",
       SYNDIC_UINT_SETTER(std::uint32_t, 0u, 86'400u, "seconds", s.poll_start_spread = std::chrono::seconds(*n))},
      {"poll.user_agent", "--poll-user-agent", kind::text, "TEXT",
       "User-Agent of fetches (empty: syndic's own)",
       [](layer& l, std::string_view v) -> std::string {
         if (v.size() > 256) return "expected at most 256 characters, got " + std::to_string(v.size());
         for (char c : v)
           if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
             return "expected printable ASCII (a header value), got " + quote_value(v);
         l.s.poll_user_agent = std::string(v);
         return {};
       }},
      {"poll.min_interval_s", "--poll-min-interval-s", kind::integer, "S",
       "a source that sets no min_interval is polled at most this often",
       SYNDIC_UINT_SETTER(std::uint32_t, 1u, 2'592'000u, "seconds", s.poll_min_interval = std::chrono::seconds(*n))},
      {"poll.max_interval_s", "--poll-max-interval-s", kind::integer, "S",
       "a source that sets no max_interval is polled at least this often (errors aside)",
       SYNDIC_UINT_SETTER(std::uint32_t, 1u, 2'592'000u, "seconds", s.poll_max_interval = std::chrono::seconds(*n))},
  };
  return t;
}

#undef SYNDIC_UINT_SETTER

const setting* find_setting(std::string_view key) {
  for (const setting& s : table())
    if (s.key == key) return &s;
  return nullptr;
}

bool is_section(std::string_view name) {
  for (const setting& s : table())
    if (s.key.starts_with(name) && s.key.size() > name.size() && s.key[name.size()] == '.') return true;
  return false;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string_view last_part(std::string_view key) {
  auto dot = key.rfind('.');
  return dot == std::string_view::npos ? key : key.substr(dot + 1);
}

// "unknown key 'lisen' (did you mean 'listen'?)": a close spelling, or the same name in
// another section (`synchronous` at the top is `[store] synchronous`).
std::string unknown_key_message(std::string_view key) {
  std::string msg = "unknown key";
  std::string_view best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (const setting& s : table()) {
    std::size_t d = edit_distance(lowered(key), s.key);
    if (last_part(s.key) == lowered(last_part(key))) d = std::min<std::size_t>(d, 1);
    if (d < best_distance) {
      best_distance = d;
      best = s.key;
    }
  }
  std::size_t allowed = key.size() < 5 ? 1 : 2 + key.size() / 8;
  if (best_distance <= allowed) {
    msg += " (did you mean '" + std::string(best) + "'";
    if (auto dot = best.find('.'); dot != std::string_view::npos)
      msg += ", written '" + std::string(best.substr(dot + 1)) + "' under [" + std::string(best.substr(0, dot)) + "]";
    msg += "?)";
  } else {
    msg += " (the keys are listed in docs/daemon.md and by 'syndic run --help')";
  }
  return msg;
}

std::string_view node_type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time: return "a date or time";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "an unknown type";
  }
}

std::string_view kind_name(kind k) {
  switch (k) {
    case kind::text: return "a string";
    case kind::integer: return "an integer";
    case kind::boolean: return "true or false";
  }
  return "?";
}

// Where a key's value was last set, for messages about two keys at once (lease bounds).
struct origin {
  std::string source;
  std::size_t line = 0;
  std::string key;
};

struct loader {
  run_settings s;
  settings_result r;
  std::map<std::string, origin, std::less<>> origins;
  token_candidates file_tokens, env_tokens, cli_tokens;
  std::size_t file_token_line = 0;
  std::string file_name;

  void apply(const setting& st, std::string_view text, token_candidates& tokens, origin where) {
    layer l{s, tokens};
    if (std::string msg = st.set(l, text); !msg.empty())
      r.errors.push_back({where.source, where.line, where.key, std::move(msg)});
    else
      origins[std::string(st.key)] = std::move(where);
  }

  void file_value(std::string_view key, const toml::node& value, std::size_t line) {
    const setting* st = find_setting(key);
    if (!st) {
      r.errors.push_back({file_name, line, std::string(key), unknown_key_message(key)});
      return;
    }
    std::string text;
    bool type_ok = false;
    switch (st->type) {
      case kind::text:
        if (auto v = value.value_exact<std::string>()) text = *v, type_ok = true;
        break;
      case kind::integer:
        if (auto v = value.value_exact<std::int64_t>()) text = std::to_string(*v), type_ok = true;
        break;
      case kind::boolean:
        if (auto v = value.value_exact<bool>()) text = *v ? "true" : "false", type_ok = true;
        break;
    }
    if (!type_ok) {
      std::string msg = "expected " + std::string(kind_name(st->type)) + ", got " + std::string(node_type_name(value));
      if (st->type == kind::integer && value.is_string()) msg += " (write the number without quotes)";
      if (st->type == kind::boolean && value.is_string()) msg += " (write true or false without quotes)";
      if (st->key == "sources" && value.is_array()) msg += " (a file's name; sources in this file are [[source]] tables)";
      r.errors.push_back({file_name, line, std::string(key), std::move(msg)});
      return;
    }
    if (st->key == "token" || st->key == "token_file") file_token_line = line;
    apply(*st, text, file_tokens, {file_name, line, std::string(key)});
  }

  void file_table(const toml::table& t, std::string_view prefix) {
    for (const auto& [k, v] : t) {
      std::string key = prefix.empty() ? std::string(k.str()) : std::string(prefix) + "." + std::string(k.str());
      std::size_t line = k.source().begin.line ? k.source().begin.line : v.source().begin.line;
      // [[source]] tables are sources, not settings: poll::load_sources_from_config reads
      // them (and reports their errors), from the same file.
      if (prefix.empty() && key == "source") continue;
      if (const toml::table* sub = v.as_table()) {
        if (prefix.empty() && is_section(key)) {
          file_table(*sub, key);
          continue;
        }
        if (find_setting(key)) {
          r.errors.push_back({file_name, line, key, "expected " + std::string(kind_name(find_setting(key)->type)) + ", got a table"});
          continue;
        }
        r.errors.push_back({file_name, line, key, unknown_key_message(key)});
        continue;
      }
      if (prefix.empty() && is_section(key)) {
        r.errors.push_back({file_name, line, key, "expected a table ([" + key + "]), got " + std::string(node_type_name(v))});
        continue;
      }
      file_value(key, v, line);
    }
  }

  void file(std::string_view text) {
    toml::table doc;
    try {
      doc = toml::parse(text, file_name);
    } catch (const toml::parse_error& e) {
      r.errors.push_back({file_name, e.source().begin.line, {}, std::string(e.description())});
      return;
    }
    file_table(doc, {});
  }

  void flags(const run_flags& f) {
    for (const auto& [key, text] : f.given()) {
      const setting* st = find_setting(key);
      if (!st) {  // only through run_flags::set
        r.errors.push_back({std::string(command_line), 0, key, "unknown setting"});
        continue;
      }
      apply(*st, text, cli_tokens, {std::string(command_line), 0, std::string(st->flag)});
    }
  }

  // The token from the first source that has one.
  void resolve_token(const env_lookup& getenv) {
    if (const char* e = getenv ? getenv("SYNDIC_TOKEN") : nullptr; e && *e) env_tokens.token = e;
    struct candidate {
      token_candidates* t;
      std::string source;
      std::size_t line;
      std::string token_key, file_key;
    };
    const candidate order[] = {
        {&cli_tokens, std::string(command_line), 0, "--token", "--token-file"},
        {&env_tokens, "SYNDIC_TOKEN", 0, "", ""},
        {&file_tokens, file_name, file_token_line, "token", "token_file"},
    };
    for (const candidate& c : order) {
      if (!c.t->token && !c.t->token_file) continue;
      if (c.t->token && c.t->token_file) {
        r.errors.push_back({c.source, c.line, c.token_key,
                            "give the token or a token file, not both (" + c.token_key + ", " + c.file_key + ")"});
        return;
      }
      std::string token, from;
      if (c.t->token) {
        token = std::string(trim(*c.t->token));
        from = c.token_key.empty() ? c.source : c.token_key + (c.line ? " in " + c.source : "");
      } else {
        if (!read_token_file(*c.t->token_file, c, token)) return;
        from = (c.line ? "token_file " : "--token-file ") + *c.t->token_file;
      }
      if (std::string e = check_token(token); !e.empty()) {
        r.errors.push_back({c.source, c.line, c.t->token ? c.token_key : c.file_key, e});
        return;
      }
      s.token = std::move(token);
      s.token_source = std::move(from);
      return;
    }
    r.errors.push_back({"settings", 0, {},
                        "no API token: give --token-file FILE (or SYNDIC_TOKEN, --token, or token_file in the "
                        "config file); publishing and the admin API require it"});
  }

  template <class C>
  bool read_token_file(const std::string& path, const C& c, std::string& token) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      r.errors.push_back({c.source, c.line, c.file_key, "cannot read the token file " + quote_value(path)});
      return false;
    }
    std::string text(token_max + 64, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    token = std::string(trim(text));
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)))
      r.warnings.push_back({c.source, c.line, c.file_key,
                            "the token file " + quote_value(path) + " can be read by other users (chmod 600 it)"});
    return true;
  }

  // RFC 6750's b64token, so a client can send it as written; long enough not to be guessed.
  static std::string check_token(std::string_view t) {
    if (t.size() < token_min || t.size() > token_max)
      return "the token must be " + std::to_string(token_min) + " to " + std::to_string(token_max) +
             " characters long (it has " + std::to_string(t.size()) + ")";
    std::size_t i = 0;
    auto b64 = [](char c) {
      return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
             c == '_' || c == '~' || c == '+' || c == '/';
    };
    while (i < t.size() && b64(t[i])) ++i;
    while (i < t.size() && t[i] == '=' && i > 0) ++i;
    if (i != t.size() || t.empty())
      return "the token may hold letters, digits and - . _ ~ + / (then '=' padding) only, as a Bearer token must";
    return {};
  }

  void cross_checks() {
    auto where = [&](std::string_view key) -> origin {
      if (auto it = origins.find(key); it != origins.end()) return it->second;
      return {"settings", 0, std::string(key)};
    };
    if (s.lease_min > s.lease_max) {
      origin o = where(origins.count("websub.min_lease_seconds") ? "websub.min_lease_seconds" : "websub.max_lease_seconds");
      r.errors.push_back({o.source, o.line, o.key,
                          "the minimum lease (" + std::to_string(s.lease_min.count()) + " s) is above the maximum (" +
                              std::to_string(s.lease_max.count()) + " s)"});
    } else if (s.lease_default < s.lease_min || s.lease_default > s.lease_max) {
      origin o = where("websub.lease_seconds");
      r.errors.push_back({o.source, o.line, o.key,
                          "the default lease (" + std::to_string(s.lease_default.count()) + " s) is outside [" +
                              std::to_string(s.lease_min.count()) + ", " + std::to_string(s.lease_max.count()) + "] s"});
    }
    if (s.poll_min_interval > s.poll_max_interval) {
      origin o = where(origins.count("poll.min_interval_s") ? "poll.min_interval_s" : "poll.max_interval_s");
      r.errors.push_back({o.source, o.line, o.key,
                          "the default minimum interval (" + std::to_string(s.poll_min_interval.count()) +
                              " s) is above the default maximum (" + std::to_string(s.poll_max_interval.count()) + " s)"});
    }
  }

  settings_result finish(const env_lookup& getenv) {
    resolve_token(getenv);
    cross_checks();
    // In the order a person reads them: the file top to bottom (TOML tables iterate by key),
    // then the command line, the environment and the checks of the whole.
    auto rank = [&](const settings_error& e) {
      int source = e.source == file_name ? 0 : e.source == command_line ? 1 : e.source == "SYNDIC_TOKEN" ? 2 : 3;
      return std::pair(source, e.line);
    };
    std::stable_sort(r.errors.begin(), r.errors.end(),
                     [&](const settings_error& a, const settings_error& b) { return rank(a) < rank(b); });
    r.settings = std::move(s);
    return std::move(r);
  }
};

}  // namespace

std::string_view to_string(sync_mode m) { return m == sync_mode::full ? "full" : "normal"; }

std::string_view to_string(log_level l) {
  switch (l) {
    case log_level::trace: return "trace";
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
  }
  return "?";
}

std::string listen_address::to_string() const {
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

listen_address parse_listen_address(std::string_view text, std::string& error) {
  listen_address a;
  auto fail = [&](std::string why) {
    error = "expected ADDR:PORT, got " + quote_value(text) + why;
    return a;
  };
  std::string_view host, port;
  if (text.starts_with('[')) {
    auto close = text.find(']');
    if (close == std::string_view::npos) return fail(": no ']'");
    host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':') return fail(": no ':PORT' after ']'");
    port = text.substr(close + 2);
    in6_addr v6{};
    if (std::string h(host); inet_pton(AF_INET6, h.c_str(), &v6) != 1) return fail(": not an IPv6 address");
    a.ipv6 = true;
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail(" (an IPv4 address and a port, or [IPv6]:PORT)");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return fail(": write an IPv6 address in brackets, [::1]:8080");
    in_addr v4{};
    if (std::string h(host); inet_pton(AF_INET, h.c_str(), &v4) != 1)
      return fail(host == "localhost" ? ": write 127.0.0.1 for localhost"
                                       : ": not an IPv4 address (an IPv6 address goes in brackets)");
  }
  auto n = parse_uint<std::uint32_t>(port, 0, 65535);
  if (!n) return fail(": the port must be a number from 0 to 65535");
  a.host = std::string(host);
  a.port = static_cast<std::uint16_t>(*n);
  error.clear();
  return a;
}

std::string run_settings::base_url(std::uint16_t bound_port) const {
  if (!public_url.empty()) return public_url;
  std::string host = listen.host;
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  return "http://" + (listen.ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(bound_port);
}

std::string settings_error::to_string() const {
  std::string out = source;
  if (line) out += ":" + std::to_string(line);
  out += ": ";
  if (key.starts_with("--")) out += key + ": ";
  else if (!key.empty()) out += "key '" + key + "': ";
  return out + message;
}

namespace {

std::string run_setting_default(std::string_view key) {
  run_settings d;
  if (key == "data") return d.data_dir;
  if (key == "listen") return d.listen.to_string();
  if (key == "shards") return std::to_string(d.shards);
  if (key == "max_in_flight") return std::to_string(d.max_in_flight);
  if (key == "max_body_bytes") return std::to_string(d.max_body_bytes);
  if (key == "allow_private_targets") return d.allow_private_targets ? "true" : "false";
  if (key == "feed_items") return std::to_string(d.feed_items);
  if (key == "shutdown_deadline_ms") return std::to_string(d.shutdown_deadline.count());
  if (key == "log_level") return std::string(to_string(d.log));
  if (key == "store.synchronous") return std::string(to_string(d.synchronous));
  if (key == "store.commit_interval_ms") return std::to_string(d.commit_interval.count());
  if (key == "store.commit_batch") return std::to_string(d.commit_batch);
  if (key == "store.url") return d.store_url;
  if (key == "store.schema") return d.store_schema;
  if (key == "cluster.instance_id") return d.instance_id;
  if (key == "cluster.partitions") return std::to_string(d.cluster_partitions);
  if (key == "cluster.lease_ttl_ms") return std::to_string(d.lease_ttl.count());
  if (key == "websub.lease_seconds") return std::to_string(d.lease_default.count());
  if (key == "websub.min_lease_seconds") return std::to_string(d.lease_min.count());
  if (key == "websub.max_lease_seconds") return std::to_string(d.lease_max.count());
  if (key == "poll.parse_threads") return std::to_string(d.poll_parse_threads);
  if (key == "poll.host_connections") return std::to_string(d.poll_host_connections);
  if (key == "poll.host_gap_ms") return std::to_string(d.poll_host_gap.count());
  if (key == "poll.max_body_bytes") return std::to_string(d.poll_max_body_bytes);
  if (key == "poll.timeout_ms") return std::to_string(d.poll_timeout.count());
  if (key == "poll.max_redirects") return std::to_string(d.poll_max_redirects);
  if (key == "poll.start_spread_s") return std::to_string(d.poll_start_spread.count());
  if (key == "poll.min_interval_s") return std::to_string(d.poll_min_interval.count());
  if (key == "poll.max_interval_s") return std::to_string(d.poll_max_interval.count());
  return {};
}

}  // namespace

const std::vector<setting_info>& run_setting_table() {
  static const std::vector<setting_info> info = [] {
    std::vector<setting_info> out;
    for (const setting& s : table())
      out.push_back({std::string(s.key), std::string(s.flag),
                     s.type == kind::boolean ? "boolean" : s.type == kind::integer ? "integer" : "string",
                     run_setting_default(s.key), std::string(s.help)});
    return out;
  }();
  return info;
}

void add_run_flags(CLI::App& command, run_flags& flags) {
  command.add_option("--config", flags.config_path, "TOML file of settings; flags given here win over it")
      ->type_name("FILE");
  for (const setting& s : table()) {
    std::string key(s.key);
    std::string help = std::string(s.help) + " [file: " + key + "]";
    // Each value is recorded as it is parsed, not read back from CLI11's options later: the
    // flags then stay valid (and copyable) after the CLI::App is gone.
    auto record = [&flags, key](const std::string& v) { flags.given_[key] = v; };
    std::string& bound = flags.bound_[key];
    if (s.type == kind::boolean) {
      // --allow-private-targets (=true or =false), and --no-allow-private-targets.
      // Both on one line is refused by CLI11 (it applies options in the order they were
      // declared, not as written, so "the last wins" cannot be kept).
      CLI::Option* positive = command.add_flag(std::string(s.flag), bound, help)->each(record);
      std::string& negated = flags.bound_["no-" + key];
      command
          .add_flag("--no-" + std::string(s.flag.substr(2)), negated,
                    "the opposite of " + std::string(s.flag) + " (which is " +
                        (run_setting_default(s.key) == "true" ? "on" : "off") + " by default)")
          ->each([record](const std::string& v) {
            bool b = false;
            record(parse_bool(v, b) ? (b ? "false" : "true") : v);
          })
          ->excludes(positive);
    } else {
      command.add_option(std::string(s.flag), bound, help)->type_name(std::string(s.type_name))->each(record);
    }
  }
}

settings_result load_run_settings(std::string_view toml_text, const std::string& name, const run_flags& flags,
                                  const env_lookup& getenv) {
  loader l;
  l.file_name = name;
  l.file(toml_text);
  l.flags(flags);
  return l.finish(getenv);
}

settings_result load_run_settings(const run_flags& flags, const env_lookup& getenv) {
  if (flags.config_path.empty()) {
    loader l;
    l.flags(flags);
    return l.finish(getenv);
  }
  std::ifstream in(flags.config_path, std::ios::binary);
  if (!in) {
    loader l;
    l.file_name = flags.config_path;
    l.r.errors.push_back({flags.config_path, 0, {}, "cannot read the config file (--config)"});
    l.flags(flags);
    return l.finish(getenv);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return load_run_settings(text.str(), flags.config_path, flags, getenv);
}

settings_result load_run_settings(const run_flags& flags) {
  return load_run_settings(flags, [](const char* n) -> const char* { return std::getenv(n); });
}

std::string to_toml(const run_settings& s) {
  auto str = [](std::string_view v) {
    std::string out = "\"";
    for (char c : v) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out + "\"";
  };
  std::ostringstream o;
  o << "data = " << str(s.data_dir) << "\n"
    << "listen = " << str(s.listen.to_string()) << "\n"
    << "outlets = " << str(s.outlets_file) << "\n"
    << "sources = " << str(s.sources_file) << "\n"
    << "token = " << str(s.token.empty() ? "" : "<redacted>") << "\n"
    << "public_url = " << str(s.public_url) << "\n"
    << "shards = " << s.shards << "\n"
    << "max_in_flight = " << s.max_in_flight << "\n"
    << "max_body_bytes = " << s.max_body_bytes << "\n"
    << "allow_private_targets = " << (s.allow_private_targets ? "true" : "false") << "\n"
    << "feed_items = " << s.feed_items << "\n"
    << "shutdown_deadline_ms = " << s.shutdown_deadline.count() << "\n"
    << "log_level = " << str(to_string(s.log)) << "\n"
    << "\n[store]\n"
    << "synchronous = " << str(to_string(s.synchronous)) << "\n"
    << "commit_interval_ms = " << s.commit_interval.count() << "\n"
    << "commit_batch = " << s.commit_batch << "\n"
    << "url = " << str(redact_url(s.store_url)) << "\n"
    << "schema = " << str(s.store_schema) << "\n"
    << "\n[cluster]\n"
    << "instance_id = " << str(s.instance_id) << "\n"
    << "partitions = " << s.cluster_partitions << "\n"
    << "lease_ttl_ms = " << s.lease_ttl.count() << "\n"
    << "\n[websub]\n"
    << "lease_seconds = " << s.lease_default.count() << "\n"
    << "min_lease_seconds = " << s.lease_min.count() << "\n"
    << "max_lease_seconds = " << s.lease_max.count() << "\n"
    << "\n[poll]\n"
    << "parse_threads = " << s.poll_parse_threads << "\n"
    << "host_connections = " << s.poll_host_connections << "\n"
    << "host_gap_ms = " << s.poll_host_gap.count() << "\n"
    << "max_body_bytes = " << s.poll_max_body_bytes << "\n"
    << "timeout_ms = " << s.poll_timeout.count() << "\n"
    << "max_redirects = " << s.poll_max_redirects << "\n"
    << "start_spread_s = " << s.poll_start_spread.count() << "\n"
    << "user_agent = " << str(s.poll_user_agent) << "\n"
    << "min_interval_s = " << s.poll_min_interval.count() << "\n"
    << "max_interval_s = " << s.poll_max_interval.count() << "\n";
  return o.str();
}

}  // namespace syndic::daemon
